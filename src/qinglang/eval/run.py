"""Run an engine over a labeled file and measure it: ``qinglang eval``.

The file is streamed in batches through ``engine.detect`` (the same entry point
every front uses, so what is measured is what ships) and each verdict is scored as
it comes; memory stays flat whatever the file size. Rows that cannot be scored are
counted by error code and reported, never fatal: a corpus with a few broken lines
should still be measurable, and the report says how many were left out.

Labeled files carry columns a plain scan input does not (``labels``,
``target_category``, ``is_positive``, ``label_source``, ``meta``), which is why this
module reads them itself rather than through the scan readers.
"""

from __future__ import annotations

import csv
import gzip
import io
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from qinglang import errors
from qinglang.errors import ErrorCode, QLError
from qinglang.eval.labels import Gold, LabelMap, gold_from_row, load_label_map
from qinglang.eval.metrics import Metrics, Scorer
from qinglang.model import ErrorRecord, Post, Verdict

#: how many example record numbers each skip code keeps
SKIP_EXAMPLES = 5

_FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson.gz": "jsonl",
    ".parquet": "parquet",
    ".csv": "csv",
}
_OPTIONAL_TEXT = ("title", "transcript", "ocr", "bio", "lang", "platform", "account_id")
_TITLES = {v.code: v.title for v in vars(errors).values() if isinstance(v, ErrorCode)}


class DetectEngine(Protocol):
    """What evaluation needs of an engine (``qinglang.detect.engine.Engine`` has it)."""

    @property
    def taxonomy(self) -> dict[str, Any]: ...

    @property
    def versions(self) -> dict[str, Any]: ...

    def detect(self, posts: Sequence[Post], /) -> Sequence[Verdict]: ...


@dataclass(slots=True)
class SkipStats:
    """Rows left out under one error code, with the first few to look at."""

    code: str
    title: str
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, record: int | None, message: str) -> None:
        self.count += 1
        if len(self.examples) < SKIP_EXAMPLES:
            self.examples.append({"message": message, "record": record})

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "examples": self.examples, "title": self.title}


class SkipLog(dict[str, SkipStats]):
    """Skipped rows by error code; ``add`` files one under its code."""

    def add(self, code: str, record: int | None, message: str) -> None:
        stats = self.get(code)
        if stats is None:
            stats = self[code] = SkipStats(code, _TITLES.get(code, code))
        stats.add(record, message)

    def merged(self, other: SkipLog) -> dict[str, SkipStats]:
        """Both logs as one, sorted by code (counts add up; examples kept up to the limit)."""
        out: dict[str, SkipStats] = {}
        for log in (self, other):
            for code, st in log.items():
                acc = out.get(code)
                if acc is None:
                    out[code] = SkipStats(code, st.title, st.count, list(st.examples))
                else:
                    acc.count += st.count
                    acc.examples.extend(st.examples[: max(0, SKIP_EXAMPLES - len(acc.examples))])
        return dict(sorted(out.items()))


class LabeledRows:
    """The usable rows of a labeled file as ``(record, post, gold)``; the others are logged as skipped.

    Evaluation, attacks and comparisons all read through this, so a file means the
    same to each of them and the row accounting (rows read, skipped by code, rows in
    the whole file when ``limit`` stopped early) is done in one place.
    """

    def __init__(self, path: Path, label_map: LabelMap, known_codes: Iterable[str], limit: int | None) -> None:
        self.path = path
        self.label_map = label_map
        self.known = set(known_codes)
        self.limit = limit
        self.group_field = label_map.group_field(path.name)
        self.rows_read = 0
        self.skipped = SkipLog()

    def __iter__(self) -> Iterator[tuple[int, Post, Gold]]:
        for record, item in iter_labeled(self.path, self.limit):
            self.rows_read += 1
            if isinstance(item, QLError):
                self.skipped.add(item.code.code, record, item.message)
                continue
            try:
                post = post_from_labeled_row(item, record)
                gold = gold_from_row(item, self.label_map, group_field=self.group_field,
                                     known_codes=self.known, record=record)
            except QLError as exc:
                self.skipped.add(exc.code.code, record, exc.message)
                continue
            yield record, post, gold

    @property
    def rows_in_file(self) -> int:
        """Records in the whole file, counting past ``limit`` when it stopped reading early."""
        if self.limit is not None and self.rows_read >= self.limit:
            return _count_records(self.path)
        return self.rows_read


@dataclass(slots=True)
class Timing:
    """Throughput of ``engine.detect`` alone (reading and scoring excluded)."""

    posts: int = 0
    detect_seconds: float = 0.0
    total_seconds: float = 0.0
    batch_size: int = 0

    @property
    def posts_per_s(self) -> float | None:
        return self.posts / self.detect_seconds if self.detect_seconds > 0 else None

    def to_dict(self) -> dict[str, Any]:
        pps = self.posts_per_s
        return {
            "batch_size": self.batch_size,
            "detect_seconds": round(self.detect_seconds, 4),
            "posts": self.posts,
            "posts_per_s": None if pps is None else round(pps, 1),
            "total_seconds": round(self.total_seconds, 4),
        }


@dataclass(slots=True)
class EvalReport:
    """The result of one evaluation: which file, under which label map, and the numbers.

    ``rows_in_file`` is the file's record count even when ``limit`` stopped reading
    early, so a report can always name the file and its size.
    """

    file: str
    path: str
    format: str
    rows_in_file: int
    rows_read: int
    limit: int | None
    label_map: dict[str, Any]
    versions: dict[str, Any]
    metrics: Metrics
    skipped: dict[str, SkipStats]
    timing: Timing

    @property
    def rows_skipped(self) -> int:
        return sum(s.count for s in self.skipped.values())

    @property
    def rows_detected(self) -> int:
        return self.timing.posts

    def rows(self) -> dict[str, Any]:
        """Row accounting: read = positives + negatives + ambiguous + skipped."""
        post = self.metrics.post
        return {
            "ambiguous": self.metrics.ambiguous_rows,
            "detected": self.rows_detected,
            "in_file": self.rows_in_file,
            "limit": self.limit,
            "negatives": post.negatives,
            "positives": post.positives,
            "read": self.rows_read,
            "skipped": self.rows_skipped,
        }

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` output: every mapping's keys sorted, so diffs between runs are clean."""
        body: dict[str, Any] = {
            "file": self.file,
            "format": self.format,
            "label_map": self.label_map,
            "path": self.path,
            "rows": self.rows(),
            "skipped": {k: v.to_dict() for k, v in self.skipped.items()},
            "timing": self.timing.to_dict(),
            "versions": self.versions,
        }
        body.update(self.metrics.to_dict())
        return _sort_keys(body)


def _sort_keys(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _sort_keys(obj[k]) for k in sorted(obj, key=str)}
    if isinstance(obj, (list, tuple)):
        return [_sort_keys(v) for v in obj]
    return obj


# --- reading labeled files ------------------------------------------------------------


def _format_of(path: Path) -> str:
    name = path.name.lower()
    for suffix, fmt in sorted(_FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return fmt
    raise QLError(
        errors.UNSUPPORTED_FORMAT,
        f"cannot read {path.name}: labeled files are .jsonl, .parquet or .csv",
        file=str(path),
    )


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | QLError]]:
    with _open_binary(path) as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    yield line_no, QLError(errors.INVALID_UTF8, "line is not UTF-8", record=line_no)
                    continue
                yield line_no, QLError(errors.MALFORMED_RECORD, f"not JSON: {exc}", record=line_no)
                continue
            if not isinstance(row, dict):
                yield line_no, QLError(
                    errors.MALFORMED_RECORD, "a record is a JSON object", record=line_no
                )
                continue
            yield line_no, row


def _csv_bool(value: str) -> bool | str | None:
    v = value.strip().lower()
    if v in ("true", "1", "yes", "t", "y"):
        return True
    if v in ("false", "0", "no", "f", "n"):
        return False
    if v in ("", "null", "none", "na"):
        return None
    return value


def _csv_labels(value: str) -> Any:
    v = value.strip()
    if not v:
        return None
    if v.startswith("["):
        try:
            return orjson.loads(v)
        except orjson.JSONDecodeError:
            return value
    return [c.strip() for c in v.split("|") if c.strip()]


def _csv_row(raw: dict[str | None, Any]) -> dict[str, Any]:
    """CSV cells are strings: give the label columns the types JSONL rows have."""
    row: dict[str, Any] = {k: v for k, v in raw.items() if k is not None}
    if "is_positive" in row and isinstance(row["is_positive"], str):
        row["is_positive"] = _csv_bool(row["is_positive"])
    if "labels" in row and isinstance(row["labels"], str):
        row["labels"] = _csv_labels(row["labels"])
        if row["labels"] is None and "target_category" not in row and "is_positive" not in row:
            # in a labels-only file (no other label columns) an empty cell means "no category": benign
            row["labels"] = []
    weight = row.get("weight")
    if isinstance(weight, str) and weight.strip():
        try:
            row["weight"] = float(weight)
        except ValueError:
            pass  # left as text: the reader that needs a number reports it
    meta = row.get("meta")
    if isinstance(meta, str) and meta.strip().startswith("{"):
        try:
            row["meta"] = orjson.loads(meta)
        except orjson.JSONDecodeError:
            pass
    return row


def _iter_csv(path: Path) -> Iterator[tuple[int, dict[str, Any] | QLError]]:
    with _open_binary(path) as fb:
        text = io.TextIOWrapper(fb, encoding="utf-8-sig", newline="")
        reader = csv.DictReader(text)
        n = 0
        while True:
            try:
                raw = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                yield n + 1, QLError(errors.INVALID_UTF8, "file is not UTF-8", record=n + 1)
                return
            except csv.Error as exc:
                n += 1
                yield n, QLError(errors.MALFORMED_RECORD, f"bad CSV: {exc}", record=n)
                continue
            n += 1
            yield n, _csv_row(raw)


def _iter_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any] | QLError]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise QLError(errors.UNREADABLE_INPUT, f"{path.name}: {exc}", file=str(path)) from None
    n = 0
    for batch in pf.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            n += 1
            yield n, row


def iter_labeled(
    path: str | Path, limit: int | None = None
) -> Iterator[tuple[int, dict[str, Any] | QLError]]:
    """Yield ``(record_no, row | QLError)`` for the first ``limit`` records of a labeled file.

    The one reader of labeled files: evaluation, attacks, comparisons and training
    all read through it, so a file means the same thing to each of them.

    ``record_no`` is the 1-based line number for JSONL (blank lines are not
    records) and the 1-based data row for CSV and Parquet.
    """
    p = Path(path)
    if not p.is_file():
        raise QLError(errors.FILE_NOT_FOUND, f"no labeled file at {p}", file=str(p))
    fmt = _format_of(p)
    it = {"jsonl": _iter_jsonl, "csv": _iter_csv, "parquet": _iter_parquet}[fmt](p)
    taken = 0
    for item in it:
        if limit is not None and taken >= limit:
            break
        taken += 1
        yield item


def _count_records(path: Path) -> int:
    """Records in the whole file (used when ``limit`` stopped reading early)."""
    fmt = _format_of(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    if fmt == "jsonl":
        with _open_binary(path) as fh:
            return sum(1 for line in fh if line.strip())
    return sum(1 for _ in _iter_csv(path))


# --- rows -> posts --------------------------------------------------------------------


def post_from_labeled_row(row: dict[str, Any], record: int) -> Post:
    """The scan fields of a labeled row; label columns are ignored here."""
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise QLError(errors.MISSING_TEXT, "row has no text", record=record)
    raw_id = row.get("id")
    if isinstance(raw_id, str) and raw_id:
        post_id = raw_id
    elif isinstance(raw_id, int) and not isinstance(raw_id, bool):
        post_id = str(raw_id)
    else:
        post_id = f"record-{record}"
    extra: dict[str, Any] = {}
    for name in _OPTIONAL_TEXT:
        value = row.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise QLError(errors.BAD_FIELD_TYPE, f"'{name}' must be a string", record=record)
        extra[name] = value
    links = row.get("links")
    if links is not None:
        if not isinstance(links, list) or not all(isinstance(x, str) for x in links):
            raise QLError(errors.BAD_FIELD_TYPE, "'links' must be a list of strings", record=record)
        extra["links"] = links
    return Post(id=post_id, text=text, **extra)


# --- evaluation -----------------------------------------------------------------------


def evaluate(
    engine: DetectEngine,
    path: str | Path,
    *,
    label_map: LabelMap | str | Path | None = None,
    limit: int | None = None,
    batch_size: int = 1024,
) -> EvalReport:
    """Detect every labeled row of ``path`` with ``engine`` and score the verdicts.

    ``label_map`` is a loaded map, a path to one, or None for the shipped map;
    ``limit`` stops after that many records. Raises QLError only for problems with
    the whole run (missing file, unsupported format, invalid label map, bad option).
    """
    started = time.perf_counter()
    p = Path(path)
    if limit is not None and limit < 1:
        raise QLError(errors.BAD_OPTION, f"--limit must be at least 1, not {limit}")
    if batch_size < 1:
        raise QLError(errors.BAD_OPTION, f"batch size must be at least 1, not {batch_size}")
    known = list(engine.taxonomy)
    lm = (
        label_map
        if isinstance(label_map, LabelMap)
        else load_label_map(label_map, known_codes=known)
    )
    rows = LabeledRows(p, lm, known, limit)
    scorer = Scorer(known)
    timing = Timing(batch_size=batch_size)

    posts: list[Post] = []
    golds: list[Gold] = []
    records: list[int] = []

    def flush() -> None:
        if not posts:
            return
        t0 = time.perf_counter()
        verdicts = engine.detect(posts)
        timing.detect_seconds += time.perf_counter() - t0
        if len(verdicts) != len(posts):
            raise QLError(
                errors.RECORD_FAILED,
                f"engine returned {len(verdicts)} verdicts for {len(posts)} posts",
            )
        timing.posts += len(posts)
        for gold, verdict, record in zip(golds, verdicts, records, strict=True):
            if isinstance(verdict, ErrorRecord):
                rows.skipped.add(verdict.code, record, verdict.message)
            else:
                scorer.add(gold, verdict)
        posts.clear()
        golds.clear()
        records.clear()

    for record, post, gold in rows:
        posts.append(post)
        golds.append(gold)
        records.append(record)
        if len(posts) >= batch_size:
            flush()
    flush()

    timing.total_seconds = time.perf_counter() - started
    return EvalReport(
        file=p.name,
        path=str(p),
        format=_format_of(p),
        rows_in_file=rows.rows_in_file,
        rows_read=rows.rows_read,
        limit=limit,
        label_map=lm.info(),
        versions=dict(engine.versions),
        metrics=scorer.result(),
        skipped=dict(sorted(rows.skipped.items())),
        timing=timing,
    )
