"""The append-only, tamper-evident audit log: a SHA-256 hash chain over ``audit_log``.

Every entry's ``hash`` is SHA-256 over a canonical JSON of its own fields and the
previous entry's hash (:func:`entry_hash`, docs/store.md "Audit log"), so an entry
edited in place no longer matches its hash, and a deleted one leaves a gap in ``seq``
and a link that points at nothing. :func:`verify` walks the chain and names each
problem by ``seq``; a deleted *tail* leaves no trace in what remains, so operators
record anchors (:func:`head`) and pass the last one to :func:`verify`.

:func:`append` and :func:`append_many` flush but never commit: an entry is written in
the caller's transaction, with the change it records. On PostgreSQL a
transaction-level advisory lock serialises writers, so two writers never fork the
chain (the lock is held until the caller's transaction ends); SQLite is one writer.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any, NamedTuple

from sqlalchemy import String, Text, insert, select, text, type_coerce
from sqlalchemy.orm import Session

from qinglang.errors import AUDIT_BAD_ANCHOR, AUDIT_INVALID, MALFORMED_RECORD, UNSUPPORTED_FORMAT, QLError
from qinglang.store.bulk import pg_insert_rows
from qinglang.store.tables import AuditEntry

#: ``prev_hash`` of the first entry (seq 1).
GENESIS_HASH = "0" * 64
#: Fields covered by the hash, in export order (``hash`` itself is not).
HASHED_FIELDS = ("seq", "at", "tenant", "actor", "action", "subject", "payload", "prev_hash")
EXPORT_FORMATS = ("jsonl",)

_LOCK_CLASS = 0x716C6175  # "qlau": the audit log's advisory lock class (int4)
_BATCH = 1000
_LIMITS = {"tenant": 64, "actor": 128, "action": 64, "subject": 256}


# --- canonical form and the hash recipe ---


def canonical_at(at: datetime) -> str:
    """A timestamp in the hashed form: UTC, microseconds, ``Z`` (``2026-11-21T07:04:53.000000Z``)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise QLError(AUDIT_INVALID, f"naive datetime {at!r}: audit times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_str(value: str, where: str) -> str:
    if "\x00" in value:
        raise QLError(AUDIT_INVALID, f"{where}: NUL character (PostgreSQL cannot store it)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise QLError(AUDIT_INVALID, f"{where}: not encodable as UTF-8 (lone surrogate)") from None
    return value


def normalize_payload(value: Any, where: str = "payload") -> Any:
    """The payload as it is stored and hashed: plain JSON that reads back the same on every backend.

    Keys must be strings; tuples become lists; dates and aware datetimes become ISO
    strings (datetimes in the canonical UTC form); a float with an integral value
    becomes an int (JSONB does not keep ``1.0`` apart from ``1``); NaN, infinities,
    NUL characters and other types are refused (``QL-6004``).
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QLError(AUDIT_INVALID, f"{where}: {value!r} is not a JSON number")
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        return _check_str(value, where)
    if isinstance(value, datetime):
        return canonical_at(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise QLError(AUDIT_INVALID, f"{where}: key {key!r} is not a string")
            _check_str(key, where)
            out[key] = normalize_payload(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [normalize_payload(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise QLError(AUDIT_INVALID, f"{where}: {type(value).__name__} is not JSON")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8 (not ASCII-escaped): the bytes that are hashed."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def entry_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of an entry: canonical JSON of its :data:`HASHED_FIELDS`.

    ``record`` is an entry in its exported form (``at`` the canonical UTC string), as
    in a line of :func:`export`; other keys (``hash``) are ignored.
    """
    return hashlib.sha256(canonical_json({name: record[name] for name in HASHED_FIELDS})).hexdigest()


# --- appending ---


def _lock(session: Session) -> None:
    """Serialise appends on PostgreSQL until the caller's transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))"), {"cls": _LOCK_CLASS})


def _last(session: Session) -> tuple[int, str]:
    session.flush()
    row = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return (0, GENESIS_HASH) if row is None else (row[0], row[1])


def _checked(name: str, value: str | None, *, optional: bool = False) -> str | None:
    if value is None:
        if optional:
            return None
        raise QLError(AUDIT_INVALID, f"{name} is required")
    if not isinstance(value, str):
        raise QLError(AUDIT_INVALID, f"{name} must be a string, not {type(value).__name__}")
    if len(value) > _LIMITS[name]:
        raise QLError(AUDIT_INVALID, f"{name} is longer than {_LIMITS[name]} characters")
    return _check_str(value, name)


def _make(
    seq: int,
    prev_hash: str,
    *,
    at: datetime,
    tenant: str | None,
    actor: str,
    action: str,
    subject: str,
    payload: Any,
) -> AuditEntry:
    record = {
        "seq": seq,
        "at": canonical_at(at),
        "tenant": tenant,
        "actor": actor,
        "action": action,
        "subject": subject,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return AuditEntry(
        seq=seq,
        at=at.astimezone(UTC),
        tenant=tenant,
        actor=actor,
        action=action,
        subject=subject,
        payload=payload,
        prev_hash=prev_hash,
        hash=entry_hash(record),
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    tenant: str | None
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]


def _prepare(
    *, tenant: str | None, actor: str, action: str, subject: str, payload: Mapping[str, Any] | None
) -> _Prepared:
    if payload is not None and not isinstance(payload, Mapping):
        raise QLError(AUDIT_INVALID, f"payload must be a mapping, not {type(payload).__name__}")
    return _Prepared(
        tenant=_checked("tenant", tenant, optional=True),
        actor=_checked("actor", actor),  # type: ignore[arg-type]
        action=_checked("action", action),  # type: ignore[arg-type]
        subject=_checked("subject", subject),  # type: ignore[arg-type]
        payload=normalize_payload(payload or {}),
    )


def _at(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    canonical_at(at)  # refuses a naive datetime
    return at


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    tenant: str | None = None,
) -> AuditEntry:
    """Append one entry (next ``seq``, chained to the last entry); flushes, never commits.

    ``at`` defaults to now (it must be timezone-aware); ``payload`` is normalised as in
    :func:`normalize_payload`. Bad input is ``QL-6004``, checked before anything is written.
    """
    item = _prepare(tenant=tenant, actor=actor, action=action, subject=subject, payload=payload)
    when = _at(at)
    _lock(session)
    seq, prev = _last(session)
    entry = _make(seq + 1, prev, at=when, **_fields(item))
    session.add(entry)
    session.flush()
    return entry


def _fields(item: _Prepared) -> dict[str, Any]:
    return {
        "tenant": item.tenant,
        "actor": item.actor,
        "action": item.action,
        "subject": item.subject,
        "payload": item.payload,
    }


def append_many(
    session: Session,
    items: Iterable[tuple[str, Mapping[str, Any] | None]],
    *,
    actor: str,
    action: str,
    at: datetime | None = None,
    tenant: str | None = None,
) -> list[AuditEntry]:
    """Append one entry per ``(subject, payload)`` of a bulk action, chained in order.

    All entries share ``actor``, ``action``, ``tenant`` and ``at`` (default: now), and
    take consecutive ``seq`` numbers (the lock is taken once). Every item is checked
    before anything is written; the rows are inserted in bulk, never committed. The
    returned entries are not attached to the session (read them back to change nothing).
    """
    prepared = [
        _prepare(tenant=tenant, actor=actor, action=action, subject=subject, payload=payload)
        for subject, payload in items
    ]
    when = _at(at)
    if not prepared:
        return []
    _lock(session)
    seq, prev = _last(session)
    out: list[AuditEntry] = []
    for i, item in enumerate(prepared, start=1):
        entry = _make(seq + i, prev, at=when, **_fields(item))
        prev = entry.hash
        out.append(entry)
    # inserted in bulk, not by the unit of work row by row: the entries are complete (seq
    # given, nothing to fetch back), so the ORM has nothing to add
    table = AuditEntry.__table__
    columns = [c.key for c in table.columns]
    conn = session.connection()
    for start in range(0, len(out), _BATCH):
        rows = [{c: getattr(e, c) for c in columns} for e in out[start:start + _BATCH]]
        if conn.dialect.name == "postgresql":
            pg_insert_rows(conn, table, rows)  # type: ignore[arg-type]
        else:
            session.execute(insert(table), rows)
    return out


# --- anchors ---


class Anchor(NamedTuple):
    """A point of the chain an operator recorded: ``seq`` and its ``hash``; ``str()`` is ``seq:hash``."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, value: str | tuple[int, str] | Anchor) -> Anchor:
        """``"123:<64 hex>"`` or a ``(seq, hash)`` pair; anything else is ``QL-6005``."""
        if isinstance(value, str):
            seq_text, sep, digest = value.strip().partition(":")
            if not sep:
                raise QLError(AUDIT_BAD_ANCHOR, f"anchor {value!r} is not SEQ:HASH")
            try:
                seq = int(seq_text)
            except ValueError:
                raise QLError(AUDIT_BAD_ANCHOR, f"anchor {value!r}: {seq_text!r} is not a number") from None
        else:
            try:
                seq, digest = value
            except (TypeError, ValueError):
                raise QLError(AUDIT_BAD_ANCHOR, f"anchor {value!r} is not (seq, hash)") from None
        digest = str(digest).strip().lower()
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise QLError(AUDIT_BAD_ANCHOR, f"anchor seq {seq!r} is not a positive integer")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise QLError(AUDIT_BAD_ANCHOR, f"anchor hash {digest!r} is not 64 hex digits")
        return cls(seq, digest)


def head(session: Session) -> Anchor | None:
    """The last entry's ``(seq, hash)``, to be recorded as an anchor; None when the log is empty."""
    seq, digest = _last(session)
    return None if seq == 0 else Anchor(seq, digest)


# --- reading ---


def _parse_at(value: Any) -> Any:
    if isinstance(value, datetime):
        return canonical_at(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value  # unreadable: kept as stored, so it can never match its hash
        return canonical_at(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    return value


def _parse_payload(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return value


def records(session: Session, *, after: int = 0, batch_size: int = _BATCH) -> Iterator[dict[str, Any]]:
    """Every entry with ``seq > after`` in ``seq`` order, in exported form, read in batches.

    ``at`` is the canonical UTC string; a value that no longer reads (edited into
    garbage) is passed on as stored, so it fails its hash rather than the walk.
    """
    columns = (
        AuditEntry.seq,
        type_coerce(AuditEntry.at, String).label("at"),
        AuditEntry.tenant,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.subject,
        type_coerce(AuditEntry.payload, Text).label("payload"),
        AuditEntry.prev_hash,
        AuditEntry.hash,
    )
    last = after
    while True:
        rows = session.execute(
            select(*columns).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch_size)
        ).all()
        for row in rows:
            yield {
                "seq": row.seq,
                "at": _parse_at(row.at),
                "tenant": row.tenant,
                "actor": row.actor,
                "action": row.action,
                "subject": row.subject,
                "payload": _parse_payload(row.payload),
                "prev_hash": row.prev_hash,
                "hash": row.hash,
            }
        if len(rows) < batch_size:
            return
        last = rows[-1].seq


def export(session: Session, fp: IO[str], fmt: str = "jsonl", *, after: int = 0, batch_size: int = _BATCH) -> int:
    """Write entries with ``seq > after`` to a text file, one JSON object a line; returns how many.

    Each line holds every column (``at`` in the canonical UTC form), so
    :func:`entry_hash` of a line recomputes its ``hash`` and :func:`verify_jsonl`
    checks an export without the database.
    """
    if fmt not in EXPORT_FORMATS:
        raise QLError(UNSUPPORTED_FORMAT, f"audit export format {fmt!r}", hint=f"one of {', '.join(EXPORT_FORMATS)}")
    count = 0
    for record in records(session, after=after, batch_size=batch_size):
        fp.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


# --- verifying ---


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the chain.

    ``kind``: ``changed`` (an entry no longer matches its hash), ``broken link``
    (``prev_hash`` is not the previous entry's hash), ``missing`` (entries ``seq`` to
    ``last_seq`` are gone), ``truncated tail`` (entries up to the anchor are gone),
    ``anchor mismatch`` (the anchored entry's hash differs from the anchor).
    """

    kind: str
    seq: int
    message: str
    last_seq: int | None = None

    @property
    def seqs(self) -> range:
        """The entries concerned: one, or the run of missing ones."""
        return range(self.seq, (self.last_seq if self.last_seq is not None else self.seq) + 1)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "seq": self.seq, "message": self.message}
        if self.last_seq is not None:
            out["last_seq"] = self.last_seq
        return out


@dataclass(slots=True)
class VerifyResult:
    """What :func:`verify` found: ``ok`` when no problem; ``head`` the last entry seen."""

    entries: int = 0
    head: Anchor | None = None
    anchor: Anchor | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": str(self.head) if self.head else None,
            "anchor": str(self.anchor) if self.anchor else None,
            "problems": [p.to_dict() for p in self.problems],
        }


def _gap(first: int, last: int, why: str) -> Problem:
    where = f"entry {first} is" if first == last else f"entries {first}-{last} are"
    return Problem("missing", first, f"{where} missing ({why})", last_seq=last)


def verify_records(
    entries: Iterable[Mapping[str, Any]], *, anchor: str | tuple[int, str] | Anchor | None = None
) -> VerifyResult:
    """Walk entries in ``seq`` order (exported form) and report every problem; see :func:`verify`."""
    pin = None if anchor is None else Anchor.parse(anchor)
    result = VerifyResult(anchor=pin)
    problems = result.problems
    prev_seq, prev_hash = 0, GENESIS_HASH
    for record in entries:
        seq = record["seq"]
        stored = record["hash"]
        result.entries += 1
        if seq > prev_seq + 1:
            problems.append(_gap(prev_seq + 1, seq - 1, "deleted"))
        elif record["prev_hash"] != prev_hash:
            if prev_seq == 0:
                why = f"entry {seq} does not start the chain: its prev_hash is not {GENESIS_HASH[:8]}..."
            else:
                why = (
                    f"entry {seq} does not link to entry {prev_seq}: its prev_hash is not that entry's hash"
                    f" (entry {prev_seq} was rewritten, or entry {seq} was)"
                )
            problems.append(Problem("broken link", seq, why))
        try:
            recomputed = entry_hash(record)
        except (TypeError, ValueError):
            recomputed = None
        if recomputed != stored:
            problems.append(Problem("changed", seq, f"entry {seq} was changed: it no longer matches its hash"))
        if pin is not None and seq == pin.seq and stored != pin.hash:
            problems.append(
                Problem("anchor mismatch", seq, f"entry {seq} has hash {stored}, the anchor says {pin.hash}")
            )
        prev_seq, prev_hash = seq, stored
    result.head = Anchor(prev_seq, prev_hash) if prev_seq else None
    if pin is not None and prev_seq < pin.seq:
        first = prev_seq + 1
        where = f"entry {first} is" if first == pin.seq else f"entries {first}-{pin.seq} are"
        problems.append(
            Problem("truncated tail", first, f"{where} missing: the anchor names entry {pin.seq}", last_seq=pin.seq)
        )
    return result


def verify(
    session: Session, *, anchor: str | tuple[int, str] | Anchor | None = None, batch_size: int = _BATCH
) -> VerifyResult:
    """Walk the whole chain in ``seq`` order and report each problem with its ``seq``.

    Recomputes every entry's hash (``changed``), checks each ``prev_hash`` against the
    previous entry's stored hash (``broken link``) and that ``seq`` runs 1, 2, 3, ...
    with no gap (``missing``, naming the deleted numbers). With an ``anchor``
    (``(seq, hash)`` or ``"seq:hash"`` from :func:`head`), entries deleted from the end
    are ``truncated tail`` and a rewritten history is ``anchor mismatch``.
    """
    return verify_records(records(session, batch_size=batch_size), anchor=anchor)


def read_jsonl(fp: IO[str]) -> Iterator[dict[str, Any]]:
    """Entries from an :func:`export` file; a line that is not an entry is ``QL-1001``."""
    for number, line in enumerate(fp, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise QLError(MALFORMED_RECORD, f"audit export line {number}: {exc}", record=number) from None
        if not isinstance(record, dict) or not isinstance(record.get("seq"), int):
            raise QLError(MALFORMED_RECORD, f"audit export line {number}: not an audit entry", record=number)
        missing = [name for name in (*HASHED_FIELDS, "hash") if name not in record]
        if missing:
            raise QLError(MALFORMED_RECORD, f"audit export line {number}: no {', '.join(missing)}", record=number)
        yield record


def verify_jsonl(fp: IO[str], *, anchor: str | tuple[int, str] | Anchor | None = None) -> VerifyResult:
    """:func:`verify` over an :func:`export` file, without the database (lines in ``seq`` order)."""
    return verify_records(read_jsonl(fp), anchor=anchor)
