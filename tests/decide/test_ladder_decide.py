"""The sanctions ladder over simulated time: case tables, no clock, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qinglang import errors
from qinglang.decide import (
    AccountState,
    LicenceStatus,
    apply_decision,
    confirm,
    decide,
    default_ladder,
    expire,
    reverse,
)
from qinglang.errors import QLError
from qinglang.model import CategoryScore, Verdict
from qinglang.policy.loader import taxonomy

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = default_ladder()


def verdict(vid: str, *cats: str | tuple[str, float] | tuple[str, float, str]) -> Verdict:
    """``verdict("p1", "stock_tipping", ("loan_marketing", 0.5))``: categories with score (0.9) and severity."""
    scores = []
    for c in cats:
        code, score, sev = (c, 0.9, None) if isinstance(c, str) else (*c, None)[:3]  # type: ignore[misc]
        info = taxonomy()[code]
        scores.append(CategoryScore(code, score, sev or info.severity, info.review_only, [f"zh.{code}.r1"]))
    sev = max((s.severity for s in scores), key=["none", "low", "medium", "high"].index, default="none")
    return Verdict(vid, scores, sev, any(s.review_only for s in scores), [], [], {"pack": "zh@1"}, account_id="acc")


def run(events: list[tuple[int, Verdict]], *, followers: int = 0, licensed: LicenceStatus | None = None,
        state: AccountState | None = None) -> tuple[AccountState, list]:
    """Decide and apply each (day, verdict) in order, expiring actions as time passes."""
    state = state or AccountState("acc", followers=followers)
    decisions = []
    for day, v in events:
        now = T0 + timedelta(days=day)
        state = expire(state, now)
        d = decide(state, v, now=now, licensed=licensed, policy=POLICY)
        decisions.append(d)
        if d.outcome == "act":
            state = apply_decision(state, d)
    return state, decisions


def steps(decisions: list) -> list[str | None]:
    return [next((a.kind for a in d.actions if a.step), d.outcome if d.outcome != "act" else None)
            for d in decisions]


# --- escalation -------------------------------------------------------------------

ESCALATION = [
    # (name, events as (day, category), expected step per event)
    ("one medium strike warns", [(0, "loan_marketing")], ["warning"]),
    ("one high strike removes the post", [(0, "stock_tipping")], ["remove_content"]),
    ("repeat offender climbs one step each time",
     [(0, "stock_tipping"), (10, "stock_tipping"), (20, "stock_tipping"), (30, "stock_tipping"), (40, "stock_tipping")],
     ["remove_content", "mute", "suspend_updates", "remove_monetisation", "close_account"]),
    ("mediums: points and repeat together",
     [(0, "traffic_diversion"), (5, "traffic_diversion"), (10, "traffic_diversion")],
     ["warning", "remove_content", "mute"]),
    ("points alone jump steps: impersonation is worth 5",
     [(0, "impersonation"), (1, "impersonation")], ["remove_content", "suspend_updates"]),
]


@pytest.mark.parametrize("name,events,expected", ESCALATION, ids=[e[0] for e in ESCALATION])
def test_escalation(name, events, expected):
    _, decisions = run([(day, verdict(f"p{i}", cat)) for i, (day, cat) in enumerate(events)])
    assert steps(decisions) == expected


def test_strikes_drop_out_of_the_window():
    # without repeat escalation, only points decide: two highs within 180 days reach mute, apart they do not
    policy = POLICY.model_copy(update={"repeat_offender": None})
    state = AccountState("acc")
    for day, vid in [(0, "a"), (100, "b")]:
        d = decide(state, verdict(vid, "stock_tipping"), now=T0 + timedelta(days=day), licensed=None, policy=policy)
        state = apply_decision(state, d)
    assert state.points(T0 + timedelta(days=100), policy) == 6
    assert [a.kind for a in state.actions if a.step] == ["remove_content", "mute"]
    assert state.points(T0 + timedelta(days=181), policy) == 3  # the first strike left the window
    d = decide(state, verdict("c", "loan_marketing"), now=T0 + timedelta(days=300), licensed=None, policy=policy)
    assert d.strike.points == 2 and d.actions[0].points == 2 and d.actions[0].kind == "warning"


def test_repeat_lookback_ends():
    # the first strike's sanction is older than the 365-day lookback: a fresh start
    _, decisions = run([(0, verdict("a", "stock_tipping")), (400, verdict("b", "stock_tipping"))])
    assert steps(decisions) == ["remove_content", "remove_content"]
    assert "repeat_offender" not in decisions[1].actions[0].rules


def test_actions_expire():
    state, _ = run([(0, verdict("a", "stock_tipping")), (10, verdict("b", "stock_tipping"))])
    mute = next(a for a in state.actions if a.kind == "mute")
    assert mute.expires_at == T0 + timedelta(days=17) and mute.duration == timedelta(days=7)
    assert expire(state, T0 + timedelta(days=16)).action(mute.id).status == "active"
    later = expire(state, T0 + timedelta(days=17))
    assert later.action(mute.id).status == "expired" and later.action(mute.id).ended_at == mute.expires_at
    # removed content never comes back by itself
    assert all(a.status == "active" for a in later.actions if a.kind == "remove_content")
    # an expired sanction still counts for repeat escalation
    _, more = run([(30, verdict("c", "stock_tipping"))], state=later)
    assert steps(more) == ["suspend_updates"]


def test_actions_record_their_cause():
    _, decisions = run([(0, verdict("a", "stock_tipping")), (10, verdict("b", "card_cashout"))])
    d = decisions[1]
    main, implied = d.actions
    assert (main.kind, implied.kind) == ("mute", "remove_content")
    assert main.verdict_ids == ("b",) and main.category == "card_cashout" and main.points == 7
    assert main.rules == ("points.category.card_cashout.high", "step.mute")
    assert main.detection_rules == ("zh.card_cashout.r1",) and main.policy == "cn-default@1"
    assert implied.target == "content" and implied.subject == "b" and not implied.step
    assert d.strike.points == 4 and d.strike.category == "card_cashout"


def test_the_worst_category_makes_the_strike():
    _, [d] = run([(0, verdict("a", "traffic_diversion", "disguised_pyramid"))])
    assert d.strike.category == "disguised_pyramid" and d.strike.points == 4


def test_same_verdict_twice_is_decided_once():
    state, _ = run([(0, verdict("a", "stock_tipping"))])
    d = decide(state, verdict("a", "stock_tipping"), now=T0 + timedelta(days=1), licensed=None, policy=POLICY)
    assert d.outcome == "none" and "already" in d.reason


def test_unflagged_does_nothing():
    _, [d] = run([(0, verdict("a"))])
    assert d.outcome == "none" and not d.actions


# --- review -----------------------------------------------------------------------

REVIEW = [
    ("rumour is review-only", verdict("v", "financial_rumor"), {}, ("review_only_category",), False),
    ("defamation with a sanctionable category: still review", verdict("v", "institution_defamation", "stock_tipping"),
     {}, ("review_only_category",), False),
    ("low confidence", verdict("v", ("stock_tipping", 0.55)), {}, ("low_confidence",), True),
    ("close on a big account", None, {"followers": 250_000}, ("high_impact",), True),
    ("licensed account sanctioned", verdict("v", "stock_tipping"), {"licensed": LicenceStatus(True)},
     ("licensed_account",), True),
]


@pytest.mark.parametrize("name,v,kw,reasons,proposal", REVIEW, ids=[r[0] for r in REVIEW])
def test_review_cases(name, v, kw, reasons, proposal):
    state = AccountState("acc", followers=kw.get("followers", 0))
    if v is None:  # climb to the top first, then the close goes to a person
        state, _ = run([(i * 10, verdict(f"p{i}", "stock_tipping")) for i in range(4)], state=state)
        v = verdict("v", "stock_tipping")
    d = decide(state, v, now=T0 + timedelta(days=50), licensed=kw.get("licensed"), policy=POLICY)
    assert d.outcome == "review" and d.case.reasons == reasons
    assert bool(d.actions) is proposal
    with pytest.raises(QLError) as info:
        apply_decision(state, d)
    assert info.value.code == errors.DECISION_NOT_APPLICABLE


def test_small_account_is_closed_without_review():
    _, decisions = run([(i * 10, verdict(f"p{i}", "stock_tipping")) for i in range(5)], followers=500)
    assert decisions[-1].outcome == "act" and decisions[-1].actions[0].kind == "close_account"
    assert decisions[-1].actions[0].expires_at is None


def test_review_only_never_acts_whatever_the_history():
    state, _ = run([(i * 10, verdict(f"p{i}", "stock_tipping")) for i in range(4)])
    for cat in ("financial_rumor", "institution_defamation"):
        d = decide(state, verdict(f"r-{cat}", (cat, 0.99)), now=T0 + timedelta(days=60), licensed=None,
                   policy=POLICY)
        assert d.outcome == "review" and not d.actions and d.strike is None
        with pytest.raises(QLError):
            confirm(d, reviewer="li", now=T0 + timedelta(days=61))


def test_confirmed_review_acts_from_confirmation_time():
    state = AccountState("acc", followers=250_000)
    state, _ = run([(i * 10, verdict(f"p{i}", "stock_tipping")) for i in range(4)], state=state)
    d = decide(state, verdict("big", "stock_tipping"), now=T0 + timedelta(days=50), licensed=None, policy=POLICY)
    ok = confirm(d, reviewer="li", now=T0 + timedelta(days=52))
    assert ok.outcome == "act" and ok.confirmed_by == "li"
    assert ok.actions[0].issued_at == T0 + timedelta(days=52) and ok.actions[0].note == "confirmed by li"
    state = apply_decision(state, ok)
    assert any(a.kind == "close_account" and a.status == "active" for a in state.actions)
    assert apply_decision(state, ok) == state  # idempotent


# --- licensed accounts ------------------------------------------------------------

LICENCE = [
    # (name, licence, expected outcome, expected first action kind, strike points)
    ("licensed lender: rectification notice", LicenceStatus(True, registry_id="R-1"), "act", "rectification_notice",
     None),
    ("registry says unlicensed: escalates to high", LicenceStatus(False), "act", "remove_content", 3),
    ("registry not consulted: ordinary ladder", None, "act", "warning", 2),
    ("claims a licence it lacks: impersonation", LicenceStatus(False, claimed=True), "act", "remove_content", 5),
]


@pytest.mark.parametrize("name,lic,outcome,kind,points", LICENCE, ids=[c[0] for c in LICENCE])
def test_same_ad_by_licence(name, lic, outcome, kind, points):
    ad = verdict("ad", "loan_marketing")
    d = decide(AccountState("acc"), ad, now=T0, licensed=lic, policy=POLICY)
    assert d.outcome == outcome and d.actions[0].kind == kind
    if points is None:
        assert d.strike is None and d.actions[0].points == 0 and d.actions[0].rules == ("licence.rectification",)
        assert d.actions[0].expires_at == T0 + timedelta(days=15)
    else:
        assert d.strike.points == points


def test_unlicensed_ad_records_the_licence_rule():
    d = decide(AccountState("acc"), verdict("ad", "loan_marketing"), now=T0, licensed=LicenceStatus(False),
               policy=POLICY)
    assert d.strike.severity == "high" and d.strike.rules == ("licence.unlicensed", "points.severity.high")


def test_licence_claim_is_impersonation_once_per_window():
    lic = LicenceStatus(False, claimed=True)
    _, decisions = run([(0, verdict("a")), (5, verdict("b")), (200, verdict("c"))], licensed=lic)
    assert [d.strike.category if d.strike else None for d in decisions] == ["impersonation", None, "impersonation"]
    claim = decisions[0].actions[0]
    assert claim.rules[0] == "licence.claim" and claim.kind == "remove_content"
    assert claim.target == "account" and claim.subject == "acc" and len(decisions[0].actions) == 1
    # with a flagged post, the worse of the two makes the strike and the claim stays on record
    d = decide(AccountState("x"), verdict("d", "card_cashout"), now=T0, licensed=lic, policy=POLICY)
    assert d.strike.category == "impersonation" and "licence.claim" in d.strike.rules


def test_licensed_account_with_other_categories_goes_to_review():
    d = decide(AccountState("acc"), verdict("ad", "loan_marketing", "stock_tipping"), now=T0,
               licensed=LicenceStatus(True), policy=POLICY)
    assert d.outcome == "review" and d.case.reasons == ("licensed_account",) and d.actions


def test_licensed_low_confidence_notice_goes_to_review():
    d = decide(AccountState("acc"), verdict("ad", ("loan_marketing", 0.6)), now=T0, licensed=LicenceStatus(True),
               policy=POLICY)
    assert d.outcome == "review" and d.actions[0].kind == "rectification_notice" and d.strike is None


# --- reversal ---------------------------------------------------------------------


def test_reversal_recomputes_the_ladder():
    state, decisions = run([(0, verdict("a", "stock_tipping")), (10, verdict("b", "stock_tipping")),
                            (20, verdict("c", "stock_tipping"))])
    assert steps(decisions) == ["remove_content", "mute", "suspend_updates"]
    now = T0 + timedelta(days=25)
    r = reverse(state, "a/remove_content", now=now, policy=POLICY)
    s = r.state
    assert [x.verdict_id for x in s.strikes if x.reversed] == ["a"]
    assert s.action("a/remove_content").status == "reversed"
    # b would have been remove_content (3 points, no history), c a mute (6 points, one step above b)
    assert s.action("b/mute").status == "reversed" and s.action("c/suspend_updates").status == "reversed"
    assert s.action("b/remove_content").status == "active"  # b's post stays removed: its own step now
    new_c = s.action("c/mute~r")
    assert new_c.issued_at == T0 + timedelta(days=20) and new_c.expires_at == T0 + timedelta(days=27)
    assert new_c.status == "active" and new_c.points == 6
    assert s.points(now, POLICY) == 6
    assert {(c.action_id, c.change) for c in r.changes} == {
        ("a/remove_content", "reversed"), ("b/mute", "downgraded"), ("c/suspend_updates", "downgraded"),
        ("c/mute~r", "added")}
    assert s.action("b/remove_content").step  # b's removal is now its own ladder step
    # the next strike climbs from the recomputed ladder, not the reversed one
    _, [d] = run([(30, verdict("d", "stock_tipping"))], state=s)
    assert d.actions[0].kind == "suspend_updates"


def test_reversing_the_latest_leaves_the_rest():
    state, _ = run([(0, verdict("a", "stock_tipping")), (10, verdict("b", "stock_tipping"))])
    r = reverse(state, "b/mute", now=T0 + timedelta(days=11), policy=POLICY)
    assert r.state.action("a/remove_content").status == "active"
    assert {a.id for a in r.state.actions if a.status == "reversed"} == {"b/mute", "b/remove_content"}
    assert reverse(r.state, "b/mute", now=T0 + timedelta(days=12), policy=POLICY).state == r.state


def test_reversal_of_expired_downgrade_lands_expired():
    state, _ = run([(0, verdict("a", "stock_tipping")), (10, verdict("b", "stock_tipping")),
                    (20, verdict("c", "stock_tipping"))])
    r = reverse(state, "a/remove_content", now=T0 + timedelta(days=60), policy=POLICY)
    assert r.state.action("c/mute~r").status == "expired"


def test_unknown_action_and_naive_time():
    with pytest.raises(QLError) as info:
        reverse(AccountState("acc"), "nope", now=T0, policy=POLICY)
    assert info.value.code == errors.ACTION_NOT_FOUND
    with pytest.raises(QLError) as info:
        decide(AccountState("acc"), verdict("a", "stock_tipping"), now=datetime(2026, 1, 1), licensed=None,
               policy=POLICY)
    assert info.value.code == errors.NAIVE_TIME


def test_decision_for_another_account():
    d = decide(AccountState("acc"), verdict("a", "stock_tipping"), now=T0, licensed=None, policy=POLICY)
    with pytest.raises(QLError) as info:
        apply_decision(AccountState("other"), d)
    assert info.value.code == errors.DECISION_NOT_APPLICABLE


def test_decision_serialises():
    d = decide(AccountState("acc"), verdict("a", "stock_tipping"), now=T0, licensed=None, policy=POLICY)
    out = d.to_dict()
    assert out["outcome"] == "act" and out["actions"][0]["kind"] == "remove_content"
    assert out["strike"]["points"] == 3 and out["actions"][0]["issued_at"] == "2026-01-01T00:00:00+00:00"
