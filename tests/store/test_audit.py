"""The hash-chained audit log: append, verify, anchors and export, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from qinglang.errors import QLError
from qinglang.store import audit
from qinglang.store.db import make_engine, session_factory, upgrade
from qinglang.store.tables import AuditEntry

T0 = datetime(2026, 11, 21, 7, 0, 0, 123456, tzinfo=UTC)

#: Payloads that must read back the same on both backends (JSONB normalises numbers, keys, spacing).
PAYLOADS: list[dict[str, Any]] = [
    {"kind": "mute", "hours": 24, "reason": "违规荐股 与 内幕消息"},
    {"ratio": 0.1, "big": 1e20, "tiny": 1.5e-10, "whole": 2.0, "neg": -0.0, "n": None, "ok": True},
    {"z": 1, "a": {"nested": [1, "two", {"三": 3}]}, "": "empty key"},
    {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=8))), "day": date(2026, 1, 2)},
    {},
    {"quote": 'he said "hi"\n\ttab \\ backslash', "emoji": "📈", "huge": 12345678901234567890123},
]


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def fill(factory: sessionmaker[Session], n: int = 12) -> list[AuditEntry]:
    out = []
    with factory() as s, s.begin():
        for i in range(n):
            out.append(
                audit.append(
                    s,
                    actor=f"analyst{i % 3}",
                    action="action.create" if i % 2 else "review.confirm",
                    subject=f"account:{i}",
                    payload=PAYLOADS[i % len(PAYLOADS)],
                    at=T0 + timedelta(seconds=i),
                    tenant="acme" if i % 4 else None,
                )
            )
    return out


def sql(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def kinds(result: audit.VerifyResult) -> list[tuple[str, int, int | None]]:
    return [(p.kind, p.seq, p.last_seq) for p in result.problems]


# --- appending ---


def test_chain_of_entries_verifies(factory: sessionmaker[Session]) -> None:
    entries = fill(factory, 30)
    assert [e.seq for e in entries] == list(range(1, 31))
    assert entries[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    with factory() as s:
        result = audit.verify(s, batch_size=7)  # several batches
        assert result.ok, result.problems
        assert result.entries == 30
        assert result.head == audit.head(s) == (30, entries[-1].hash)
        assert audit.verify(s, anchor=result.head).ok
        assert audit.verify(s, anchor=str(result.head)).ok
        assert audit.verify(s, anchor=(10, entries[9].hash)).ok


def test_empty_log(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        assert audit.head(s) is None
        result = audit.verify(s)
        assert (result.ok, result.entries, result.head) == (True, 0, None)
        assert kinds(audit.verify(s, anchor=(3, "a" * 64))) == [("truncated tail", 1, 3)]


def test_append_is_in_the_callers_transaction(factory: sessionmaker[Session]) -> None:
    fill(factory, 3)
    with factory() as s:
        s.begin()
        audit.append(s, actor="a", action="x", subject="s")
        audit.append_many(s, [("p1", {}), ("p2", None)], actor="a", action="bulk")
        assert audit.head(s).seq == 6  # type: ignore[union-attr]
        s.rollback()
    with factory() as s:
        assert audit.head(s).seq == 3  # type: ignore[union-attr]
        assert audit.verify(s).ok


def test_append_many_chains_one_entry_per_item(factory: sessionmaker[Session]) -> None:
    fill(factory, 2)
    with factory() as s, s.begin():
        bulk = audit.append_many(
            s, ((f"post:{i}", {"i": i}) for i in range(2500)), actor="ops", action="action.bulk_remove", at=T0
        )
        assert audit.append_many(s, [], actor="ops", action="noop") == []
    assert [e.seq for e in bulk] == list(range(3, 2503))
    assert {e.at for e in bulk} == {T0}
    with factory() as s:
        assert audit.verify(s).ok
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 2502
        stored = s.get(AuditEntry, 1000)
        assert stored is not None and (stored.subject, stored.payload, stored.actor) == ("post:997", {"i": 997}, "ops")


def test_payload_is_normalised(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        entry = audit.append(s, actor="a", action="x", subject="s", payload=PAYLOADS[1] | PAYLOADS[3], at=T0)
    assert entry.payload["whole"] == 2 and isinstance(entry.payload["whole"], int)
    assert entry.payload["big"] == 10**20 and entry.payload["neg"] == 0
    assert entry.payload["when"] == "2026-01-01T19:04:05.000000Z"
    assert entry.payload["day"] == "2026-01-02"
    with factory() as s:
        row = s.get(AuditEntry, 1)
        assert row is not None and row.payload == entry.payload
        assert row.at == T0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"at": datetime(2026, 1, 1)},
        {"payload": {"x": float("nan")}},
        {"payload": {1: "int key"}},
        {"payload": {"x": object()}},
        {"payload": ["not", "a", "mapping"]},
        {"payload": {"x": "nul\x00"}},
        {"actor": "x" * 129},
        {"actor": ""[:0] or None},
        {"subject": "lone \ud800"},
    ],
)
def test_bad_entries_are_refused_before_writing(factory: sessionmaker[Session], kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {"actor": "a", "action": "x", "subject": "s"} | kwargs
    with factory() as s, s.begin():
        with pytest.raises(QLError) as info:
            audit.append(s, **args)
        assert info.value.code.code == "QL-6004"
        with pytest.raises(QLError):
            audit.append_many(s, [("ok", {}), ("bad", {"x": float("inf")})], actor="a", action="x")
        assert audit.head(s) is None


# --- tampering ---


def test_edited_payload_is_changed_at_its_seq(factory: sessionmaker[Session], engine: Engine) -> None:
    fill(factory, 10)
    if engine.dialect.name == "postgresql":
        sql(engine, """UPDATE audit_log SET payload = '{"kind": "warn"}'::jsonb WHERE seq = 4""")
    else:
        sql(engine, """UPDATE audit_log SET payload = '{"kind": "warn"}' WHERE seq = 4""")
    sql(engine, "UPDATE audit_log SET actor = 'someone else' WHERE seq = 7")
    with factory() as s:
        result = audit.verify(s)
    assert not result.ok
    assert kinds(result) == [("changed", 4, None), ("changed", 7, None)]
    assert "entry 4 was changed" in result.problems[0].message
    assert result.to_dict()["problems"][0] == {"kind": "changed", "seq": 4, "message": result.problems[0].message}


def test_rewritten_hash_breaks_the_next_link(factory: sessionmaker[Session], engine: Engine) -> None:
    entries = fill(factory, 6)
    with factory() as s:
        forged = next(r for r in audit.records(s, after=2))  # entry 3, exported form
    forged["subject"] = "account:forged"
    sql(engine, "UPDATE audit_log SET subject = :s, hash = :h WHERE seq = 3", s="account:forged",
        h=audit.entry_hash(forged))  # fmt: skip
    sql(engine, "UPDATE audit_log SET at = :at WHERE seq = 5", at="2020-01-01 00:00:00.000000"
        if engine.dialect.name == "sqlite" else T0 - timedelta(days=9))  # fmt: skip
    with factory() as s:
        result = audit.verify(s)
    assert kinds(result) == [("broken link", 4, None), ("changed", 5, None)]
    assert entries[3].prev_hash == entries[2].hash


def test_deleted_rows_are_missing_with_their_seqs(factory: sessionmaker[Session], engine: Engine) -> None:
    fill(factory, 12)
    sql(engine, "DELETE FROM audit_log WHERE seq = 5")
    sql(engine, "DELETE FROM audit_log WHERE seq BETWEEN 8 AND 10")
    sql(engine, "DELETE FROM audit_log WHERE seq = 1")
    with factory() as s:
        result = audit.verify(s)
    assert kinds(result) == [("missing", 1, 1), ("missing", 5, 5), ("missing", 8, 10)]
    assert [list(p.seqs) for p in result.problems] == [[1], [5], [8, 9, 10]]
    assert "entries 8-10 are missing" in result.problems[2].message


def test_deleted_tail_is_caught_with_an_anchor(factory: sessionmaker[Session], engine: Engine) -> None:
    fill(factory, 10)
    with factory() as s:
        anchor = audit.head(s)
    assert anchor is not None and anchor.seq == 10
    sql(engine, "DELETE FROM audit_log WHERE seq >= 8")
    with factory() as s:
        assert audit.verify(s).ok  # a clean prefix: nothing to see without an anchor
        result = audit.verify(s, anchor=str(anchor))
    assert kinds(result) == [("truncated tail", 8, 10)]
    assert list(result.problems[0].seqs) == [8, 9, 10]
    assert result.head is not None and result.head.seq == 7


def test_rewritten_history_misses_the_anchor(factory: sessionmaker[Session], engine: Engine) -> None:
    fill(factory, 5)
    with factory() as s:
        anchor = audit.head(s)
        assert anchor is not None
        assert kinds(audit.verify(s, anchor=(5, "f" * 64))) == [("anchor mismatch", 5, None)]
    # an attacker rewrites the whole log consistently: the chain verifies, the anchor does not
    sql(engine, "DELETE FROM audit_log")
    with factory() as s, s.begin():
        for i in range(5):
            audit.append(s, actor="forger", action="x", subject=f"s{i}", at=T0)
    with factory() as s:
        assert audit.verify(s).ok
        assert kinds(audit.verify(s, anchor=anchor)) == [("anchor mismatch", 5, None)]


def test_unreadable_values_are_changed_not_a_crash(factory: sessionmaker[Session], engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses invalid JSON and timestamps in the first place")
    fill(factory, 4)
    sql(engine, "UPDATE audit_log SET payload = 'not json {' WHERE seq = 2")
    sql(engine, "UPDATE audit_log SET at = 'yesterday' WHERE seq = 3")
    with factory() as s:
        assert kinds(audit.verify(s)) == [("changed", 2, None), ("changed", 3, None)]
        buf = io.StringIO()
        assert audit.export(s, buf) == 4


# --- anchors ---


def test_anchor_parsing() -> None:
    digest = "Ab" * 32
    assert audit.Anchor.parse(f" 12:{digest}\n") == (12, digest.lower())
    assert str(audit.Anchor(3, "c" * 64)) == f"3:{'c' * 64}"
    for bad in ["12", f"x:{digest}", f"0:{digest}", "12:abc", f"12:{'g' * 64}", (1,), None, (True, "a" * 64)]:
        with pytest.raises(QLError) as info:
            audit.Anchor.parse(bad)  # type: ignore[arg-type]
        assert info.value.code.code == "QL-6005", bad


# --- export ---


def test_export_streams_lines_that_verify_offline(factory: sessionmaker[Session]) -> None:
    entries = fill(factory, 9)
    buf = io.StringIO()
    with factory() as s:
        assert audit.export(s, buf, batch_size=4) == 9
        tail = io.StringIO()
        assert audit.export(s, tail, after=6) == 3
        with pytest.raises(QLError) as info:
            audit.export(s, io.StringIO(), fmt="csv")
        assert info.value.code.code == "QL-4001"
    lines = buf.getvalue().splitlines()
    first = json.loads(lines[0])
    assert list(first) == [*audit.HASHED_FIELDS, "hash"]
    assert first["at"] == "2026-11-21T07:00:00.123456Z"
    assert [json.loads(line)["hash"] for line in lines] == [e.hash for e in entries]
    assert all(audit.entry_hash(json.loads(line)) == json.loads(line)["hash"] for line in lines)
    assert [json.loads(line)["seq"] for line in tail.getvalue().splitlines()] == [7, 8, 9]

    result = audit.verify_jsonl(io.StringIO(buf.getvalue()), anchor=(9, entries[-1].hash))
    assert result.ok and result.entries == 9
    edited = [json.loads(line) for line in lines]
    edited[2]["payload"]["extra"] = 1
    del edited[5]
    text_ = "\n".join(json.dumps(r, ensure_ascii=False) for r in edited[:-1]) + "\n"
    assert kinds(audit.verify_jsonl(io.StringIO(text_), anchor=(9, entries[-1].hash))) == [
        ("changed", 3, None),
        ("missing", 6, 6),
        ("truncated tail", 9, 9),
    ]
    with pytest.raises(QLError) as info:
        list(audit.read_jsonl(io.StringIO(lines[0] + "\n{oops\n")))
    assert (info.value.code.code, info.value.record) == ("QL-1001", 2)


# --- concurrency and portability ---


def test_concurrent_appends_make_one_chain(factory: sessionmaker[Session], engine: Engine) -> None:
    """Writers appending at once (each in its own transactions) never fork the chain (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite allows one writer at a time; concurrent writers are a PostgreSQL setup")
    workers, rounds = 8, 15
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(rounds):
                with factory() as s, s.begin():
                    s.execute(select(func.count()).select_from(AuditEntry))  # the transaction has begun
                    if i % 5 == 4:
                        audit.append_many(s, [(f"w{n}:{i}:a", {}), (f"w{n}:{i}:b", {})], actor=f"w{n}", action="bulk")
                    else:
                        audit.append(s, actor=f"w{n}", action="one", subject=f"w{n}:{i}", payload={"i": i})
        except BaseException as exc:  # collected and raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    total = workers * (rounds + rounds // 5)
    with factory() as s:
        result = audit.verify(s)
        assert result.ok, result.problems
        assert result.entries == total and result.head is not None and result.head.seq == total


@pytest.fixture
def two_backends(pg_url: URL, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    engines = (make_engine(f"sqlite:///{tmp_path / 'a.db'}"), make_engine(pg_url))
    for eng in engines:
        upgrade(eng)
    try:
        yield engines
    finally:
        for eng in engines:
            eng.dispose()


def test_hashes_are_the_same_on_every_backend(two_backends: tuple[Engine, Engine]) -> None:
    hashes = []
    for eng in two_backends:
        factory = session_factory(eng)
        written = [e.hash for e in fill(factory, 12)]
        with factory() as s:
            assert audit.verify(s).ok
            read = [r["hash"] for r in audit.records(s)]
            recomputed = [audit.entry_hash(r) for r in audit.records(s)]
        assert written == read == recomputed
        hashes.append(written)
    assert hashes[0] == hashes[1]


def test_hash_recipe_is_pinned() -> None:
    """The recipe is part of the log's format: changing it would fail every stored chain."""
    record = {
        "seq": 1,
        "at": "2026-11-21T07:00:00.123456Z",
        "tenant": "acme",
        "actor": "analyst",
        "action": "review.confirm",
        "subject": "verdict:42",
        "payload": {"decision": "confirm", "categories": ["荐股"]},
        "prev_hash": audit.GENESIS_HASH,
    }
    canonical = audit.canonical_json(record)
    assert canonical.startswith(b'{"action":"review.confirm","actor":"analyst","at":"2026-11-21T07:00:00.123456Z"')
    assert "荐股".encode() in canonical
    assert audit.entry_hash(record) == audit.entry_hash(record | {"hash": "ignored"})
    assert audit.entry_hash(record) == PINNED


PINNED = "72862722690e4ac3b514bb41703a18901f846861f90c593eabfbe0990cea91c2"
