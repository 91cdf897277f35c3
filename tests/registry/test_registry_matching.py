"""Name matching and account binding against the fixture registry."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from qinglang.registry import (
    Binding,
    BindingStatus,
    ClaimProblem,
    EntityKind,
    LicenceType,
    MatchReason,
    Registry,
    bind_account,
    find_licence_claims,
    import_csv,
    match_name,
    strip_suffixes,
)
from qinglang.registry.matching import spaced_key

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2025, 6, 1)


@pytest.fixture(scope="module")
def registry() -> Registry:
    result = import_csv(FIXTURES / "registry.csv")
    assert result.ok
    return result.registry


# query, expected best entry id, reason
MATCH_CASES = [
    # full name, short name, alias
    ("招商银行股份有限公司", "cmb", MatchReason.EXACT),
    ("招商银行", "cmb", MatchReason.ALIAS),
    ("招行", "cmb", MatchReason.ALIAS),
    ("China Merchants Bank", "cmb", MatchReason.ALIAS),
    ("中国工商银行", "icbc", MatchReason.SUFFIX_STRIPPED),
    ("中国工商银行有限公司", "icbc", MatchReason.SUFFIX_STRIPPED),
    ("工商银行", "icbc", MatchReason.ALIAS),
    # traditional / simplified
    ("招商銀行", "cmb", MatchReason.ALIAS),
    ("中國工商銀行股份有限公司", "icbc", MatchReason.EXACT),
    ("中國平安保險（集團）股份有限公司", "pingan", MatchReason.EXACT),
    ("中國平安保險(集團)", "pingan", MatchReason.SUFFIX_STRIPPED),
    # full width, case, spacing
    ("ＩＣＢＣ", "icbc", MatchReason.ALIAS),
    ("icbc", "icbc", MatchReason.ALIAS),
    ("招 商 银 行", "cmb", MatchReason.ALIAS),
    ("中国 工商·银行", "icbc", MatchReason.SUFFIX_STRIPPED),
    ("GoldmanSachs", "gs", MatchReason.ALIAS),
    ("ｇｏｌｄｍａｎ　ｓａｃｈｓ", "gs", MatchReason.ALIAS),
    # legal-form suffixes, Chinese and Latin
    ("Goldman Sachs & Co.", "gs", MatchReason.SUFFIX_STRIPPED),
    ("GOLDMAN SACHS CO., LTD.", "gs", MatchReason.SUFFIX_STRIPPED),
    ("Goldman Sachs Group, Inc.", "gs", MatchReason.SUFFIX_STRIPPED),
    ("UniCredit", "unicredit", MatchReason.SUFFIX_STRIPPED),
    ("Unicredit SpA", "unicredit", MatchReason.EXACT),
    ("招商证券", "cmbsec", MatchReason.SUFFIX_STRIPPED),
    ("招商证券有限责任公司", "cmbsec", MatchReason.SUFFIX_STRIPPED),
    ("中国银行", "boc", MatchReason.SUFFIX_STRIPPED),
    ("支付宝(中国)网络技术有限公司", "alipay", MatchReason.EXACT),
    # containment
    ("工商银行北京分行", "icbc", MatchReason.CONTAINED),
    ("招商银行客服中心", "cmb", MatchReason.CONTAINED),
    ("平安保险集团", "pingan", MatchReason.CONTAINED),
]


@pytest.mark.parametrize(("query", "entry_id", "reason"), MATCH_CASES)
def test_name_matches(registry: Registry, query: str, entry_id: str, reason: MatchReason) -> None:
    matches = match_name(registry, query)
    assert matches, query
    best = matches[0]
    assert (best.entry.id, best.reason) == (entry_id, reason), [(m.entry.id, m.reason, m.score) for m in matches]
    if reason is MatchReason.CONTAINED:
        assert 0.5 < best.score < 0.85


# query, entry ids that must not match at all
NO_MATCH_CASES = [
    ("中国民生银行", {"boc", "icbc", "ccb"}),  # another bank with a similar name
    ("中国银行", {"icbc", "ccb"}),  # 中国银行 is not inside 中国工商银行
    ("招商银行", {"cmbsec"}),  # same brand, different licensee
    ("招商证券", {"cmb"}),
    ("平安银行", {"pasec", "pingan"}),
    ("平安", set()),  # too short to match by containment
    ("银行", set()),
    ("Goldmann Capital", {"gs"}),  # containment respects Latin word boundaries
    ("Sachs Bank", {"gs"}),
    ("Zinc Credit", {"unicredit"}),
    ("股神老王带你上车", set()),
    ("", set()),
]


@pytest.mark.parametrize(("query", "forbidden"), NO_MATCH_CASES)
def test_no_match_controls(registry: Registry, query: str, forbidden: set[str]) -> None:
    ids = {m.entry.id for m in match_name(registry, query)}
    assert not ids & forbidden, ids
    if not forbidden:
        assert ids == set()


def test_similar_names_rank_the_right_bank_first(registry: Registry) -> None:
    matches = match_name(registry, "中国建设银行")
    assert [m.entry.id for m in matches] == ["ccb"]


def test_match_filters(registry: Registry) -> None:
    assert match_name(registry, "快易贷") and not match_name(registry, "快易贷", on=TODAY)
    assert not match_name(registry, "招商银行", licence_types=[LicenceType.BROKER])
    assert not match_name(registry, "王建国", kinds=[EntityKind.INSTITUTION])
    assert match_name(registry, "王建国", kinds=[EntityKind.PERSON])[0].reason is MatchReason.EXACT
    assert not match_name(registry, "工商银行北京分行", min_score=0.9)


def test_match_sees_entries_added_later() -> None:
    result = import_csv("name,licence_type,licence_number\n甲银行,bank,B1\n")
    assert not match_name(result.registry, "乙银行")
    import_csv("name,licence_type,licence_number\n乙银行股份有限公司,bank,B2\n", into=result.registry)
    assert match_name(result.registry, "乙银行")[0].reason is MatchReason.SUFFIX_STRIPPED


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("招商银行股份有限公司", "招商银行"),
        ("中国平安保险（集团）股份有限公司", "中国平安保险"),
        ("某某集团控股有限公司", "某某"),  # stripping repeats
        ("Goldman Sachs & Co. LLC", "goldman sachs"),
        ("Zinc", "zinc"),  # a suffix only strips at a word boundary
        ("Alpha Inc", "alpha"),
        ("有限公司", "有限公司"),  # never down to nothing
        ("Group", "group"),
    ],
)
def test_strip_suffixes(name: str, core: str) -> None:
    assert strip_suffixes(spaced_key(name)) == core


# -- licence claims ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "numbers", "claims"),
    [
        ("执业编号：S0100520070001 带你上车", ("S0100520070001",), True),
        ("證書編號 s1234567890123", ("S1234567890123",), True),
        ("持牌投顾 稳赚", (), True),
        ("Licence No. AB-12345, FCA authorised", ("AB-12345",), True),
        ("每天分享牛股 600519", (), False),
        ("S0100520070001", ("S0100520070001",), True),  # a practitioner number alone is a claim
    ],
)
def test_find_licence_claims(text: str, numbers: tuple[str, ...], claims: bool) -> None:
    claim = find_licence_claims(text)
    assert claim.numbers == numbers and claim.claims_licence is claims


def test_find_licence_claims_sees_registry_numbers(registry: Registry) -> None:
    assert find_licence_claims("合作机构 B0011H144030001").numbers == ()
    assert find_licence_claims("合作机构 B0011H144030001", registry).numbers == ("B0011H144030001",)


# -- binding ------------------------------------------------------------------------------


def bind(
    registry: Registry, display_name: str, bio: str | None = None, declared: str | None = None, **kw: Any
) -> Binding:
    return bind_account(registry, declared_licence=declared, display_name=display_name, bio=bio, on=TODAY, **kw)


def test_declared_licence_binds_whatever_the_name(registry: Registry) -> None:
    b = bind(registry, "招商银行信用卡", declared="b0011h144030001")
    assert (b.status, b.entry and b.entry.id, b.via) == (BindingStatus.BOUND, "cmb", "declared")
    assert b.bound and b.claimed_licence == "b0011h144030001"
    other = bind(registry, "财经小助手", declared="B0011H144030001")
    assert other.bound and other.name_match is None  # the decision layer may still review the name


def test_declared_licence_wins_over_bio_and_name(registry: Registry) -> None:
    b = bind(registry, "中信证券", bio="执业编号 S9999999999999", declared="SEC-10130000")
    assert b.bound and b.entry is not None and b.entry.id == "citics"


@pytest.mark.parametrize(
    ("declared", "problem", "entry_id"),
    [
        ("S1010612100053", ClaimProblem.EXPIRED, "liming"),
        ("S0100525010009", ClaimProblem.NOT_YET_VALID, "zhangwei"),
        ("S9999999999999", ClaimProblem.NOT_IN_REGISTRY, None),
    ],
)
def test_declared_licence_not_held(
    registry: Registry, declared: str, problem: ClaimProblem, entry_id: str | None
) -> None:
    b = bind(registry, "李明老师", declared=declared)
    assert b.status is BindingStatus.CLAIMS_UNHELD_LICENCE and not b.bound
    assert b.claim_problem is problem and b.via == "declared" and b.claimed_licence == declared
    assert (b.entry.id if b.entry else None) == entry_id


@pytest.mark.parametrize(
    ("display_name", "entry_id", "reason"),
    [
        ("招商銀行", "cmb", MatchReason.ALIAS),
        ("中国工商银行股份有限公司", "icbc", MatchReason.EXACT),
        ("ＣＩＴＩＣ Securities", "citics", MatchReason.ALIAS),
        ("Goldman Sachs & Co. LLC", "gs", MatchReason.EXACT),
    ],
)
def test_binding_by_name(registry: Registry, display_name: str, entry_id: str, reason: MatchReason) -> None:
    b = bind(registry, display_name)
    assert (b.status, b.via) == (BindingStatus.BOUND, "name")
    assert b.entry is not None and b.entry.id == entry_id
    assert b.name_match is not None and b.name_match.reason is reason


def test_containment_does_not_bind(registry: Registry) -> None:
    b = bind(registry, "招商银行客服")  # how an impersonator names an account
    assert b.status is BindingStatus.UNBOUND and b.entry is None
    assert [c.entry.id for c in b.candidates] == ["cmb"]
    assert "closest" in b.explanation


def test_persons_do_not_bind_by_name_alone(registry: Registry) -> None:
    assert bind(registry, "王建国").status is BindingStatus.UNBOUND
    b = bind(registry, "王建国", bind_persons_by_name=True)
    assert b.bound and b.entry is not None and b.entry.id == "wangjg"


def test_expired_licence_by_name(registry: Registry) -> None:
    lapsed = bind(registry, "深圳市快易小额贷款有限公司")
    assert lapsed.status is BindingStatus.LAPSED and lapsed.entry is not None and lapsed.entry.id == "kuaiyi"
    claiming = bind(registry, "快易贷", bio="持牌机构 正规放款")
    assert claiming.status is BindingStatus.CLAIMS_UNHELD_LICENCE
    assert claiming.claim_problem is ClaimProblem.EXPIRED and claiming.entry is lapsed.entry
    # the same account before the licence ended
    before = bind_account(registry, declared_licence=None, display_name="快易贷", bio="持牌", on=date(2023, 12, 31))
    assert before.bound


def test_stated_number_binds_when_the_name_names_its_holder(registry: Registry) -> None:
    b = bind(registry, "中信证券王建国", bio="执业编号 S0100520070001")
    assert (b.status, b.via, b.claimed_licence) == (BindingStatus.BOUND, "stated", "S0100520070001")
    assert b.entry is not None and b.entry.id == "wangjg"


@pytest.mark.parametrize(
    ("display_name", "bio", "problem", "entry_id"),
    [
        # someone else's number: the classic fake "teacher"
        ("王老师讲股", "执业编号：S0100520070001 带你上车", ClaimProblem.HELD_BY_OTHER, "wangjg"),
        ("股神老李", "持牌投顾，证书编号S1234567890123", ClaimProblem.NOT_IN_REGISTRY, None),
        ("李明", "证书编号 S1010612100053", ClaimProblem.EXPIRED, "liming"),
        ("张伟", "执业编号S0100525010009", ClaimProblem.NOT_YET_VALID, "zhangwei"),
        ("股神老李", "正规持牌 稳赚不赔", ClaimProblem.NO_LICENCE_FOUND, None),
        ("招商银行客服", "持牌金融机构官方客服", ClaimProblem.NO_LICENCE_FOUND, None),
    ],
)
def test_claims_unheld_licence(
    registry: Registry, display_name: str, bio: str, problem: ClaimProblem, entry_id: str | None
) -> None:
    b = bind(registry, display_name, bio=bio)
    assert b.status is BindingStatus.CLAIMS_UNHELD_LICENCE, b.explanation
    assert b.claim_problem is problem
    assert (b.entry.id if b.entry else None) == entry_id


def test_no_claim_no_match_is_unbound(registry: Registry) -> None:
    b = bind(registry, "股神老李", bio="每天分享牛股")
    assert b.status is BindingStatus.UNBOUND and b.candidates == () and b.to_dict()["entry_id"] is None


def test_ambiguous_name_does_not_bind() -> None:
    text = "name,aliases,licence_type,licence_number\n甲银行,华信,bank,B1\n乙证券,华信,broker,S1\n"
    b = bind(import_csv(text).registry, "华信")
    assert b.status is BindingStatus.UNBOUND and "several" in b.explanation
    assert {c.entry.id for c in b.candidates} == {"bank:B1", "broker:S1"}


def test_bound_licence_in_force_on_the_day(registry: Registry) -> None:
    assert bind(registry, "支付宝").bound
    later = bind_account(registry, declared_licence=None, display_name="支付宝", bio=None, on=date(2026, 5, 3))
    assert later.status is BindingStatus.LAPSED


def test_one_entity_with_several_licences_binds() -> None:
    text = (
        "id,name,aliases,licence_type,licence_number,valid_from,valid_to\n"
        "bank,甲银行股份有限公司,甲银行,bank,B1,2000-01-01,\n"
        "pay,甲银行股份有限公司,甲银行,payment,P1,2010-01-01,\n"
    )
    b = bind(import_csv(text).registry, "甲银行")
    assert b.bound and b.entry is not None and b.entry.id == "bank"
    assert [e.id for e in b.also_held] == ["pay"] and b.candidates == ()


def test_renewed_licence_beats_the_lapsed_one() -> None:
    text = (
        "id,name,licence_type,licence_number,valid_from,valid_to\n"
        "old,乙小额贷款有限公司,lender,L1,2010-01-01,2019-12-31\n"
        "new,乙小额贷款有限公司,lender,L2,2020-01-01,\n"
    )
    b = bind(import_csv(text).registry, "乙小额贷款有限公司")
    assert b.bound and b.entry is not None and b.entry.id == "new" and b.also_held == ()


def test_latin_claim_words_need_a_word_start() -> None:
    assert find_licence_claims("since no 12345 days").numbers == ()
