"""One account's record and the ranked account list (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from qinglang.decide import default_ladder
from qinglang.errors import QLError
from qinglang.store import registry_store
from qinglang.store.accounts_view import account_view, find_account, list_accounts
from qinglang.store.actions import load_account_state
from qinglang.store.db import session_factory
from qinglang.store.tables import Account, ActionRow, Appeal, Case, PostVersion, Strike, VerdictRow

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = default_ladder()


def _post(session: Session, account: Account, post_id: str, at: datetime, *, version: int = 1,
          categories: tuple[str, ...] = ("stock_tipping",)) -> VerdictRow:
    post = PostVersion(tenant=account.tenant, post_id=post_id, version=version, account_id=account.id,
                       platform=account.platform, content_hash=f"{post_id}-{version}", fields={"id": post_id},
                       first_seen=at, last_seen=at)
    session.add(post)
    session.flush()
    verdict = VerdictRow(post_version_id=post.id, tenant=account.tenant, flagged=bool(categories),
                         categories=[{"code": c, "score": 0.9} for c in categories], severity="high",
                         review_only=False, hits=[], entities=[], versions={"engine": "t"},
                         versions_key=f"k-{post_id}-{version}", degraded=None, created_at=at)
    session.add(verdict)
    session.flush()
    return verdict


def _strike(session: Session, account: Account, verdict: VerdictRow, at: datetime, points: int,
            reversed_at: datetime | None = None) -> None:
    session.add(Strike(tenant=account.tenant, account_id=account.id, verdict_id=verdict.id, category="stock_tipping",
                       severity="high", points=points, at=at, rule_ids=["points.severity.high"],
                       reversed_at=reversed_at))


def _action(session: Session, account: Account, verdict: VerdictRow, kind: str, at: datetime,
            expires: datetime | None = None) -> ActionRow:
    row = ActionRow(tenant=account.tenant, account_id=account.id, kind=kind, target="account",
                    subject=account.external_id, category="stock_tipping", status="active", starts_at=at,
                    expires_at=expires, cause_verdict_ids=[verdict.id], rule_ids=[f"step.{kind}"],
                    detection_rule_ids=["zh.stock_tipping.x"], policy=POLICY.ref, points=3,
                    idem_key=f"{verdict.id}/{kind}", created_by="ingest", created_at=at)
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """tipster: two counting strikes, one too old, one reversed; actions, a case and an appeal. quiet: one warning."""
    with session_factory(engine)() as s, s.begin():
        tipster = Account(tenant="acme", platform="weibo", external_id="tipster", followers=1200)
        quiet = Account(tenant="acme", platform="weibo", external_id="quiet")
        twin_a = Account(tenant="acme", platform="weibo", external_id="twin")
        twin_b = Account(tenant="acme", platform="douyin", external_id="twin")
        other = Account(tenant="other", platform="weibo", external_id="tipster")
        s.add_all([tipster, quiet, twin_a, twin_b, other])
        s.flush()
        old = _post(s, tipster, "t0", NOW - timedelta(days=400))
        _strike(s, tipster, old, NOW - timedelta(days=400), 3)  # outside the 180-day window
        v1 = _post(s, tipster, "t1", NOW - timedelta(days=20))
        _strike(s, tipster, v1, NOW - timedelta(days=20), 3)
        a1 = _action(s, tipster, v1, "remove_content", NOW - timedelta(days=20))
        v2 = _post(s, tipster, "t2", NOW - timedelta(days=5))
        _strike(s, tipster, v2, NOW - timedelta(days=5), 3)
        _action(s, tipster, v2, "mute", NOW - timedelta(days=10), expires=NOW - timedelta(days=3))
        v3 = _post(s, tipster, "t3", NOW - timedelta(days=2))
        _strike(s, tipster, v3, NOW - timedelta(days=2), 4, reversed_at=NOW - timedelta(days=1))
        _post(s, tipster, "t3", NOW - timedelta(days=1), version=2, categories=())
        s.add(Case(tenant="acme", title="review t3", status="open", reasons=["low_confidence"],
                   categories=["stock_tipping"], account_id=tipster.id, opened_by="ingest",
                   created_at=NOW - timedelta(days=2)))
        s.add(Case(tenant="acme", title="closed one", status="closed", account_id=tipster.id, opened_by="ingest",
                   closed_at=NOW - timedelta(days=1)))
        s.add(Appeal(tenant="acme", action_id=a1.id, appellant="tipster", reason="not me", status="open",
                     created_at=NOW - timedelta(days=19)))
        vq = _post(s, quiet, "q1", NOW - timedelta(days=1))
        _action(s, quiet, vq, "warning", NOW - timedelta(days=1), expires=NOW + timedelta(days=89))
    return engine


def test_account_view_counts_points_as_the_ladder_does(seeded: Engine) -> None:
    with session_factory(seeded)() as s:
        tipster = find_account(s, "acme", "tipster")
        view = account_view(s, tipster, now=NOW, policy=POLICY, history=3)
        assert view["points"]["in_window"] == load_account_state(s, tipster).points(NOW, POLICY) == 6
    assert view["points"]["step"] == "mute" and view["points"]["window_days"] == 180
    assert view["account"] == {**view["account"], "account_id": "tipster", "platform": "weibo", "followers": 1200}
    assert [(x["cause"]["post_id"], x["counts"], x["reversed_at"] is not None) for x in view["strikes"]] == [
        ("t3", False, True), ("t2", True, False), ("t1", True, False), ("t0", False, False)]
    actions = {a["kind"]: a for a in view["actions"]}
    assert actions["mute"]["expiry_due"] and not actions["remove_content"]["expiry_due"]
    assert actions["remove_content"]["causes"] == [{"verdict_id": actions["remove_content"]["causes"][0]["verdict_id"],
                                                    "post_id": "t1", "version": 1}]
    assert actions["mute"]["rule_ids"] == ["step.mute"] and actions["mute"]["detection_rule_ids"]
    assert [(h["post_id"], h["version"]) for h in view["history"]] == [("t3", 2), ("t3", 1), ("t2", 1)]
    assert view["history"][0]["verdict"]["flagged"] is False
    assert view["history"][1]["verdict"]["categories"] == [{"code": "stock_tipping", "score": 0.9}]
    assert [c["title"] for c in view["open_cases"]] == ["review t3"]
    assert [(p["status"], p["appellant"]) for p in view["appeals"]] == [("open", "tipster")]
    assert view["binding"] is None


def test_account_view_shows_the_linked_entity(seeded: Engine) -> None:
    with session_factory(seeded)() as s, s.begin():
        registry_store.import_registry(s, "id,name,licence_type,licence_number\nkuaiyi,快易贷,lender,L-1\n",
                                       actor="a", now=NOW)
        registry_store.declare_binding(s, find_account(s, "acme", "quiet"), "kuaiyi", actor="carol", now=NOW)
    with session_factory(seeded)() as s:
        view = account_view(s, find_account(s, "acme", "quiet"), now=NOW, policy=POLICY)
    b = view["binding"]
    assert (b["entity"]["id"], b["entity"]["validity"], b["source"], b["bound_by"]) == (
        "kuaiyi", "valid", "declared", "carol")


@pytest.mark.parametrize(("tenant", "account", "platform", "code"), [
    ("acme", "nobody", None, "QL-6106"),
    ("acme", "tipster", "douyin", "QL-6106"),
    ("acme", "twin", None, "QL-6201"),
    ("nobody", "tipster", None, "QL-6106"),
])  # fmt: skip
def test_find_account_errors(seeded: Engine, tenant: str, account: str, platform: str | None, code: str) -> None:
    with session_factory(seeded)() as s, pytest.raises(QLError) as err:
        find_account(s, tenant, account, platform)
    assert err.value.code.code == code
    if code == "QL-6201":
        assert "'douyin'" in (err.value.hint or "") and "'weibo'" in (err.value.hint or "")


def test_find_account_by_platform(seeded: Engine) -> None:
    with session_factory(seeded)() as s:
        assert find_account(s, "acme", "twin", "douyin").platform == "douyin"


def test_list_accounts_by_points_and_by_recent_action(seeded: Engine) -> None:
    with session_factory(seeded)() as s:
        by_points = list_accounts(s, "acme", now=NOW, policy=POLICY)
        recent = list_accounts(s, "acme", now=NOW, policy=POLICY, sort="recent")
        assert list_accounts(s, "other", now=NOW, policy=POLICY) == []
        with pytest.raises(QLError) as err:
            list_accounts(s, "acme", now=NOW, policy=POLICY, sort="loudest")  # type: ignore[arg-type]
        assert err.value.code.code == "QL-4003"
    assert [(a["account_id"], a["points"], a["step"]) for a in by_points] == [("tipster", 6, "mute"),
                                                                              ("quiet", 0, None)]
    assert [a["account_id"] for a in recent] == ["quiet", "tipster"]
    assert by_points[0]["active_actions"] == 2 and by_points[0]["last_action_at"] == NOW - timedelta(days=10)
