"""The account–identifier link graph, in arrays.

Accounts and identifiers are interned to dense integer indices (``np.unique`` with
``return_inverse``, so the same code path takes strings from the store and integers
from the benchmark), links are deduplicated (account, identifier) pairs, and every
identifier carries its kind, its degree (distinct accounts) and two flags that decide
whether it may link anything:

* **hub**: held by more accounts than ``max(kind.hub_degree, ceil(hub.share × accounts))``
  (``links.yaml``). A bank's hotline or a popular domain is named by thousands of
  unrelated accounts; letting it link would melt every gang into one component.
* **allow-listed**: a known-benign identifier (``allowlist.txt``), whatever its degree.

Only **strong** identifiers (phones, handles, wallets, cards, payment accounts,
devices, URLs, domains) that are neither link; weak ones (IP addresses) stay in the
graph for dossiers and never join accounts on their own: carrier-grade NAT and
public Wi-Fi put strangers behind one address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from qinglang.cluster.settings import Settings, identifier_kind

IntArray = NDArray[np.int64]


@dataclass(slots=True)
class LinkGraph:
    """A bipartite account–identifier graph; index ``i`` names ``account_keys[i]``."""

    account_keys: NDArray[Any]
    identifier_keys: NDArray[Any]
    #: per identifier: index into ``kind_names``
    identifier_kind: NDArray[np.int16]
    kind_names: tuple[str, ...]
    #: deduplicated links, sorted by account then identifier
    edge_account: NDArray[np.int32]
    edge_identifier: NDArray[np.int32]
    #: per identifier: distinct accounts holding it
    degree: NDArray[np.int32]
    hub: NDArray[np.bool_]
    allowed: NDArray[np.bool_]
    strong: NDArray[np.bool_]

    @property
    def n_accounts(self) -> int:
        return len(self.account_keys)

    @property
    def n_identifiers(self) -> int:
        return len(self.identifier_keys)

    @property
    def linking(self) -> NDArray[np.bool_]:
        """Per identifier: may it join accounts (strong, not a hub, not allow-listed)."""
        return self.strong & ~self.hub & ~self.allowed

    def linking_edges(self) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """The links that join accounts: (account index, identifier index) arrays."""
        keep = self.linking[self.edge_identifier]
        return self.edge_account[keep], self.edge_identifier[keep]

    def kind_of(self, identifier_index: int) -> str:
        return self.kind_names[int(self.identifier_kind[identifier_index])]

    def account_index(self) -> dict[Any, int]:
        return {k: i for i, k in enumerate(self.account_keys.tolist())}

    def identifier_index(self) -> dict[Any, int]:
        return {k: i for i, k in enumerate(self.identifier_keys.tolist())}

    def adjacency(self) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Linking edges as CSR: accounts → identifiers and identifiers → accounts."""
        acc, ident = self.linking_edges()
        ones = np.ones(len(acc), dtype=np.int8)
        a2i = sparse.csr_matrix((ones, (acc, ident)), shape=(self.n_accounts, self.n_identifiers))
        return a2i, a2i.T.tocsr()

    def hubs(self) -> list[tuple[Any, str, int]]:
        """Every hub: (identifier, kind, degree), highest degree first."""
        idx = np.flatnonzero(self.hub)
        idx = idx[np.argsort(-self.degree[idx], kind="stable")]
        return [(self.identifier_keys[i], self.kind_of(i), int(self.degree[i])) for i in idx]


def _intern(keys: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.int64]]:
    uniq, inverse = np.unique(keys, return_inverse=True)
    return uniq, inverse.astype(np.int64, copy=False)


def build_graph(
    accounts: Sequence[Any] | NDArray[Any],
    identifiers: Sequence[Any] | NDArray[Any],
    settings: Settings,
    *,
    kinds: Sequence[str] | NDArray[Any] | None = None,
    kind_names: Sequence[str] | None = None,
    allowlist: frozenset[Any] | None = None,
) -> LinkGraph:
    """Build the graph from parallel arrays of links (one account and one identifier each).

    ``identifiers`` are canonical strings (their kind is their prefix) unless ``kinds``
    gives one kind per link: a kind name, or an index into ``kind_names`` (integer
    identifiers, as the benchmark uses). Kinds not in the settings are dropped, as are
    duplicate links. ``allowlist`` defaults to the settings' allow-list.
    """
    acc = np.asarray(accounts)
    ident = np.asarray(identifiers)
    if acc.shape != ident.shape:
        raise ValueError("accounts and identifiers must be parallel arrays")
    names = tuple(settings.kinds)
    code_of = {name: i for i, name in enumerate(names)}
    if kinds is None:
        kind_codes = np.fromiter((code_of.get(identifier_kind(str(v)), -1) for v in ident.tolist()),
                                 dtype=np.int16, count=len(ident))
    else:
        k = np.asarray(kinds)
        if k.dtype.kind in "iu":
            if kind_names is None:
                raise ValueError("integer kinds need kind_names")
            remap = np.array([code_of.get(n, -1) for n in kind_names], dtype=np.int16)
            kind_codes = remap[k]
        else:
            kind_codes = np.fromiter((code_of.get(str(v), -1) for v in k.tolist()), dtype=np.int16, count=len(k))
    keep = kind_codes >= 0
    if not keep.all():
        acc, ident, kind_codes = acc[keep], ident[keep], kind_codes[keep]

    account_keys, acc_idx = _intern(acc)
    identifier_keys, ident_idx = _intern(ident)
    n_acc, n_ident = len(account_keys), len(identifier_keys)
    ident_kind = np.zeros(n_ident, dtype=np.int16)
    ident_kind[ident_idx] = kind_codes  # an identifier's kind is fixed by its value

    pair = acc_idx * max(n_ident, 1) + ident_idx
    pair.sort()
    if len(pair):
        pair = pair[np.concatenate(([True], pair[1:] != pair[:-1]))]
    edge_account = (pair // max(n_ident, 1)).astype(np.int32)
    edge_identifier = (pair % max(n_ident, 1)).astype(np.int32)
    degree = np.bincount(edge_identifier, minlength=n_ident).astype(np.int32)

    thresholds = np.array([settings.hub_threshold(n, n_acc) for n in names], dtype=np.int64)
    hub = degree > thresholds[ident_kind]
    allow = settings.allowlist if allowlist is None else allowlist
    if allow and n_ident:
        allowed = np.fromiter((k in allow for k in identifier_keys.tolist()), dtype=bool, count=n_ident)
    else:
        allowed = np.zeros(n_ident, dtype=bool)
    strong_kind = np.array([settings.kinds[n].strength == "strong" for n in names], dtype=bool)
    return LinkGraph(
        account_keys=account_keys,
        identifier_keys=identifier_keys,
        identifier_kind=ident_kind,
        kind_names=names,
        edge_account=edge_account,
        edge_identifier=edge_identifier,
        degree=degree,
        hub=hub,
        allowed=allowed,
        strong=strong_kind[ident_kind],
    )
