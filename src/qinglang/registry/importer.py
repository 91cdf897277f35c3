"""Import registry entries from CSV; each bad row is reported with its line and reason.

The file is UTF-8, with or without a BOM, and starts with a header naming the
columns (any order, case-insensitive): ``name``, ``licence_type`` and
``licence_number`` are required; ``id``, ``kind``, ``aliases`` (``;``-separated),
``valid_from``, ``valid_to``, ``source`` and ``affiliation`` are optional; other
columns are kept in :attr:`RegistryEntry.extra`. See ``docs/registry.md``.

A bad row never stops the import: every problem in it is reported as a
:class:`RowProblem` (line, field, reason, code) and the row is skipped. Only a file
without a usable header (or one that cannot be read) raises.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from qinglang import errors
from qinglang.errors import ErrorCode, QLError
from qinglang.registry.entries import (
    EntityKind,
    LicenceType,
    Registry,
    RegistryEntry,
    licence_key,
    parse_kind,
    parse_licence_type,
)

REQUIRED_COLUMNS = ("name", "licence_type", "licence_number")
OPTIONAL_COLUMNS = ("id", "kind", "aliases", "valid_from", "valid_to", "source", "affiliation")
#: Header spellings read as the canonical column.
_COLUMN_ALIASES = {
    "license_type": "licence_type",
    "license_number": "licence_number",
    "licence_no": "licence_number",
    "license_no": "licence_number",
    "alias": "aliases",
}

_DATE_FORMS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem in one row: ``line`` is the 1-based physical line the row starts on."""

    line: int
    field: str
    reason: str
    code: ErrorCode
    hint: str | None = None

    def to_error(self) -> QLError:
        return QLError(
            self.code, f"line {self.line}: {self.reason}", record=self.line, hint=self.hint, field=self.field
        )

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "line": self.line,
            "field": self.field,
            "code": self.code.code,
            "reason": self.reason,
        }
        if self.hint:
            body["hint"] = self.hint
        return body


@dataclass(slots=True)
class ImportResult:
    """What an import did: the entries added (also in ``registry``) and the rows refused."""

    registry: Registry
    entries: list[RegistryEntry] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rows_read: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_lines(self) -> list[int]:
        """Lines of refused rows, each once, in order."""
        return sorted({p.line for p in self.problems})


def parse_date(value: str) -> date:
    """``2024-01-31``, ``2024/1/31``, ``2024.01.31``, ``20240131``, ``2024年1月31日``.

    Raises ``ValueError`` for anything else or an impossible date.
    """
    text = value.strip()
    for form in _DATE_FORMS:
        m = form.fullmatch(text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")


def _read_source(source: str | Path | bytes) -> tuple[str, str]:
    """(text decoded with surrogateescape, source name)."""
    if isinstance(source, bytes):
        data, name = source, "<bytes>"
    elif isinstance(source, str) and ("\n" in source or "\r" in source):
        return source.removeprefix("\ufeff"), "<text>"
    else:
        path = Path(source)
        if not path.is_file():
            raise QLError(errors.FILE_NOT_FOUND, f"registry file {str(path)!r} not found")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise QLError(errors.UNREADABLE_INPUT, f"registry file {str(path)!r} cannot be read: {exc}") from exc
        name = str(path)
    return data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff"), name


def _columns(header: list[str]) -> list[str]:
    out = []
    for cell in header:
        key = cell.strip().lower().replace(" ", "_").replace("-", "_")
        out.append(_COLUMN_ALIASES.get(key, key))
    return out


def import_csv(
    source: str | Path | bytes,
    *,
    into: Registry | None = None,
    source_name: str | None = None,
) -> ImportResult:
    """Import a registry CSV into ``into`` (a new :class:`Registry` when ``None``).

    ``source`` is a path, CSV text (a ``str`` holding a line break) or the file's
    bytes. Rows whose licence number (or id) is already in ``into`` are refused as
    duplicates. ``source_name`` fills ``RegistryEntry.source`` where a row has none
    (default: the file name).
    """
    text, name = _read_source(source)
    registry = into if into is not None else Registry()
    result = ImportResult(registry=registry)
    default_source = source_name if source_name is not None else name
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise QLError(errors.REGISTRY_BAD_HEADER, f"{name} is empty: no header row") from None
    columns = _columns(header)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise QLError(
            errors.REGISTRY_BAD_HEADER,
            f"{name}: header misses column(s) {', '.join(missing)}",
            hint="required: " + ", ".join(REQUIRED_COLUMNS),
        )
    first_seen: dict[str, int] = {}  # licence key or id -> line of the row that took it
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # only raised for NUL bytes and the like in non-strict mode
            result.problems.append(RowProblem(line, "", f"unreadable row: {exc}", errors.REGISTRY_BAD_ROW))
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not row or all(not cell.strip() for cell in row):
            continue
        result.rows_read += 1
        entry, problems = _parse_row(start, row, columns, default_source, registry, first_seen)
        if problems:
            result.problems.extend(problems)
            continue
        assert entry is not None
        try:
            registry.add(entry)
        except QLError as exc:  # a derived id that an explicit id took earlier
            result.problems.append(RowProblem(start, "id", exc.message, exc.code))
            continue
        first_seen[licence_key(entry.licence_number)] = start
        first_seen["id:" + entry.id] = start
        result.entries.append(entry)
    return result


def _parse_row(
    line: int,
    row: list[str],
    columns: list[str],
    default_source: str,
    registry: Registry,
    first_seen: dict[str, int],
) -> tuple[RegistryEntry | None, list[RowProblem]]:
    bad_bytes = [(col, cell) for col, cell in zip(columns, row, strict=False) if _SURROGATE.search(cell)]
    if bad_bytes:
        col, cell = bad_bytes[0]
        byte = ord(_SURROGATE.search(cell).group()) - 0xDC00  # type: ignore[union-attr]
        reason = f"bytes that are not UTF-8 (first: 0x{byte:02x} in {col!r})"
        return None, [RowProblem(line, col, reason, errors.REGISTRY_BAD_ENCODING, "save the file as UTF-8")]
    if len(row) != len(columns):
        reason = f"{len(row)} fields, the header has {len(columns)}"
        return None, [RowProblem(line, "", reason, errors.REGISTRY_BAD_ROW, "quote fields that hold commas")]
    cells = {c: v.strip() for c, v in zip(columns, row, strict=True)}
    problems: list[RowProblem] = []

    def bad(col: str, reason: str, code: ErrorCode, hint: str | None = None) -> None:
        problems.append(RowProblem(line, col, reason, code, hint))

    name = cells.get("name", "")
    if not name:
        bad("name", "name is empty", errors.REGISTRY_MISSING_FIELD)
    number = cells.get("licence_number", "")
    key = licence_key(number) if number else ""
    if not key:
        bad("licence_number", "licence number is empty", errors.REGISTRY_MISSING_FIELD)
    elif registry.has_licence_key(key):
        held = registry.by_licence(number)
        where = f"line {first_seen[key]}" if key in first_seen else f"entry {held.id if held else '?'}"
        bad("licence_number", f"licence number {number!r} is already held ({where})", errors.REGISTRY_DUPLICATE_LICENCE)
    licence_type: LicenceType | None = None
    raw_type = cells.get("licence_type", "")
    if not raw_type:
        bad("licence_type", "licence type is empty", errors.REGISTRY_MISSING_FIELD)
    else:
        try:
            licence_type = parse_licence_type(raw_type)
        except QLError as exc:
            bad("licence_type", exc.message, exc.code, exc.hint)
    kind = EntityKind.INSTITUTION
    try:
        kind = parse_kind(cells.get("kind", ""))
    except QLError as exc:
        bad("kind", exc.message, exc.code, exc.hint)
    dates: dict[str, date | None] = {}
    for col in ("valid_from", "valid_to"):
        raw = cells.get(col, "")
        dates[col] = None
        if raw:
            try:
                dates[col] = parse_date(raw)
            except ValueError:
                bad(col, f"{col} {raw!r} is not a date", errors.REGISTRY_BAD_DATE, "use YYYY-MM-DD")
    start, end = dates["valid_from"], dates["valid_to"]
    if start is not None and end is not None and end < start:
        bad(
            "valid_to",
            f"valid_to {end.isoformat()} is before valid_from {start.isoformat()}",
            errors.REGISTRY_REVERSED_DATES,
            "are the two dates swapped?",
        )
    explicit_id = cells.get("id", "")
    entry_id = explicit_id or (f"{licence_type.value}:{key}" if licence_type and key else "")
    if explicit_id and entry_id in registry:  # a derived id is taken only when the number is
        where = f"line {first_seen['id:' + entry_id]}" if "id:" + entry_id in first_seen else "the registry"
        bad("id", f"id {entry_id!r} is already taken ({where})", errors.REGISTRY_DUPLICATE_ID)
    if problems:
        return None, problems
    assert licence_type is not None
    aliases = tuple(
        dict.fromkeys(a.strip() for a in cells.get("aliases", "").split(";") if a.strip() and a.strip() != name)
    )
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    entry = RegistryEntry(
        id=entry_id,
        name=name,
        kind=kind,
        licence_type=licence_type,
        licence_number=number,
        aliases=aliases,
        valid_from=start,
        valid_to=end,
        source=cells.get("source", "") or default_source,
        affiliation=cells.get("affiliation", ""),
        extra={c: v for c, v in cells.items() if c not in known and c and v},
    )
    return entry, []
