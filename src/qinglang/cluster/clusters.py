"""Accounts grouped through shared identifiers: components, then Leiden for loose giants.

1. **Components** over the linking edges (strong, non-hub, non-allow-listed
   identifiers) of the bipartite graph, with ``scipy.sparse.csgraph`` (one pass, a
   fraction of a second for millions of links).
2. **Giants**: a component of at least ``giant_min_accounts`` accounts is
   re-partitioned with Leiden (``leidenalg``, modularity, on the bipartite subgraph,
   fixed seed so runs repeat). Communities that more than ``max_bridge_links`` links
   connect are joined back (modularity also cuts long, sparse gangs in two; a cut
   crossed by many links is one gang), each account then settles in the community most
   of its own links go to (Leiden may leave one that touches a bridge on the wrong
   side), and the split stands only when the partition's
   modularity reaches ``min_modularity``. So gangs that a stray shared identifier (a
   reused SIM, a common payment processor under the hub bar) joined into one component
   come apart at the bridge, while a gang whose members share its wallets and phones
   stays whole.
3. Groups with fewer than ``min_size`` accounts are not clusters.

The result names accounts by graph index; :mod:`qinglang.cluster.stable_ids` gives
clusters their lasting ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from qinglang.cluster.graph import LinkGraph
from qinglang.cluster.settings import ClusterSpec


@dataclass(slots=True)
class Clustering:
    """Clusters over one graph: ``members[c]`` are account indices, ``labels[a]`` is ``c`` or -1."""

    labels: NDArray[np.int64]
    members: list[NDArray[np.int64]]
    components: int = 0
    giants: int = 0
    giants_split: int = 0
    modularity: dict[int, float] = field(default_factory=dict)

    def stats(self) -> dict[str, int]:
        return {"clusters": len(self.members), "clustered_accounts": int(sum(len(m) for m in self.members)),
                "components": self.components, "giants": self.giants, "giants_split": self.giants_split}


def _leiden(n_nodes: int, edges: NDArray[np.int64], seed: int) -> tuple[list[int], float]:
    """Leiden (modularity) membership of a graph given as an edge array, and its modularity."""
    import igraph as ig
    import leidenalg

    g = ig.Graph(n=n_nodes, edges=edges.tolist())
    part = leidenalg.find_partition(g, leidenalg.ModularityVertexPartition, seed=seed, n_iterations=2)
    membership = list(part.membership)
    return membership, float(g.modularity(membership))


def _settle_accounts(member: NDArray[np.int64], edges: NDArray[np.int64]) -> NDArray[np.int64]:
    """Move each account to the community most of its identifiers are in (ties: stay).

    Leiden may leave an account that touches a bridge on the bridge's side; the
    account belongs where most of its own links go.
    """
    acc, comm = edges[:, 0], member[edges[:, 1]]
    pairs, counts = np.unique(np.stack([acc, comm], axis=1), axis=0, return_counts=True)
    # per account: the highest count, preferring its current community on a tie
    current = (pairs[:, 1] == member[pairs[:, 0]]).astype(np.int64)
    order = np.lexsort((-current, -counts, pairs[:, 0]))
    pairs = pairs[order]
    first = np.concatenate(([True], pairs[1:, 0] != pairs[:-1, 0]))
    out = member.copy()
    out[pairs[first, 0]] = pairs[first, 1]
    return out


def _merge_strong_cuts(member: NDArray[np.int64], edges: NDArray[np.int64], max_links: int) -> NDArray[np.int64]:
    """Join back Leiden communities that more than ``max_links`` links connect.

    Modularity happily cuts a long, sparse gang in two; a cut crossed by many links is
    one gang, not two. Only cuts crossed by a stray identifier or two stand.
    """
    a, b = member[edges[:, 0]], member[edges[:, 1]]
    cross = a != b
    if not cross.any():
        return member
    lo, hi = np.minimum(a[cross], b[cross]), np.maximum(a[cross], b[cross])
    pairs, counts = np.unique(np.stack([lo, hi], axis=1), axis=0, return_counts=True)
    strong = pairs[counts > max_links]
    if not len(strong):
        return member
    parent = np.arange(int(member.max()) + 1)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    for x, y in strong.tolist():
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    roots = np.array([find(x) for x in range(len(parent))])
    _, dense = np.unique(roots, return_inverse=True)
    return dense[member]


def find_clusters(graph: LinkGraph, spec: ClusterSpec) -> Clustering:
    """Cluster the graph's accounts (see the module docstring for the rules)."""
    n_acc, n_ident = graph.n_accounts, graph.n_identifiers
    acc, ident = graph.linking_edges()
    acc64 = acc.astype(np.int64)
    ident_node = ident.astype(np.int64) + n_acc
    adj = sparse.coo_matrix((np.ones(len(acc), dtype=np.int8), (acc64, ident_node)),
                            shape=(n_acc + n_ident, n_acc + n_ident)).tocsr()
    n_comp, comp = connected_components(adj, directed=False)
    labels = comp[:n_acc].astype(np.int64)
    sizes = np.bincount(labels, minlength=n_comp)
    out = Clustering(labels=labels, members=[], components=int((sizes >= spec.min_size).sum()))

    giants = np.flatnonzero(sizes >= spec.giant_min_accounts)
    out.giants = len(giants)
    next_label = n_comp
    if len(giants):
        edge_comp = labels[acc64]
        for c in giants.tolist():
            sel = edge_comp == c
            a, i = acc64[sel], ident_node[sel]
            nodes, local = np.unique(np.concatenate([a, i]), return_inverse=True)
            edges = np.stack([local[: len(a)], local[len(a):]], axis=1)
            membership, q = _leiden(len(nodes), edges, spec.seed)
            out.modularity[c] = q
            member = _merge_strong_cuts(np.asarray(membership, dtype=np.int64), edges, spec.max_bridge_links)
            member = _settle_accounts(member, edges)
            is_acc = nodes < n_acc
            if q < spec.min_modularity or len(np.unique(member[is_acc])) < 2:
                continue
            out.giants_split += 1
            labels[nodes[is_acc]] = next_label + member[is_acc]
            next_label += int(member.max()) + 1

    counts = np.bincount(labels)
    clustered = np.flatnonzero(counts[labels] >= spec.min_size)
    order = clustered[np.argsort(labels[clustered], kind="stable")]
    sizes_kept = counts[counts >= spec.min_size]
    kept = np.split(order, np.cumsum(sizes_kept)[:-1]) if len(order) else []
    # biggest first, then by lowest account index: the same graph always numbers clusters the same
    kept.sort(key=lambda g: (-len(g), int(g[0])))
    final = np.full(n_acc, -1, dtype=np.int64)
    for k, g in enumerate(kept):
        final[g] = k
    out.labels = final
    out.members = kept
    return out
