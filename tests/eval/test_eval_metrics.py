"""Metrics on hand-built cases whose answers are worked out in the comments."""

from __future__ import annotations

import pytest
from eval_fakes import verdict

from qinglang.eval.labels import Gold
from qinglang.eval.metrics import (
    CategoryStats,
    Scorer,
    f1_score,
    macro_average,
    micro_average,
    ratio,
)

LOAN = ("illegal_intermediary", "card_cashout", "loan_marketing")


def any_of(*codes: str, group: str = "g") -> Gold:
    return Gold("any_of", codes, group, target="t")


def exact(*codes: str, group: str = "g") -> Gold:
    return Gold("exact", codes, group)


NEG = Gold("negative", (), "neg")
AMB = Gold("ambiguous", ("impersonation",), "amb", target="cs")


def score(rows: list[tuple[Gold, list[str]]]) -> Scorer:
    s = Scorer()
    for i, (gold, codes) in enumerate(rows):
        s.add(gold, verdict(f"p{i}", codes, [(f"r.{c}", c) for c in codes]))
    return s


def counts(s: Scorer, code: str) -> tuple[int, int, int, int, int]:
    c = s.categories.get(code, CategoryStats(code))
    return (c.tp, c.fp, c.fn, c.extra, c.fp_on_negatives)


# (case, rows, {code: (tp, fp, fn, extra, fp_on_negatives)}, post (tp, fp, fn, tn))
CASES = [
    ("any-of hit credits the predicted code in the set",
     [(any_of(*LOAN), ["card_cashout"])],
     {"card_cashout": (1, 0, 0, 0, 0), "illegal_intermediary": (0, 0, 0, 0, 0)}, (1, 0, 0, 0)),
    ("any-of hit credits every predicted code in the set",
     [(any_of(*LOAN), ["illegal_intermediary", "loan_marketing"])],
     {"illegal_intermediary": (1, 0, 0, 0, 0), "loan_marketing": (1, 0, 0, 0, 0),
      "card_cashout": (0, 0, 0, 0, 0)}, (1, 0, 0, 0)),
    ("any-of miss charges one FN to the primary only",
     [(any_of(*LOAN), [])],
     {"illegal_intermediary": (0, 0, 1, 0, 0), "card_cashout": (0, 0, 0, 0, 0)}, (0, 0, 1, 0)),
    ("codes outside the set on a positive row are extra, not FP",
     [(any_of(*LOAN), ["illegal_intermediary", "traffic_diversion"])],
     {"illegal_intermediary": (1, 0, 0, 0, 0), "traffic_diversion": (0, 0, 0, 1, 0)}, (1, 0, 0, 0)),
    ("only codes outside the set: post-level TP, FN to primary, extra",
     [(any_of(*LOAN), ["traffic_diversion"])],
     {"illegal_intermediary": (0, 0, 1, 0, 0), "traffic_diversion": (0, 0, 0, 1, 0)}, (1, 0, 0, 0)),
    ("exact labels: ordinary TP/FP/FN",
     [(exact("stock_tipping", "traffic_diversion"), ["stock_tipping", "crypto_promotion"])],
     {"stock_tipping": (1, 0, 0, 0, 0), "crypto_promotion": (0, 1, 0, 0, 0),
      "traffic_diversion": (0, 0, 1, 0, 0)}, (1, 0, 0, 0)),
    ("every code flagged on a negative is an FP on negatives",
     [(NEG, ["stock_tipping", "traffic_diversion"]), (exact(), ["stock_tipping"]), (NEG, [])],
     {"stock_tipping": (0, 2, 0, 0, 2), "traffic_diversion": (0, 1, 0, 0, 1)}, (0, 2, 0, 1)),
    ("ambiguous rows are never scored",
     [(AMB, ["impersonation"]), (AMB, [])],
     {"impersonation": (0, 0, 0, 0, 0)}, (0, 0, 0, 0)),
    ("a code listed twice by a verdict counts once",
     [(any_of(*LOAN), ["card_cashout", "card_cashout"])],
     {"card_cashout": (1, 0, 0, 0, 0)}, (1, 0, 0, 0)),
]


@pytest.mark.parametrize(("rows", "per_code", "post"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case_table(rows, per_code, post) -> None:
    s = score(rows)
    for code, expected in per_code.items():
        assert counts(s, code) == expected, code
    p = s.post
    assert (p.tp, p.fp, p.fn, p.tn) == post


def test_ratios_are_none_when_undefined() -> None:
    assert ratio(0, 0) is None
    assert ratio(1, 4) == 0.25
    assert f1_score(0, 0, 0) is None
    assert f1_score(0, 3, 0) == 0.0
    assert f1_score(2, 1, 1) == pytest.approx(2 / 3)


def test_post_level_numbers() -> None:
    # positives: 3 (2 flagged, 1 of them for a gold code), negatives: 4 (1 flagged)
    s = score(
        [
            (any_of(*LOAN), ["card_cashout"]),
            (any_of(*LOAN), ["traffic_diversion"]),
            (exact("disguised_pyramid"), []),
            (NEG, ["stock_tipping"]),
            (NEG, []),
            (NEG, []),
            (exact(), []),
            (AMB, ["impersonation"]),
        ]
    )
    p = s.result().post
    assert (p.positives, p.negatives) == (3, 4)
    assert p.precision == pytest.approx(2 / 3)
    assert p.recall == pytest.approx(2 / 3)
    assert p.f1 == pytest.approx(2 / 3)
    assert p.fp_rate == pytest.approx(1 / 4)
    assert p.category_recall == pytest.approx(1 / 3)
    m = s.result()
    assert (m.ambiguous_rows, m.ambiguous_flagged) == (1, 1)
    amb = m.ambiguous["cs"]
    assert (amb.rows, amb.flagged, amb.hit_expected, dict(amb.codes)) == (1, 1, 1, {"impersonation": 1})
    assert m.categories["stock_tipping"].fp_rate(p.negatives) == pytest.approx(1 / 4)


def test_micro_and_macro() -> None:
    # A: tp 3 fp 1 fn 0 -> P .75 R 1 F1 6/7
    # B: tp 1 fp 0 fn 1 -> P 1 R .5 F1 2/3
    # C: tp 0 fp 2 fn 0 -> P 0 R undefined F1 0
    # D: nothing -> all undefined, left out of both averages
    stats = [
        CategoryStats("A", tp=3, fp=1),
        CategoryStats("B", tp=1, fn=1),
        CategoryStats("C", fp=2, fp_on_negatives=2),
        CategoryStats("D", extra=2),
    ]
    micro = micro_average(stats)
    assert (micro.tp, micro.fp, micro.fn, micro.extra) == (4, 3, 1, 2)
    assert micro.precision == pytest.approx(4 / 7)
    assert micro.recall == pytest.approx(4 / 5)
    assert micro.f1 == pytest.approx(8 / 12)
    assert micro.categories == {"precision": 3, "recall": 3, "f1": 3}
    macro = macro_average(stats)
    assert macro.precision == pytest.approx((0.75 + 1 + 0) / 3)
    assert macro.recall == pytest.approx((1 + 0.5) / 2)
    assert macro.f1 == pytest.approx((6 / 7 + 2 / 3 + 0) / 3)
    assert macro.categories == {"precision": 3, "recall": 2, "f1": 3}
    empty = macro_average([CategoryStats("X")])
    assert (empty.precision, empty.recall, empty.f1) == (None, None, None)


def test_groups_and_rules_on_negatives() -> None:
    s = Scorer(["stock_tipping"])
    s.add(Gold("negative", (), "stocks"), verdict("n1", ["stock_tipping"], [("r.a", "stock_tipping")]))
    # the same rule twice in one verdict counts once; a hit without a flag still counts
    s.add(Gold("negative", (), "stocks"), verdict("n2", [], [("r.a", "stock_tipping"), ("r.a", "stock_tipping")]))
    s.add(Gold("negative", (), "finance"), verdict("n3", [], [("r.b", "stock_tipping")]))
    s.add(any_of("stock_tipping", group="stocks"), verdict("p1", ["stock_tipping"], [("r.c", "stock_tipping")]))
    m = s.result()
    assert [(r.rule, r.count, r.flagged, r.example_id) for r in m.negative_rules] == [
        ("r.a", 2, 1, "n1"),
        ("r.b", 1, 0, "n3"),
    ]
    g = m.groups["stocks"]
    assert (g.rows, g.positives, g.negatives, g.flagged) == (3, 1, 2, 2)
    assert g.flag_rate == pytest.approx(2 / 3)
    assert m.groups["finance"].flag_rate == 0.0
    assert list(m.groups) == ["finance", "stocks"]


def test_top_negative_rules_keeps_fifteen_by_count_then_id() -> None:
    s = Scorer()
    for i in range(20):
        for j in range(i % 4 + 1):
            s.add(NEG, verdict(f"n{i}-{j}", [], [(f"r{i:02d}", "stock_tipping")]))
    top = s.result().negative_rules
    assert len(top) == 15
    counts_ = [r.count for r in top]
    assert counts_ == sorted(counts_, reverse=True)
    assert [r.rule for r in top[:5]] == ["r03", "r07", "r11", "r15", "r19"]


def test_taxonomy_seeds_every_category() -> None:
    m = Scorer(["card_cashout", "stock_tipping"]).result()
    assert list(m.categories) == ["card_cashout", "stock_tipping"]
    d = m.to_dict()
    assert d["categories"]["card_cashout"]["precision"] is None
    assert d["micro"]["precision"] is None
