"""``qinglang cluster``: the commands end to end on a SQLite file, errors as codes with exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

from cluster_fixture import load_gang
from typer.testing import CliRunner

from qinglang.cli import app
from qinglang.store.db import make_engine, session_factory, upgrade

runner = CliRunner()


def _db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ql.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        load_gang(session)
    engine.dispose()
    return url


def test_build_list_show_explain_export_act(tmp_path: Path) -> None:
    db = _db(tmp_path)
    common = ["--db", db, "--tenant", "t"]
    before = runner.invoke(app, ["cluster", "list", *common])
    assert before.exit_code == 2 and "QL-9010" in before.output
    built = runner.invoke(app, ["cluster", "build", *common, "--json"])
    assert built.exit_code == 0, built.output
    assert json.loads(built.output)["new"] == ["C-000001"]
    listed = runner.invoke(app, ["cluster", "list", *common])
    assert listed.output.startswith("C-000001  risk")
    shown = json.loads(runner.invoke(app, ["cluster", "show", "C-000001", *common, "--json"]).output)
    assert shown["size"] == 6
    explained = runner.invoke(app, ["cluster", "explain", "traffic1", "op", *common])
    assert "traffic1 -- wechat:niugu_88 -- teacher" in explained.output
    assert "post p3 v1 text[0:15]" in explained.output
    out = tmp_path / "out"
    exported = runner.invoke(app, ["cluster", "export", "C-000001", "-o", str(out), *common])
    assert exported.exit_code == 0, exported.output
    assert (out / "C-000001-domains.txt").read_text(encoding="utf-8") == "niu-gu.cn\n"
    assert json.loads((out / "C-000001.json").read_text(encoding="utf-8"))["cluster_id"] == "C-000001"
    dry = json.loads(runner.invoke(app, ["cluster", "act", "C-000001", "--dry-run", "--json", *common]).output)
    assert dry["outcome"] == "act" and dry["recorded"] == []
    missing = runner.invoke(app, ["cluster", "show", "C-000404", *common])
    assert missing.exit_code == 2 and "error QL-9006" in missing.output


def test_account_import_reports_bad_lines(tmp_path: Path) -> None:
    db = _db(tmp_path)
    path = tmp_path / "acc.jsonl"
    path.write_text('{"account": "u1", "ip": "1.2.3.999"}\n{"account": "u2", "device_id": "dev-42aa"}\n',
                    encoding="utf-8")
    result = runner.invoke(app, ["cluster", "accounts", str(path), "--db", db, "--tenant", "t"])
    assert result.exit_code == 1
    assert "line 1: QL-9003" in result.output and "2 rows, 2 accounts, 1 new links, 1 problems" in result.output
