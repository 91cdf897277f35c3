"""Decide what happens to an account after a verdict: the sanctions ladder, pure.

Nothing here reads a clock or a database. Every function takes the account's state
and an explicit ``now`` (time-zone aware) and returns new values, so the store can
persist them and tests can run months of simulated time in microseconds.

- :func:`decide`: one verdict -> a :class:`Decision` (actions to take, a review case
  with its reasons, or nothing);
- :func:`confirm`: a person accepts a review case's proposal -> an ``act`` decision;
- :func:`apply_decision`: record an ``act`` decision's strike and actions on the state;
- :func:`expire`: mark actions whose time has run out;
- :func:`reverse`: an appeal is upheld -> the action and its strike are reversed and
  the later ladder steps are recomputed without them (never harsher).

See docs/sanctions.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from qinglang import errors
from qinglang.decide.policy import RECTIFICATION, STEP_KINDS, STEP_RANK, LadderPolicy
from qinglang.errors import QLError
from qinglang.model import SEVERITY_RANK, CategoryScore, Verdict
from qinglang.policy.loader import taxonomy

Outcome = Literal["act", "review", "none"]
Status = Literal["active", "expired", "reversed"]

#: ladder rule ids (recorded on actions, strikes and cases)
RULE_UNLICENSED = "licence.unlicensed"
RULE_CLAIM = "licence.claim"
RULE_RECTIFY = "licence.rectification"
RULE_REPEAT = "repeat_offender"
RULE_IMPLIED = "step.implied.remove_content"


@dataclass(frozen=True, slots=True)
class LicenceStatus:
    """What the licence registry says about the account behind a verdict.

    ``licensed``: the registry holds a current licence for the account. ``claimed``:
    the account presents itself as licensed (profile, badge, bio). Pass ``None`` to
    :func:`decide` when the registry was not consulted: the ordinary ladder applies.
    """

    licensed: bool
    claimed: bool = False
    registry_id: str | None = None


@dataclass(frozen=True, slots=True)
class Strike:
    """Points an account earned from one verdict."""

    verdict_id: str
    category: str
    severity: str
    points: int
    at: datetime
    rules: tuple[str, ...] = ()
    reversed_at: datetime | None = None

    @property
    def reversed(self) -> bool:
        return self.reversed_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict_id": self.verdict_id,
            "category": self.category,
            "severity": self.severity,
            "points": self.points,
            "at": self.at.isoformat(),
            "rules": list(self.rules),
            "reversed_at": self.reversed_at.isoformat() if self.reversed_at else None,
        }


@dataclass(frozen=True, slots=True)
class Action:
    """One action on an account or a post, with what caused it.

    ``verdict_ids`` and ``detection_rules`` say which verdicts and detection rules
    led here; ``rules`` are the ladder rules (``policy`` names the ladder and version);
    ``points`` the account's accumulated points when it was issued. ``target`` is
    ``"content"`` (``subject`` = the verdict/post id) or ``"account"``.
    """

    id: str
    kind: str
    account_id: str
    target: Literal["account", "content"]
    subject: str
    category: str
    verdict_ids: tuple[str, ...]
    rules: tuple[str, ...]
    detection_rules: tuple[str, ...]
    policy: str
    points: int
    issued_at: datetime
    expires_at: datetime | None
    #: a ladder step (counts for repeat-offender escalation); False for implied removals and notices
    step: bool = True
    status: Status = "active"
    ended_at: datetime | None = None
    note: str = ""

    @property
    def duration(self) -> timedelta | None:
        return None if self.expires_at is None else self.expires_at - self.issued_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "account_id": self.account_id,
            "target": self.target,
            "subject": self.subject,
            "category": self.category,
            "verdict_ids": list(self.verdict_ids),
            "rules": list(self.rules),
            "detection_rules": list(self.detection_rules),
            "policy": self.policy,
            "points": self.points,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "step": self.step,
            "status": self.status,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class AccountState:
    """An account's strike history and actions (every action ever; ``status`` says which hold)."""

    account_id: str
    followers: int = 0
    strikes: tuple[Strike, ...] = ()
    actions: tuple[Action, ...] = ()

    def active_actions(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.status == "active")

    def points(self, now: datetime, policy: LadderPolicy) -> int:
        """Strike points that count at ``now`` (within the window, not reversed)."""
        return sum(s.points for s in _counting(self.strikes, now, policy))

    def action(self, action_id: str) -> Action:
        for a in self.actions:
            if a.id == action_id:
                return a
        raise QLError(errors.ACTION_NOT_FOUND, f"account {self.account_id} holds no action '{action_id}'")


@dataclass(frozen=True, slots=True)
class ReviewCase:
    """Why a person must look before anything happens. ``reasons`` are stable codes:
    ``review_only_category``, ``low_confidence``, ``licensed_account``, ``high_impact``."""

    verdict_id: str
    account_id: str
    reasons: tuple[str, ...]
    detail: str
    categories: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict_id": self.verdict_id,
            "account_id": self.account_id,
            "reasons": list(self.reasons),
            "detail": self.detail,
            "categories": list(self.categories),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """``act``: apply ``actions`` (and record ``strike``). ``review``: open ``case``;
    ``actions``/``strike`` are what the ladder proposes, applied only once a person
    confirms (:func:`confirm`); empty for review-only categories. ``none``: nothing to do."""

    outcome: Outcome
    verdict_id: str
    account_id: str
    decided_at: datetime
    policy: str
    actions: tuple[Action, ...] = ()
    strike: Strike | None = None
    case: ReviewCase | None = None
    reason: str = ""
    confirmed_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "verdict_id": self.verdict_id,
            "account_id": self.account_id,
            "decided_at": self.decided_at.isoformat(),
            "policy": self.policy,
            "actions": [a.to_dict() for a in self.actions],
            "strike": self.strike.to_dict() if self.strike else None,
            "case": self.case.to_dict() if self.case else None,
            "reason": self.reason,
            "confirmed_by": self.confirmed_by,
        }


@dataclass(frozen=True, slots=True)
class Change:
    """One change a reversal made, for the audit log."""

    action_id: str
    change: Literal["reversed", "downgraded", "added"]
    note: str


@dataclass(frozen=True, slots=True)
class Reversal:
    state: AccountState
    changes: tuple[Change, ...] = field(default_factory=tuple)


# --- helpers ------------------------------------------------------------------------


def _aware(t: datetime, name: str = "now") -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise QLError(errors.NAIVE_TIME, f"'{name}' must be time-zone aware (got {t.isoformat()})")


def _counting(strikes: tuple[Strike, ...], now: datetime, policy: LadderPolicy) -> list[Strike]:
    start = now - timedelta(days=policy.window_days)
    return [s for s in strikes if not s.reversed and start < s.at <= now]


def _prior_step_rank(actions: tuple[Action, ...] | list[Action], now: datetime, policy: LadderPolicy) -> int | None:
    """Highest ladder step issued within the repeat-offender lookback (expired ones count)."""
    ro = policy.repeat_offender
    if ro is None:
        return None
    start = now - timedelta(days=ro.lookback_days)
    ranks = [STEP_RANK[a.kind] for a in actions
             if a.step and a.status != "reversed" and a.kind in STEP_RANK and start < a.issued_at <= now]
    return max(ranks) if ranks else None


def _target_step(points: int, prior: int | None, policy: LadderPolicy) -> tuple[str | None, bool]:
    """The step for ``points`` given the highest past step; True when repeat escalation decided it."""
    by_points = policy.step_for(points)
    rank = -1 if by_points is None else STEP_RANK[by_points.action]
    repeat = False
    if prior is not None and policy.repeat_offender is not None:
        wanted = prior + policy.repeat_offender.escalate_steps
        ladder = [STEP_RANK[s.action] for s in policy.steps]
        climbed = [r for r in ladder if r >= wanted] or [max(ladder)]
        if min(climbed) > rank:
            rank, repeat = min(climbed), True
    return (STEP_KINDS[rank] if rank >= 0 else None), repeat


def _expires(issued: datetime, kind: str, policy: LadderPolicy) -> datetime | None:
    days = policy.duration_days(kind)
    return None if days is None else issued + timedelta(days=days)


def _actions_for_step(kind: str, *, account_id: str, verdict_id: str, category: str, rules: tuple[str, ...],
                      detection_rules: tuple[str, ...], points: int, issued: datetime,
                      policy: LadderPolicy, suffix: str = "", claim_only: bool = False) -> tuple[Action, ...]:
    """The ladder action for ``kind``; any step above remove_content also removes the post.

    ``claim_only``: the strike is a false licence claim on a post that flags nothing; the
    post stays, and "remove content" means removing the claim from the account's profile.
    """
    common = dict(account_id=account_id, category=category, verdict_ids=(verdict_id,),
                  detection_rules=detection_rules, policy=policy.ref, points=points, issued_at=issued)
    on_post = kind == "remove_content" and not claim_only
    main = Action(id=f"{verdict_id}/{kind}{suffix}", kind=kind, target="content" if on_post else "account",
                  subject=verdict_id if on_post else account_id, rules=(*rules, f"step.{kind}"),
                  expires_at=_expires(issued, kind, policy),
                  note="remove the licence claim from the profile" if claim_only and kind == "remove_content" else "",
                  **common)  # type: ignore[arg-type]
    if STEP_RANK[kind] <= STEP_RANK["remove_content"] or claim_only:
        return (main,)
    implied = Action(id=f"{verdict_id}/remove_content{suffix}", kind="remove_content", target="content",
                     subject=verdict_id, rules=(*rules, RULE_IMPLIED), step=False,
                     expires_at=_expires(issued, "remove_content", policy), **common)  # type: ignore[arg-type]
    return (main, implied)


def _is_review_only(c: CategoryScore, policy: LadderPolicy) -> bool:
    return c.review_only or c.code in policy.review.categories


def _severity(c: CategoryScore) -> str:
    if c.severity in ("low", "medium", "high"):
        return c.severity
    info = taxonomy().get(c.code)
    return info.severity if info else "medium"


# --- decide -------------------------------------------------------------------------


def decide(account: AccountState, verdict: Verdict, *, now: datetime, licensed: LicenceStatus | None,
           policy: LadderPolicy) -> Decision:
    """What the ladder does with one verdict on ``account`` at ``now``. Pure.

    Order: already decided or nothing flagged -> none; a review-only category -> review
    (no proposal); licensed account with only disclosure categories -> rectification
    notice; otherwise the strike and ladder step, sent to review when confidence is low,
    the account is licensed, or the action is high-impact for its follower count.
    """
    _aware(now)
    base = dict(verdict_id=verdict.id, account_id=account.account_id, decided_at=now, policy=policy.ref)
    if any(s.verdict_id == verdict.id for s in account.strikes) or any(
            verdict.id in a.verdict_ids for a in account.actions):
        return Decision("none", reason="verdict already decided for this account", **base)  # type: ignore[arg-type]

    lic = policy.licensing
    claim = (licensed is not None and licensed.claimed and not licensed.licensed
             and not any(RULE_CLAIM in s.rules for s in _counting(account.strikes, now, policy)))
    if not verdict.flagged and not claim:
        return Decision("none", reason="verdict flags nothing", **base)  # type: ignore[arg-type]

    review_only = [c.code for c in verdict.categories if _is_review_only(c, policy)]
    if review_only:
        case = ReviewCase(verdict.id, account.account_id, ("review_only_category",),
                          f"review-only categories never act without a person: {', '.join(review_only)}",
                          tuple(verdict.codes()))
        return Decision("review", case=case, **base)  # type: ignore[arg-type]

    reasons: list[str] = []
    details: list[str] = []
    low = [c for c in verdict.categories if c.score < policy.review.confidence_floor]
    if low:
        reasons.append("low_confidence")
        details.append("score below the confidence floor "
                       f"{policy.review.confidence_floor:g}: "
                       + ", ".join(f"{c.code} {c.score:.2f}" for c in low))

    is_licensed = licensed is not None and licensed.licensed
    if is_licensed and verdict.flagged and all(c in lic.disclosure_categories for c in verdict.codes()):
        if reasons:
            case = ReviewCase(verdict.id, account.account_id, tuple(reasons), "; ".join(details),
                              tuple(verdict.codes()))
            return Decision("review", case=case, actions=(_rectification(account, verdict, now, policy),),
                            **base)  # type: ignore[arg-type]
        return Decision("act", actions=(_rectification(account, verdict, now, policy),),
                        reason="licensed account: rectification notice instead of a sanction",
                        **base)  # type: ignore[arg-type]

    # the strike: the category worth most points (then the higher score, then taxonomy order)
    candidates: list[tuple[int, float, str, str, tuple[str, ...], tuple[str, ...]]] = []
    for c in verdict.categories:
        sev = _severity(c)
        rules: list[str] = []
        if (licensed is not None and not licensed.licensed and c.code in lic.disclosure_categories
                and SEVERITY_RANK[lic.unlicensed_severity] > SEVERITY_RANK[sev]):
            sev = lic.unlicensed_severity
            rules.append(RULE_UNLICENSED)
        pts, rule = policy.points_for(c.code, sev)
        candidates.append((pts, c.score, c.code, sev, (*rules, rule), tuple(c.rules)))
    if claim:
        code = lic.claim_category
        sev = taxonomy()[code].severity
        pts, rule = policy.points_for(code, sev)
        all_rules = tuple(r for c in verdict.categories for r in c.rules)
        candidates.append((pts, 1.0, code, sev, (RULE_CLAIM, rule), all_rules))
    order = list(taxonomy())
    candidates.sort(key=lambda t: (-t[0], -t[1], order.index(t[2]) if t[2] in order else len(order)))
    pts, _score, category, sev, rules, det_rules = candidates[0]
    if claim and category != lic.claim_category:
        rules = (*rules, RULE_CLAIM)  # the claim is struck together with a worse category: keep it on record
    strike = Strike(verdict.id, category, sev, pts, now, rules)

    total = account.points(now, policy) + pts
    kind, repeat = _target_step(total, _prior_step_rank(account.actions, now, policy), policy)
    actions: tuple[Action, ...] = ()
    if kind is not None:
        step_rules = (*rules, RULE_REPEAT) if repeat else rules
        actions = _actions_for_step(kind, account_id=account.account_id, verdict_id=verdict.id, category=category,
                                    rules=step_rules, detection_rules=det_rules, points=total, issued=now,
                                    policy=policy, claim_only=not verdict.flagged)

    if is_licensed and policy.review.licensed_accounts:
        reasons.append("licensed_account")
        details.append("sanctions on a licensed account need a person"
                       + (f" (registry {licensed.registry_id})" if licensed and licensed.registry_id else ""))
    for a in actions:
        limit = policy.review.high_impact.get(a.kind)  # type: ignore[call-overload]
        if limit is not None and account.followers >= limit:
            reasons.append("high_impact")
            details.append(f"{a.kind} on an account with {account.followers} followers (limit {limit})")
    if reasons:
        case = ReviewCase(verdict.id, account.account_id, tuple(reasons), "; ".join(details), tuple(verdict.codes()))
        return Decision("review", actions=actions, strike=strike, case=case, **base)  # type: ignore[arg-type]
    return Decision("act", actions=actions, strike=strike,
                    reason=f"{total} points: {kind}" + (" (repeat offender)" if repeat else ""),
                    **base)  # type: ignore[arg-type]


def _rectification(account: AccountState, verdict: Verdict, now: datetime, policy: LadderPolicy) -> Action:
    cat = max(verdict.categories, key=lambda c: c.score)
    return Action(id=f"{verdict.id}/{RECTIFICATION}", kind=RECTIFICATION, account_id=account.account_id,
                  target="content", subject=verdict.id, category=cat.code, verdict_ids=(verdict.id,),
                  rules=(RULE_RECTIFY,), detection_rules=tuple(r for c in verdict.categories for r in c.rules),
                  policy=policy.ref, points=0, issued_at=now, expires_at=_expires(now, RECTIFICATION, policy),
                  step=False)


# --- review, apply, expire ----------------------------------------------------------


def confirm(decision: Decision, *, reviewer: str, now: datetime) -> Decision:
    """A person accepts a review case's proposal: the actions are issued at ``now``."""
    _aware(now)
    if decision.outcome != "review" or not decision.actions:
        raise QLError(errors.DECISION_NOT_APPLICABLE,
                      f"decision for verdict {decision.verdict_id} has no proposal to confirm"
                      + (" (review-only: a person chooses the action)" if decision.outcome == "review" else ""))
    shifted = tuple(replace(a, issued_at=now, expires_at=None if a.expires_at is None
                            else now + (a.expires_at - a.issued_at), note=f"confirmed by {reviewer}")
                    for a in decision.actions)
    return replace(decision, outcome="act", actions=shifted, confirmed_by=reviewer)


def apply_decision(state: AccountState, decision: Decision) -> AccountState:
    """Record an ``act`` decision's strike and actions. Applying the same decision twice changes nothing."""
    if decision.account_id != state.account_id:
        raise QLError(errors.DECISION_NOT_APPLICABLE,
                      f"decision for account {decision.account_id} applied to account {state.account_id}")
    if decision.outcome == "none":
        return state
    if decision.outcome != "act":
        raise QLError(errors.DECISION_NOT_APPLICABLE,
                      f"decision for verdict {decision.verdict_id} awaits review: confirm it first")
    have = {a.id for a in state.actions}
    new_actions = tuple(a for a in decision.actions if a.id not in have)
    strikes = state.strikes
    if decision.strike is not None and not any(s.verdict_id == decision.strike.verdict_id for s in strikes):
        strikes = (*strikes, decision.strike)
    return replace(state, strikes=strikes, actions=(*state.actions, *new_actions))


def expire(state: AccountState, now: datetime) -> AccountState:
    """Mark active actions whose expiry is at or before ``now`` as expired."""
    _aware(now)
    changed = tuple(replace(a, status="expired", ended_at=a.expires_at)
                    if a.status == "active" and a.expires_at is not None and a.expires_at <= now else a
                    for a in state.actions)
    return replace(state, actions=changed)


# --- reversal -----------------------------------------------------------------------


def reverse(state: AccountState, action_id: str, *, now: datetime, policy: LadderPolicy,
            note: str = "appeal upheld") -> Reversal:
    """An appeal against ``action_id`` is upheld: reverse it, the verdict's strike and every
    action from that verdict, then replay the later strikes without it. Later steps that
    the ladder would now put lower are downgraded (the lower action keeps its original
    issue time and expiry); nothing becomes harsher."""
    _aware(now)
    target = state.action(action_id)
    if target.status == "reversed":
        return Reversal(state)
    bad = set(target.verdict_ids)
    changes: list[Change] = []
    actions: list[Action] = []
    for a in state.actions:
        if bad & set(a.verdict_ids) and a.status != "reversed":
            actions.append(replace(a, status="reversed", ended_at=now, note=note))
            changes.append(Change(a.id, "reversed", note))
        else:
            actions.append(a)
    strikes = tuple(replace(s, reversed_at=now) if s.verdict_id in bad and not s.reversed else s
                    for s in state.strikes)
    cut = min((s.at for s in state.strikes if s.verdict_id in bad), default=target.issued_at)

    # replay, in time order, every strike from the reversed one on
    history: list[Action] = [a for a in actions if a.status != "reversed" and a.issued_at < cut]
    live = sorted((s for s in strikes if not s.reversed), key=lambda s: (s.at, s.verdict_id))
    for s in live:
        mine = [a for a in actions if s.verdict_id in a.verdict_ids and a.status != "reversed"
                and a.kind in STEP_RANK]
        step = next((a for a in mine if a.step), None)
        if s.at < cut or step is None:
            continue
        total = sum(x.points for x in _counting(strikes, s.at, policy))
        kind, _ = _target_step(total, _prior_step_rank(history, s.at, policy), policy)
        if kind is not None and STEP_RANK[kind] >= STEP_RANK[step.kind]:
            history.append(step)
            continue
        why = f"recomputed after reversal of {action_id}: {total} points"
        wanted: tuple[Action, ...] = ()
        if kind is not None:
            wanted = _actions_for_step(kind, account_id=state.account_id, verdict_id=s.verdict_id,
                                       category=step.category, rules=_base_rules(step.rules),
                                       detection_rules=step.detection_rules, points=total, issued=step.issued_at,
                                       policy=policy, suffix="~r")
        wanted_kinds = {w.kind for w in wanted}
        for a in mine:
            if a.kind not in wanted_kinds:
                i = actions.index(a)
                actions[i] = replace(a, status="reversed", ended_at=now, note=why)
                changes.append(Change(a.id, "downgraded", why))
        have = {a.kind: a for a in mine}
        for w in wanted:
            if w.kind in have:
                kept = have[w.kind]
                if w.step and not kept.step:  # an implied removal is now the strike's own step
                    actions[actions.index(kept)] = replace(kept, step=True)
                continue
            status: Status = "expired" if w.expires_at is not None and w.expires_at <= now else "active"
            w = replace(w, status=status, ended_at=w.expires_at if status == "expired" else None, note=why)
            actions.append(w)
            changes.append(Change(w.id, "added", why))
        new_step = next((w for w in wanted if w.step), None)
        if new_step is not None:
            history.append(new_step)
    return Reversal(replace(state, strikes=strikes, actions=tuple(actions)), tuple(changes))


def _base_rules(rules: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(r for r in rules if not r.startswith("step.") and r != RULE_REPEAT)
