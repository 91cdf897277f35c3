"""Clusters: components over strong links, Leiden splitting only at weak bridges."""

from __future__ import annotations

from qinglang.cluster.clusters import find_clusters
from qinglang.cluster.graph import build_graph
from qinglang.cluster.settings import default_settings


def _gang(name: str, size: int, pool: int) -> tuple[list[str], list[str]]:
    """Members in a ring over a pool of identifiers, and everyone on the gang's core wallet."""
    accounts, idents = [], []
    for j in range(size):
        for k in (j % pool, (j + 1) % pool):
            accounts.append(f"{name}{j}")
            idents.append(f"wechat:{name}_{k}")
        if j % 2 == 0:
            accounts.append(f"{name}{j}")
            idents.append(f"wallet:tron:{name}core")
    return accounts, idents


def test_gangs_joined_by_one_stray_identifier_come_apart() -> None:
    a_acc, a_id = _gang("a", 120, 15)
    b_acc, b_id = _gang("b", 120, 15)
    accounts = a_acc + b_acc + ["a5", "b7"]
    idents = a_id + b_id + ["phone:+8613900000000", "phone:+8613900000000"]  # one shared SIM
    settings = default_settings()
    graph = build_graph(accounts, idents, settings)
    result = find_clusters(graph, settings.clusters)
    assert result.giants == 1 and result.giants_split == 1
    groups = sorted({k[0] for k in graph.account_keys[m].tolist()} for m in result.members)
    assert groups == [{"a"}, {"b"}]
    assert sorted(len(m) for m in result.members) == [120, 120]


def test_a_cohesive_gang_stays_whole() -> None:
    accounts, idents = _gang("g", 300, 40)
    settings = default_settings()
    result = find_clusters(build_graph(accounts, idents, settings), settings.clusters)
    assert result.giants == 1 and result.giants_split == 0
    assert [len(m) for m in result.members] == [300]


def test_small_components_are_not_split_and_singletons_are_no_cluster() -> None:
    accounts = ["a", "b", "c", "d"]
    idents = ["qq:11111", "qq:11111", "qq:22222", "email:x@example.org"]
    settings = default_settings()
    graph = build_graph(accounts, idents, settings)
    result = find_clusters(graph, settings.clusters)
    assert [graph.account_keys[m].tolist() for m in result.members] == [["a", "b"]]
    assert result.labels.tolist() == [0, 0, -1, -1]


def test_same_graph_same_clusters() -> None:
    a_acc, a_id = _gang("a", 160, 20)
    b_acc, b_id = _gang("b", 90, 12)
    accounts, idents = a_acc + b_acc + ["a1", "b1"], a_id + b_id + ["qq:99999", "qq:99999"]
    settings = default_settings()
    first = find_clusters(build_graph(accounts, idents, settings), settings.clusters)
    second = find_clusters(build_graph(list(reversed(accounts)), list(reversed(idents)), settings), settings.clusters)
    assert [m.tolist() for m in first.members] == [m.tolist() for m in second.members]
