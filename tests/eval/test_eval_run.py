"""evaluate() end to end on the project's own fixture, with the fake engine.

Expected numbers, worked out from fixtures/labeled_small.jsonl and eval_fakes.KEYWORD_RULES:

- 17 records: 8 positives (f01 f02 f03 f06 f07 f10 f11 f13), 5 negatives (f04 f05 f09
  f12 f14), 2 ambiguous (f08 f17), skipped: f15 (no label, QL-5001), f16 (no text, QL-1003).
- post level: TP 6 (f03, f11 missed), FP 2 (f04 stock_tipping, f14 impersonation), TN 3.
- illegal_intermediary TP 1 (f01) FN 1 (f03, primary of the loan set); traffic_diversion
  TP 1 (f10) extra 1 (f01); stock_tipping TP 1 (f10) FP 2 (f04 negative, f13 exact);
  crypto_promotion TP 2 (f06, f13); disguised_pyramid FN 1 (f11); impersonation FP 1 (f14).
"""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest
from eval_fakes import FakeEngine

from qinglang.errors import QLError
from qinglang.eval.run import evaluate, iter_labeled


def summary(report) -> dict:
    d = report.to_dict()
    return {
        "rows": d["rows"],
        "post": d["post"],
        "categories": d["categories"],
        "micro": d["micro"],
        "macro": d["macro"],
        "groups": d["groups"],
        "ambiguous": d["ambiguous"],
        "negative_rules": d["negative_rules"],
        "skipped": {k: v["count"] for k, v in d["skipped"].items()},
    }


def test_end_to_end_numbers(fake_engine: FakeEngine, small_fixture: Path) -> None:
    r = evaluate(fake_engine, small_fixture)
    assert r.file == "labeled_small.jsonl"
    assert r.rows() == {
        "ambiguous": 2,
        "detected": 15,
        "in_file": 17,
        "limit": None,
        "negatives": 5,
        "positives": 8,
        "read": 17,
        "skipped": 2,
    }
    p = r.metrics.post
    assert (p.tp, p.fp, p.fn, p.tn, p.gold_hits) == (6, 2, 2, 3, 6)
    assert p.precision == pytest.approx(0.75)
    assert p.recall == pytest.approx(0.75)
    assert p.fp_rate == pytest.approx(0.4)

    def c(code: str) -> tuple[int, int, int, int, int]:
        s = r.metrics.categories[code]
        return (s.tp, s.fp, s.fn, s.extra, s.fp_on_negatives)

    assert c("illegal_intermediary") == (1, 0, 1, 0, 0)
    assert c("card_cashout") == (1, 0, 0, 0, 0)
    assert c("loan_marketing") == (0, 0, 0, 0, 0)
    assert c("traffic_diversion") == (1, 0, 0, 1, 0)
    assert c("stock_tipping") == (1, 2, 0, 0, 1)
    assert c("crypto_promotion") == (2, 0, 0, 0, 0)
    assert c("rights_agency") == (1, 0, 0, 0, 0)
    assert c("disguised_pyramid") == (0, 0, 1, 0, 0)
    assert c("impersonation") == (0, 1, 0, 0, 1)
    assert set(r.metrics.categories) == set(fake_engine.taxonomy)

    d = r.to_dict()
    assert d["categories"]["stock_tipping"]["fp_rate"] == pytest.approx(0.2)
    assert d["categories"]["stock_tipping"]["precision"] == pytest.approx(1 / 3)
    assert d["micro"]["precision"] == pytest.approx(0.7)
    assert d["micro"]["recall"] == pytest.approx(7 / 9)
    assert d["macro"]["precision"] == pytest.approx(round((5 + 1 / 3) / 7, 6))
    assert d["macro"]["recall"] == pytest.approx(5.5 / 7)
    assert d["macro"]["f1"] == pytest.approx(round((2 / 3 + 4 + 0.5) / 8, 6))
    assert d["ambiguous"]["rows"] == 2
    assert d["ambiguous"]["flagged"] == 1
    cs = d["ambiguous"]["by_target"]["customer_service_impersonation(partly_financial)"]
    assert (cs["flagged"], cs["hit_expected"], cs["codes"]) == (1, 1, {"impersonation": 1})
    assert d["groups"]["stocks"] == {
        "ambiguous": 0,
        "codes": {"stock_tipping": 1},
        "flag_rate": 1.0,
        "flagged": 1,
        "negatives": 1,
        "positives": 0,
        "rows": 1,
    }
    assert d["groups"]["project"]["rows"] == 5
    assert [(x["rule"], x["count"], x["example_id"]) for x in d["negative_rules"]] == [
        ("t.cs", 1, "f14"),
        ("t.tip", 1, "f04"),
    ]
    assert d["skipped"]["QL-5001"]["count"] == 1
    assert d["skipped"]["QL-5001"]["examples"][0]["record"] == 15
    assert d["skipped"]["QL-1003"]["examples"][0]["record"] == 16
    assert d["versions"] == {"engine": "fake-1", "packs": {"test": "0"}}
    assert d["timing"]["posts"] == 15


def test_to_dict_is_sorted_and_serializable(fake_engine: FakeEngine, small_fixture: Path) -> None:
    d = evaluate(fake_engine, small_fixture).to_dict()

    def check(obj) -> None:
        if isinstance(obj, dict):
            assert list(obj) == sorted(obj), list(obj)
            for v in obj.values():
                check(v)
        elif isinstance(obj, list):
            for v in obj:
                check(v)

    check(d)
    assert orjson.loads(orjson.dumps(d)) == d


def test_batches_stream_and_do_not_change_results(small_fixture: Path) -> None:
    one = FakeEngine()
    big = FakeEngine()
    r1 = evaluate(one, small_fixture, batch_size=4)
    r2 = evaluate(big, small_fixture)
    assert one.calls == [4, 4, 4, 3]
    assert big.calls == [15]
    assert summary(r1) == summary(r2)


def test_limit_counts_records_and_still_names_the_file_size(fake_engine, small_fixture) -> None:
    r = evaluate(fake_engine, small_fixture, limit=5)
    assert (r.rows_read, r.rows_in_file, r.limit) == (5, 17, 5)
    assert r.metrics.post.positives + r.metrics.post.negatives == 5


def test_same_numbers_from_csv_and_parquet(fake_engine, small_fixture, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [orjson.loads(line) for line in small_fixture.read_bytes().splitlines()]
    names = sorted({k for r in rows for k in r})
    csv_path = tmp_path / "labeled_small.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=names)
        w.writeheader()
        for r in rows:
            cell = dict(r)
            if "labels" in cell:
                cell["labels"] = orjson.dumps(cell["labels"]).decode()
            if "is_positive" in cell:
                cell["is_positive"] = {True: "true", False: "false", None: ""}[cell["is_positive"]]
            w.writerow(cell)
    pq_path = tmp_path / "labeled_small.parquet"
    pq.write_table(pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows]), pq_path)

    expected = summary(evaluate(fake_engine, small_fixture))
    # in a table every row has every column: f15, with neither labels nor is_positive
    # in JSONL (QL-5001), has an empty/null is_positive there, which means ambiguous
    for path in (csv_path, pq_path):
        got = summary(evaluate(fake_engine, path))
        for key in ("post", "categories", "micro", "macro", "negative_rules"):
            assert got[key] == expected[key], (path.suffix, key)
        assert got["rows"]["ambiguous"] == 3
        assert got["skipped"] == {"QL-1003": 1}
    assert evaluate(fake_engine, pq_path, limit=3).rows_in_file == 17
    assert evaluate(fake_engine, csv_path, limit=3).rows_in_file == 17


def test_bad_lines_are_skipped_by_code(fake_engine, tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_bytes(
        b'{"id": "a", "text": "\xe5\xa5\xbd", "labels": []}\n'
        b"\n"
        b"{not json\n"
        b"[1, 2]\n"
        b'{"id": "b", "text": "\xff\xfe", "labels": []}\n'
        b'{"id": 7, "text": "ok", "is_positive": false, "title": 3}\n'
        b'{"text": "no id", "is_positive": false}\n'
    )
    r = evaluate(fake_engine, p)
    assert r.rows_read == 6
    assert {k: [e["record"] for e in v.examples] for k, v in r.skipped.items()} == {
        "QL-1001": [3, 4],
        "QL-1002": [5],
        "QL-1004": [6],
    }
    assert r.metrics.post.negatives == 2


def test_engine_error_records_are_skipped(small_fixture: Path) -> None:
    r = evaluate(FakeEngine(fail_ids=["f01", "f04"]), small_fixture)
    assert r.skipped["QL-1010"].count == 2
    assert r.metrics.post.positives == 7
    assert r.metrics.post.negatives == 4
    assert r.rows()["detected"] == 15


def test_label_map_override(fake_engine, small_fixture, tmp_path: Path) -> None:
    p = tmp_path / "map.yaml"
    p.write_text(
        "targets:\n"
        '  "loan_fraud/unlicensed_loan_or_credit_card_agent": [card_cashout]\n'
        '  "crypto_or_investment_scam": [crypto_promotion]\n'
        "group_by:\n"
        "  'labeled_*': target_category\n",
        "utf-8",
    )
    r = evaluate(fake_engine, small_fixture, label_map=p)
    # the recovery-scam class is unmapped here: its positive row is skipped
    assert r.skipped["QL-5001"].count == 2
    # f01 (illegal_intermediary, traffic_diversion) no longer hits the set: both extra,
    # and like f03 it is charged to the new primary, card_cashout
    cc = r.metrics.categories["card_cashout"]
    assert (cc.tp, cc.fn) == (1, 2)
    assert r.metrics.categories["illegal_intermediary"].extra == 1
    assert r.metrics.categories["traffic_diversion"].extra == 1
    assert "benign_finance_news" in r.metrics.groups
    assert r.label_map["source"] == str(p)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [("x.txt", "hello", "QL-4001"), ("missing.jsonl", None, "QL-4002")],
)
def test_whole_run_errors(fake_engine, tmp_path: Path, name: str, content: str | None, code: str) -> None:
    p = tmp_path / name
    if content is not None:
        p.write_text(content, "utf-8")
    with pytest.raises(QLError) as info:
        evaluate(fake_engine, p)
    assert info.value.code.code == code


def test_bad_options(fake_engine, small_fixture) -> None:
    for kwargs in ({"limit": 0}, {"batch_size": 0}):
        with pytest.raises(QLError) as info:
            evaluate(fake_engine, small_fixture, **kwargs)
        assert info.value.code.code == "QL-4003"
    bad_map = small_fixture.parent / "does-not-exist.yaml"
    with pytest.raises(QLError):
        evaluate(fake_engine, small_fixture, label_map=bad_map)


def test_engine_returning_too_few_verdicts_is_an_error(small_fixture) -> None:
    class Short(FakeEngine):
        def detect(self, posts):
            return super().detect(posts)[:-1]

    with pytest.raises(QLError, match="verdicts for"):
        evaluate(Short(), small_fixture)


def testiter_labeled_record_numbers_are_lines(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n\n{"a": 2}\n', "utf-8")
    assert [n for n, _ in iter_labeled(p)] == [1, 3]
    assert [n for n, _ in iter_labeled(p, limit=1)] == [1]
