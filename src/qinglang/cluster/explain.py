"""Why two accounts are in one cluster: the shortest chain of shared identifiers.

Breadth-first search over the linking edges of the bipartite graph, account →
identifier → account → … → account, so the path found is one with the fewest
identifiers. The search stays inside the cluster's members when they are given
(Leiden may have cut a bridge that joins the two accounts through another gang; the
explanation must not go through it) and falls back to the whole graph only when the
cluster holds no path. The store layer (:mod:`qinglang.cluster.store`) attaches to
each identifier the posts and spans where each account showed it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qinglang.cluster.graph import LinkGraph


@dataclass(frozen=True, slots=True)
class Hop:
    """One identifier on the path, shared by the account before it and the one after."""

    identifier: str
    kind: str
    from_account: int
    to_account: int


def shortest_path(graph: LinkGraph, a: int, b: int, within: NDArray[np.bool_] | None = None) -> list[Hop] | None:
    """The hops from account index ``a`` to ``b`` (empty when ``a == b``), or ``None`` if unlinked.

    ``within`` (per account) limits the accounts the path may pass through.
    """
    if a == b:
        return []
    a2i, i2a = graph.adjacency()
    for limit in ((within, None) if within is not None else (None,)):
        hops = _bfs(graph, a2i, i2a, a, b, limit)
        if hops is not None:
            return hops
    return None


def _bfs(graph: LinkGraph, a2i: object, i2a: object, a: int, b: int,
         within: NDArray[np.bool_] | None) -> list[Hop] | None:
    a_ptr, a_ind = a2i.indptr, a2i.indices  # type: ignore[attr-defined]
    i_ptr, i_ind = i2a.indptr, i2a.indices  # type: ignore[attr-defined]
    # parent[account] = (previous account, identifier that joined them)
    parent: dict[int, tuple[int, int]] = {a: (-1, -1)}
    seen_ident: set[int] = set()
    queue = deque([a])
    while queue:
        acc = queue.popleft()
        for ident in a_ind[a_ptr[acc]:a_ptr[acc + 1]].tolist():
            if ident in seen_ident:
                continue
            seen_ident.add(ident)
            for nxt in i_ind[i_ptr[ident]:i_ptr[ident + 1]].tolist():
                if nxt in parent or (within is not None and not within[nxt]):
                    continue
                parent[nxt] = (acc, ident)
                if nxt == b:
                    return _unwind(graph, parent, b)
                queue.append(nxt)
    return None


def _unwind(graph: LinkGraph, parent: dict[int, tuple[int, int]], b: int) -> list[Hop]:
    hops: list[Hop] = []
    cur = b
    while True:
        prev, ident = parent[cur]
        if prev < 0:
            break
        hops.append(Hop(str(graph.identifier_keys[ident]), graph.kind_of(ident), prev, cur))
        cur = prev
    hops.reverse()
    return hops
