"""The review queue: open cases listed by priority, claimed by one reviewer at a time, decided.

Ingest opens a case when the ladder wants a person (``store.actions.persist_decision``,
outcome ``review``). Here a reviewer works the queue:

- :func:`list_cases`: a tenant's cases, highest priority first, then oldest;
- :func:`claim` / :func:`claim_next`: take a case. A claim is one **conditional update**
  (``... WHERE id = ? AND <claimable>``) whose row count says who won, so of two
  sessions racing for a case exactly one gets it: on PostgreSQL the loser's update waits
  for the winner's row lock and then finds the case no longer claimable; on SQLite the
  database has one writer. ``claim_next`` on PostgreSQL picks with ``FOR UPDATE SKIP
  LOCKED``, so reviewers asking for work at the same moment get different cases instead
  of queueing on one. A claim older than the lease (:data:`DEFAULT_LEASE`) can be taken
  over, so a reviewer who walks away does not block a case for ever;
- :func:`release`: give a claimed case back to the queue;
- :func:`decide_case`: ``confirm`` (the ladder acts on the verdict as detected),
  ``overturn`` (a false positive: nothing happens), ``recategorize`` (the ladder acts on
  the categories the reviewer gives). Only the claimer decides, once.

Confirming re-runs the ladder (``qinglang.decide.decide``) on the stored verdict and the
account's state *now* (not the proposal from ingest time: strikes may have been added or
reversed meanwhile), with the review gates lifted because a person has just passed them;
the strike and actions are written by ``persist_decision`` with the reviewer as
``created_by``. Every claim, release and decision appends an audit entry (actor = the
reviewer) in the same transaction. Functions flush, never commit. See docs/review.md.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, or_, select, update
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from qinglang import errors
from qinglang.decide import Decision, LadderPolicy, LicenceStatus, confirm, decide, expire
from qinglang.errors import QLError
from qinglang.model import CategoryScore, Verdict
from qinglang.policy.loader import taxonomy
from qinglang.store import audit
from qinglang.store.actions import decision_key, load_account_state, persist_decision, persist_expiry
from qinglang.store.tables import Account, Case, CaseVerdict, PostVersion, RegistryEntity, Review, VerdictRow

#: how long a claim holds before another reviewer may take the case over
DEFAULT_LEASE = timedelta(minutes=30)
#: what a reviewer can decide
DECISIONS = ("confirm", "overturn", "recategorize")
#: the decide layer's reasons for a case (``qinglang.decide.ReviewCase.reasons``)
REASONS = ("review_only_category", "low_confidence", "licensed_account", "high_impact")
#: ``list_cases`` status filters; ``waiting`` = what a reviewer could claim now
STATUSES = ("waiting", "open", "claimed", "closed", "all")


# --- what the queue shows -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CasePost:
    """A post version a case holds, as the reviewer needs it to decide."""

    verdict_id: int
    post_id: str
    version: int
    categories: list[dict[str, Any]]
    fields: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        text = {k: v for k, v in self.fields.items() if k in ("text", "title", "transcript", "ocr", "bio", "links")}
        return {"verdict_id": self.verdict_id, "post_id": self.post_id, "version": self.version,
                "categories": self.categories, **text}


@dataclass(frozen=True, slots=True)
class CaseView:
    """One case as the queue lists it."""

    id: int
    tenant: str
    title: str
    status: str
    priority: int
    reasons: list[str]
    categories: list[str]
    detail: str
    account: str | None
    assignee: str | None
    claimed_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
    posts: list[CasePost] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "tenant": self.tenant, "title": self.title, "status": self.status,
            "priority": self.priority, "reasons": self.reasons, "categories": self.categories,
            "detail": self.detail, "account": self.account, "assignee": self.assignee,
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "created_at": self.created_at.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "posts": [p.to_dict() for p in self.posts],
        }


@dataclass(frozen=True, slots=True)
class ReviewResult:
    """What :func:`decide_case` recorded: one entry per verdict in the case."""

    case_id: int
    reviewer: str
    decision: str
    note: str
    verdicts: list[dict[str, Any]]

    @property
    def actions(self) -> list[str]:
        return [k for v in self.verdicts for k in v["actions"]]

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "reviewer": self.reviewer, "decision": self.decision,
                "note": self.note, "actions": self.actions, "verdicts": self.verdicts}


# --- checks -----------------------------------------------------------------------------


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise QLError(errors.NAIVE_TIME, f"'now' must be time-zone aware (got {now.isoformat()})")


def require_identity(who: str | None, role: str) -> str:
    """A reviewer, appellant or decider must be named: the audit log records who did what."""
    name = (who or "").strip()
    if not name:
        raise QLError(errors.IDENTITY_REQUIRED, f"the {role} must be named", hint="pass --as NAME")
    if len(name) > 128:
        raise QLError(errors.IDENTITY_REQUIRED, f"the {role}'s name is longer than 128 characters")
    return name


def check_categories(codes: Iterable[str], code: errors.ErrorCode = errors.REVIEW_INVALID) -> list[str]:
    """Category codes from a person: each must be in the taxonomy (with a "did you mean")."""
    known = list(taxonomy())
    out: list[str] = []
    for c in codes:
        c = c.strip()
        if c not in known:
            near = difflib.get_close_matches(c, known, n=1)
            raise QLError(code, f"unknown category '{c}'", hint=f"did you mean '{near[0]}'?" if near else None)
        if c not in out:
            out.append(c)
    return out


def find_accounts(session: Session, tenant: str, external_id: str) -> list[Account]:
    """The tenant's accounts with this id (one per platform); none is ``QL-6106``."""
    rows = list(session.scalars(select(Account).where(Account.tenant == tenant, Account.external_id == external_id)))
    if not rows:
        raise QLError(errors.ACCOUNT_NOT_FOUND, f"tenant '{tenant}' has no account '{external_id}'")
    return rows


def _claimable(reviewer: str, now: datetime, lease: timedelta) -> ColumnElement[bool]:
    """Open, or claimed by this reviewer, or claimed longer ago than the lease."""
    return or_(
        Case.status == "open",
        and_(Case.status == "claimed",
             or_(Case.assignee == reviewer, Case.claimed_at.is_(None), Case.claimed_at <= now - lease)),
    )


def _has(column: Any, code: str) -> ColumnElement[bool]:
    """A JSON list column holds ``code`` (portable: the JSON text contains ``"code"``)."""
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(column, String).like(f'%"{escaped}"%', escape="\\")


def _filters(tenant: str, category: str | None, reason: str | None,
             account_ids: Sequence[int] | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Case.tenant == tenant]
    if category is not None:
        where.append(_has(Case.categories, check_categories([category])[0]))
    if reason is not None:
        if reason not in REASONS:
            raise QLError(errors.REVIEW_INVALID, f"unknown case reason '{reason}' (one of {', '.join(REASONS)})")
        where.append(_has(Case.reasons, reason))
    if account_ids is not None:
        where.append(Case.account_id.in_(account_ids))
    return where


_ORDER = (Case.priority.desc(), Case.created_at, Case.id)


# --- listing ----------------------------------------------------------------------------


def list_cases(session: Session, tenant: str, *, status: str = "waiting", category: str | None = None,
               reason: str | None = None, account: str | None = None, limit: int = 50,
               now: datetime | None = None, lease: timedelta = DEFAULT_LEASE) -> list[CaseView]:
    """The tenant's cases, highest priority first, then oldest.

    ``status``: ``waiting`` (claimable now: open, or claimed longer ago than ``lease``),
    ``open``, ``claimed``, ``closed`` or ``all``. ``category``/``reason`` keep the cases
    that carry them; ``account`` (an external id) those of that account.
    """
    if status not in STATUSES:
        raise QLError(errors.REVIEW_INVALID, f"unknown status '{status}' (one of {', '.join(STATUSES)})")
    if limit < 1:
        raise QLError(errors.REVIEW_INVALID, f"limit must be at least 1, not {limit}")
    accounts = [a.id for a in find_accounts(session, tenant, account)] if account is not None else None
    where = _filters(tenant, category, reason, accounts)
    if status == "waiting":
        if now is None:
            raise QLError(errors.REVIEW_INVALID, "listing waiting cases needs 'now'")
        _aware(now)
        where.append(_claimable("", now, lease))
    elif status != "all":
        where.append(Case.status == status)
    cases = list(session.scalars(select(Case).where(*where).order_by(*_ORDER).limit(limit)))
    return _views(session, cases)


def get_case(session: Session, tenant: str, case_id: int) -> CaseView:
    """One case with its posts; an id the tenant does not have is ``QL-6101``."""
    return _views(session, [_case(session, tenant, case_id)])[0]


def _case(session: Session, tenant: str, case_id: int) -> Case:
    row = session.scalars(select(Case).where(Case.id == case_id, Case.tenant == tenant)).first()
    if row is None:
        raise QLError(errors.CASE_NOT_FOUND, f"tenant '{tenant}' has no case {case_id}")
    session.refresh(row)  # a conditional update may have changed it behind the identity map
    return row


def _views(session: Session, cases: list[Case]) -> list[CaseView]:
    ids = [c.id for c in cases]
    posts: dict[int, list[CasePost]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(
            select(CaseVerdict.case_id, VerdictRow, PostVersion)
            .join(VerdictRow, CaseVerdict.verdict_id == VerdictRow.id)
            .join(PostVersion, VerdictRow.post_version_id == PostVersion.id)
            .where(CaseVerdict.case_id.in_(ids)).order_by(CaseVerdict.case_id, VerdictRow.id))
        for case_id, verdict, post in rows:
            posts[case_id].append(CasePost(verdict.id, post.post_id, post.version, list(verdict.categories),
                                           dict(post.fields)))
    account_ids = {c.account_id for c in cases if c.account_id is not None}
    names: dict[int, str] = {}
    if account_ids:
        names = {i: name for i, name in session.execute(select(Account.id, Account.external_id)
                                                        .where(Account.id.in_(account_ids)))}
    return [CaseView(id=c.id, tenant=c.tenant, title=c.title, status=c.status, priority=c.priority,
                     reasons=list(c.reasons), categories=list(c.categories), detail=c.detail,
                     account=names.get(c.account_id) if c.account_id is not None else None,
                     assignee=c.assignee, claimed_at=c.claimed_at, created_at=c.created_at,
                     closed_at=c.closed_at, posts=posts[c.id]) for c in cases]


# --- claiming ---------------------------------------------------------------------------


def _why_not(session: Session, tenant: str, case_id: int, reviewer: str, *, deciding: bool) -> QLError:
    """After a conditional update matched nothing: the coded error that says why."""
    row = _case(session, tenant, case_id)
    if row.status == "closed":
        return QLError(errors.CASE_CLOSED, f"case {case_id} was decided at {row.closed_at.isoformat()}"
                       if row.closed_at else f"case {case_id} is closed")
    if deciding or row.status == "open":
        holder = f"claimed by {row.assignee}" if row.status == "claimed" else "not claimed"
        return QLError(errors.CASE_NOT_CLAIMED, f"case {case_id} is {holder}; {reviewer} must claim it first",
                       hint="qinglang review claim CASE_ID")
    return QLError(errors.CASE_CLAIMED, f"case {case_id} is claimed by {row.assignee} since "
                   f"{row.claimed_at.isoformat() if row.claimed_at else '?'}")


def claim(session: Session, tenant: str, case_id: int, reviewer: str, *, now: datetime,
          lease: timedelta = DEFAULT_LEASE) -> CaseView:
    """Claim one case for ``reviewer`` (again, if they hold it: the lease restarts).

    ``QL-6101`` unknown case, ``QL-6102`` closed, ``QL-6103`` another reviewer holds it
    and their lease has not run out.
    """
    reviewer = require_identity(reviewer, "reviewer")
    _aware(now)
    res = session.execute(
        update(Case).where(Case.id == case_id, Case.tenant == tenant, _claimable(reviewer, now, lease))
        .values(status="claimed", assignee=reviewer, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise _why_not(session, tenant, case_id, reviewer, deciding=False)
    _audit(session, tenant, reviewer, "review.claim", case_id, {"lease_s": int(lease.total_seconds())}, now)
    return get_case(session, tenant, case_id)


def claim_next(session: Session, tenant: str, reviewer: str, *, now: datetime, lease: timedelta = DEFAULT_LEASE,
               category: str | None = None, reason: str | None = None) -> CaseView | None:
    """Claim the waiting case at the head of the queue (priority, then age); None when none waits.

    A case ``reviewer`` already holds comes first, so asking twice does not hoard cases.
    """
    reviewer = require_identity(reviewer, "reviewer")
    _aware(now)
    where = [*_filters(tenant, category, reason, None), _claimable(reviewer, now, lease)]
    mine = when((Case.assignee == reviewer, 0), else_=1)  # NULL-safe on both backends
    for _ in range(8):
        if session.get_bind().dialect.name == "postgresql":
            # skip rows another claimer holds locked instead of queueing behind them
            case_id = session.scalar(select(Case.id).where(*where).order_by(mine, *_ORDER).limit(1)
                                     .with_for_update(skip_locked=True))
            if case_id is None:
                return None
            stmt = update(Case).where(Case.id == case_id, *where)
        else:
            # one statement (SQLite has one writer; a read before the write could go stale)
            head = select(Case.id).where(*where).order_by(mine, *_ORDER).limit(1).scalar_subquery()
            stmt = update(Case).where(Case.id == head)
        got = session.execute(stmt.values(status="claimed", assignee=reviewer, claimed_at=now, updated_at=now)
                              .returning(Case.id).execution_options(synchronize_session=False)).scalar()
        if got is not None:
            _audit(session, tenant, reviewer, "review.claim", got, {"lease_s": int(lease.total_seconds()),
                                                                      "next": True}, now)
            return get_case(session, tenant, got)
        if session.get_bind().dialect.name != "postgresql":
            return None
    return None  # pragma: no cover - only under extreme contention


def release(session: Session, tenant: str, case_id: int, reviewer: str, *, now: datetime) -> CaseView:
    """Give a claimed case back to the queue; only its claimer can (``QL-6104`` otherwise)."""
    reviewer = require_identity(reviewer, "reviewer")
    _aware(now)
    res = session.execute(
        update(Case).where(Case.id == case_id, Case.tenant == tenant, Case.status == "claimed",
                           Case.assignee == reviewer)
        .values(status="open", assignee=None, claimed_at=None, updated_at=now)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise _why_not(session, tenant, case_id, reviewer, deciding=True)
    _audit(session, tenant, reviewer, "review.release", case_id, {}, now)
    return get_case(session, tenant, case_id)


# --- deciding ---------------------------------------------------------------------------


def reviewed_policy(policy: LadderPolicy) -> LadderPolicy:
    """The ladder as applied after a person looked: the review gates are what they just passed."""
    review = policy.review.model_copy(update={"categories": [], "confidence_floor": 0.0,
                                              "licensed_accounts": False, "high_impact": {}})
    return policy.model_copy(update={"review": review})


def stored_verdict(row: VerdictRow, key: str, categories: list[str] | None = None) -> Verdict:
    """The stored verdict as the decide layer takes it, named by its decision key.

    ``categories`` (a reviewer's re-categorisation) replace the detected ones: a code the
    verdict had keeps its score, severity and rules; a new one gets score 1 (a person
    said so) and the taxonomy's severity. Nothing is review-only any more.
    """
    detected = {c["code"]: CategoryScore(code=c["code"], score=float(c.get("score", 1.0)),
                                         severity=c.get("severity", "medium"), review_only=False,
                                         rules=list(c.get("rules", [])))
                for c in row.categories}
    if categories is None:
        cats = list(detected.values())
    else:
        tax = taxonomy()
        cats = [detected.get(code) or CategoryScore(code, 1.0, tax[code].severity, False, []) for code in categories]
    return Verdict(id=key, categories=cats, severity=row.severity, review_only=False, hits=[], entities=[],
                   versions=dict(row.versions))


def _licence(session: Session, case: Case, account: Account, now: datetime) -> LicenceStatus | None:
    """What the registry says of the account now, for the ladder's licensing rules.

    An account bound to a registry entity (declared, or matched at ingest) is licensed
    while the entity is in force (not retired, within its validity dates) and unlicensed
    once it lapsed, as at ingest. Unbound: ``licensed`` only if the case was opened for a
    licensed account (``licensed_account``, from data stored before bindings were);
    otherwise unknown (``None``), as ingest without a registry.
    """
    if account.registry_entity_id is not None:
        entity = session.get(RegistryEntity, account.registry_entity_id)
        if entity is not None:
            today = now.date()
            in_force = (entity.retired_at is None and (entity.valid_from is None or entity.valid_from <= today)
                        and (entity.valid_to is None or today <= entity.valid_to))
            return LicenceStatus(licensed=in_force, registry_id=entity.entry_id)
    if "licensed_account" in case.reasons:
        return LicenceStatus(licensed=True)
    return None


def decide_case(session: Session, tenant: str, case_id: int, reviewer: str, decision: str, *, now: datetime,
                policy: LadderPolicy, categories: Sequence[str] | None = None, note: str = "") -> ReviewResult:
    """Record a reviewer's decision on a claimed case, act on it, close the case.

    ``confirm``: the ladder acts on each verdict as detected. ``overturn``: nothing is
    done and the verdict is recorded as a false positive. ``recategorize``: the ladder
    acts on ``categories`` (codes from the taxonomy) instead. One ``reviews`` row per
    verdict, one audit entry. ``QL-6101`` unknown case, ``QL-6102`` already decided,
    ``QL-6104`` not claimed by ``reviewer``, ``QL-6105`` a bad decision or category.
    """
    reviewer = require_identity(reviewer, "reviewer")
    _aware(now)
    if decision not in DECISIONS:
        raise QLError(errors.REVIEW_INVALID, f"unknown decision '{decision}' (one of {', '.join(DECISIONS)})")
    chosen: list[str] | None = None
    if decision == "recategorize":
        chosen = check_categories(categories or [])
        if not chosen:
            raise QLError(errors.REVIEW_INVALID, "recategorize needs at least one category",
                          hint="use 'overturn' when nothing is wrong with the post")
    elif categories:
        raise QLError(errors.REVIEW_INVALID, f"'{decision}' takes no categories", hint="use 'recategorize'")
    # the close comes first: it is the check that this reviewer holds the claim, atomically
    res = session.execute(
        update(Case).where(Case.id == case_id, Case.tenant == tenant, Case.status == "claimed",
                           Case.assignee == reviewer)
        .values(status="closed", closed_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise _why_not(session, tenant, case_id, reviewer, deciding=True)
    case = _case(session, tenant, case_id)
    account = session.get(Account, case.account_id) if case.account_id is not None else None
    links = session.execute(
        select(VerdictRow, PostVersion).join(CaseVerdict, CaseVerdict.verdict_id == VerdictRow.id)
        .join(PostVersion, VerdictRow.post_version_id == PostVersion.id)
        .where(CaseVerdict.case_id == case_id).order_by(VerdictRow.id)).all()
    done: list[dict[str, Any]] = []
    for verdict_row, post in links:
        detected = [c["code"] for c in verdict_row.categories]
        labels = [] if decision == "overturn" else (chosen if chosen is not None else detected)
        entry: dict[str, Any] = {"verdict_row_id": verdict_row.id, "post_id": post.post_id,
                                 "version": post.version, "previous_categories": detected, "categories": labels,
                                 "outcome": "none", "reason": "", "actions": [], "strikes": 0}
        if decision == "overturn":
            entry["reason"] = "overturned: false positive"
        elif account is None:
            entry["reason"] = "the case has no account to act on"
        else:
            made = _act(session, case, account, verdict_row, post, chosen, reviewer=reviewer, now=now, policy=policy)
            entry.update(outcome=made[0].outcome, reason=made[0].reason, decision=made[0].to_dict(),
                         actions=made[1], strikes=made[2])
        session.add(Review(tenant=tenant, verdict_id=verdict_row.id, case_id=case_id, reviewer=reviewer,
                           decision=decision, categories=labels, previous_categories=detected, note=note or None,
                           created_at=now))
        done.append(entry)
    session.flush()
    result = ReviewResult(case_id, reviewer, decision, note, done)
    _audit(session, tenant, reviewer, f"review.{decision}", case_id,
           {"categories": chosen, "note": note, "account": account.external_id if account else None,
            "verdicts": done}, now)
    return result


def _act(session: Session, case: Case, account: Account, verdict_row: VerdictRow, post: PostVersion,
         chosen: list[str] | None, *, reviewer: str, now: datetime,
         policy: LadderPolicy) -> tuple[Decision, list[str], int]:
    """Decide one verdict of a confirmed or re-categorised case now, as the reviewer; persist it."""
    state = load_account_state(session, account)
    current = expire(state, now)
    persist_expiry(session, account, state, current)
    verdict = stored_verdict(verdict_row, decision_key(post.post_id, post.version), chosen)
    licensed = _licence(session, case, account, now)
    d = decide(current, verdict, now=now, licensed=licensed, policy=reviewed_policy(policy))
    if d.outcome == "act":
        # the pure confirm: issued now, noted "confirmed by", confirmed_by set
        d = confirm(replace(d, outcome="review"), reviewer=reviewer, now=now) if d.actions \
            else replace(d, confirmed_by=reviewer)
    done = persist_decision(session, d, account=account, post_version=post, verdict_row=verdict_row, actor=reviewer)
    return d, done.actions, done.strikes


def _audit(session: Session, tenant: str, actor: str, action: str, case_id: int, payload: dict[str, Any],
           now: datetime) -> None:
    audit.append(session, actor=actor, action=action, subject=f"case:{case_id}", payload={"case_id": case_id,
                 **payload}, at=now, tenant=tenant)


__all__ = [
    "DECISIONS",
    "DEFAULT_LEASE",
    "REASONS",
    "STATUSES",
    "CasePost",
    "CaseView",
    "ReviewResult",
    "check_categories",
    "claim",
    "claim_next",
    "decide_case",
    "find_accounts",
    "get_case",
    "list_cases",
    "release",
    "require_identity",
    "reviewed_policy",
    "stored_verdict",
]
