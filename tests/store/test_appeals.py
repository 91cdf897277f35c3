"""Appeals on SQLite and PostgreSQL: filing rules, who may decide, reversal recomputing the ladder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from review_util import NOW, RUMOR, TIP1, TIP2, TIP3, actions, case_ids, ingest, strict_ladder
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from qinglang.decide import default_ladder
from qinglang.errors import QLError
from qinglang.store import appeals, audit, reviews
from qinglang.store.actions import load_account_state
from qinglang.store.db import session_factory
from qinglang.store.tables import Account, AuditEntry, Strike

TIP4 = {"id": "t4", "account_id": "tipster", "platform": "weibo", "text": "老师带单，明天必涨停！加薇❤：xyz98765 进群"}
DAY = timedelta(days=1)


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def history(factory: sessionmaker[Session], tenant: str) -> None:
    """The docs' three-post history: remove_content (day 0), mute (day 10), suspend_updates (day 20)."""
    for day, post in ((0, TIP1), (10, TIP2), (20, TIP3)):
        ingest(factory, [post], tenant=tenant, now=NOW + day * DAY)


def file(factory: sessionmaker[Session], ref: str | int, who: str = "tipster", *, tenant: str = "t1",
         now_days: int = 25) -> appeals.AppealView:
    with factory() as s, s.begin():
        return appeals.file_appeal(s, tenant, ref, who, "I only shared my own opinion", now=NOW + now_days * DAY)


def decide(factory: sessionmaker[Session], appeal_id: int, who: str, outcome: str, *, tenant: str = "t1",
           now_days: int = 25) -> appeals.AppealView:
    with factory() as s, s.begin():
        return appeals.decide_appeal(s, tenant, appeal_id, who, outcome, "checked", now=NOW + now_days * DAY,
                                     policy=default_ladder())


def code(fn: object) -> str:
    with pytest.raises(QLError) as exc:
        fn()  # type: ignore[operator]
    return exc.value.code.code


def test_upheld_appeal_reverses_and_recomputes_the_ladder(factory: sessionmaker[Session]) -> None:
    for tenant in ("a", "b"):  # b keeps the history as it was, to compare with
        history(factory, tenant)
    steps = {k: a.kind for k, a in actions(factory, "a").items() if a.step}
    assert steps == {"t1#1/remove_content": "remove_content", "t2#1/mute": "mute",
                     "t3#1/suspend_updates": "suspend_updates"}
    appeal = file(factory, "t1#1/remove_content", tenant="a")
    assert appeal.status == "open" and appeal.action_kind == "remove_content"
    done = decide(factory, appeal.id, "wang", "upheld", tenant="a")
    assert done.status == "upheld" and done.decided_by == "wang"
    changes = {(c["action_key"], c["change"]) for c in done.changes}
    assert ("t1#1/remove_content", "reversed") in changes and ("t2#1/mute", "downgraded") in changes
    assert ("t3#1/suspend_updates", "downgraded") in changes and ("t3#1/mute~r", "added") in changes

    rows = actions(factory, "a")
    assert rows["t1#1/remove_content"].status == "reversed" and rows["t2#1/mute"].status == "reversed"
    assert rows["t2#1/remove_content"].status == "active" and rows["t2#1/remove_content"].step  # now t2's own step
    added = rows["t3#1/mute~r"]
    assert added.created_by == "wang" and added.subject == "tipster" and added.cause_verdict_ids == \
        rows["t3#1/suspend_updates"].cause_verdict_ids
    with factory() as s:
        account = s.scalars(select(Account).where(Account.tenant == "a")).one()
        state = load_account_state(s, account)
        assert state.points(NOW + 25 * DAY, default_ladder()) == 6  # t1's 3 points no longer count
        reversed_at = {st.verdict_id: st.reversed_at for st in state.strikes}
        assert reversed_at["t1#1"] == NOW + 25 * DAY and reversed_at["t2#1"] is None
        assert len(s.scalars(select(Strike).where(Strike.tenant == "a", Strike.reversed_at.is_not(None))).all()) == 1
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "appeal.upheld")).one()
        assert entry.actor == "wang" and entry.tenant == "a" and entry.payload["changes"]
        assert audit.verify(s).ok

    # the next verdict lands lower on the ladder than it would have without the reversal
    for tenant in ("a", "b"):
        ingest(factory, [TIP4], tenant=tenant, now=NOW + 26 * DAY)
    step = {t: next(a.kind for k, a in actions(factory, t).items() if k.startswith("t4#1/") and a.step)
            for t in ("a", "b")}
    assert step == {"a": "suspend_updates", "b": "remove_monetisation"}


def test_rejected_appeal_changes_nothing(factory: sessionmaker[Session]) -> None:
    ingest(factory, [TIP1])
    before = {k: a.status for k, a in actions(factory).items()}
    appeal = file(factory, "t1#1/remove_content")
    assert decide(factory, appeal.id, "wang", "rejected").status == "rejected"
    assert {k: a.status for k, a in actions(factory).items()} == before
    assert file(factory, "t1#1/remove_content", now_days=26).status == "open"  # a new appeal once decided


def test_filing_rules(factory: sessionmaker[Session]) -> None:
    ingest(factory, [TIP1, RUMOR])
    rows = actions(factory)
    action_id = rows["t1#1/remove_content"].id
    appeal = file(factory, action_id)  # by row id
    assert appeal.action_key == "t1#1/remove_content" and appeal.account == "tipster"
    assert code(lambda: file(factory, action_id)) == "QL-6109"  # one open appeal per action
    assert code(lambda: file(factory, "t9#1/mute")) == "QL-6107"
    assert code(lambda: file(factory, action_id + 1000)) == "QL-6107"
    assert code(lambda: file(factory, action_id, tenant="other")) == "QL-6107"  # another tenant's action
    assert code(lambda: file(factory, action_id, who="")) == "QL-6113"
    decide(factory, appeal.id, "wang", "upheld")
    assert code(lambda: file(factory, action_id)) == "QL-6108"  # reversed: nothing left to appeal
    assert code(lambda: decide(factory, appeal.id, "zhao", "upheld")) == "QL-6111"
    assert code(lambda: decide(factory, appeal.id + 100, "zhao", "upheld")) == "QL-6110"
    with factory() as s:
        assert [a.status for a in appeals.list_appeals(s, "t1", status="all")] == ["upheld"]
        assert appeals.list_appeals(s, "t1") == []
        assert len(appeals.list_appeals(s, "t1", status="upheld", account="tipster")) == 1
        assert code(lambda: appeals.list_appeals(s, "t1", account="nobody")) == "QL-6106"
        assert code(lambda: appeals.get_appeal(s, "t1", 999)) == "QL-6110"


def test_who_may_decide(factory: sessionmaker[Session]) -> None:
    ingest(factory, [TIP1], policy=strict_ladder())
    [cid] = case_ids(factory)
    with factory() as s, s.begin():
        reviews.claim(s, "t1", cid, "li", now=NOW)
    with factory() as s, s.begin():
        reviews.decide_case(s, "t1", cid, "li", "confirm", now=NOW, policy=default_ladder())
    appeal = file(factory, "t1#1/remove_content", who="tipster")
    with factory() as s:
        assert appeals.deciders_barred(s, appeals.find_action(s, "t1", "t1#1/remove_content")) == {"li"}
    assert code(lambda: decide(factory, appeal.id, "li", "upheld")) == "QL-6112"  # confirmed the case behind it
    assert code(lambda: decide(factory, appeal.id, "tipster", "upheld")) == "QL-6112"  # filed it
    assert code(lambda: decide(factory, appeal.id, "wang", "granted")) == "QL-6105"
    assert code(lambda: decide(factory, appeal.id, " ", "upheld")) == "QL-6113"
    assert decide(factory, appeal.id, "wang", "upheld").status == "upheld"
    assert actions(factory)["t1#1/remove_content"].status == "reversed"
