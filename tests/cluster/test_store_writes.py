"""The set-based writes of the cluster store: a re-import updates links in place and reuses accounts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from qinglang.cluster.settings import default_settings
from qinglang.cluster.store import import_account_rows
from qinglang.cluster.tables import AccountIdentifier
from qinglang.store.db import session_factory
from qinglang.store.tables import Account

S = default_settings()
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def _import(session, rows: list[dict]) -> int:
    report = import_account_rows(session, "t", enumerate(rows, start=1), S, now=NOW)
    assert not report.problems
    return report.links_added


def test_reimport_updates_times_in_place_and_reuses_accounts(engine: Engine) -> None:
    with session_factory(engine)() as session, session.begin():
        assert _import(session, [{"account": "a", "platform": "p", "device_id": "dev-0001",
                                  "seen_at": "2026-01-02T00:00:00Z"}]) == 1
        loaded = session.scalars(select(AccountIdentifier)).one()  # held in the session while it is rewritten
        assert _import(session, [{"account": "a", "platform": "p", "device_id": "dev-0001",
                                  "seen_at": "2026-01-01T00:00:00Z"},
                                 {"account": "b", "platform": "p", "device_id": "dev-0001"},
                                 {"account": "a", "platform": "q", "ip": "203.0.113.7"}]) == 2
        assert (loaded.first_seen, loaded.last_seen) == (datetime(2026, 1, 1, tzinfo=UTC),
                                                         datetime(2026, 1, 2, tzinfo=UTC))
        assert loaded.evidence == [{"field": "device_id", "line": 1}]
        assert session.scalar(select(func.count()).select_from(Account)) == 3
        assert session.scalar(select(func.count()).select_from(AccountIdentifier)) == 3
        a = session.scalars(select(Account).where(Account.external_id == "a", Account.platform == "p")).one()
        assert {r.identifier for r in session.scalars(select(AccountIdentifier)
                                                      .where(AccountIdentifier.account_id == a.id))} == {
            "device:dev-0001"}


def test_naive_now_is_refused(engine: Engine) -> None:
    with session_factory(engine)() as session, session.begin(), pytest.raises(ValueError, match="naive"):
        import_account_rows(session, "t", [(1, {"account": "a", "device_id": "dev-0001"})], S,
                            now=datetime(2026, 11, 21))
