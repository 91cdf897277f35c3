"""``qinglang keys``: the first admin key from the command line works against the service."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qinglang.cli import app as cli
from qinglang.scan import Detector
from qinglang.service.app import create_app
from qinglang.service.settings import load_settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    monkeypatch.setenv("QINGLANG_SECRET", "cli-test-secret")
    monkeypatch.delenv("QINGLANG_ENV", raising=False)
    return url


def test_create_list_revoke_round_trip(env: str, detector: Detector) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "--role", "admin", "--tenant", "acme", "--name", "ops", "--db", env])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    assert token.startswith("qlk_")
    key_id = token.split("_")[1]

    app = create_app(load_settings(db_url=env, key_cache_s=0), detector=detector)
    with TestClient(app) as client:
        assert client.get("/v1/keys", headers={"X-API-Key": token}).status_code == 200
        listed = runner.invoke(cli, ["keys", "list", "--db", env, "--json"])
        rows = orjson.loads(listed.stdout)
        assert [(r["key_id"], r["role"], r["tenant"], r["revoked_at"]) for r in rows] == [
            (key_id, "admin", "acme", None)]
        assert token not in listed.stdout
        revoked = runner.invoke(cli, ["keys", "revoke", key_id, "--db", env])
        assert revoked.exit_code == 0
        assert client.get("/v1/keys", headers={"X-API-Key": token}).status_code == 401
    from qinglang.store.db import make_engine, session_factory
    from qinglang.store.tables import AuditEntry

    db = make_engine(env)
    with session_factory(db)() as session:
        actions = [(e.action, e.actor.startswith("cli:")) for e in session.query(AuditEntry).order_by(AuditEntry.seq)]
    db.dispose()
    assert actions == [("key.create", True), ("key.revoke", True)]


@pytest.mark.parametrize(("args", "code"), [
    (["keys", "create", "--role", "wizard", "--tenant", "acme"], "QL-9509"),
    (["keys", "create", "--role", "admin", "--tenant", "bad tenant!"], "QL-9509"),
    (["keys", "revoke", "000000000000"], "QL-9505"),
])
def test_bad_key_commands_are_coded(env: str, args: list[str], code: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--db", env])
    assert result.exit_code == 2 and code in result.output


def test_keys_need_a_real_secret_in_production(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLANG_ENV", "production")
    monkeypatch.setenv("QINGLANG_SECRET", "")
    result = CliRunner().invoke(cli, ["keys", "create", "--role", "admin", "--tenant", "acme", "--db", env])
    assert result.exit_code == 2 and "QL-9502" in result.output
