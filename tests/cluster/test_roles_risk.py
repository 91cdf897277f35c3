"""Roles on a crafted small gang, the chain, and the risk formula."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from qinglang.cluster.risk import risk_breakdown
from qinglang.cluster.roles import AccountProfile, assign_roles, build_chain
from qinglang.cluster.settings import default_settings

T = [datetime(2026, 9, d, tzinfo=UTC) for d in range(1, 8)]
WALLET = "wallet:tron:TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"


def _gang() -> list[AccountProfile]:
    return [
        AccountProfile("op", {"domain:niu-gu.cn": T[0]}, Counter(stock_tipping=1), 1),
        AccountProfile("teacher", {"wechat:niugu_88": T[1], "domain:niu-gu.cn": T[1]}, Counter(stock_tipping=2), 2),
        AccountProfile("traffic", {"wechat:niugu_88": T[2]}, Counter(traffic_diversion=3), 3),
        AccountProfile("collector", {WALLET: T[3], "domain:niu-gu.cn": T[3]}, Counter(card_cashout=1), 1),
        AccountProfile("mule", {WALLET: T[4]}, Counter(), 0),
        AccountProfile("quiet", {"wechat:niugu_88": T[5]}, Counter(), 0),
    ]


@pytest.mark.parametrize(
    ("account", "primary", "all_roles"),
    [
        ("op", "operator", ["operator", "teacher", "traffic"]),  # first to show the shared site
        ("teacher", "teacher", ["teacher", "traffic"]),
        ("traffic", "traffic", ["traffic"]),
        ("collector", "collector", ["collector", "traffic"]),
        ("mule", "collector", ["collector"]),  # holds the wallet, posts nothing flagged
        ("quiet", "member", ["member"]),
    ],
)
def test_roles_of_a_small_gang(account: str, primary: str, all_roles: list[str]) -> None:
    roles = assign_roles(_gang(), default_settings())
    assert roles[account][0] == primary
    assert roles[account] == all_roles


def test_chain_buckets() -> None:
    profiles = _gang()
    roles = assign_roles(profiles, default_settings())
    shared = {"domain:niu-gu.cn": 3, "wechat:niugu_88": 3, WALLET: 2}
    chain = build_chain(profiles, roles, default_settings(), shared)
    assert list(chain) == ["information", "funds", "technology", "people"]
    assert chain["information"]["accounts"] == ["teacher", "traffic"]
    assert chain["funds"] == {"accounts": ["collector", "mule"], "identifiers": [{"identifier": WALLET, "accounts": 2}]}
    assert chain["technology"]["accounts"] == ["op"]
    assert [i["identifier"] for i in chain["technology"]["identifiers"]] == ["domain:niu-gu.cn"]
    assert [i["identifier"] for i in chain["people"]["identifiers"]] == ["wechat:niugu_88"]
    assert len(chain["people"]["accounts"]) == 6
    assert chain["information"]["categories"]["traffic_diversion"] == 3


@pytest.mark.parametrize(
    ("severities", "categories", "size", "identifiers", "risk"),
    [
        ([], [], 2, [], 0.015),  # size term only: 0.15 * log10(2) / 3
        (["high"], ["stock_tipping"], 10, [], 0.65),
        (["medium", "high"], ["a", "b", "c"], 1000, [WALLET], 0.95),  # 0.6 + 0.1 + 0.15 + 0.1
        (["high"], ["a", "b", "c", "d", "e", "f"], 10**6, ["bank_card:6222021234567890128"], 1.0),  # capped
    ],
)
def test_risk_formula(severities: list[str], categories: list[str], size: int, identifiers: list[str],
                      risk: float) -> None:
    assert risk_breakdown(severities, categories, size, identifiers, default_settings().risk)["risk"] == risk
