"""The review queue on SQLite and PostgreSQL: listing, claims (raced by threads), decisions."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from review_util import NOW, RUMOR, TIP1, TIP2, TIP3, actions, case_ids, ingest, strict_ladder
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from qinglang import errors
from qinglang.decide import default_ladder
from qinglang.errors import QLError
from qinglang.store import audit, reviews
from qinglang.store.db import session_factory
from qinglang.store.tables import ActionRow, AuditEntry, Case, Review, Strike


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def claim(factory: sessionmaker[Session], case_id: int, reviewer: str, **kw: object) -> reviews.CaseView:
    with factory() as s, s.begin():
        return reviews.claim(s, "t1", case_id, reviewer, now=kw.pop("now", NOW), **kw)  # type: ignore[arg-type]


def decide(factory: sessionmaker[Session], case_id: int, reviewer: str, decision: str,
           **kw: object) -> reviews.ReviewResult:
    with factory() as s, s.begin():
        return reviews.decide_case(s, "t1", case_id, reviewer, decision, now=kw.pop("now", NOW + timedelta(hours=1)),
                                   policy=default_ladder(), **kw)  # type: ignore[arg-type]


def code_of(exc: pytest.ExceptionInfo[QLError]) -> str:
    return exc.value.code.code


def test_review_only_verdict_opens_a_case_and_never_acts(factory: sessionmaker[Session]) -> None:
    ingest(factory, [RUMOR])
    ingest(factory, [RUMOR], now=NOW + timedelta(days=1))  # again: still one case, still nothing acted
    assert not actions(factory)
    [cid] = case_ids(factory)
    with factory() as s:
        [view] = reviews.list_cases(s, "t1", now=NOW)
        assert view.id == cid and view.reasons == ["review_only_category"] and view.categories == ["financial_rumor"]
        assert view.account == "gossip" and view.posts[0].post_id == "r1" and "银行" in view.posts[0].fields["text"]
        assert not s.scalars(select(Strike)).all()


def test_queue_order_and_filters(factory: sessionmaker[Session]) -> None:
    ingest(factory, [RUMOR, TIP1, TIP2], policy=strict_ladder())
    with factory() as s:
        queue = reviews.list_cases(s, "t1", now=NOW)
        assert [v.priority for v in queue] == sorted((v.priority for v in queue), reverse=True)
        assert {v.account for v in queue} == {"gossip", "tipster"}
        assert [v.account for v in reviews.list_cases(s, "t1", now=NOW, category="financial_rumor")] == ["gossip"]
        assert {v.account for v in reviews.list_cases(s, "t1", now=NOW, reason="high_impact")} == {"tipster"}
        assert len(reviews.list_cases(s, "t1", now=NOW, account="tipster")) == 2
        assert reviews.list_cases(s, "other", now=NOW) == []  # tenants are apart
        assert len(reviews.list_cases(s, "t1", now=NOW, limit=1)) == 1
        cases = [
            (dict(account="nobody"), errors.ACCOUNT_NOT_FOUND),
            (dict(category="financial_rumour"), errors.REVIEW_INVALID),
            (dict(reason="because"), errors.REVIEW_INVALID),
            (dict(status="pending"), errors.REVIEW_INVALID),
        ]
        for kwargs, code in cases:
            with pytest.raises(QLError) as exc:
                reviews.list_cases(s, "t1", now=NOW, **kwargs)  # type: ignore[arg-type]
            assert exc.value.code == code, kwargs
        with pytest.raises(QLError) as exc:
            reviews.list_cases(s, "t1", now=NOW, category="financial_rumour")
        assert exc.value.hint == "did you mean 'financial_rumor'?"


def test_claim_rules_and_lease(factory: sessionmaker[Session]) -> None:
    ingest(factory, [RUMOR])
    [cid] = case_ids(factory)
    assert claim(factory, cid, "li").assignee == "li"
    with pytest.raises(QLError) as exc:
        claim(factory, cid, "wang", now=NOW + timedelta(minutes=10))
    assert code_of(exc) == "QL-6103"
    assert claim(factory, cid, "li", now=NOW + timedelta(minutes=20)).claimed_at == NOW + timedelta(minutes=20)
    with factory() as s:
        assert reviews.list_cases(s, "t1", now=NOW + timedelta(minutes=21)) == []  # held: not waiting
        assert [v.id for v in reviews.list_cases(s, "t1", status="claimed")] == [cid]
        assert [v.id for v in reviews.list_cases(s, "t1", now=NOW + timedelta(minutes=51))] == [cid]  # lapsed
    taken = claim(factory, cid, "wang", now=NOW + timedelta(minutes=51))  # li walked away: wang takes over
    assert taken.assignee == "wang"
    with pytest.raises(QLError) as exc:
        decide(factory, cid, "li", "overturn")
    assert code_of(exc) == "QL-6104"
    with factory() as s, s.begin(), pytest.raises(QLError) as exc:
        reviews.release(s, "t1", cid, "li", now=NOW)
    assert code_of(exc) == "QL-6104"
    with factory() as s, s.begin():
        assert reviews.release(s, "t1", cid, "wang", now=NOW).status == "open"
    with pytest.raises(QLError) as exc:
        decide(factory, cid, "wang", "overturn")  # released: claim first
    assert code_of(exc) == "QL-6104"


def test_unknown_and_closed_cases_are_coded_errors(factory: sessionmaker[Session]) -> None:
    ingest(factory, [RUMOR])
    [cid] = case_ids(factory)
    with pytest.raises(QLError) as exc:
        claim(factory, cid + 100, "li")
    assert code_of(exc) == "QL-6101"
    with pytest.raises(QLError) as exc:
        decide(factory, cid + 100, "li", "confirm")
    assert code_of(exc) == "QL-6101"
    with factory() as s, pytest.raises(QLError) as exc:
        reviews.claim(s, "another-tenant", cid, "li", now=NOW)
    assert code_of(exc) == "QL-6101"
    with pytest.raises(QLError) as exc:
        claim(factory, cid, "  ")
    assert code_of(exc) == "QL-6113"
    claim(factory, cid, "li")
    for decision, cats in (("approve", None), ("recategorize", []), ("recategorize", ["no_such"]),
                           ("confirm", ["stock_tipping"])):
        with pytest.raises(QLError) as exc:
            decide(factory, cid, "li", decision, categories=cats)
        assert code_of(exc) == "QL-6105", decision
    decide(factory, cid, "li", "overturn")
    for attempt in (lambda: decide(factory, cid, "li", "confirm"), lambda: claim(factory, cid, "wang")):
        with pytest.raises(QLError) as exc:
            attempt()
        assert code_of(exc) == "QL-6102"


def _race(factory: sessionmaker[Session], n: int, work: object) -> tuple[list[object], list[str]]:
    barrier = threading.Barrier(n)
    wins: list[object] = []
    losses: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        barrier.wait()
        try:
            got = work(i)  # type: ignore[operator]
        except QLError as exc:
            with lock:
                losses.append(exc.code.code)
        else:
            with lock:
                wins.append(got)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wins, losses


def test_racing_claims_give_the_case_to_exactly_one(factory: sessionmaker[Session]) -> None:
    ingest(factory, [RUMOR])
    [cid] = case_ids(factory)
    wins, losses = _race(factory, 6, lambda i: claim(factory, cid, f"reviewer{i}").assignee)
    assert len(wins) == 1 and losses == ["QL-6103"] * 5
    with factory() as s:
        assert s.get(Case, cid).assignee == wins[0]  # type: ignore[union-attr]
        claims = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.claim")).all()
        assert [e.actor for e in claims] == wins  # only the winner's claim is on record


def test_racing_next_hands_out_different_cases(factory: sessionmaker[Session]) -> None:
    ingest(factory, [RUMOR, TIP1, TIP2, TIP3], policy=strict_ladder())
    assert len(case_ids(factory)) == 4

    def nxt(i: int) -> tuple[str, int | None]:
        with factory() as s, s.begin():
            view = reviews.claim_next(s, "t1", f"reviewer{i}", now=NOW)
            return f"reviewer{i}", None if view is None else view.id

    wins, losses = _race(factory, 6, nxt)
    got = dict(w for w in wins if w[1] is not None)  # type: ignore[misc]
    assert not losses and sorted(got.values()) == case_ids(factory) and len(got) == 4  # four cases, six reviewers
    holder, held = next(iter(got.items()))
    with factory() as s, s.begin():
        again = reviews.claim_next(s, "t1", holder, now=NOW + timedelta(minutes=1))
        assert again is not None and again.id == held  # the case a reviewer holds comes back first


def test_confirm_acts_as_the_reviewer(factory: sessionmaker[Session]) -> None:
    ingest(factory, [TIP1], policy=strict_ladder())
    [cid] = case_ids(factory)
    assert not actions(factory)  # a proposal, nothing done
    with factory() as s:
        assert "proposed: remove_content" in s.get(Case, cid).detail  # type: ignore[union-attr]
    claim(factory, cid, "li")
    result = decide(factory, cid, "li", "confirm", note="clear tipping")
    detected = ["stock_tipping", "traffic_diversion"]
    assert result.actions == ["remove_content"] and result.verdicts[0]["categories"] == detected
    done = actions(factory)
    assert set(done) == {"t1#1/remove_content"}
    row = done["t1#1/remove_content"]
    assert row.created_by == "li" and row.note == "confirmed by li" and row.status == "active"
    assert row.starts_at == NOW + timedelta(hours=1) and row.cause_verdict_ids and row.detection_rule_ids
    with factory() as s:
        case = s.get(Case, cid)
        assert case.status == "closed" and case.closed_at == NOW + timedelta(hours=1)  # type: ignore[union-attr]
        [review] = s.scalars(select(Review)).all()
        assert (review.reviewer, review.decision, review.categories, review.previous_categories, review.note) == \
            ("li", "confirm", detected, detected, "clear tipping")
        assert s.scalars(select(Strike)).one().points == 3
        entries = s.scalars(select(AuditEntry).where(AuditEntry.subject == f"case:{cid}")
                            .order_by(AuditEntry.seq)).all()
        assert [(e.actor, e.action) for e in entries] == [("li", "review.claim"), ("li", "review.confirm")]
        assert entries[1].payload["verdicts"][0]["actions"] == ["remove_content"]
        assert audit.verify(s).ok
    ingest(factory, [TIP1], now=NOW + timedelta(days=1), policy=strict_ladder())  # seen again: nothing new
    assert set(actions(factory)) == {"t1#1/remove_content"} and len(case_ids(factory)) == 1


def test_confirming_a_review_only_case_lets_the_ladder_act(factory: sessionmaker[Session]) -> None:
    ingest(factory, [RUMOR])
    [cid] = case_ids(factory)
    claim(factory, cid, "li")
    result = decide(factory, cid, "li", "confirm")
    assert result.verdicts[0]["outcome"] == "act" and result.actions
    with factory() as s:
        assert s.scalars(select(Strike)).one().category == "financial_rumor"
        assert {a.created_by for a in s.scalars(select(ActionRow))} == {"li"}


def test_overturn_does_nothing_but_record(factory: sessionmaker[Session]) -> None:
    ingest(factory, [TIP1], policy=strict_ladder())
    [cid] = case_ids(factory)
    claim(factory, cid, "li")
    result = decide(factory, cid, "li", "overturn", note="a joke between friends")
    assert result.actions == [] and result.verdicts[0]["reason"].startswith("overturned")
    assert not actions(factory)
    with factory() as s:
        review = s.scalars(select(Review)).one()
        assert review.decision == "overturn" and review.categories == [] and review.previous_categories
        assert not s.scalars(select(Strike)).all()


def test_recategorize_acts_on_the_new_categories(factory: sessionmaker[Session]) -> None:
    ingest(factory, [TIP1], policy=strict_ladder())
    [cid] = case_ids(factory)
    claim(factory, cid, "li")
    result = decide(factory, cid, "li", "recategorize", categories=["impersonation"])
    assert result.verdicts[0]["categories"] == ["impersonation"]
    with factory() as s:
        strike = s.scalars(select(Strike)).one()
        assert strike.category == "impersonation" and strike.points == 5  # the ladder's impersonation weight
        assert s.scalars(select(Review)).one().previous_categories == ["stock_tipping", "traffic_diversion"]
    assert {a.category for a in actions(factory).values()} == {"impersonation"}


def test_confirm_decides_on_the_state_now(factory: sessionmaker[Session]) -> None:
    """A case confirmed after the account got other strikes climbs the ladder from there."""
    ingest(factory, [TIP1], policy=strict_ladder())
    [cid] = case_ids(factory)
    ingest(factory, [TIP2, TIP3], now=NOW + timedelta(minutes=5))  # the ordinary ladder acts on these two
    before = {a.kind for a in actions(factory).values() if a.step}
    assert before == {"remove_content", "mute"}
    claim(factory, cid, "li")
    result = decide(factory, cid, "li", "confirm")
    assert "suspend_updates" in result.actions  # 9 points and a past mute: the next step up


@pytest.mark.parametrize(("valid_to", "retired", "reasons", "expected"), [
    (None, False, [], (True, "lender-1")),                       # bound, in force
    (NOW.date() - timedelta(days=1), False, [], (False, "lender-1")),  # bound, lapsed yesterday: unlicensed
    (None, True, [], (False, "lender-1")),                       # bound to a retired entry
    ("unbound", False, ["licensed_account"], (True, None)),      # no binding; the case says licensed
    ("unbound", False, ["low_confidence"], None),                # no binding, nothing said: unknown
])
def test_licence_at_confirm_is_the_registry_now(factory: sessionmaker[Session], valid_to: object, retired: bool,
                                                reasons: list[str], expected: tuple[bool, str | None] | None) -> None:
    """A person confirming a case decides with the account's licence as it stands at the decision."""
    from datetime import date

    from qinglang.store.tables import Account, RegistryEntity

    with factory() as s, s.begin():
        entity = RegistryEntity(entry_id="lender-1", name="快易小额贷款有限公司", licence_type="lender",
                                licence_number="LND-1", valid_from=date(2020, 1, 1),
                                valid_to=None if valid_to in (None, "unbound") else valid_to,
                                retired_at=NOW if retired else None)
        s.add(entity)
        s.flush()
        account = Account(tenant="t1", platform="weibo", external_id="kuaiyi",
                          registry_entity_id=None if valid_to == "unbound" else entity.id)
        s.add(account)
        s.flush()
        case = Case(tenant="t1", title="x", reasons=reasons, categories=["loan_marketing"], opened_by="test",
                    account_id=account.id)
        s.add(case)
        s.flush()
        got = reviews._licence(s, case, account, NOW)
    assert (None if got is None else (got.licensed, got.registry_id)) == expected
