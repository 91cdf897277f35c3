"""Writers: the documented JSON shape, and flat CSV/Parquet views that lose nothing."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from qinglang.errors import QLError
from qinglang.io.readers import read_records
from qinglang.io.writers import CSV_COLUMNS, open_writer, output_format
from qinglang.model import CategoryScore, Entity, ErrorRecord, Hit, Verdict

VERSIONS = {"engine": "fake-1", "packs": {"test": "1"}}


def flagged() -> Verdict:
    return Verdict(
        "p1",
        [
            CategoryScore("stock_tipping", 0.912345, "high", False, ["t.tip"]),
            CategoryScore("traffic_diversion", 0.7, "medium", False, ["t.div"]),
        ],
        "high",
        False,
        [Hit("stock_tipping", "t.tip", "test", "1", "text", "涨停", 3, 5, "漲停", 0.9)],
        [Entity("wechat", "wechat:abc123", "text", 8, 16, "V:abc123", detail={"k": {1, 2}})],
        VERSIONS,
        account_id="a1",
    )


def clean() -> Verdict:
    return Verdict("p2", [], "none", False, [], [], VERSIONS)


def error() -> ErrorRecord:
    return ErrorRecord(None, "QL-1001", "line 3: malformed JSON", 3)


OUTPUTS = [flagged(), error(), clean()]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("o.jsonl", "jsonl"), ("o.ndjson", "jsonl"), ("o.json", "jsonl"), ("o.jsonl.gz", "jsonl"),
     ("o.csv", "csv"), ("o.parquet", "parquet"), ("-", "jsonl")],
)
def test_output_format(name: str, fmt: str) -> None:
    assert output_format(name) == fmt


def test_unknown_output_suffix() -> None:
    with pytest.raises(QLError) as info:
        open_writer("out.txt")
    assert info.value.code.code == "QL-4001"


def test_unwritable_output(tmp_path: Path) -> None:
    with pytest.raises(QLError) as info:
        open_writer(tmp_path / "no" / "such" / "dir.jsonl")
    assert info.value.code.code == "QL-4003"


def test_jsonl_shape_and_non_ascii(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    with open_writer(path) as w:
        for out in OUTPUTS:
            w.write(out)
    raw = path.read_bytes()
    assert "漲停".encode() in raw  # not \\u escaped
    lines = [orjson.loads(line) for line in raw.splitlines()]
    assert lines[0]["flagged"] is True and lines[0]["categories"][0]["score"] == 0.9123
    assert lines[0]["entities"][0]["detail"] == {"k": [1, 2]}  # a set, serialized sorted
    assert lines[1] == {"id": None, "error": {"code": "QL-1001", "message": "line 3: malformed JSON", "record": 3}}
    assert lines[2]["flagged"] is False
    # the output is itself valid JSONL input for our readers
    assert [n for n, _ in read_records(path)] == [1, 2, 3]


def test_jsonl_gz(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl.gz"
    with open_writer(path) as w:
        w.write(clean())
    assert orjson.loads(gzip.decompress(path.read_bytes()))["id"] == "p2"


def test_jsonl_to_stdout_stream() -> None:
    buf = io.BytesIO()
    with open_writer("-", stdout=buf) as w:
        w.write(clean())
    assert not buf.closed
    assert orjson.loads(buf.getvalue())["id"] == "p2"


def test_csv(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    with open_writer(path) as w:
        for out in OUTPUTS:
            w.write(out)
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[0]["categories"] == "stock_tipping:0.9123;traffic_diversion:0.7"
    assert (rows[0]["flagged"], rows[0]["severity"], rows[0]["error_code"]) == ("true", "high", "")
    assert (rows[1]["id"], rows[1]["error_code"], rows[1]["error_record"]) == ("", "QL-1001", "3")
    assert (rows[2]["flagged"], rows[2]["categories"], rows[2]["severity"]) == ("false", "", "none")


def test_csv_to_stdout_leaves_stream_open() -> None:
    buf = io.BytesIO()
    with open_writer("-", "csv", stdout=buf) as w:
        w.write(clean())
    assert not buf.closed
    assert buf.getvalue().decode().splitlines()[1] == "p2,false,,none,,,"


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "o.parquet"
    with open_writer(path) as w:
        for out in OUTPUTS:
            w.write(out)
    rows = pq.read_table(path).to_pylist()
    assert [r["id"] for r in rows] == ["p1", None, "p2"]
    assert rows[0]["flagged"] is True and rows[0]["review_only"] is False
    assert orjson.loads(rows[0]["categories"])[1]["code"] == "traffic_diversion"
    assert orjson.loads(rows[0]["verdict_json"]) == orjson.loads(
        orjson.dumps(flagged().to_dict(), default=sorted)
    )
    assert (rows[1]["error_code"], rows[1]["error_record"], rows[1]["flagged"]) == ("QL-1001", 3, None)


def test_parquet_flushes_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qinglang.io import writers

    monkeypatch.setattr(writers, "PARQUET_FLUSH_ROWS", 4)
    path = tmp_path / "o.parquet"
    with open_writer(path) as w:
        for i in range(10):
            w.write(Verdict(str(i), [], "none", False, [], [], VERSIONS))
    assert pq.read_table(path).column("id").to_pylist() == [str(i) for i in range(10)]


def test_parquet_to_stdout_stream() -> None:
    buf = io.BytesIO()
    with open_writer("-", "parquet", stdout=buf) as w:
        w.write(clean())
    assert pq.read_table(io.BytesIO(buf.getvalue())).column("id").to_pylist() == ["p2"]
