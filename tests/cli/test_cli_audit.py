"""`qinglang audit verify|export|head` on a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from qinglang import cli
from qinglang.store import audit
from qinglang.store.db import make_engine, session_factory, upgrade

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as s, s.begin():
        for i in range(5):
            audit.append(s, actor="key:test", action="action.create", subject=f"acct{i}", payload={"n": i},
                         at=datetime(2026, 11, 21, 8, i, tzinfo=UTC))
    engine.dispose()
    return url


def test_verify_intact_log(db: str) -> None:
    res = runner.invoke(cli.app, ["audit", "verify", "--db", db])
    assert res.exit_code == 0, res.output
    assert "5 entries, intact" in res.output


def test_verify_names_a_changed_entry(db: str) -> None:
    engine = make_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET subject = 'someone else' WHERE seq = 3"))
    engine.dispose()
    res = runner.invoke(cli.app, ["audit", "verify", "--db", db, "--json"])
    assert res.exit_code == 1
    problems = json.loads(res.stdout)["problems"]
    assert [(p["kind"], p["seq"]) for p in problems][:1] == [("changed", 3)]


def test_head_anchor_catches_a_deleted_tail(db: str) -> None:
    head = runner.invoke(cli.app, ["audit", "head", "--db", db]).stdout.strip()
    assert head.startswith("5:")
    engine = make_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 5"))
    engine.dispose()
    assert runner.invoke(cli.app, ["audit", "verify", "--db", db]).exit_code == 0  # without an anchor it can't know
    res = runner.invoke(cli.app, ["audit", "verify", "--db", db, "--anchor", head])
    assert res.exit_code == 1 and "truncated tail" in res.output


def test_export_writes_every_entry(db: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    res = runner.invoke(cli.app, ["audit", "export", "--db", db, "-o", str(out), "--after", "2"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["seq"] for r in rows] == [3, 4, 5]


def test_bad_anchor_is_a_usage_error(db: str) -> None:
    res = runner.invoke(cli.app, ["audit", "verify", "--db", db, "--anchor", "nonsense"])
    assert res.exit_code == 2
    assert "QL-6005" in res.stderr
