"""Readers stream records lazily and turn every bad record into its own coded error."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qinglang.errors import QLError
from qinglang.io import readers
from qinglang.io.readers import detect_format, read_records


def codes(records: list[tuple[int, Any]]) -> list[tuple[int, str]]:
    """(record number, 'ok' or error code) per item."""
    return [(n, r.code.code if isinstance(r, QLError) else "ok") for n, r in records]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- format detection ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.jsonl", "jsonl"),
        ("a.NDJSON", "jsonl"),
        ("a.json", "jsonl"),
        ("a.jsonl.gz", "jsonl"),
        ("a.csv", "csv"),
        ("a.csv.gz", "csv"),
        ("a.parquet", "parquet"),
        ("-", "jsonl"),
        ("dir.v2/a.jsonl", "jsonl"),
    ],
)
def test_detect_format(name: str, fmt: str) -> None:
    assert detect_format(name) == fmt


@pytest.mark.parametrize("name", ["a.txt", "a", "a.gz", "a.parquet.gz", "a.xlsx"])
def test_unsupported_suffix_is_a_usage_error(name: str) -> None:
    with pytest.raises(QLError) as info:
        read_records(name)
    assert info.value.code.code == "QL-4001"
    assert "--format" in info.value.message


def test_format_override(tmp_path: Path) -> None:
    path = write(tmp_path, "posts.txt", b'{"id": 1, "text": "x"}\n')
    assert codes(list(read_records(path, fmt="jsonl"))) == [(1, "ok")]
    with pytest.raises(QLError) as info:
        read_records(path, fmt="xml")
    assert info.value.code.code == "QL-4001"


def test_missing_file_is_raised_before_iteration(tmp_path: Path) -> None:
    with pytest.raises(QLError) as info:
        read_records(tmp_path / "nope.jsonl")
    assert info.value.code.code == "QL-4002"


def test_directory_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").mkdir()
    with pytest.raises(QLError) as info:
        read_records(tmp_path / "d.jsonl")
    assert info.value.code.code == "QL-1009"


# --- JSON Lines ---------------------------------------------------------------------


def test_jsonl_bad_lines_become_error_records(tmp_path: Path) -> None:
    data = b"\n".join(
        [
            b'{"id": 1, "text": "ok"}',
            b"",
            b"   ",
            b'{"id": 2, "text": "bad \xff byte"}',
            b'{"id": 3, "text": ',
            b"[1, 2]",
            b'"just a string"',
            b'{"id": 4, "text": "\xe4\xbd\xa0\xe5\xa5\xbd"}',
        ]
    ) + b"\n\n"
    out = list(read_records(write(tmp_path, "p.jsonl", data)))
    assert codes(out) == [
        (1, "ok"), (2, "QL-1002"), (3, "QL-1001"), (4, "QL-1001"), (5, "QL-1001"), (6, "ok"),
    ]
    utf8 = out[1][1]
    assert isinstance(utf8, QLError)
    assert utf8.record == 2 and "line 4" in utf8.message and "0xff" in utf8.message
    assert "line 5" in out[2][1].message  # type: ignore[union-attr]
    assert "not a list" in out[3][1].message  # type: ignore[union-attr]
    assert out[5][1] == {"id": 4, "text": "你好"}


def test_jsonl_crlf_and_bom_and_no_final_newline(tmp_path: Path) -> None:
    data = b'\xef\xbb\xbf{"id": 1, "text": "a"}\r\n{"id": 2, "text": "b"}'
    out = list(read_records(write(tmp_path, "p.jsonl", data)))
    assert [r for _, r in out] == [{"id": 1, "text": "a"}, {"id": 2, "text": "b"}]


@pytest.mark.parametrize("data", [b"", b"\n\n  \n"])
def test_empty_input_is_one_error_with_record_zero(tmp_path: Path, data: bytes) -> None:
    out = list(read_records(write(tmp_path, "p.jsonl", data)))
    assert codes(out) == [(0, "QL-1007")]


def test_jsonl_is_lazy() -> None:
    stdin = io.BytesIO(b'{"id": 1, "text": "a"}\n' * 100_000)
    it = read_records("-", stdin=stdin)
    assert next(it)[0] == 1
    assert stdin.tell() < 100  # one line read, not the whole input


def test_oversized_line_is_refused_without_holding_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_RECORD_BYTES", 64)
    big = b'{"id": 2, "text": "' + b"a" * 500 + b'"}'
    data = b'{"id": 1, "text": "a"}\n' + big + b'\n{"id": 3, "text": "c"}\n'
    out = list(read_records(write(tmp_path, "p.jsonl", data)))
    assert codes(out) == [(1, "ok"), (2, "QL-1006"), (3, "ok")]


def test_gzip_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n'))
    assert codes(list(read_records(path))) == [(1, "ok"), (2, "ok")]


def test_broken_gzip_is_a_file_level_error(tmp_path: Path) -> None:
    data = gzip.compress(b'{"id": 1, "text": "a"}\n' * 1000)
    path = write(tmp_path, "p.jsonl.gz", data[: len(data) // 2])
    out = list(read_records(path))
    assert out[-1][0] == 0 and isinstance(out[-1][1], QLError)
    assert out[-1][1].code.code == "QL-1009"


def test_stdin_jsonl() -> None:
    stdin = io.BytesIO(b'{"id": 1, "text": "a"}\nnot json\n')
    assert codes(list(read_records("-", stdin=stdin))) == [(1, "ok"), (2, "QL-1001")]


def test_stdin_empty() -> None:
    assert codes(list(read_records("-", stdin=io.BytesIO(b"")))) == [(0, "QL-1007")]


# --- CSV ----------------------------------------------------------------------------


def test_csv_records_and_links(tmp_path: Path) -> None:
    data = (
        "id,text,links,title\n"
        '1,"你好, 世界",https://a.example; https://b.example,\n'
        '2,x,"[""https://c.example""]",标题\n'
        "\n"
        "3,y,,\n"
    ).encode()
    out = list(read_records(write(tmp_path, "p.csv", data)))
    assert out == [
        (1, {"id": "1", "text": "你好, 世界", "links": ["https://a.example", "https://b.example"]}),
        (2, {"id": "2", "text": "x", "links": ["https://c.example"], "title": "标题"}),
        (3, {"id": "3", "text": "y"}),
    ]


def test_csv_bad_rows(tmp_path: Path) -> None:
    data = (
        b"\xef\xbb\xbfid,text\n"
        b"1,ok\n"
        b"2,too,many\n"
        b"3\n"
        b"4,bad \xfe byte\n"
        b"5,fine\n"
    )
    out = list(read_records(write(tmp_path, "p.csv", data)))
    assert codes(out) == [(1, "ok"), (2, "QL-1001"), (3, "QL-1001"), (4, "QL-1002"), (5, "ok")]
    assert "3 fields, the header has 2" in out[1][1].message  # type: ignore[union-attr]
    assert "line 3" in out[1][1].message  # type: ignore[union-attr]
    assert "field 'text'" in out[3][1].message and "0xfe" in out[3][1].message  # type: ignore[union-attr]
    assert out[0][1] == {"id": "1", "text": "ok"}  # the BOM is not part of the header


def test_csv_bad_links(tmp_path: Path) -> None:
    data = b'id,text,links\n1,x,"[not json"\n2,x,"[1]"\n'
    out = list(read_records(write(tmp_path, "p.csv", data)))
    assert codes(out) == [(1, "QL-1004"), (2, "QL-1004")]


@pytest.mark.parametrize("data", [b"", b"id,text\n", b"id,text\n\n"])
def test_csv_without_records(tmp_path: Path, data: bytes) -> None:
    assert codes(list(read_records(write(tmp_path, "p.csv", data)))) == [(0, "QL-1007")]


def test_csv_large_field(tmp_path: Path) -> None:
    text = "a" * 300_000  # above the csv module's default field limit
    out = list(read_records(write(tmp_path, "p.csv", f"id,text\n1,{text}\n".encode())))
    assert out == [(1, {"id": "1", "text": text})]


def test_stdin_csv_leaves_stdin_open() -> None:
    stdin = io.BytesIO(b"id,text\n1,a\n")
    assert list(read_records("-", fmt="csv", stdin=stdin)) == [(1, {"id": "1", "text": "a"})]
    assert not stdin.closed


# --- Parquet ------------------------------------------------------------------------


def write_parquet(path: Path, rows: dict[str, list[Any]], **kw: Any) -> Path:
    pq.write_table(pa.table(rows), path, **kw)
    return path


def test_parquet_records(tmp_path: Path) -> None:
    path = write_parquet(
        tmp_path / "p.parquet",
        {
            "id": [1, 2, 3],
            "text": ["a", None, "c"],
            "links": [["https://a.example"], None, []],
            "extra": ["x", "y", "z"],
        },
        row_group_size=2,
    )
    out = list(read_records(path))
    assert out == [
        (1, {"id": 1, "text": "a", "links": ["https://a.example"]}),
        (2, {"id": 2, "text": None, "links": None}),
        (3, {"id": 3, "text": "c", "links": []}),
    ]


def test_parquet_batches_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", 3)
    n = 10
    path = write_parquet(tmp_path / "p.parquet", {"id": list(range(n)), "text": ["t"] * n})
    assert [r for r, _ in read_records(path)] == list(range(1, n + 1))


def test_parquet_without_known_columns_keeps_the_row_count(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "p.parquet", {"foo": [1, 2]})
    assert [n for n, _ in read_records(path)] == [1, 2]


def test_parquet_empty(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "p.parquet", {"id": pa.array([], pa.string())})
    assert codes(list(read_records(path))) == [(0, "QL-1007")]
    assert codes(list(read_records(write(tmp_path, "z.parquet", b"")))) == [(0, "QL-1007")]


def test_not_a_parquet_file_is_raised(tmp_path: Path) -> None:
    with pytest.raises(QLError) as info:
        read_records(write(tmp_path, "p.parquet", b"not parquet at all"))
    assert info.value.code.code == "QL-1009"


def test_stdin_parquet(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "p.parquet", {"id": ["a"], "text": ["t"]})
    out = list(read_records("-", fmt="parquet", stdin=io.BytesIO(path.read_bytes())))
    assert out == [(1, {"id": "a", "text": "t"})]
