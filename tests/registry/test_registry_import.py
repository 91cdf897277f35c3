"""Registry CSV import: good rows imported, each bad row reported with its line and reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qinglang import errors
from qinglang.errors import QLError
from qinglang.registry import (
    EntityKind,
    LicenceType,
    Registry,
    RegistryEntry,
    import_csv,
    licence_key,
    parse_date,
    parse_licence_type,
)

FIXTURES = Path(__file__).parent / "fixtures"


def test_good_file_imports_every_row() -> None:
    result = import_csv(FIXTURES / "registry.csv")
    assert result.ok and result.problems == []
    assert len(result.entries) == result.rows_read == len(result.registry) == 16
    cmb = result.registry.get("cmb")
    assert cmb is not None
    assert cmb.name == "招商银行股份有限公司"
    assert cmb.aliases == ("招行", "招商银行", "China Merchants Bank")
    assert cmb.kind is EntityKind.INSTITUTION and cmb.licence_type is LicenceType.BANK
    assert cmb.valid_from == date(1987, 4, 8) and cmb.valid_to is None
    assert cmb.source == "nfra"
    wang = result.registry.get("wangjg")
    assert wang is not None and wang.kind is EntityKind.PERSON and wang.affiliation == "中信证券"


# line, field, code of every problem in registry_mixed.csv (written with a BOM; the
# row on line 9 spans two lines, line 12 is blank)
MIXED_PROBLEMS = [
    (3, "licence_type", "QL-8002"),
    (4, "name", "QL-8003"),
    (5, "licence_number", "QL-8003"),
    (6, "valid_from", "QL-8004"),
    (7, "valid_to", "QL-8005"),
    (8, "licence_number", "QL-8006"),
    (11, "kind", "QL-8008"),
    (13, "", "QL-8001"),
    (15, "name", "QL-8003"),
    (15, "licence_number", "QL-8003"),
    (15, "licence_type", "QL-8002"),
    (15, "valid_from", "QL-8004"),
]


def test_bad_rows_are_reported_and_the_rest_imported() -> None:
    result = import_csv(FIXTURES / "registry_mixed.csv")
    assert [(p.line, p.field, p.code.code) for p in result.problems] == MIXED_PROBLEMS
    assert result.bad_lines == [3, 4, 5, 6, 7, 8, 11, 13, 15]
    assert [e.name for e in result.entries] == ["招商银行股份有限公司", "王建国", "交通银行股份有限公司"]
    assert result.rows_read == 12
    wang, bocom = result.entries[1], result.entries[2]
    assert wang.licence_type is LicenceType.SECURITIES_ADVISORY  # "securities advisory"
    assert wang.valid_from == date(2015, 1, 1)  # 2015/01/01
    assert wang.extra == {"note": "registered\nwith 中信证券"}
    assert bocom.kind is EntityKind.INSTITUTION and bocom.licence_type is LicenceType.BANK  # "BANK", empty kind
    assert bocom.valid_from == date(2023, 1, 1)  # 20230101


def test_problem_messages_carry_reason_and_hint() -> None:
    problems = {(p.line, p.field): p for p in import_csv(FIXTURES / "registry_mixed.csv").problems}
    assert problems[3, "licence_type"].hint == "did you mean 'broker'?"
    assert problems[15, "licence_type"].hint == "did you mean 'insurer'?"
    assert "(line 2)" in problems[8, "licence_number"].reason
    assert "before valid_from 2025-01-01" in problems[7, "valid_to"].reason
    err = problems[6, "valid_from"].to_error()
    assert err.code is errors.REGISTRY_BAD_DATE and err.record == 6
    assert problems[4, "name"].to_dict() == {"line": 4, "field": "name", "code": "QL-8003", "reason": "name is empty"}


HEADER = b"name,licence_type,licence_number\n"


def test_bad_encoding_skips_only_that_row() -> None:
    data = HEADER + "甲银行,bank,B1\n".encode() + b"\xff\xfe bank,bank,B2\n" + "乙银行,bank,B3\n".encode()
    result = import_csv(data)
    assert [e.name for e in result.entries] == ["甲银行", "乙银行"]
    [problem] = result.problems
    assert (problem.line, problem.field, problem.code) == (3, "name", errors.REGISTRY_BAD_ENCODING)
    assert "0xff" in problem.reason


def test_gbk_file_reports_each_row() -> None:
    data = HEADER + "甲银行,bank,B1\n乙银行,bank,B2\n".encode("gbk")
    result = import_csv(data)
    assert result.entries == []
    assert [(p.line, p.code.code) for p in result.problems] == [(2, "QL-8007"), (3, "QL-8007")]


def test_text_path_and_bytes_sources_agree(tmp_path: Path) -> None:
    text = "\ufeffname,aliases,licence_type,licence_number\n招商银行,招行; 招商 ;,bank,B1\n"
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    for source in (text, path, str(path), text.encode("utf-8")):
        [entry] = import_csv(source).entries
        assert entry.name == "招商银行" and entry.aliases == ("招行", "招商")  # blanks dropped, trimmed


def test_header_spellings_and_crlf() -> None:
    text = "Name,License Type,LICENSE-NUMBER,Valid To\r\nAcme Lending Ltd,Lending,l-1,2024年1月31日\r\n"
    [entry] = import_csv(text).entries
    assert entry.licence_type is LicenceType.LENDER and entry.valid_to == date(2024, 1, 31)


def test_import_into_existing_registry_refuses_held_numbers() -> None:
    registry = import_csv(FIXTURES / "registry.csv").registry
    result = import_csv(
        "name,licence_type,licence_number\n假招行,bank,B0011H1440-30001\n新银行,bank,B777\n", into=registry
    )
    assert [e.name for e in result.entries] == ["新银行"]
    [problem] = result.problems
    assert problem.code is errors.REGISTRY_DUPLICATE_LICENCE and "entry cmb" in problem.reason
    assert len(registry) == 17


def test_explicit_duplicate_id_is_reported() -> None:
    result = import_csv("id,name,licence_type,licence_number\na,甲,bank,B1\na,乙,bank,B2\n")
    assert [(p.line, p.field, p.code.code) for p in result.problems] == [(3, "id", "QL-8010")]


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "empty"),
        ("name,licence_number\n甲,B1\n", "licence_type"),
    ],
)
def test_unusable_header_raises(text: str, what: str) -> None:
    with pytest.raises(QLError) as exc:
        import_csv(text.encode())
    assert exc.value.code is errors.REGISTRY_BAD_HEADER and what in exc.value.message


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(QLError) as exc:
        import_csv(tmp_path / "nope.csv")
    assert exc.value.code is errors.FILE_NOT_FOUND


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("securities_advisory", LicenceType.SECURITIES_ADVISORY),
        ("Securities-Advisory", LicenceType.SECURITIES_ADVISORY),
        ("证券投资咨询", LicenceType.SECURITIES_ADVISORY),
        ("券商", LicenceType.BROKER),
        ("Insurance", LicenceType.INSURER),
        ("ＰＡＹＭＥＮＴ", LicenceType.PAYMENT),
    ],
)
def test_licence_type_spellings(raw: str, expected: LicenceType) -> None:
    assert parse_licence_type(raw) is expected


def test_unknown_licence_type_lists_choices_when_nothing_is_close() -> None:
    with pytest.raises(QLError) as exc:
        parse_licence_type("crypto exchange")
    assert exc.value.code is errors.REGISTRY_UNKNOWN_LICENCE_TYPE
    assert exc.value.hint is not None and "securities_advisory" in exc.value.hint


@pytest.mark.parametrize("raw", ["2024-02-30", "31/01/2024", "yesterday", "2024-1"])
def test_bad_dates(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_date(raw)


def test_registry_api() -> None:
    entry = RegistryEntry("x", "甲银行", EntityKind.INSTITUTION, LicenceType.BANK, "B-1", valid_to=date(2024, 12, 31))
    registry = Registry([entry])
    assert registry.get("x") is entry and "x" in registry and list(registry) == [entry]
    assert registry.by_licence(" b１ ") is entry  # width, case, spacing and hyphens fold
    assert licence_key("s0100-5200 7000１") == "S010052007000" + "1"
    assert registry.valid_on(date(2024, 12, 31)) == [entry] and registry.valid_on(date(2025, 1, 1)) == []
    with pytest.raises(QLError) as exc:
        registry.add(RegistryEntry("y", "乙", EntityKind.INSTITUTION, LicenceType.BANK, "b1"))
    assert exc.value.code is errors.REGISTRY_DUPLICATE_LICENCE
    with pytest.raises(QLError) as exc:
        registry.add(RegistryEntry("x", "乙", EntityKind.INSTITUTION, LicenceType.BANK, "b2"))
    assert exc.value.code is errors.REGISTRY_DUPLICATE_ID
    assert entry.to_dict()["valid_to"] == "2024-12-31"
