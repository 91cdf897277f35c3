"""The licence registry in the database: audited imports, loading it back, account bindings.

``qinglang.registry`` is storage-free; this module is its store (docs/registry.md,
"Persistence"):

- :func:`import_registry` / :func:`save_entries` upsert entries into
  ``registry_entities`` and ``registry_aliases`` keyed by the registry's entry id: a
  new id is *added*, a known id whose fields differ is *changed in place*, an identical
  one is *unchanged*. With ``replace`` the file is a full snapshot and entries it no
  longer lists are *retired* (``retired_at`` set, never deleted: accounts bound to them
  and their audit history stay readable). Every added, changed or retired entry is one
  audit log entry (actor, time, ``before``/``after``) in the caller's transaction, so
  the change and its record commit together.
- :func:`load_registry` rebuilds the in-memory :class:`~qinglang.registry.Registry`
  (retired entries left out) for matching and decisions.
- Bindings: ``accounts.registry_entity_id`` with ``binding_source`` ``declared`` (a
  person said so, :func:`declare_binding`, audited) or ``matched`` (the name matched at
  ingest, :func:`set_matched_binding`). A declared binding is never replaced by a match.

Functions flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from qinglang import errors
from qinglang.decide import LicenceStatus
from qinglang.errors import QLError
from qinglang.model import Post
from qinglang.registry import (
    Binding,
    BindingStatus,
    EntityKind,
    LicenceType,
    Registry,
    RegistryEntry,
    RowProblem,
    bind_account,
    import_csv,
    licence_key,
    parse_licence_type,
)
from qinglang.store import audit
from qinglang.store.tables import Account, AuditEntry, RegistryAlias, RegistryEntity

#: ``accounts.binding_source`` values; a declared binding wins over a name match.
DECLARED = "declared"
MATCHED = "matched"
#: ``registry_aliases.kind`` of the names the CSV's ``aliases`` column holds.
NAME_ALIAS = "name"
#: audit actions
AUDIT_ADD, AUDIT_CHANGE, AUDIT_RETIRE = "registry.add", "registry.change", "registry.retire"
AUDIT_BIND, AUDIT_UNBIND = "account.bind", "account.unbind"
#: the actor of bindings found at ingest
MATCH_ACTOR = "ingest"

#: Column widths (tables.py): a longer value is a bad row, not a failed transaction.
_LIMITS = {"id": 128, "name": 512, "licence_number": 128, "source": 256, "affiliation": 512}
_ALIAS_LIMIT = 512


@dataclass(slots=True)
class ImportSummary:
    """What an import did, by entry id; ``problems`` are the rows refused (file and store)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rows_read: int = 0
    replace: bool = False
    #: ``replace`` was asked for but not done because rows were bad (QL-6204)
    replace_skipped: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "added": len(self.added),
            "changed": len(self.changed),
            "unchanged": len(self.unchanged),
            "retired": len(self.retired),
            "bad_rows": len({p.line for p in self.problems}),
            "replace": self.replace,
            "replace_skipped": self.replace_skipped,
            "ids": {"added": self.added, "changed": self.changed, "retired": self.retired},
            "problems": [p.to_dict() for p in self.problems],
        }


# --- rows <-> entries ---------------------------------------------------------------


def row_entry(row: RegistryEntity, aliases: Sequence[str] = ()) -> RegistryEntry:
    """The in-memory entry a stored row stands for."""
    return RegistryEntry(
        id=row.entry_id,
        name=row.name,
        kind=EntityKind(row.kind),
        licence_type=LicenceType(row.licence_type),
        licence_number=row.licence_number,
        aliases=tuple(aliases),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        source=row.source,
        affiliation=row.affiliation,
        extra=dict(row.extra or {}),
    )


def snapshot(entry: RegistryEntry, retired_at: datetime | None = None) -> dict[str, Any]:
    """An entry as plain values: what the audit log keeps as ``before``/``after`` and what is compared."""
    return {**entry.to_dict(), "extra": dict(sorted(entry.extra.items())),
            "retired_at": retired_at.isoformat() if retired_at else None}


def _aliases(session: Session, entity_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
    stmt = select(RegistryAlias.entity_id, RegistryAlias.alias).where(RegistryAlias.kind == NAME_ALIAS)
    if entity_ids is not None:
        ids = list(entity_ids)
        if not ids:
            return {}
        stmt = stmt.where(RegistryAlias.entity_id.in_(ids))
    out: dict[int, list[str]] = {}
    for entity_id, alias in session.execute(stmt.order_by(RegistryAlias.id)):
        out.setdefault(entity_id, []).append(alias)
    return out


def _values(entry: RegistryEntry) -> dict[str, Any]:
    """The row's columns for an entry (besides ids and times)."""
    return {"name": entry.name, "kind": entry.kind.value, "licence_type": entry.licence_type.value,
            "licence_number": entry.licence_number, "valid_from": entry.valid_from, "valid_to": entry.valid_to,
            "source": entry.source, "affiliation": entry.affiliation, "extra": dict(entry.extra)}


def _apply(row: RegistryEntity, entry: RegistryEntry) -> None:
    for key, value in _values(entry).items():
        setattr(row, key, value)


# --- import -----------------------------------------------------------------------------


def _too_long(entry: RegistryEntry, line: int) -> RowProblem | None:
    values = {"id": entry.id, "name": entry.name, "licence_number": entry.licence_number,
              "source": entry.source, "affiliation": entry.affiliation}
    # PostgreSQL refuses NUL in text and JSONB: a bad row, not a failed transaction
    cells = {**values, "aliases": ";".join(entry.aliases), **{f"extra.{k}": f"{k}{v}" for k, v in entry.extra.items()}}
    for col, value in cells.items():
        if "\x00" in str(value):
            return RowProblem(line, col, f"{col} holds a NUL character", errors.REGISTRY_BAD_ROW)
    for col, value in values.items():
        if len(value) > _LIMITS[col]:
            return RowProblem(line, col, f"{col} is {len(value)} characters, at most {_LIMITS[col]} are kept",
                              errors.REGISTRY_BAD_ROW)
    for alias in entry.aliases:
        if len(alias) > _ALIAS_LIMIT:
            return RowProblem(line, "aliases", f"alias {alias[:20]!r}… is longer than {_ALIAS_LIMIT} characters",
                              errors.REGISTRY_BAD_ROW)
    return None


def save_entries(
    session: Session,
    entries: Sequence[RegistryEntry],
    *,
    actor: str,
    now: datetime | None = None,
    replace: bool = False,
    lines: Mapping[str, int] | None = None,
    complete: bool = True,
) -> ImportSummary:
    """Upsert ``entries`` by id; with ``replace``, retire stored entries they do not list.

    ``lines`` maps entry ids to their CSV line, for problems found here: a licence
    number held by another stored entry that stays in force (``QL-8006``), or a value
    too long for its column (``QL-8001``). ``complete=False`` says the snapshot lost
    rows (bad rows in the file): then nothing is retired, since a malformed row's entry
    would be (``replace_skipped``). Audited with ``actor``; flushes, never commits.
    """
    when = now or datetime.now(UTC)
    audit.canonical_at(when)  # refuses a naive time before anything is written
    summary = ImportSummary(replace=replace)
    lines = lines or {}
    rows = {r.entry_id: r for r in session.scalars(select(RegistryEntity))}
    stored_aliases = _aliases(session)
    incoming = {e.id for e in entries}
    retire = replace and complete
    summary.replace_skipped = replace and not complete
    # numbers held by stored entries that stay in force after this import
    staying = {licence_key(r.licence_number): eid for eid, r in rows.items()
               if eid not in incoming and r.retired_at is None and not retire}
    added: list[RegistryEntry] = []
    audits: dict[str, list[tuple[str, dict[str, Any]]]] = {AUDIT_ADD: [], AUDIT_CHANGE: [], AUDIT_RETIRE: []}
    for entry in entries:
        line = lines.get(entry.id, 0)
        problem = _too_long(entry, line)
        holder = staying.get(licence_key(entry.licence_number)) if staying else None
        if problem is None and holder is not None:
            problem = RowProblem(line, "licence_number",
                                 f"licence number {entry.licence_number!r} is already held (entry {holder} in the "
                                 "database)", errors.REGISTRY_DUPLICATE_LICENCE,
                                 "import with --replace if the file is the whole registry")
        if problem is not None:
            summary.problems.append(problem)
            continue
        row = rows.get(entry.id)
        after = snapshot(entry)
        if row is None:
            added.append(entry)
            summary.added.append(entry.id)
            audits[AUDIT_ADD].append((entry.id, {"before": None, "after": after}))
            continue
        before = snapshot(row_entry(row, stored_aliases.get(row.id, ())), row.retired_at)
        if before == after:
            summary.unchanged.append(entry.id)
            continue
        _apply(row, entry)
        row.retired_at = None  # listed again: back in force
        row.updated_at = when
        if list(entry.aliases) != stored_aliases.get(row.id, []):
            session.execute(delete(RegistryAlias).where(RegistryAlias.entity_id == row.id,
                                                        RegistryAlias.kind == NAME_ALIAS))
            session.flush()
            session.add_all(RegistryAlias(entity_id=row.id, kind=NAME_ALIAS, alias=a) for a in entry.aliases)
        summary.changed.append(entry.id)
        audits[AUDIT_CHANGE].append((entry.id, {"before": before, "after": after}))
    if retire:
        for eid, row in rows.items():
            if eid in incoming or row.retired_at is not None:
                continue
            before = snapshot(row_entry(row, stored_aliases.get(row.id, ())))
            row.retired_at = when
            row.updated_at = when
            summary.retired.append(eid)
            audits[AUDIT_RETIRE].append((eid, {"before": before, "after": {**before, "retired_at": when.isoformat()}}))
    session.flush()
    if added:
        # bulk, not the unit of work: executemany (psycopg pipelines it), then the new ids in one query
        session.execute(insert(RegistryEntity), [
            {**_values(e), "entry_id": e.id, "created_at": when, "updated_at": when, "retired_at": None}
            for e in added])
        new_ids = _row_ids(session, [e.id for e in added if e.aliases])
        aliases = [{"entity_id": new_ids[e.id], "kind": NAME_ALIAS, "alias": a} for e in added for a in e.aliases]
        if aliases:
            session.execute(insert(RegistryAlias), aliases)
    for action, items in audits.items():
        audit.append_many(session, [(f"registry:{eid}"[:256], payload) for eid, payload in items],
                          actor=actor, action=action, at=when)
    return summary


def _row_ids(session: Session, entry_ids: Sequence[str], chunk: int = 5000) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range(0, len(entry_ids), chunk):
        part = entry_ids[i:i + chunk]
        rows = session.execute(select(RegistryEntity.entry_id, RegistryEntity.id)
                               .where(RegistryEntity.entry_id.in_(part)))
        out.update((eid, rid) for eid, rid in rows)
    return out


def entry_lines(text: str, result_entries: Sequence[RegistryEntry], bad_lines: Iterable[int]) -> dict[str, int]:
    """The CSV line each imported entry came from.

    :func:`qinglang.registry.import_csv` keeps the lines of refused rows only; the rows
    it kept are the non-blank rows that are not refused, in order, so reading the text
    the same way pairs them up. Unpaired (should not happen) entries get no line.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=False)
    bad = set(bad_lines)
    starts: list[int] = []
    try:
        next(reader)
    except (StopIteration, csv.Error):
        return {}
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if row and any(cell.strip() for cell in row) and start not in bad:
            starts.append(start)
    if len(starts) != len(result_entries):
        return {}
    return {e.id: n for e, n in zip(result_entries, starts, strict=True)}


def _read(source: str | Path | bytes) -> tuple[bytes | str, str]:
    """The file's bytes (or the CSV text itself) and a source name for entries that give none."""
    if isinstance(source, bytes):
        return source, "<bytes>"
    if isinstance(source, str) and ("\n" in source or "\r" in source):
        return source, "<text>"
    path = Path(source)
    if not path.is_file():
        raise QLError(errors.FILE_NOT_FOUND, f"registry file {str(path)!r} not found")
    try:
        return path.read_bytes(), path.name
    except OSError as exc:
        raise QLError(errors.UNREADABLE_INPUT, f"registry file {str(path)!r} cannot be read: {exc}") from exc


def import_registry(
    session: Session,
    source: str | Path | bytes,
    *,
    actor: str,
    now: datetime | None = None,
    replace: bool = False,
) -> ImportSummary:
    """Read a registry CSV (path, text or bytes) and save it: bad rows reported, the rest upserted.

    Entries without a ``source`` column get the file's *name* (not its path), so the
    same file imported from another folder is unchanged. A file that cannot be used at
    all raises ``QL-8009``/``QL-4002``/``QL-1009``; bad rows never do. See :func:`save_entries`.
    """
    data, name = _read(source)
    result = import_csv(data, source_name=name)
    text = data.decode("utf-8", errors="surrogateescape") if isinstance(data, bytes) else data
    lines = entry_lines(text, result.entries, result.bad_lines)
    summary = save_entries(session, result.entries, actor=actor, now=now, replace=replace, lines=lines,
                           complete=result.ok)
    summary.rows_read = result.rows_read
    summary.problems = sorted([*result.problems, *summary.problems], key=lambda p: p.line)
    return summary


# --- reading ----------------------------------------------------------------------------


def has_entries(session: Session) -> bool:
    """Whether the registry holds any entry in force (not retired)."""
    return bool(session.scalar(select(exists().where(RegistryEntity.retired_at.is_(None)))))


def load_registry(session: Session, *, include_retired: bool = False) -> Registry:
    """The stored registry as an in-memory :class:`Registry` (for ``match_name``, ``bind_account``)."""
    stmt = select(RegistryEntity).order_by(RegistryEntity.id)
    if not include_retired:
        stmt = stmt.where(RegistryEntity.retired_at.is_(None))
    rows = list(session.scalars(stmt))
    aliases = _aliases(session)
    return Registry(row_entry(r, aliases.get(r.id, ())) for r in rows)


def get_entity(session: Session, entry_id: str) -> RegistryEntity:
    """The stored entity with this entry id; ``QL-6202`` when there is none."""
    row = session.scalars(select(RegistryEntity).where(RegistryEntity.entry_id == entry_id)).first()
    if row is None:
        raise QLError(errors.REGISTRY_ENTRY_NOT_FOUND, f"no registry entry {entry_id!r}",
                      hint="'qinglang registry list' shows the entries")
    return row


def entity_dict(row: RegistryEntity, aliases: Sequence[str] = (), *, on: date | None = None) -> dict[str, Any]:
    """A stored entity as plain values, with its validity on ``on`` (default today) and retirement."""
    entry = row_entry(row, aliases)
    day = on or datetime.now(UTC).date()
    return {**entry.to_dict(), "extra": entry.extra,
            "validity": "retired" if row.retired_at else entry.validity_on(day),
            "retired_at": row.retired_at, "created_at": row.created_at, "updated_at": row.updated_at}


def list_entities(
    session: Session,
    *,
    licence_type: str | None = None,
    valid_on: date | None = None,
    include_retired: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Stored entities by entry id, filtered by licence type and the day their licence is in force."""
    stmt = select(RegistryEntity).order_by(RegistryEntity.entry_id)
    if licence_type:
        stmt = stmt.where(RegistryEntity.licence_type == parse_licence_type(licence_type).value)
    if valid_on is not None:
        stmt = stmt.where(or_(RegistryEntity.valid_from.is_(None), RegistryEntity.valid_from <= valid_on),
                          or_(RegistryEntity.valid_to.is_(None), RegistryEntity.valid_to >= valid_on))
    if not include_retired:
        stmt = stmt.where(RegistryEntity.retired_at.is_(None))
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = list(session.scalars(stmt))
    aliases = _aliases(session, [r.id for r in rows])
    return [entity_dict(r, aliases.get(r.id, ()), on=valid_on) for r in rows]


def entity_detail(session: Session, entry_id: str, *, on: date | None = None) -> dict[str, Any]:
    """One entity, the accounts bound to it (every tenant) and its change history from the audit log."""
    row = get_entity(session, entry_id)
    body = entity_dict(row, _aliases(session, [row.id]).get(row.id, ()), on=on)
    accounts = session.scalars(select(Account).where(Account.registry_entity_id == row.id)
                               .order_by(Account.tenant, Account.platform, Account.external_id))
    body["accounts"] = [{"tenant": a.tenant, "platform": a.platform, "account_id": a.external_id,
                         "binding_source": a.binding_source, "bound_at": a.bound_at, "bound_by": a.bound_by}
                        for a in accounts]
    history = session.scalars(select(AuditEntry).where(AuditEntry.subject == f"registry:{entry_id}"[:256])
                              .order_by(AuditEntry.seq))
    body["history"] = [{"seq": h.seq, "at": h.at, "actor": h.actor, "action": h.action, "payload": h.payload}
                       for h in history]
    return body


# --- bindings ---------------------------------------------------------------------------


def binding_ids(session: Session, entry_ids: Iterable[str]) -> dict[str, int]:
    """Entry id -> ``registry_entities.id`` for the ids stored and not retired (one query)."""
    ids = sorted(set(entry_ids))
    if not ids:
        return {}
    rows = session.execute(select(RegistryEntity.entry_id, RegistryEntity.id)
                           .where(RegistryEntity.entry_id.in_(ids), RegistryEntity.retired_at.is_(None)))
    return {eid: rid for eid, rid in rows}


def _binding_state(session: Session, account: Account) -> dict[str, Any] | None:
    if account.registry_entity_id is None:
        return None
    entry_id = session.scalar(select(RegistryEntity.entry_id).where(RegistryEntity.id == account.registry_entity_id))
    return {"entry_id": entry_id, "source": account.binding_source}


def _audit_binding(session: Session, account: Account, action: str, before: dict[str, Any] | None,
                   after: dict[str, Any] | None, *, actor: str, when: datetime, reason: str | None = None) -> None:
    payload: dict[str, Any] = {"platform": account.platform, "account_id": account.external_id,
                               "before": before, "after": after}
    if reason:
        payload["reason"] = reason
    audit.append(session, actor=actor, action=action, subject=f"account:{account.external_id}"[:256],
                 payload=payload, at=when, tenant=account.tenant)


def declare_binding(session: Session, account: Account, entry_id: str, *, actor: str,
                    now: datetime | None = None) -> bool:
    """Bind ``account`` to the entry as ``declared`` (wins over name matches); audited.

    ``QL-6202`` for an unknown entry, ``QL-6203`` for a retired one. Returns whether
    anything changed (the same declared binding again changes nothing and logs nothing).
    """
    when = now or datetime.now(UTC)
    row = get_entity(session, entry_id)
    if row.retired_at is not None:
        raise QLError(errors.REGISTRY_ENTRY_RETIRED,
                      f"registry entry {entry_id!r} was retired on {row.retired_at.date().isoformat()}")
    if account.registry_entity_id == row.id and account.binding_source == DECLARED:
        return False
    before = _binding_state(session, account)
    account.registry_entity_id = row.id
    account.binding_source = DECLARED
    account.bound_at = when
    account.bound_by = actor
    session.flush()
    _audit_binding(session, account, AUDIT_BIND, before, {"entry_id": entry_id, "source": DECLARED},
                   actor=actor, when=when)
    return True


def remove_binding(session: Session, account: Account, *, actor: str, now: datetime | None = None) -> bool:
    """Unbind ``account`` (declared or matched); audited. The next ingest may match it by name again."""
    when = now or datetime.now(UTC)
    before = _binding_state(session, account)
    if before is None:
        return False
    account.registry_entity_id = None
    account.binding_source = None
    account.bound_at = when
    account.bound_by = actor
    session.flush()
    _audit_binding(session, account, AUDIT_UNBIND, before, None, actor=actor, when=when)
    return True


def set_matched_binding(session: Session, account: Account, entity_row_id: int | None, *, entry_id: str | None,
                        now: datetime, reason: str | None = None) -> bool:
    """Record the binding a name match found at ingest (``entity_row_id`` from :func:`binding_ids`).

    A declared binding is left alone. ``None`` clears an earlier *matched* binding (the
    entry was retired, or the account no longer matches). Only a change is written and
    audited (actor ``ingest``), so re-ingesting logs nothing. Returns whether it changed.
    """
    if account.binding_source == DECLARED or account.registry_entity_id == entity_row_id:
        return False
    before = _binding_state(session, account)
    account.registry_entity_id = entity_row_id
    account.binding_source = MATCHED if entity_row_id is not None else None
    account.bound_at = now
    account.bound_by = MATCH_ACTOR
    session.flush()
    after = {"entry_id": entry_id, "source": MATCHED} if entity_row_id is not None else None
    _audit_binding(session, account, AUDIT_BIND if after else AUDIT_UNBIND, before, after,
                   actor=MATCH_ACTOR, when=now, reason=reason)
    return True


def apply_matched_bindings(session: Session, wanted: Mapping[int, str | None], *, now: datetime) -> int:
    """Set-based :func:`set_matched_binding` for a batch: ``wanted`` maps account row ids to entry ids.

    For ingest's batch path: one SELECT for the entries (retired ones bind nothing), one
    for the accounts, one UPDATE per changed account, and one audit entry each (actor
    ``ingest``). Accounts with a declared binding are skipped; ``None`` clears a matched
    binding. Returns how many accounts changed.
    """
    if not wanted:
        return 0
    rows = binding_ids(session, [e for e in wanted.values() if e])
    current = session.execute(select(Account.id, Account.registry_entity_id, Account.binding_source, Account.tenant,
                                      Account.platform, Account.external_id)
                              .where(Account.id.in_(sorted(wanted))))
    names = {rid: eid for eid, rid in rows.items()}
    audits: dict[str, list[tuple[str, str, dict[str, Any]]]] = {AUDIT_BIND: [], AUDIT_UNBIND: []}
    changed = 0
    for acct_id, entity_id, source, tenant, platform, external_id in current:
        target = rows.get(wanted[acct_id] or "")
        if source == DECLARED or entity_id == target:
            continue
        before = None
        if entity_id is not None:
            before = {"entry_id": session.scalar(select(RegistryEntity.entry_id).where(RegistryEntity.id == entity_id)),
                      "source": source or MATCHED}
        after = {"entry_id": names[target], "source": MATCHED} if target is not None else None
        session.execute(update(Account).where(Account.id == acct_id).values(
            registry_entity_id=target, binding_source=MATCHED if target is not None else None, bound_at=now,
            bound_by=MATCH_ACTOR, updated_at=now))
        payload = {"platform": platform, "account_id": external_id, "before": before, "after": after}
        audits[AUDIT_BIND if after else AUDIT_UNBIND].append((tenant, f"account:{external_id}"[:256], payload))
        changed += 1
    for action, items in audits.items():
        for tenant in sorted({t for t, _, _ in items}):
            audit.append_many(session, [(s, p) for t, s, p in items if t == tenant], actor=MATCH_ACTOR,
                              action=action, at=now, tenant=tenant)
    return changed


def declared_licences(session: Session, tenant: str) -> dict[tuple[str, str], str]:
    """(platform, account id) -> licence number, for the tenant's declared bindings (one query).

    For ingest: pass the number as ``bind_account(declared_licence=...)`` so a declared
    binding decides the account's licence whatever its name. A retired entry's number
    is still returned: the registry no longer holds it, so the account is treated as
    claiming a licence it does not hold, as for any declared licence the registry lacks.
    """
    rows = session.execute(select(Account.platform, Account.external_id, RegistryEntity.licence_number)
                           .join(RegistryEntity, RegistryEntity.id == Account.registry_entity_id)
                           .where(Account.tenant == tenant, Account.binding_source == DECLARED))
    return {(platform, external_id): number for platform, external_id, number in rows}


def declared_licence(session: Session, account: Account) -> str | None:
    """The licence number of the entry the account is *declared* bound to, else ``None``."""
    if account.binding_source != DECLARED or account.registry_entity_id is None:
        return None
    return session.scalar(select(RegistryEntity.licence_number)
                          .where(RegistryEntity.id == account.registry_entity_id))


def bind_stored_account(session: Session, registry: Registry, account: Account, post: Post, now: datetime) -> Binding:
    """Bind a stored account: its declared licence first, else its name and the post's bio.

    The account's display name is its id (posts carry no other). A matched result
    (``bound`` or ``lapsed``: the account is that entity) is recorded with
    :func:`set_matched_binding`; anything else clears an earlier match.
    """
    binding = bind_account(registry, declared_licence=declared_licence(session, account),
                           display_name=account.external_id, bio=post.bio, on=now.date())
    if account.binding_source != DECLARED:
        entry_id = (binding.entry.id if binding.entry is not None
                    and binding.status in (BindingStatus.BOUND, BindingStatus.LAPSED) else None)
        row_id = binding_ids(session, [entry_id]).get(entry_id) if entry_id else None
        set_matched_binding(session, account, row_id, entry_id=entry_id, now=now, reason=binding.explanation)
    return binding


def licence_status_for(session: Session, registry: Registry | None, account: Account, post: Post,
                       now: datetime) -> LicenceStatus | None:
    """The decide layer's :class:`LicenceStatus` for a stored account (``None`` without a registry).

    For ingest: like ``qinglang.ingest.licence_status`` but a declared binding counts
    (its licence is the declared one) and the name-match binding is persisted.
    """
    if registry is None:
        return None
    binding = bind_stored_account(session, registry, account, post, now)
    return LicenceStatus(
        licensed=binding.status is BindingStatus.BOUND,
        claimed=binding.status is BindingStatus.CLAIMS_UNHELD_LICENCE,
        registry_id=binding.entry.id if binding.entry is not None else None,
    )


__all__ = [
    "DECLARED",
    "MATCHED",
    "ImportSummary",
    "apply_matched_bindings",
    "bind_stored_account",
    "binding_ids",
    "declare_binding",
    "declared_licence",
    "declared_licences",
    "entity_detail",
    "entity_dict",
    "entry_lines",
    "get_entity",
    "has_entries",
    "import_registry",
    "licence_status_for",
    "list_entities",
    "load_registry",
    "remove_binding",
    "row_entry",
    "save_entries",
    "set_matched_binding",
    "snapshot",
]
