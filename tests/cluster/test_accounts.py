"""Account data: every value normalised to the extractors' canonical form; bad ones reported, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from qinglang.cluster.accounts import parse_row
from qinglang.cluster.settings import default_settings
from qinglang.cluster.store import import_accounts
from qinglang.cluster.tables import AccountIdentifier
from qinglang.store.db import session_factory


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("registration_phone", "138 0013 8000", "phone:+8613800138000"),
        ("registration_phone", "+44 20 7946 0958", "phone:+442079460958"),
        ("ip", "203.0.113.7", "ip:203.0.113.7"),
        ("ip", "2001:DB8:0:0::1", "ip:2001:db8::1"),
        ("device_id", "A1B2-C3D4-E5", "device:a1b2-c3d4-e5"),
        ("payment_account", "6222 0212 3456 7890 128", "bank_card:6222021234567890128"),
        ("payment_account", "0x52908400098527886E0F7030069857D2E4169EE7",
         "wallet:eth:0x52908400098527886e0f7030069857d2e4169ee7"),
        ("payment_account", "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", "wallet:tron:TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"),
        ("payment_account", "Shop.Pay@Example.com", "pay:shop.pay@example.com"),
    ],
)
def test_values_are_normalised(field: str, raw: str, expected: str) -> None:
    row, problems = parse_row(1, {"account": "u1", field: raw})
    assert problems == []
    assert row is not None and row.identifiers == ((field, expected),)


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"platform": "weibo"}, "QL-9001"),
        ({"account": "u1", "registration_phone": "12345"}, "QL-9002"),
        ({"account": "u1", "ip": "300.1.2.3"}, "QL-9003"),
        ({"account": "u1", "device_id": "x"}, "QL-9004"),
        ({"account": "u1", "payment_account": "6222021234567890123"}, "QL-9005"),  # fails Luhn
        ({"account": "u1", "payment_account": "!!"}, "QL-9005"),
        ({"account": "u1", "ip": {"nested": 1}}, "QL-9001"),
    ],
)
def test_bad_values_are_coded(record: dict[str, object], code: str) -> None:
    _, problems = parse_row(7, record)
    assert [(p.line, p.code.code) for p in problems] == [(7, code)]


def test_import_reports_bad_lines_and_keeps_the_rest(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "accounts.jsonl"
    path.write_text(
        '{"account": "u1", "platform": "weibo", "device_id": "dev-0001", "ip": "bad"}\n'
        "not json\n"
        '{"account": "u2", "platform": "weibo", "device_id": "DEV-0001", "registration_phone": "13800138000"}\n'
        "[1, 2]\n",
        encoding="utf-8",
    )
    with session_factory(engine)() as session, session.begin():
        report = import_accounts(session, "t", str(path), default_settings())
    assert report.accounts == 2 and report.links_added == 3
    assert [(p.line, p.code.code) for p in report.problems] == [(1, "QL-9003"), (2, "QL-9001"), (4, "QL-9001")]
    with session_factory(engine)() as session:
        rows = session.scalars(select(AccountIdentifier.identifier).order_by(AccountIdentifier.id)).all()
    assert sorted(rows) == ["device:dev-0001", "device:dev-0001", "phone:+8613800138000"]


def test_csv_accounts(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("account,platform,ip,payment_account\nu1,douyin,198.51.100.1,alipay_shop01\nu2,douyin,,\n",
                    encoding="utf-8")
    with session_factory(engine)() as session, session.begin():
        report = import_accounts(session, "t", str(path), default_settings())
    assert (report.rows, report.accounts, report.links_added, report.problems) == (2, 2, 2, [])
