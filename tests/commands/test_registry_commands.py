"""`qinglang registry import|list|show`: output, bad rows, exit statuses (SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from qinglang import cli

runner = CliRunner()

HEADER = "id,name,aliases,kind,licence_type,licence_number,valid_from,valid_to,source,affiliation\n"
ROWS = (
    "kuaiyi,深圳市快易小额贷款有限公司,快易贷,institution,lender,LND-440300-0077,2016-05-01,2023-12-31,gdjr,\n"
    "cmb,招商银行股份有限公司,招行;招商银行,institution,bank,B0011H144030001,1987-04-08,,nfra,\n"
    "wangjg,王建国,,person,securities_advisory,S0100520070001,2015-01-01,2030-12-31,sac,中信证券\n"
)
BAD = (
    "x1,某某券商,,institution,brokr,X-1,,,,\n"        # line 5: unknown type
    "x2,,,institution,bank,X-2,2024-13-01,,,\n"        # line 6: empty name and a bad date
    "x3,某银行,,institution,bank,b0011h144030001,,,,\n"  # line 7: cmb's number again
)  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'q.db'}"


def invoke(*args: str) -> Any:
    return runner.invoke(cli.app, list(args))


def write(tmp_path: Path, text: str, name: str = "licences.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_reports_each_bad_row_and_imports_the_rest(db: str, tmp_path: Path) -> None:
    result = invoke("registry", "import", write(tmp_path, HEADER + ROWS + BAD), "--db", db, "--as", "alice")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 5: QL-8002 unknown licence type 'brokr' (did you mean 'broker'?)",
        "line 6: QL-8003 name is empty",
        "line 6: QL-8004 valid_from '2024-13-01' is not a date (use YYYY-MM-DD)",
        "line 7: QL-8006 licence number 'b0011h144030001' is already held (line 3)",
    ]
    assert result.stdout.strip() == ("registry: 6 rows read; added 3, changed 0, unchanged 0, retired 0, "
                                     "bad rows 3")
    again = invoke("registry", "import", write(tmp_path, HEADER + ROWS), "--db", db, "--as", "alice", "--json")
    assert again.exit_code == 0
    body = orjson.loads(again.stdout)
    assert (body["added"], body["unchanged"], body["bad_rows"]) == (0, 3, 0)


def test_replace_with_bad_rows_warns_and_retires_nothing(db: str, tmp_path: Path) -> None:
    invoke("registry", "import", write(tmp_path, HEADER + ROWS), "--db", db, "--as", "alice")
    result = invoke("registry", "import", write(tmp_path, HEADER + BAD, "v2.csv"), "--db", db, "--as", "bob",
                    "--replace")
    assert result.exit_code == 1
    assert "warning QL-6204: replace skipped: the snapshot has bad rows; nothing retired" in result.stderr
    result = invoke("registry", "import", write(tmp_path, HEADER + ROWS.splitlines(True)[1], "v3.csv"), "--db", db,
                    "--as", "bob", "--replace", "--json")
    assert result.exit_code == 0
    assert orjson.loads(result.stdout)["ids"]["retired"] == ["kuaiyi", "wangjg"]


@pytest.mark.parametrize(("args", "code"), [
    (["registry", "import", "missing.csv"], "QL-4002"),
    (["registry", "show", "nope"], "QL-6202"),
    (["registry", "list", "--type", "brokr"], "QL-8002"),
    (["registry", "list", "--valid-on", "31/01/2024"], "QL-4003"),
    (["registry", "import", "x.csv", "--as", " "], "QL-4003"),
])  # fmt: skip
def test_usage_errors_are_coded(db: str, args: list[str], code: str) -> None:
    result = invoke(*args, "--db", db)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error {code}:"), result.output


def test_a_file_without_the_required_columns_imports_nothing(db: str, tmp_path: Path) -> None:
    result = invoke("registry", "import", write(tmp_path, "name,kind\nx,bank\n"), "--db", db, "--as", "a")
    assert result.exit_code == 2 and "QL-8009" in result.stderr


@pytest.mark.parametrize(("args", "ids"), [
    ([], ["cmb", "kuaiyi", "wangjg"]),
    (["--type", "bank"], ["cmb"]),
    (["--valid-on", "2024-06-01"], ["cmb", "wangjg"]),
    (["--name", "招商 銀行"], ["cmb"]),
    (["--name", "中信证券王建国"], []),  # a person binds by name only when asked; never by containment
])  # fmt: skip
def test_list_filters(db: str, tmp_path: Path, args: list[str], ids: list[str]) -> None:
    invoke("registry", "import", write(tmp_path, HEADER + ROWS), "--db", db, "--as", "a")
    result = invoke("registry", "list", "--db", db, "--json", *args)
    assert result.exit_code == 0, result.output
    assert [e["id"] for e in orjson.loads(result.stdout)] == ids


def test_list_and_show_for_people(db: str, tmp_path: Path) -> None:
    invoke("registry", "import", write(tmp_path, HEADER + ROWS), "--db", db, "--as", "alice")
    table = invoke("registry", "list", "--db", db, "--valid-on", "2024-06-01")
    assert table.exit_code == 0 and "2 registry entries" in table.stdout and "kuaiyi" not in table.stdout
    result = invoke("registry", "show", "kuaiyi", "--db", db)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "kuaiyi  深圳市快易小额贷款有限公司"
    assert "  valid 2016-05-01 – 2023-12-31 (expired today)" in lines
    assert "accounts bound: 0" in lines and lines[-1].endswith("registry.add by alice")
    body = orjson.loads(invoke("registry", "show", "cmb", "--db", db, "--json").stdout)
    assert body["aliases"] == ["招行", "招商银行"] and body["validity"] == "valid"
    assert body["history"][0]["payload"]["after"]["licence_number"] == "B0011H144030001"
