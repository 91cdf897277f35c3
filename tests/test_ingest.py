"""`qinglang ingest` end to end on SQLite: files and stdin, re-runs, edits, and a killed process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from qinglang import cli

runner = CliRunner()

#: project-written posts: a stock tipster posting three times, a review-only rumor, a benign post
POSTS: list[dict[str, Any]] = [
    {"id": "t1", "account_id": "tipster", "platform": "weibo",
     "text": "免费荐股，每天一只牛股，加微信 niugu_8899 进VIP群，明天必涨停"},
    {"id": "t2", "account_id": "tipster", "platform": "weibo", "text": "老师带单，今天必涨停！加薇❤：abc12345 进VIP群"},
    {"id": "t3", "account_id": "tipster", "platform": "weibo",
     "text": "【內部消息】主力已經建倉完畢，下週必漲！炒股交流群免费进，扣扣：556677889"},
    {"id": "r1", "account_id": "gossip", "platform": "weibo", "text": "听说某某银行要倒闭了，大家赶紧去取钱，内部消息"},
    {"id": "b1", "account_id": "walker", "platform": "weibo", "text": "今天天气很好，我们去公园散步吧"},
]
TABLES = ("accounts", "posts", "verdicts", "strikes", "actions", "cases", "case_verdicts", "audit_log")


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


def ingest(db: Path, *args: str, input: str | None = None) -> Any:
    return runner.invoke(cli.app, ["ingest", *args, "--db", f"sqlite:///{db}", "--model", "none"], input=input)


def test_ingest_file_twice_then_an_edit(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    src = write_jsonl(tmp_path / "posts.jsonl", POSTS)
    out = tmp_path / "out.jsonl"
    result = ingest(db, str(src), "-o", str(out), "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "posts     new 5, unchanged 0, new versions 0" in result.output
    assert "cases     1 opened (review_only_category 1)" in result.output
    assert [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()] == [p["id"] for p in POSTS]
    first = table_counts(db)
    assert first == {"accounts": 3, "posts": 5, "verdicts": 5, "strikes": 3, "actions": 5, "cases": 1,
                     "case_verdicts": 1, "audit_log": 4}

    result = ingest(db, str(src), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "posts     new 0, unchanged 5, new versions 0" in result.output
    assert "actions   none" in result.output
    assert table_counts(db) == first

    edited = [dict(p) for p in POSTS]
    edited[4]["text"] += "，顺便买了杯咖啡"
    result = ingest(db, str(write_jsonl(tmp_path / "edited.jsonl", edited)), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "posts     new 0, unchanged 4, new versions 1" in result.output
    after = table_counts(db)
    assert after == {**first, "posts": 6, "verdicts": 6}  # a benign edit: nothing decided


def test_ingest_stdin_and_error_records(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    lines = b"".join(orjson.dumps(r) + b"\n" for r in [POSTS[0], {"id": "bad", "text": ""}, POSTS[4]])
    result = ingest(db, "-", "-o", "-", "-q", input=lines.decode())
    assert result.exit_code == 1  # one record failed; the others are stored
    outs = [orjson.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [o["id"] for o in outs] == ["t1", "bad", "b1"] and outs[1]["error"]["code"] == "QL-1003"
    assert table_counts(db)["posts"] == 2


def test_ingest_bad_database_url_is_a_usage_error(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "posts.jsonl", POSTS)
    result = runner.invoke(cli.app, ["ingest", str(src), "--db", "nosuchdriver://x", "--model", "none"])
    assert result.exit_code == 2
    assert "QL-6001" in result.output


def generated_posts(n: int) -> list[dict[str, Any]]:
    templates = [
        "老师带单，今天必涨停！加薇❤：abc{i:05d} 进VIP群",
        "今天天气很好，我们去公园散步吧，第{i}次",
        "听说某某银行要倒闭了，大家赶紧去取钱，内部消息{i}",
        "免费荐股，每天一只牛股，加微信 niugu_{i:05d} 进VIP群，明天必涨停",
        "周末在家做了红烧肉，味道不错 {i}",
    ]
    return [{"id": f"g{i:05d}", "account_id": f"acct{i % 97}", "platform": "weibo",
             "text": templates[i % len(templates)].format(i=i)} for i in range(n)]


def _rows(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute(f"select count(*) from {table}").fetchone()[0]
    except sqlite3.Error:
        return 0  # not created yet, or locked for a moment


def test_killed_ingest_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    posts = generated_posts(4000)
    src = write_jsonl(tmp_path / "many.jsonl", posts)
    cmd = [sys.executable, "-m", "qinglang.cli", "ingest", str(src), "--db", f"sqlite:///{db}", "--model", "none",
           "--batch-size", "25", "-o", str(tmp_path / "out.jsonl"), "-q"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while _rows(db, "posts") == 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"ingest ended or stalled before its first commit: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    stored = _rows(db, "posts")
    assert 0 < stored < len(posts), "the kill should land mid-run"
    assert stored % 25 == 0  # whole batches only: the batch in flight rolled back

    rerun = subprocess.run(cmd, env=env, capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode()

    with sqlite3.connect(db) as conn:
        per_post = dict(conn.execute("select post_id, count(*) from posts group by post_id").fetchall())
        assert per_post == {p["id"]: 1 for p in posts}  # every post, exactly one version
        assert conn.execute("select count(*) from verdicts").fetchone()[0] == len(posts)
        assert conn.execute("select max(n) from (select count(*) n from verdicts group by post_version_id)"
                            ).fetchone()[0] == 1
        dup_actions = conn.execute("select count(*) from (select tenant, kind, subject, cause_verdict_ids, "
                                   "count(*) n from actions group by 1, 2, 3, 4 having n > 1)").fetchone()[0]
        assert dup_actions == 0
        assert conn.execute("select count(*) from (select verdict_id from strikes group by verdict_id "
                            "having count(*) > 1)").fetchone()[0] == 0
        assert conn.execute("select count(*) from (select verdict_id from case_verdicts group by verdict_id "
                            "having count(*) > 1)").fetchone()[0] == 0
        strikes = conn.execute("select count(*) from strikes").fetchone()[0]
        cases = conn.execute("select count(*) from cases").fetchone()[0]
        assert strikes > 0 and cases > 0
        # one audit entry per decision that recorded something: none lost, none repeated
        assert conn.execute("select count(*) from audit_log").fetchone()[0] == strikes + cases
    before = table_counts(db)
    again = subprocess.run(cmd, env=env, capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr.decode()
    assert table_counts(db) == before


def test_licence_status_from_the_registry() -> None:
    from datetime import UTC, datetime

    from qinglang.ingest import licence_status
    from qinglang.model import Post
    from qinglang.registry import import_csv

    registry = import_csv("id,name,kind,licence_type,licence_number\n"
                          "kuaiyi,深圳市快易小额贷款有限公司,institution,lender,LND-440300-0077\n").registry
    now = datetime(2025, 6, 1, tzinfo=UTC)
    bound = licence_status(registry, Post(id="p", text="x", account_id="深圳市快易小额贷款有限公司"), now)
    assert bound is not None and bound.licensed and bound.registry_id == "kuaiyi"
    claim = licence_status(registry, Post(id="p", text="x", account_id="股神老李", bio="持牌投顾"), now)
    assert claim is not None and claim.claimed and not claim.licensed
    assert licence_status(None, Post(id="p", text="x", account_id="a"), now) is None


@pytest.mark.parametrize("overlap", [True, False])
def test_a_failed_batch_stops_the_run_and_nothing_after_it_is_stored(tmp_path: Path, overlap: bool) -> None:
    """With the writer thread, outputs still come only from committed batches, and a batch queued
    behind a failed one is not written (it would be decided without the failed batch's strikes)."""
    from datetime import UTC, datetime

    from qinglang.decide import default_ladder
    from qinglang.detect.engine import Engine
    from qinglang.ingest import ingest_records
    from qinglang.store.db import make_engine, session_factory, upgrade

    db = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    upgrade(db)
    factory = session_factory(db)
    calls = 0

    def flaky() -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("database went away")
        return factory()

    records = list(enumerate(generated_posts(40), start=1))
    seen: list[str] = []
    with pytest.raises(RuntimeError, match="went away"):
        for out in ingest_records(Engine(), records, flaky, tenant="t", now=datetime(2026, 11, 21, tzinfo=UTC),
                                  policy=default_ladder(), batch_size=10, overlap=overlap):
            seen.append(out.id)
    assert seen == [f"g{i:05d}" for i in range(10)]  # the first batch only: it alone committed
    with sqlite3.connect(tmp_path / "q.db") as conn:
        stored = sorted(r[0] for r in conn.execute("select post_id from posts"))
    assert stored == seen  # batches 3 and 4 were never written
    assert calls == 2
    db.dispose()
