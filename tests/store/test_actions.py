"""Strikes, actions and cases from ingest, on SQLite and PostgreSQL: stored once, loaded back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from qinglang.decide import default_ladder
from qinglang.detect.engine import Engine as Detector
from qinglang.ingest import IngestStats, ingest_records
from qinglang.model import ErrorRecord
from qinglang.store import audit
from qinglang.store.actions import decision_key, load_account_state
from qinglang.store.db import session_factory
from qinglang.store.tables import (
    Account,
    ActionRow,
    AuditEntry,
    Case,
    CaseVerdict,
    PostVersion,
    Strike,
    VerdictRow,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
TABLES = (Account, PostVersion, VerdictRow, Strike, ActionRow, Case, CaseVerdict, AuditEntry)

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

_DETECTOR: Detector | None = None


def detector() -> Detector:
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = Detector.from_options(None, model=None)
    return _DETECTOR


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def run(factory: sessionmaker[Session], posts: Sequence[dict[str, Any]], *, now: datetime = NOW,
        batch_size: int = 2) -> tuple[list[Any], IngestStats]:
    stats = IngestStats()
    outs = list(ingest_records(detector(), list(enumerate(posts, 1)), factory, tenant="t1", now=now,
                               policy=default_ladder(), batch_size=batch_size, stats=stats))
    return outs, stats


def counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0 for m in TABLES}


def test_ingest_decides_and_stores_once(factory: sessionmaker[Session]) -> None:
    outs, stats = run(factory, POSTS)
    assert len(outs) == len(POSTS) and not any(isinstance(o, ErrorRecord) for o in outs)
    assert stats.posts["new"] == 5
    assert stats.strikes == 3  # three tipping posts; the rumor goes to a person, the walk is fine
    assert stats.actions == {"remove_content": 3, "mute": 1, "suspend_updates": 1}
    assert stats.cases == {"review_only_category": 1} and stats.cases_opened == 1
    first = counts(factory)
    assert first == {"accounts": 3, "posts": 5, "verdicts": 5, "strikes": 3, "actions": 5, "cases": 1,
                     "case_verdicts": 1, "audit_log": 4}  # one audit entry per decision that recorded something
    with factory() as s:
        steps = [(a.kind, a.points) for a in s.scalars(select(ActionRow).where(ActionRow.step).order_by(ActionRow.id))]
        assert steps == [("remove_content", 3), ("mute", 6), ("suspend_updates", 9)]  # the ladder escalates
        case = s.scalars(select(Case)).one()
        assert case.categories == ["financial_rumor"] and case.account_id is not None
        gossip = s.scalars(select(Account).where(Account.external_id == "gossip")).one()
        assert not s.scalars(select(ActionRow).where(ActionRow.account_id == gossip.id)).all()
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        assert [e.action for e in entries] == ["decide.act", "decide.act", "decide.act", "decide.review"]
        assert entries[1].subject == "account:tipster" and entries[1].payload["outcome"] == "act"
        assert audit.verify(s).ok

    _, again = run(factory, POSTS)
    assert counts(factory) == first  # nothing new anywhere
    assert again.posts["unchanged"] == 5 and again.strikes == 0 and not again.actions and not again.cases_opened
    _, big = run(factory, POSTS, batch_size=100)  # batching does not matter
    assert counts(factory) == first and big.verdicts_created == 0


def test_edited_post_is_a_new_version_decided_again(factory: sessionmaker[Session]) -> None:
    run(factory, POSTS)
    before = counts(factory)
    edited = [dict(p) for p in POSTS]
    edited[0]["text"] += " 名额有限"
    _, stats = run(factory, edited)
    assert stats.posts == {"new_version": 1, "unchanged": 4}
    after = counts(factory)
    assert after["posts"] == before["posts"] + 1 and after["verdicts"] == before["verdicts"] + 1
    assert after["strikes"] == before["strikes"] + 1  # the new version is decided on its own
    with factory() as s:
        keys = set(s.scalars(select(ActionRow.idem_key)))
        assert any(k.startswith(decision_key("t1", 2) + "/") for k in keys)
    run(factory, edited)
    assert counts(factory) == after


def test_state_loads_back_and_expiry_is_persisted(factory: sessionmaker[Session]) -> None:
    run(factory, POSTS)
    with factory() as s:
        account = s.scalars(select(Account).where(Account.external_id == "tipster")).one()
        state = load_account_state(s, account)
    assert state.account_id == "tipster"
    assert {st.verdict_id for st in state.strikes} == {"t1#1", "t2#1", "t3#1"}
    assert state.points(NOW, default_ladder()) == 9
    mute = next(a for a in state.actions if a.kind == "mute")
    assert mute.verdict_ids == ("t2#1",) and mute.status == "active" and mute.expires_at is not None

    later = NOW + timedelta(days=40)
    fourth = {"id": "t4", "account_id": "tipster", "platform": "weibo",
              "text": "老师带单，明天必涨停！加薇❤：xyz98765 进群"}
    _, stats = run(factory, [fourth], now=later)
    assert stats.expired >= 2  # the 7-day mute and the 30-day suspension ran out
    with factory() as s:
        rows = {a.idem_key: a for a in s.scalars(select(ActionRow))}
        assert rows["t2#1/mute"].status == "expired" and rows["t2#1/mute"].ended_at == mute.expires_at
        assert rows["t1#1/remove_content"].status == "active"  # lasts until reversed
    assert stats.strikes == 1 and stats.actions  # and the fourth post climbs above the suspension
    assert "remove_monetisation" in stats.actions


def test_posts_without_account_are_stored_not_decided(factory: sessionmaker[Session]) -> None:
    post = dict(POSTS[0], id="anon")
    del post["account_id"]
    _, stats = run(factory, [post])
    assert stats.decisions == {"skipped": 1}
    c = counts(factory)
    assert (c["posts"], c["verdicts"], c["strikes"], c["actions"]) == (1, 1, 0, 0)
