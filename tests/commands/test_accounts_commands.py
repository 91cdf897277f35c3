"""`qinglang accounts show|list|bind|unbind`: output, bindings, coded errors (SQLite)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from qinglang import cli

runner = CliRunner()

REGISTRY = ("id,name,aliases,licence_type,licence_number\n"
            "kuaiyi,深圳市快易小额贷款有限公司,快易贷,lender,LND-440300-0077\n")
POSTS = [
    {"id": "t1", "account_id": "tipster", "platform": "weibo",
     "text": "免费荐股，每天一只牛股，加微信 niugu_8899 进VIP群，明天必涨停"},
    {"id": "t2", "account_id": "tipster", "platform": "weibo", "text": "老师带单，今天必涨停！加薇❤：abc12345 进VIP群"},
    {"id": "r1", "account_id": "gossip", "platform": "weibo", "text": "听说某某银行要倒闭了，大家赶紧去取钱，内部消息"},
    {"id": "d1", "account_id": "twin", "platform": "weibo", "text": "今天天气很好"},
    {"id": "d2", "account_id": "twin", "platform": "douyin", "text": "今天天气不错"},
]  # fmt: skip


def invoke(*args: str) -> Any:
    return runner.invoke(cli.app, list(args))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Posts ingested (rules only) and a registry imported, once for the module."""
    tmp = tmp_path_factory.mktemp("accounts")
    url = f"sqlite:///{tmp / 'q.db'}"
    (tmp / "licences.csv").write_text(REGISTRY, encoding="utf-8")
    (tmp / "posts.jsonl").write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in POSTS))
    assert invoke("registry", "import", str(tmp / "licences.csv"), "--db", url, "--as", "alice").exit_code == 0
    result = invoke("ingest", str(tmp / "posts.jsonl"), "--db", url, "--model", "none", "-o", str(tmp / "o.jsonl"))
    assert result.exit_code == 0, result.output
    return url


def test_show_json_has_every_part(db: str) -> None:
    result = invoke("accounts", "show", "tipster", "--db", db, "--json", "--history", "1")
    assert result.exit_code == 0, result.output
    view = orjson.loads(result.stdout)
    assert set(view) == {"account", "binding", "points", "strikes", "actions", "history", "open_cases", "appeals"}
    assert view["points"]["in_window"] == sum(s["points"] for s in view["strikes"] if s["counts"]) > 0
    assert len(view["history"]) == 1 and view["history"][0]["post_id"] == "t2"
    assert all(a["causes"] and a["rule_ids"] for a in view["actions"])


def test_show_for_people(db: str) -> None:
    result = runner.invoke(cli.app, ["accounts", "show", "gossip", "--db", db], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("gossip  tenant default, platform weibo")
    assert "registry: not bound" in out and "points: 0 in the last 180 days" in out
    assert "open cases (1)" in out and "review_only_category" in out and "strikes: none" in out


@pytest.mark.parametrize(("args", "code"), [
    (["accounts", "show", "nobody"], "QL-6106"),
    (["accounts", "show", "tipster", "--tenant", "other"], "QL-6106"),
    (["accounts", "show", "twin"], "QL-6201"),
    (["accounts", "bind", "nobody", "kuaiyi", "--as", "carol"], "QL-6106"),
    (["accounts", "bind", "gossip", "nope", "--as", "carol"], "QL-6202"),
    (["accounts", "unbind", "twin", "--as", "carol"], "QL-6201"),
    (["accounts", "list", "--sort", "loudest"], "QL-4003"),
])  # fmt: skip
def test_unknown_and_ambiguous_accounts_are_coded_usage_errors(db: str, args: list[str], code: str) -> None:
    result = invoke(*args, "--db", db)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error {code}:")


def test_show_by_platform(db: str) -> None:
    result = invoke("accounts", "show", "twin", "--platform", "douyin", "--db", db, "--json")
    assert result.exit_code == 0 and orjson.loads(result.stdout)["account"]["platform"] == "douyin"


def test_list_by_points(db: str) -> None:
    result = invoke("accounts", "list", "--db", db, "--json")
    assert result.exit_code == 0
    items = orjson.loads(result.stdout)
    assert [a["account_id"] for a in items] == ["tipster"]  # gossip has only a case, twin nothing
    table = invoke("accounts", "list", "--db", db, "--sort", "recent")
    assert table.exit_code == 0 and "tipster" in table.stdout


def test_bind_and_unbind_are_audited(db: str) -> None:
    result = invoke("accounts", "bind", "new-lender", "kuaiyi", "--platform", "weibo", "--create", "--db", db,
                    "--as", "carol")
    assert result.exit_code == 0 and "new-lender bound to kuaiyi (declared)" in result.stdout
    again = invoke("accounts", "bind", "new-lender", "kuaiyi", "--db", db, "--as", "carol")
    assert "already bound" in again.stdout
    view = orjson.loads(invoke("accounts", "show", "new-lender", "--db", db, "--json").stdout)
    assert (view["binding"]["entity"]["id"], view["binding"]["source"], view["binding"]["bound_by"]) == (
        "kuaiyi", "declared", "carol")
    entry = orjson.loads(invoke("registry", "show", "kuaiyi", "--db", db, "--json").stdout)
    assert [a["account_id"] for a in entry["accounts"]] == ["new-lender"]
    assert invoke("accounts", "unbind", "new-lender", "--db", db, "--as", "dave").stdout.strip() == "new-lender unbound"
    assert invoke("accounts", "unbind", "new-lender", "--db", db, "--as", "dave").stdout.strip() == (
        "new-lender was not bound")
    exported = invoke("audit", "export", "--db", db)
    actions = [(e["action"], e["actor"]) for e in map(orjson.loads, exported.stdout.splitlines())
               if e["action"].startswith("account.")]
    assert actions == [("account.bind", "carol"), ("account.unbind", "dave")]
    assert invoke("audit", "verify", "--db", db).exit_code == 0
