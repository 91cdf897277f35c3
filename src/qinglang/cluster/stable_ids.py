"""Cluster ids that last across runs: ``C-000123`` follows its members.

Clustering runs again whenever posts arrive, and a cluster's membership moves a
little each time (an account joins, one is closed). Investigators, cases and audit
entries name clusters by id, so a new run's cluster inherits the id of the previous
cluster it overlaps most:

1. For every (new cluster, previous cluster) pair sharing a member, the Jaccard
   index of their member sets.
2. Pairs are taken greedily, highest Jaccard first (ties: larger overlap, then the
   lower previous id, so the result repeats); a pair is taken when neither side is
   taken yet and its Jaccard reaches ``min_jaccard`` (``links.yaml``, 0.3).
3. Every new cluster left gets a fresh id, numbered after the highest id ever issued
   (ids are never reused). Previous clusters left are retired.

So an account added or removed keeps the id; when a cluster splits, the larger part
keeps it; when two merge, the one the merged cluster resembles more keeps its id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

ID_PREFIX = "C-"


def format_id(number: int) -> str:
    return f"{ID_PREFIX}{number:06d}"


def id_number(cluster_id: str) -> int:
    """``C-000123`` -> 123; anything else -> 0."""
    if cluster_id.startswith(ID_PREFIX) and cluster_id[len(ID_PREFIX):].isdigit():
        return int(cluster_id[len(ID_PREFIX):])
    return 0


@dataclass(frozen=True, slots=True)
class Assignment:
    """Ids for the new clusters, in their order, and which previous ids matched or retired."""

    ids: list[str]
    kept: dict[str, float]  # previous id -> Jaccard with the cluster that inherited it
    retired: list[str]
    next_number: int


def assign_ids(
    new: Sequence[Iterable[Hashable]],
    previous: Mapping[str, Iterable[Hashable]],
    *,
    next_number: int = 1,
    min_jaccard: float = 0.3,
) -> Assignment:
    """Give each cluster in ``new`` (member keys) an id, inheriting from ``previous`` (id -> members).

    ``next_number`` is the first number a fresh id may use; it is raised past every
    previous id so ids are never issued twice.
    """
    owner: dict[Hashable, str] = {}
    prev_size: dict[str, int] = {}
    for cid, members in previous.items():
        n = 0
        for m in members:
            owner[m] = cid
            n += 1
        prev_size[cid] = n
        next_number = max(next_number, id_number(cid) + 1)

    new_sets = [list(members) for members in new]
    pairs: list[tuple[float, int, str, int]] = []
    for i, members in enumerate(new_sets):
        overlap = Counter(owner[m] for m in members if m in owner)
        for cid, inter in overlap.items():
            union = len(members) + prev_size[cid] - inter
            pairs.append((inter / union, inter, cid, i))
    pairs.sort(key=lambda p: (-p[0], -p[1], id_number(p[2]), p[2], p[3]))

    ids: list[str | None] = [None] * len(new_sets)
    kept: dict[str, float] = {}
    for jac, _inter, cid, i in pairs:
        if jac < min_jaccard:
            break
        if ids[i] is None and cid not in kept:
            ids[i] = cid
            kept[cid] = jac
    out: list[str] = []
    for cid in ids:
        if cid is None:
            cid = format_id(next_number)
            next_number += 1
        out.append(cid)
    retired = sorted((cid for cid in previous if cid not in kept), key=lambda c: (id_number(c), c))
    return Assignment(out, kept, retired, next_number)
