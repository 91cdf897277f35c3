"""`qinglang registry import`, `qinglang ingest` and `qinglang accounts show` end to end, on SQLite and PostgreSQL.

The same loan ad without a rate disclosure, from three accounts: the licensed lender
(bound by its short name) gets a rectification notice, an unlicensed account an
escalated strike, and an account whose bio claims a licence it does not hold an
impersonation strike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy.engine import URL
from typer.testing import CliRunner

from qinglang import cli

runner = CliRunner()

#: project-written: a loan ad with speed/rate claims and a call to apply, no annualised rate
AD = "快易贷小额贷款，秒批低息，当天放款，万元日息5元，立即申请"
REGISTRY = (
    "id,name,aliases,kind,licence_type,licence_number,valid_from,valid_to,source,affiliation\n"
    "kuaiyi,深圳市快易小额贷款有限公司,快易贷,institution,lender,LND-440300-0077,2016-05-01,,gdjr,\n"
    "cmb,招商银行股份有限公司,招行;招商银行,institution,bank,B0011H144030001,1987-04-08,,nfra,\n"
)
POSTS: list[dict[str, Any]] = [
    {"id": "ad-licensed", "account_id": "快易贷", "platform": "weibo", "text": AD},
    {"id": "ad-unlicensed", "account_id": "贷款小王", "platform": "weibo", "text": AD},
    {"id": "ad-claim", "account_id": "金牌贷款顾问", "platform": "weibo",
     "bio": "持牌放贷机构，执业编号：LND-440300-9999", "text": AD},
    {"id": "tip-licensed", "account_id": "快易贷", "platform": "weibo",
     "text": "免费荐股，每天一只牛股，加微信 niugu_8899 进VIP群，明天必涨停"},
]  # fmt: skip


def invoke(*args: str) -> Any:
    return runner.invoke(cli.app, list(args))


def db_arg(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def show(db: str, account: str, tenant: str) -> dict[str, Any]:
    result = invoke("accounts", "show", account, "--tenant", tenant, "--db", db, "--json")
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def outcome(view: dict[str, Any]) -> tuple[list[tuple[str, int, tuple[str, ...]]], list[str], list[list[str]]]:
    """(strikes as (category, points, rules), action kinds, open case reasons)."""
    strikes = [(s["category"], s["points"], tuple(s["rule_ids"])) for s in view["strikes"]]
    return strikes, sorted(a["kind"] for a in view["actions"]), [c["reasons"] for c in view["open_cases"]]


def test_licensed_unlicensed_and_claimed_accounts_through_ingest(blank_url: URL, tmp_path: Path) -> None:
    db = db_arg(blank_url)
    (tmp_path / "licences.csv").write_text(REGISTRY, encoding="utf-8")
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in POSTS))

    result = invoke("registry", "import", str(tmp_path / "licences.csv"), "--db", db, "--as", "alice")
    assert result.exit_code == 0, result.output
    assert "added 2, changed 0, unchanged 0, retired 0, bad rows 0" in result.output

    result = invoke("ingest", str(posts), "--db", db, "--tenant", "acme", "--model", "none", "-o",
                    str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    assert "registry  2 entries in force" in result.output

    licensed = show(db, "快易贷", "acme")
    strikes, actions, cases = outcome(licensed)
    assert strikes == [] and actions == ["rectification_notice"]
    assert cases == [["licensed_account"]]  # its stock tip is a sanction on a licensed account: a person decides
    assert licensed["binding"]["entity"]["id"] == "kuaiyi"
    assert licensed["binding"]["source"] == "matched"

    strikes, actions, cases = outcome(show(db, "贷款小王", "acme"))
    assert strikes == [("loan_marketing", 3, ("licence.unlicensed", "points.severity.high"))]
    assert actions == ["remove_content"] and cases == []

    claimed = show(db, "金牌贷款顾问", "acme")
    strikes, actions, _ = outcome(claimed)
    assert strikes[0][:2] == ("impersonation", 5) and "licence.claim" in strikes[0][2]
    assert actions == ["remove_content"] and claimed["binding"] is None

    # without the registry the same ad is an ordinary medium strike
    result = invoke("ingest", str(posts), "--db", db, "--tenant", "plain", "--model", "none", "--no-registry",
                    "-o", str(tmp_path / "out2.jsonl"), "-q")
    assert result.exit_code == 0, result.output
    strikes, actions, _ = outcome(show(db, "贷款小王", "plain"))
    assert strikes == [("loan_marketing", 2, ("points.severity.medium",))] and actions == ["warning"]
    strikes, _, _ = outcome(show(db, "金牌贷款顾问", "plain"))
    assert [s[0] for s in strikes] == ["loan_marketing"]


def test_a_declared_binding_decides_whatever_the_name(blank_url: URL, tmp_path: Path) -> None:
    """An account whose name matches nothing, declared to be the lender's, is licensed; ingest keeps the binding."""
    db = db_arg(blank_url)
    (tmp_path / "licences.csv").write_text(REGISTRY, encoding="utf-8")
    assert invoke("registry", "import", str(tmp_path / "licences.csv"), "--db", db, "--as", "a").exit_code == 0
    result = invoke("accounts", "bind", "小额贷款客服", "kuaiyi", "--platform", "weibo", "--tenant", "acme",
                    "--create", "--db", db, "--as", "carol")
    assert result.exit_code == 0, result.output
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(orjson.dumps({"id": "ad", "account_id": "小额贷款客服", "platform": "weibo", "text": AD}) + b"\n")
    result = invoke("ingest", str(posts), "--db", db, "--tenant", "acme", "--model", "none", "-o",
                    str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    view = show(db, "小额贷款客服", "acme")
    strikes, actions, _ = outcome(view)
    assert strikes == [] and actions == ["rectification_notice"]
    assert (view["binding"]["entity"]["id"], view["binding"]["source"], view["binding"]["bound_by"]) == (
        "kuaiyi", "declared", "carol")


def test_ingest_registry_file_imports_first_and_reports_bad_rows(blank_url: URL, tmp_path: Path) -> None:
    db = db_arg(blank_url)
    (tmp_path / "licences.csv").write_text(REGISTRY + "bad,坏券商,,institution,brokr,X-1,,,,\n", encoding="utf-8")
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(orjson.dumps(POSTS[0]) + b"\n")
    result = invoke("ingest", str(posts), "--db", db, "--model", "none", "--registry",
                    str(tmp_path / "licences.csv"), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 1, result.output  # a registry row was refused; the rest was used
    assert "registry line 4: QL-8002 unknown licence type 'brokr'" in result.output
    strikes, actions, _ = outcome(show(db, "快易贷", "default"))
    assert strikes == [] and actions == ["rectification_notice"]
    listing = invoke("registry", "list", "--db", db, "--json")
    assert [e["id"] for e in orjson.loads(listing.stdout)] == ["cmb", "kuaiyi"]


def test_registry_and_no_registry_together_are_a_usage_error(tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(orjson.dumps(POSTS[0]) + b"\n")
    result = invoke("ingest", str(posts), "--db", f"sqlite:///{tmp_path / 'q.db'}", "--model", "none",
                    "--registry", "x.csv", "--no-registry")
    assert result.exit_code == 2 and "QL-4003" in result.output


@pytest.mark.parametrize("flag", [[], ["--no-registry"]])
def test_an_empty_registry_is_not_consulted(tmp_path: Path, flag: list[str]) -> None:
    """No stored entry: no licence checks (an empty registry would call every account unlicensed)."""
    db = f"sqlite:///{tmp_path / 'q.db'}"
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(orjson.dumps(POSTS[1]) + b"\n")
    result = invoke("ingest", str(posts), "--db", db, "--model", "none", "-o", str(tmp_path / "o.jsonl"), *flag)
    assert result.exit_code == 0, result.output
    assert "registry" not in result.output
    strikes, _, _ = outcome(show(db, "贷款小王", "default"))
    assert strikes == [("loan_marketing", 2, ("points.severity.medium",))]
