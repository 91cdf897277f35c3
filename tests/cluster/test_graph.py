"""The link graph: interning, hub suppression, allow-list, weak links."""

from __future__ import annotations

import numpy as np
import pytest

from qinglang.cluster.clusters import find_clusters
from qinglang.cluster.graph import build_graph
from qinglang.cluster.settings import default_settings, load_settings


def _star(identifier: str, n: int, prefix: str = "u") -> tuple[list[str], list[str]]:
    return [f"{prefix}{i}" for i in range(n)], [identifier] * n


@pytest.mark.parametrize(
    ("identifier", "holders", "is_hub"),
    [
        ("phone:+8613800138000", 300, False),  # at the phone bar: still links
        ("phone:+8613800138000", 301, True),  # over it: a hub
        ("device:abcd-1234", 50, False),
        ("device:abcd-1234", 51, True),  # devices are shared by few honest accounts
        ("wallet:eth:0x" + "1" * 40, 500, False),
        ("wallet:eth:0x" + "1" * 40, 501, True),
    ],
)
def test_hub_threshold_per_kind(identifier: str, holders: int, is_hub: bool) -> None:
    accounts, idents = _star(identifier, holders)
    graph = build_graph(accounts, idents, default_settings())
    assert bool(graph.hub[0]) is is_hub
    clusters = find_clusters(graph, default_settings().clusters)
    assert len(clusters.members) == (0 if is_hub else 1)


def test_hub_bar_grows_with_the_graph() -> None:
    settings = default_settings()
    assert settings.hub_threshold("phone", 1000) == 300
    assert settings.hub_threshold("phone", 1_000_000) == 1000  # share 0.001 of the accounts


def test_hub_does_not_melt_two_gangs_together() -> None:
    accounts, idents = _star("domain:popular.cn", 400)
    accounts += ["u1", "u2", "u3", "u4"]
    idents += ["wechat:gang_a", "wechat:gang_a", "wechat:gang_b", "wechat:gang_b"]
    graph = build_graph(accounts, idents, default_settings())
    assert [h[0] for h in graph.hubs()] == ["domain:popular.cn"]
    members = find_clusters(graph, default_settings().clusters).members
    assert sorted(sorted(graph.account_keys[m].tolist()) for m in members) == [["u1", "u2"], ["u3", "u4"]]


def test_allow_listed_identifiers_never_link() -> None:
    settings = default_settings()
    assert "phone:+8695588" in settings.allowlist
    graph = build_graph(["a", "b"], ["phone:+8695588", "phone:+8695588"], settings)
    assert graph.allowed.tolist() == [True]
    assert find_clusters(graph, settings.clusters).members == []
    extra = settings.with_allowlist(frozenset({"wechat:shop_help"}))
    graph = build_graph(["a", "b"], ["wechat:shop_help"] * 2, extra)
    assert find_clusters(graph, extra.clusters).members == []


def test_weak_links_and_unknown_kinds_do_not_join() -> None:
    graph = build_graph(["a", "b", "c", "d"], ["ip:203.0.113.7", "ip:203.0.113.7", "stock_code:600519",
                                               "stock_code:600519"], default_settings())
    assert graph.identifier_keys.tolist() == ["ip:203.0.113.7"]  # stock codes are no identifiers
    assert graph.strong.tolist() == [False]
    assert find_clusters(graph, default_settings().clusters).members == []


def test_duplicate_links_count_once() -> None:
    graph = build_graph(["a", "a", "b"], ["qq:12345", "qq:12345", "qq:12345"], default_settings())
    assert len(graph.edge_account) == 2
    assert graph.degree.tolist() == [2]


def test_integer_keys_with_kind_codes() -> None:
    graph = build_graph(np.array([1, 2, 3]), np.array([10, 10, 11]), default_settings(),
                        kinds=np.array([0, 0, 1]), kind_names=("wallet", "ip"))
    assert graph.kind_of(0) == "wallet" and graph.kind_of(1) == "ip"
    assert [m.tolist() for m in find_clusters(graph, default_settings().clusters).members] == [[0, 1]]


def test_bad_settings_are_coded_errors() -> None:
    from qinglang.errors import QLError

    with pytest.raises(QLError) as exc:
        load_settings(links_text="kinds: {phone: {strength: strong, hub_degree: 3, bucket: people, colour: red}}\n"
                                 "hub: {share: 0.1}\n")
    assert exc.value.code.code == "QL-9009"
