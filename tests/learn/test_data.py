"""Reading labeled files (JSONL, CSV, Parquet), label conversion, splitting, licence notes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from learn_paths import MINI, SHARED_FORMAT

from qinglang import errors
from qinglang.errors import QLError
from qinglang.learn.data import licence_of, load_label_map, read_labeled, split_rows
from qinglang.policy.loader import taxonomy


def _read(path: Path):
    return read_labeled(path, label_map=load_label_map(None), known_codes=list(taxonomy()))


def test_jsonl_csv_and_parquet_read_the_same(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in MINI.read_text("utf-8").splitlines()]
    csv_path = tmp_path / "mini.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "text", "lang", "labels"])
        w.writeheader()
        for r in rows:
            w.writerow({**r, "labels": "|".join(r["labels"])})
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq_path = tmp_path / "mini.parquet"
    pq.write_table(pa.Table.from_pylist(rows), pq_path)
    base, _ = _read(MINI)
    for other in (csv_path, pq_path):
        got, stats = _read(other)
        assert stats.rows == len(rows) and stats.used == len(rows)
        assert [(r.id, r.fields["text"], r.labels) for r in got] == [(r.id, r.fields["text"], r.labels) for r in base]


def test_weights_and_skips(tmp_path: Path) -> None:
    p = tmp_path / "w.jsonl"
    p.write_text(
        '{"id": "a", "text": "x", "labels": [], "weight": 2.5}\n'
        '{"id": "b", "text": "y", "labels": [], "weight": -1}\n'
        "not json\n"
        '{"text": "no id", "labels": ["card_cashout"]}\n',
        "utf-8",
    )
    rows, stats = _read(p)
    assert [r.weight for r in rows] == [2.5, 1.0]
    assert rows[1].id == "w.jsonl:4"
    assert stats.skipped == {"bad weight": 1, "unparseable record": 1}


def test_mapped_positives_are_partial() -> None:
    """A mapped positive knows its primary code only; mapped negatives and exact rows know all codes."""
    rows, stats = _read(SHARED_FORMAT)
    by_id = {r.id: r for r in rows}
    assert by_id["sf-01"].labels == ("illegal_intermediary",) and not by_id["sf-01"].complete
    assert by_id["sf-02"].labels == () and by_id["sf-02"].complete
    assert by_id["sf-07"].labels == ("card_cashout",) and by_id["sf-07"].complete
    assert stats.partial == 3


def test_unknown_codes_are_skipped_with_the_reason() -> None:
    _, stats = _read(SHARED_FORMAT)
    reasons = " ".join(stats.skipped)
    assert "not_a_code" in reasons and "no_such_class" in reasons


def test_missing_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(QLError) as exc:
        _read(tmp_path / "none.jsonl")
    assert exc.value.code is errors.FILE_NOT_FOUND
    (tmp_path / "x.txt").write_text("hi", "utf-8")
    with pytest.raises(QLError) as exc:
        _read(tmp_path / "x.txt")
    assert exc.value.code is errors.UNSUPPORTED_FORMAT


def test_split_is_grouped_stratified_and_seeded() -> None:
    texts = ["a", "a", "b", "c", "d", "e", "f", "g", "h", "i"]
    labels = [("x",), ("x",), ("x",), ("x",), (), (), (), (), (), ()]
    tr, dv = split_rows(texts, labels, 0.3, seed=0)
    assert sorted([*tr, *dv]) == list(range(10))
    assert (0 in dv) == (1 in dv)  # duplicates stay together
    assert any(labels[i] for i in dv) and any(labels[i] for i in tr)
    tr2, dv2 = split_rows(texts, labels, 0.3, seed=0)
    assert tr.tolist() == tr2.tolist() and dv.tolist() == dv2.tolist()
    with pytest.raises(QLError):
        split_rows(texts, labels, 1.5, seed=0)


def test_licence_notes() -> None:
    assert licence_of(Path("/x/janitr_x_crypto_en.jsonl"))[1] is True
    for research in ("telecom_fraud5_zh.jsonl", "thucnews_titles_zh.jsonl", "weibo21_zh_trainval.jsonl"):
        assert licence_of(Path("/x") / research)[1] is False
    assert licence_of(Path("/repo/src/qinglang/examples/labeled_zh.jsonl"))[1] is True
    assert licence_of(Path("/tmp/mystery.jsonl"))[1] is False
