"""Stream input records from JSON Lines, CSV and Parquet files, or from stdin.

Readers yield ``(record_no, mapping | QLError)`` lazily, one record at a time, so a
sweep over a 10 GB export runs in constant memory, and a record that cannot be
parsed becomes a coded error *for that record* while the rest of the file goes on.
Record numbers are 1-based and count records, not lines: blank lines (and blank CSV
rows) are not records. File-level problems found while reading (an empty file, a
read failure half-way) are yielded as errors with record number 0.

Problems that make the input unusable as a whole and are known before the first
record (a missing file, an unknown suffix, a file that is not Parquet) raise
:class:`QLError` from :func:`read_records` itself, before any output is written,
so the command line can exit with a usage error instead of a half-written result.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, BinaryIO

import orjson

from qinglang import errors
from qinglang.errors import QLError
from qinglang.io.records import KNOWN_FIELDS, json_type_name

#: One item from a reader: a 1-based record number (0 for file-level errors) and
#: either the record's fields or the error that kept it from being read.
Record = tuple[int, Mapping[str, Any] | QLError]

FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")

SUFFIXES: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}

#: A record (a JSONL line, a CSV field) larger than this is refused without being
#: held in memory: a broken export with no newlines must not exhaust a worker.
#: It is far above any valid record (text fields are capped at a million characters).
MAX_RECORD_BYTES = 256 * 1024 * 1024

#: Parquet rows converted to Python per step; bounds memory for wide row groups.
PARQUET_BATCH_ROWS = 8192

_READ_ERRORS = (OSError, EOFError, zlib.error)


def detect_format(source: str | Path, fmt: str | None = None) -> str:
    """The input format: ``fmt`` when given, else from the suffix (``-`` is JSONL).

    A ``.gz`` suffix after ``.jsonl``/``.ndjson``/``.json``/``.csv`` is read through
    gzip: history sweeps usually start from compressed exports.
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise QLError(
                errors.UNSUPPORTED_FORMAT,
                f"unknown input format '{fmt}'; use one of {', '.join(FORMATS)}",
            )
        return fmt
    if str(source) == "-":
        return "jsonl"
    suffixes = [s.lower() for s in Path(source).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
        if suffixes and suffixes[-1] == ".parquet":
            suffixes = []  # Parquet compresses inside the file; gzip around it is unreadable
    found = SUFFIXES.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise QLError(
            errors.UNSUPPORTED_FORMAT,
            f"cannot tell the format of '{source}' from its name; "
            "use .jsonl, .ndjson, .json, .csv or .parquet (optionally .gz), or --format",
        )
    return found


def read_records(
    source: str | Path,
    *,
    fmt: str | None = None,
    stdin: BinaryIO | None = None,
) -> Iterator[Record]:
    """Open ``source`` (a path, or ``-`` for stdin) and return its records lazily.

    Raises :class:`QLError` QL-4001 for an unknown format, QL-4002 for a missing
    file and QL-1009 for a file that cannot be opened; everything found later is
    yielded as an error record. ``stdin`` overrides ``sys.stdin.buffer`` (tests).
    """
    kind = detect_format(source, fmt)
    name = str(source)
    if name == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        if kind == "parquet":
            # Parquet keeps its index at the end of the file: stdin must be read whole.
            data = stream.read()
            if not data:
                return _empty("stdin")
            return _parquet(_open_parquet(_pa_buffer(data), "stdin"), "stdin")
        if kind == "csv":
            return _detaching(_text(stream))
        return _jsonl(stream, "stdin")

    path = Path(source)
    if not path.exists():
        raise QLError(errors.FILE_NOT_FOUND, f"no such file: {name}")
    if path.is_dir():
        raise QLError(errors.UNREADABLE_INPUT, f"{name} is a directory, not a file")
    try:
        # a named pipe (``<(zcat dump.gz)``) reports size 0 but is not empty
        if path.is_file() and path.stat().st_size == 0:
            return _empty(name)
        if kind == "parquet":
            return _parquet(_open_parquet(str(path), name), name)
        # Closed by _closing when the records are exhausted or the consumer stops.
        raw: IO[bytes] = (
            gzip.open(path, "rb")
            if path.name.lower().endswith(".gz")
            else open(path, "rb", buffering=1024 * 1024)
        )
    except OSError as exc:
        raise QLError(errors.UNREADABLE_INPUT, f"cannot read {name}: {exc.strerror or exc}") from None
    if kind == "csv":
        return _closing(_csv(_text(raw), name), raw)
    return _closing(_jsonl(raw, name), raw)


# --- JSON Lines ---------------------------------------------------------------------


def _jsonl(f: IO[bytes], name: str) -> Iterator[Record]:
    """Parse bytes with orjson; decode only on the error path to name the bad byte."""
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    readline = f.readline
    limit = MAX_RECORD_BYTES
    n = 0
    lineno = 0
    try:
        while True:
            line = readline(limit)
            if not line:
                break
            lineno += 1
            if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]  # a UTF-8 byte-order mark written by some Windows tools
            if len(line) >= limit and not line.endswith(b"\n"):
                _skip_rest_of_line(readline, limit)
                n += 1
                yield n, QLError(
                    errors.TEXT_TOO_LARGE,
                    f"line {lineno}: record is larger than {limit // (1024 * 1024)} MiB",
                    record=n,
                )
                continue
            try:
                value = loads(line)
            except decode_error as exc:
                if line.isspace() or not line:
                    continue  # blank lines are not records
                n += 1
                yield n, _jsonl_error(line, lineno, n, exc)
                continue
            n += 1
            if type(value) is dict:
                yield n, value
            else:
                hint = " (.json input is read as JSON Lines: one object per line)" if (
                    type(value) is list
                ) else ""
                yield n, QLError(
                    errors.MALFORMED_RECORD,
                    f"line {lineno}: a record is a JSON object, not {json_type_name(value)}{hint}",
                    record=n,
                )
    except _READ_ERRORS as exc:
        yield 0, _read_failed(name, n, exc)
        return
    if n == 0:
        yield 0, _no_records(name)


def _skip_rest_of_line(readline: Any, limit: int) -> None:
    while True:
        chunk = readline(limit)
        if not chunk or chunk.endswith(b"\n"):
            return


def _jsonl_error(line: bytes, lineno: int, n: int, exc: orjson.JSONDecodeError) -> QLError:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as uexc:
        return QLError(
            errors.INVALID_UTF8,
            f"line {lineno}: invalid UTF-8 byte 0x{line[uexc.start]:02x} at byte {uexc.start}",
            record=n,
        )
    return QLError(
        errors.MALFORMED_RECORD,
        f"line {lineno}, column {exc.colno}: malformed JSON: {exc.msg}",
        record=n,
    )


# --- CSV ----------------------------------------------------------------------------


def _text(raw: IO[bytes]) -> io.TextIOWrapper:
    # surrogateescape: a bad byte becomes a lone surrogate in *its* row, found and
    # reported there, instead of a UnicodeDecodeError that would end the file.
    # utf-8-sig drops the byte-order mark spreadsheet programs put before the header.
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _csv(stream: io.TextIOWrapper, name: str) -> Iterator[Record]:
    """Header row first; ``links`` holds a JSON list or ``;``-separated links."""
    # The csv module refuses fields over 128 KiB by default; a long transcript is
    # larger. The limit is process-wide; ours only raises it.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_BYTES))
    reader = csv.reader(stream)
    n = 0
    try:
        header: list[str] | None = None
        while header is None:
            try:
                row = next(reader)
            except StopIteration:
                yield 0, _no_records(name)
                return
            except csv.Error as exc:
                yield 0, QLError(errors.MALFORMED_RECORD, f"{name}: unreadable CSV header: {exc}", record=0)
                return
            if row:
                header = [h.strip() for h in row]
        width = len(header)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                n += 1
                yield n, QLError(errors.MALFORMED_RECORD, f"line {reader.line_num}: {exc}", record=n)
                continue
            if not row:
                continue  # blank line
            n += 1
            if len(row) != width:
                yield n, QLError(
                    errors.MALFORMED_RECORD,
                    f"line {reader.line_num}: row has {len(row)} fields, the header has {width}",
                    record=n,
                )
                continue
            try:
                "".join(row).encode("utf-8")
            except UnicodeEncodeError:
                yield n, _csv_bad_bytes(header, row, reader.line_num, n)
                continue
            rec: dict[str, Any] = {k: v for k, v in zip(header, row, strict=True) if v != ""}
            links = rec.get("links")
            if links is not None:
                parsed = _csv_links(links)
                if isinstance(parsed, str):
                    yield n, QLError(
                        errors.BAD_FIELD_TYPE,
                        f"line {reader.line_num}: field 'links' {parsed}",
                        record=n,
                        field="links",
                    )
                    continue
                rec["links"] = parsed
            yield n, rec
    except _READ_ERRORS as exc:
        yield 0, _read_failed(name, n, exc)
        return
    if n == 0:
        yield 0, _no_records(name)


def _csv_links(value: str) -> list[str] | str:
    """A JSON list of strings, or links separated by ``;``. A str result is an error."""
    value = value.strip()
    if value.startswith("["):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            return f"is not a valid JSON list: {exc.msg}"
        if not isinstance(parsed, list) or not all(type(x) is str for x in parsed):
            return "must be a JSON list of strings"
        return parsed
    return [part.strip() for part in value.split(";") if part.strip()]


def _csv_bad_bytes(header: list[str], row: list[str], line_num: int, n: int) -> QLError:
    for field_name, cell in zip(header, row, strict=True):
        for pos, ch in enumerate(cell):
            if "\udc80" <= ch <= "\udcff":
                return QLError(
                    errors.INVALID_UTF8,
                    f"line {line_num}: field '{field_name}' holds invalid UTF-8 byte "
                    f"0x{ord(ch) - 0xDC00:02x} at position {pos}",
                    record=n,
                    field=field_name,
                )
    return QLError(errors.INVALID_UTF8, f"line {line_num}: invalid UTF-8", record=n)


# --- Parquet ------------------------------------------------------------------------


def _pa_buffer(data: bytes) -> Any:
    import pyarrow as pa

    return pa.BufferReader(data)


def _open_parquet(source: Any, name: str) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(source)
    except (OSError, pa.ArrowException) as exc:
        raise QLError(errors.UNREADABLE_INPUT, f"{name} is not a readable Parquet file: {exc}") from None


def _parquet(pf: Any, name: str) -> Iterator[Record]:
    """Read only the columns a post uses, one record batch at a time."""
    import pyarrow as pa

    names = pf.schema_arrow.names
    columns = [c for c in names if c in KNOWN_FIELDS]
    if not columns and names:
        columns = names[:1]  # keep the row count; every record will lack an id
    n = 0
    try:
        for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
            for row in batch.to_pylist():
                n += 1
                yield n, row
    except (*_READ_ERRORS, pa.ArrowException) as exc:
        yield 0, _read_failed(name, n, exc)
        return
    if n == 0:
        yield 0, _no_records(name)


# --- shared -------------------------------------------------------------------------


def _closing(records: Iterator[Record], f: IO[bytes]) -> Iterator[Record]:
    try:
        yield from records
    finally:
        f.close()


def _detaching(text: io.TextIOWrapper) -> Iterator[Record]:
    """CSV from stdin: detach the text wrapper at the end so stdin is not closed."""
    try:
        yield from _csv(text, "stdin")
    finally:
        text.detach()


def _empty(name: str) -> Iterator[Record]:
    yield 0, _no_records(name)


def _no_records(name: str) -> QLError:
    return QLError(errors.EMPTY_INPUT, f"{name} holds no records", record=0)


def _read_failed(name: str, n: int, exc: BaseException) -> QLError:
    return QLError(
        errors.UNREADABLE_INPUT,
        f"{name}: reading stopped after record {n}: {exc}",
        record=0,
    )
