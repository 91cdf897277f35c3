"""Gold labels: the label map's validation and how a row's gold is derived."""

from __future__ import annotations

from pathlib import Path

import pytest

from qinglang.errors import QLError
from qinglang.eval.labels import Gold, gold_from_row, load_label_map, parse_label_map, row_group

LOAN = "loan_fraud/unlicensed_loan_or_credit_card_agent"


@pytest.fixture(scope="module")
def label_map():
    return load_label_map()


def test_builtin_map_has_the_agreed_any_of_sets(label_map) -> None:
    assert label_map.codes_for(LOAN) == ("illegal_intermediary", "card_cashout", "loan_marketing")
    assert label_map.codes_for("crypto_or_investment_scam") == ("crypto_promotion", "stock_tipping")
    recovery = "recovery_scam(rights-protection/fund-recovery agent analog)"
    assert label_map.codes_for(recovery) == ("rights_agency",)
    cs = "customer_service_impersonation(partly_financial)"
    assert label_map.codes_for(cs) == ("impersonation",)
    assert label_map.codes_for("benign") == ()
    assert label_map.codes_for("never heard of it") is None
    assert label_map.info()["source"] == "builtin:label_map.yaml"
    assert len(label_map.info()["sha256"]) == 16


def test_group_field_by_file_glob(label_map) -> None:
    assert label_map.group_field("janitr_x_crypto_en.jsonl") == "target_category"
    assert label_map.group_field("thucnews_titles_zh.jsonl") == "label_source"


@pytest.mark.parametrize(
    ("text", "fragment", "hint"),
    [
        ("targets:\n  foo: [stock_tiping]\n", "targets['foo']: unknown category code 'stock_tiping'",
         "stock_tipping"),
        ("targets:\n  foo: stock_tipping\n", "targets['foo']: must be a list", None),
        ("targets:\n  foo: [stock_tipping, stock_tipping]\n", "lists a code twice", None),
        ("targetz:\n  foo: []\n", "targetz: unknown key", "targets"),
        ("version: 1\n", "targets: must be a non-empty mapping", None),
        ("- a\n- b\n", "document: a label map is a mapping", None),
        ("targets: [\n", "not valid YAML", None),
        ("version: one\ntargets:\n  foo: []\n", "version: must be an integer", None),
        ("targets:\n  foo: []\ngroup_by:\n  '*': labl_source\n", "unknown field 'labl_source'",
         "label_source"),
    ],
)
def test_invalid_label_map_is_ql5002_naming_the_entry(text: str, fragment: str, hint: str | None) -> None:
    with pytest.raises(QLError) as info:
        parse_label_map(text, source="my_map.yaml")
    err = info.value
    assert err.code.code == "QL-5002"
    assert "my_map.yaml" in err.message
    assert fragment in err.message
    if hint:
        assert hint in (err.hint or "")


def test_label_map_checked_against_the_engines_codes() -> None:
    with pytest.raises(QLError, match="unknown category code 'stock_tipping'"):
        parse_label_map("targets:\n  x: [stock_tipping]\n", known_codes=["crypto_promotion"])


def test_label_map_from_path(tmp_path: Path) -> None:
    p = tmp_path / "map.yaml"
    p.write_text("targets:\n  mine: [card_cashout]\ngroup_by:\n  'x*': meta.domain\n", "utf-8")
    lm = load_label_map(p)
    assert lm.codes_for("mine") == ("card_cashout",)
    assert lm.group_field("x1.jsonl") == "meta.domain"
    assert lm.info()["source"] == str(p)
    with pytest.raises(QLError) as info:
        load_label_map(tmp_path / "missing.yaml")
    assert info.value.code.code == "QL-4002"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        # exact labels win over is_positive / target_category
        ({"labels": ["card_cashout"], "is_positive": False, "target_category": "benign"},
         Gold("exact", ("card_cashout",), "benign", None, "benign")),
        ({"labels": [], "label_source": "mine"}, Gold("exact", (), "mine", "mine", None)),
        ({"labels": ["card_cashout", "card_cashout"]}, Gold("exact", ("card_cashout",), "-")),
        ({"is_positive": True, "target_category": LOAN, "label_source": "loan"},
         Gold("any_of", ("illegal_intermediary", "card_cashout", "loan_marketing"), "loan", "loan", LOAN)),
        # negatives need no mapping at all
        ({"is_positive": False, "target_category": "unmapped", "label_source": "stocks"},
         Gold("negative", (), "stocks", "stocks", "unmapped")),
        ({"is_positive": None, "target_category": "crypto_discussion"},
         Gold("ambiguous", (), "crypto_discussion", None, "crypto_discussion")),
        ({"is_positive": None, "target_category": "financial_rumor_candidate", "label_source": 3},
         Gold("ambiguous", ("financial_rumor",), "3", "3", "financial_rumor_candidate")),
        # an explicit group column wins
        ({"labels": [], "group": "g", "label_source": "s"}, Gold("exact", (), "g", "s", None)),
    ],
)
def test_gold_from_row(label_map, row: dict, expected: Gold) -> None:
    assert gold_from_row(row, label_map) == expected


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ({"text": "x"}, "neither 'labels' nor 'is_positive'"),
        ({"labels": "card_cashout"}, "must be a list"),
        ({"labels": ["card_cash_out"]}, "unknown category code"),
        ({"is_positive": True}, "without 'target_category'"),
        ({"is_positive": True, "target_category": "nope"}, "not in the label map"),
        ({"is_positive": True, "target_category": "benign"}, "maps to no category code"),
        ({"is_positive": "yes", "target_category": LOAN}, "must be true, false or null"),
    ],
)
def test_unusable_label_is_ql5001(label_map, row: dict, fragment: str) -> None:
    with pytest.raises(QLError) as info:
        gold_from_row(row, label_map, record=7)
    assert info.value.code.code == "QL-5001"
    assert info.value.record == 7
    assert fragment in info.value.message


def test_row_group_fallbacks() -> None:
    assert row_group({"meta": {"domain": "科技"}, "label_source": "x"}, "meta.domain") == "科技"
    assert row_group({"meta": {}, "label_source": "x"}, "meta.domain") == "x"
    assert row_group({"target_category": "t"}, "label_source") == "t"
    assert row_group({}, "label_source") == "-"
