"""Write scan outputs (verdicts and error records) as JSON Lines, CSV or Parquet.

JSON Lines is the reference format: one object per input record, exactly the shape
documented in docs/verdict-schema.md, written with orjson (non-ASCII kept as is, so
evidence stays readable in a terminal and greppable). CSV and Parquet are flat
views for spreadsheets and SQL engines; Parquet keeps the full verdict in a
``verdict_json`` column so nothing is lost. The format follows the file's suffix.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

from qinglang import errors
from qinglang.errors import QLError
from qinglang.io.readers import FORMATS, SUFFIXES
from qinglang.model import ErrorRecord, Verdict

Output = Verdict | ErrorRecord

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "flagged",
    "categories",
    "severity",
    "error_code",
    "error_message",
    "error_record",
)

#: rows buffered before a Parquet record batch is written (bounds memory)
PARQUET_FLUSH_ROWS = 8192


def output_format(path: str | Path, fmt: str | None = None) -> str:
    """``fmt`` when given, else from the suffix; ``-`` (stdout) is JSON Lines."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise QLError(
                errors.UNSUPPORTED_FORMAT,
                f"unknown output format '{fmt}'; use one of {', '.join(FORMATS)}",
            )
        return fmt
    if str(path) == "-":
        return "jsonl"
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1 and suffixes[-2] != ".parquet":
        suffixes.pop()
    found = SUFFIXES.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise QLError(
            errors.UNSUPPORTED_FORMAT,
            f"cannot tell the output format of '{path}' from its name; "
            "use .jsonl, .ndjson, .json, .csv or .parquet (or - for stdout)",
        )
    return found


def open_writer(
    path: str | Path,
    fmt: str | None = None,
    *,
    stdout: IO[bytes] | None = None,
) -> Writer:
    """Open a writer for ``path`` (``-`` is stdout). Use it as a context manager.

    Raises :class:`QLError` QL-4001 for an unknown suffix and QL-4003 when the
    file cannot be created; both before anything is written.
    """
    kind = output_format(path, fmt)
    name = str(path)
    if name == "-":
        f: IO[bytes] = stdout if stdout is not None else sys.stdout.buffer
        owned = False
    else:
        try:
            f = (
                gzip.open(name, "wb")
                if name.lower().endswith(".gz")
                else open(name, "wb", buffering=1024 * 1024)
            )
        except OSError as exc:
            raise QLError(
                errors.BAD_OPTION, f"cannot write {name}: {exc.strerror or exc}"
            ) from None
        owned = True
    if kind == "csv":
        return CsvWriter(f, owned)
    if kind == "parquet":
        return ParquetWriter(f, owned)
    return JsonlWriter(f, owned)


class Writer(ABC):
    """Writes outputs one at a time; ``close`` flushes (and closes owned files)."""

    def __init__(self, f: IO[bytes], owned: bool) -> None:
        self._f = f
        self._owned = owned
        self.count = 0

    @abstractmethod
    def write(self, out: Output) -> None: ...

    def close(self) -> None:
        if self._owned:
            self._f.close()
        else:
            self._f.flush()

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _default(value: Any) -> Any:
    """Serialize what rule ``detail`` dicts may hold beyond JSON types."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def dumps(out: Output) -> bytes:
    """One output as a JSON line (the documented shape), newline included."""
    return orjson.dumps(out.to_dict(), default=_default, option=orjson.OPT_APPEND_NEWLINE)


class JsonlWriter(Writer):
    def write(self, out: Output) -> None:
        self._f.write(dumps(out))
        self.count += 1


def _category_list(v: Verdict) -> str:
    return ";".join(f"{c.code}:{round(c.score, 4)}" for c in v.categories)


class CsvWriter(Writer):
    """One row per output; ``categories`` is ``code:score;code:score``."""

    def __init__(self, f: IO[bytes], owned: bool) -> None:
        super().__init__(f, owned)
        self._text = io.TextIOWrapper(f, encoding="utf-8", newline="", write_through=False)
        self._csv = csv.writer(self._text)
        self._csv.writerow(CSV_COLUMNS)

    def write(self, out: Output) -> None:
        if isinstance(out, ErrorRecord):
            row: tuple[Any, ...] = (out.id or "", "", "", "", out.code, out.message, out.record)
        else:
            flagged = "true" if out.categories else "false"
            row = (out.id, flagged, _category_list(out), out.severity, "", "", "")
        self._csv.writerow(row)
        self.count += 1

    def close(self) -> None:
        self._text.flush()
        if self._owned:
            self._text.close()
        else:
            self._text.detach()  # leave stdout open for the caller
            self._f.flush()


class ParquetWriter(Writer):
    """Flat columns for SQL engines, plus the whole verdict as JSON."""

    def __init__(self, f: IO[bytes], owned: bool) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(f, owned)
        self._pa = pa
        self.schema = pa.schema(
            [
                ("id", pa.string()),
                ("flagged", pa.bool_()),
                ("categories", pa.string()),
                ("severity", pa.string()),
                ("review_only", pa.bool_()),
                ("verdict_json", pa.string()),
                ("error_code", pa.string()),
                ("error_message", pa.string()),
                ("error_record", pa.int64()),
            ]
        )
        self._writer = pq.ParquetWriter(f, self.schema, compression="zstd")
        self._rows: dict[str, list[Any]] = {name: [] for name in self.schema.names}

    def write(self, out: Output) -> None:
        rows = self._rows
        if isinstance(out, ErrorRecord):
            values: tuple[Any, ...] = (
                out.id, None, None, None, None, None, out.code, out.message, out.record,
            )
        else:
            d = out.to_dict()
            values = (
                out.id,
                d["flagged"],
                orjson.dumps(d["categories"]).decode(),
                out.severity,
                out.review_only,
                orjson.dumps(d, default=_default).decode(),
                None,
                None,
                None,
            )
        for name, value in zip(self.schema.names, values, strict=True):
            rows[name].append(value)
        self.count += 1
        if len(rows["id"]) >= PARQUET_FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._rows["id"]:
            batch = self._pa.RecordBatch.from_pydict(self._rows, schema=self.schema)
            self._writer.write_batch(batch)
            self._rows = {name: [] for name in self.schema.names}

    def close(self) -> None:
        self._flush()
        self._writer.close()
        super().close()
