"""`qinglang review ...` and `qinglang appeal ...` end to end on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qinglang import cli

runner = CliRunner()

#: project-written posts: a review-only rumor, a stock tipster
POSTS = [
    {"id": "r1", "account_id": "gossip", "platform": "weibo", "text": "听说某某银行要倒闭了，大家赶紧去取钱，内部消息"},
    {"id": "t1", "account_id": "tipster", "platform": "weibo",
     "text": "免费荐股，每天一只牛股，加微信 niugu_8899 进VIP群，明天必涨停"},
]


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    src = tmp_path / "posts.jsonl"
    src.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in POSTS), "utf-8")
    res = runner.invoke(cli.app, ["ingest", str(src), "--db", url, "--tenant", "acme", "--model", "none",
                                  "-o", str(tmp_path / "out.jsonl"), "-q"])
    assert res.exit_code == 0, res.output
    return url


def call(*args: str) -> tuple[int, object, str]:
    res = runner.invoke(cli.app, list(args))
    try:
        out = json.loads(res.stdout) if "--json" in args else res.stdout
    except json.JSONDecodeError:
        out = res.stdout
    return res.exit_code, out, res.stderr


def test_review_flow(db: str, tmp_path: Path) -> None:
    common = ["--db", db, "--tenant", "acme"]
    status, queue, _ = call("review", "list", *common, "--json")
    assert status == 0 and [c["categories"] for c in queue] == [["financial_rumor"]]  # type: ignore[union-attr]
    cid = str(queue[0]["id"])  # type: ignore[index]

    status, case, _ = call("review", "next", *common, "--as", "li", "--json")
    assert status == 0 and case["id"] == int(cid) and case["assignee"] == "li"  # type: ignore[index]
    assert case["posts"][0]["post_id"] == "r1"  # type: ignore[index]
    status, _, err = call("review", "claim", cid, *common, "--reviewer", "wang")
    assert status == 2 and "error QL-6103" in err
    status, _, err = call("review", "decide", cid, "overturn", *common, "--as", "wang")
    assert status == 2 and "error QL-6104" in err
    status, out, _ = call("review", "next", *common, "--as", "wang")
    assert status == 0 and "no case waiting" in str(out)

    status, _, _ = call("review", "release", cid, *common, "--as", "li")
    assert status == 0
    status, text, _ = call("review", "claim", cid, *common, "--as", "wang", "--lease-minutes", "5")
    assert status == 0 and "claimed by wang" in str(text) and "银行" in str(text)
    status, result, _ = call("review", "decide", cid, "recategorize", *common, "--as", "wang",
                             "--category", "financial_rumor", "--note", "a real rumor", "--json")
    assert status == 0 and result["actions"]  # type: ignore[index]
    status, _, err = call("review", "decide", cid, "confirm", *common, "--as", "wang")
    assert status == 2 and "error QL-6102" in err
    status, _, err = call("review", "claim", "999", *common, "--as", "wang")
    assert status == 2 and "error QL-6101" in err
    status, _, err = call("review", "list", *common, "--account", "nobody")
    assert status == 2 and "error QL-6106" in err
    status, closed, _ = call("review", "list", *common, "--status", "closed", "--json")
    assert [c["id"] for c in closed] == [int(cid)]  # type: ignore[union-attr]

    out = tmp_path / "reviewed.jsonl"
    res = runner.invoke(cli.app, ["review", "export", *common, "-o", str(out)])
    assert res.exit_code == 0 and "exported 1 labeled rows" in res.stderr
    [row] = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert row["labels"] == ["financial_rumor"] and row["meta"]["decided_by"] == "wang"
    res = runner.invoke(cli.app, ["review", "export", *common, "--since", "not a time"])
    assert res.exit_code == 2 and "QL-4003" in res.stderr

    # the reviewer's action is appealed; the reviewer may not decide it, someone else may
    assert call("audit", "verify", "--db", db)[0] == 0
    key = result["verdicts"][0]["decision"]["actions"][0]["id"]  # type: ignore[index]
    assert key.startswith("r1#1/")
    status, appeal, _ = call("appeal", "file", key, *common, "--as", "gossip", "--reason", "true story", "--json")
    assert status == 0 and appeal["status"] == "open"  # type: ignore[index]
    aid = str(appeal["id"])  # type: ignore[index]
    status, _, err = call("appeal", "file", key, *common, "--as", "gossip")
    assert status == 2 and "error QL-6109" in err
    status, _, err = call("appeal", "decide", aid, "upheld", *common, "--as", "wang")
    assert status == 2 and "error QL-6112" in err
    status, listed, _ = call("appeal", "list", *common, "--account", "gossip", "--json")
    assert [a["id"] for a in listed] == [int(aid)]  # type: ignore[union-attr]
    status, decided, _ = call("appeal", "decide", aid, "upheld", *common, "--as", "zhao", "--note", "ok", "--json")
    assert status == 0 and decided["status"] == "upheld" and decided["changes"]  # type: ignore[index]
    status, text, _ = call("appeal", "list", *common, "--status", "all")
    assert "upheld by zhao" in str(text)
    status, _, err = call("appeal", "decide", "999", "upheld", *common, "--as", "zhao")
    assert status == 2 and "error QL-6110" in err
    status, _, err = call("appeal", "file", "nope", *common, "--as", "gossip")
    assert status == 2 and "error QL-6107" in err

    res = runner.invoke(cli.app, ["audit", "export", "--db", db])
    kinds = [json.loads(line)["action"] for line in res.stdout.splitlines()]
    assert [k for k in kinds if k.startswith(("review.", "appeal."))] == [
        "review.claim", "review.release", "review.claim", "review.recategorize", "appeal.file", "appeal.upheld"]


def test_identity_is_required(db: str) -> None:
    res = runner.invoke(cli.app, ["review", "next", "--db", db, "--tenant", "acme"])
    assert res.exit_code == 2  # --as is required
    res = runner.invoke(cli.app, ["review", "next", "--db", db, "--tenant", "acme", "--as", " "])
    assert res.exit_code == 2 and "QL-6113" in res.stderr
