"""Appeals: an account holder contests an action; a person upholds or rejects it.

- :func:`file_appeal`: against an ``active`` or ``expired`` action of the tenant (a
  reversed one has nothing left to contest), at most one open appeal per action (the
  action's row is locked on PostgreSQL while checking, so two filers cannot both open one);
- :func:`decide_appeal`: ``upheld`` runs :func:`qinglang.decide.reverse` on the account's
  state and writes what it changed (:func:`persist_reversal`): the action and every action
  from the same verdict reversed, the verdict's strike given ``reversed_at``, later
  ladder steps that would now be lower downgraded (the lower action added). The account's
  points and next step follow from the stored rows, so the next verdict lands lower.
  ``rejected`` changes nothing but the appeal. Whoever filed the appeal, and whoever took
  the decision it is against (the reviewer who confirmed the case behind the action, or
  the person who issued it), may not decide it (``QL-6112``);
- :func:`list_appeals`.

Filing and deciding each append an audit entry (actor = appellant / decider). Functions
flush, never commit. See docs/review.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qinglang import errors
from qinglang.decide import AccountState, LadderPolicy, expire, reverse
from qinglang.errors import QLError
from qinglang.store import audit
from qinglang.store.actions import INGEST_ACTOR, load_account_state, persist_expiry
from qinglang.store.reviews import find_accounts, require_identity
from qinglang.store.tables import Account, ActionRow, Appeal, PostVersion, Review, Strike, VerdictRow

#: how an appeal can end
OUTCOMES = ("upheld", "rejected")
#: ``list_appeals`` status filters
STATUSES = ("open", "upheld", "rejected", "all")
#: actions that can be appealed (a reversed one has nothing left to contest)
APPEALABLE = ("active", "expired")


@dataclass(frozen=True, slots=True)
class AppealView:
    """One appeal with the action it contests."""

    id: int
    tenant: str
    action_id: int
    action_key: str | None
    action_kind: str
    action_status: str
    account: str
    appellant: str
    reason: str
    status: str
    decided_by: str | None
    decision_note: str | None
    changes: list[dict[str, Any]]
    created_at: datetime
    decided_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "tenant": self.tenant, "action_id": self.action_id, "action_key": self.action_key,
            "action_kind": self.action_kind, "action_status": self.action_status, "account": self.account,
            "appellant": self.appellant, "reason": self.reason, "status": self.status,
            "decided_by": self.decided_by, "decision_note": self.decision_note, "changes": self.changes,
            "created_at": self.created_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise QLError(errors.NAIVE_TIME, f"'now' must be time-zone aware (got {now.isoformat()})")


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def find_action(session: Session, tenant: str, ref: str | int, *, lock: bool = False) -> ActionRow:
    """An action by its row id (digits) or its key (``<post id>#<version>/<kind>``); ``QL-6107`` if none."""
    text = str(ref).strip()
    stmt = select(ActionRow).where(ActionRow.tenant == tenant,
                                   ActionRow.id == int(text) if text.isdigit() else ActionRow.idem_key == text)
    if lock and _is_pg(session):
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise QLError(errors.APPEAL_ACTION_NOT_FOUND, f"tenant '{tenant}' has no action '{text}'")
    return row


def file_appeal(session: Session, tenant: str, action_ref: str | int, appellant: str, reason: str = "", *,
                now: datetime) -> AppealView:
    """Open an appeal against an action. ``QL-6107`` unknown action, ``QL-6108`` already
    reversed, ``QL-6109`` an appeal against it is open, ``QL-6113`` no appellant."""
    appellant = require_identity(appellant, "appellant")
    _aware(now)
    action = find_action(session, tenant, action_ref, lock=True)
    if action.status not in APPEALABLE:
        raise QLError(errors.APPEAL_NOT_ALLOWED, f"action {action.id} ({action.kind}) is {action.status}: "
                      "nothing left to appeal")
    open_id = session.scalar(select(Appeal.id).where(Appeal.action_id == action.id, Appeal.status == "open"))
    if open_id is not None:
        raise QLError(errors.APPEAL_ALREADY_OPEN, f"appeal {open_id} against action {action.id} is still open")
    row = Appeal(tenant=tenant, action_id=action.id, appellant=appellant, reason=reason, status="open",
                 created_at=now)
    session.add(row)
    session.flush()
    account = session.get(Account, action.account_id)
    audit.append(session, actor=appellant, action="appeal.file", subject=f"appeal:{row.id}", at=now, tenant=tenant,
                 payload={"appeal_id": row.id, "action_id": action.id, "action_key": action.idem_key,
                          "kind": action.kind, "account": account.external_id if account else None,
                          "reason": reason})
    return _view(session, row, action)


def deciders_barred(session: Session, action: ActionRow) -> set[str]:
    """Who took the decision an appeal against ``action`` contests: its issuer (unless
    ingest issued it) and every reviewer who confirmed or re-categorised a verdict behind it."""
    barred = {action.created_by} - {INGEST_ACTOR}
    verdict_ids = [int(v) for v in action.cause_verdict_ids]
    if verdict_ids:
        barred |= set(session.scalars(select(Review.reviewer).where(
            Review.verdict_id.in_(verdict_ids), Review.decision.in_(("confirm", "recategorize")))))
    return barred


def decide_appeal(session: Session, tenant: str, appeal_id: int, decider: str, outcome: str, note: str = "", *,
                  now: datetime, policy: LadderPolicy) -> AppealView:
    """Uphold (reverse the action and recompute the ladder) or reject an open appeal.

    ``QL-6110`` unknown appeal, ``QL-6111`` already decided, ``QL-6112`` the decider
    filed it or took the decision it contests, ``QL-6105`` an outcome other than
    ``upheld``/``rejected``.
    """
    decider = require_identity(decider, "decider")
    _aware(now)
    if outcome not in OUTCOMES:
        raise QLError(errors.REVIEW_INVALID, f"unknown appeal outcome '{outcome}' (one of {', '.join(OUTCOMES)})")
    stmt = select(Appeal).where(Appeal.id == appeal_id, Appeal.tenant == tenant)
    if _is_pg(session):
        stmt = stmt.with_for_update()
    appeal = session.scalars(stmt).first()
    if appeal is None:
        raise QLError(errors.APPEAL_NOT_FOUND, f"tenant '{tenant}' has no appeal {appeal_id}")
    session.refresh(appeal)
    if appeal.status != "open":
        raise QLError(errors.APPEAL_DECIDED, f"appeal {appeal_id} was {appeal.status} by {appeal.decided_by}")
    action = find_action(session, tenant, appeal.action_id, lock=True)
    if decider == appeal.appellant:
        raise QLError(errors.APPEAL_CONFLICT, f"{decider} filed appeal {appeal_id} and cannot decide it")
    if decider in deciders_barred(session, action):
        raise QLError(errors.APPEAL_CONFLICT, f"{decider} took the decision behind action {action.id} and cannot "
                      f"decide the appeal against it", hint="another reviewer must decide it")
    changes: list[dict[str, Any]] = []
    if outcome == "upheld":
        account = session.get(Account, action.account_id)
        if account is None:  # pragma: no cover - actions cascade with their account
            raise QLError(errors.ACCOUNT_NOT_FOUND, f"action {action.id} has no account")
        state = load_account_state(session, account)
        current = expire(state, now)
        persist_expiry(session, account, state, current)
        key = action.idem_key or f"row:{action.id}"
        reversal = reverse(current, key, now=now, policy=policy, note=f"appeal {appeal_id} upheld by {decider}")
        persist_reversal(session, account, current, reversal.state, actor=decider)
        changes = [{"action_key": c.action_id, "change": c.change, "note": c.note} for c in reversal.changes]
    appeal.status = outcome
    appeal.decided_by = decider
    appeal.decision_note = note or None
    appeal.decided_at = now
    appeal.changes = changes
    session.flush()
    account_row = session.get(Account, action.account_id)
    audit.append(session, actor=decider, action=f"appeal.{outcome}", subject=f"appeal:{appeal_id}", at=now,
                 tenant=tenant, payload={"appeal_id": appeal_id, "action_id": action.id,
                                         "action_key": action.idem_key, "appellant": appeal.appellant,
                                         "account": account_row.external_id if account_row else None,
                                         "note": note, "changes": changes})
    return _view(session, appeal, action)


def persist_reversal(session: Session, account: Account, before: AccountState, after: AccountState, *,
                     actor: str) -> dict[str, int]:
    """Write what :func:`qinglang.decide.reverse` changed between ``before`` and ``after``.

    Actions are matched by key (``actions.idem_key``): changed ones get the new status,
    ``ended_at``, note and step flag; new ones (the lower steps a reversal adds) are
    inserted with ``created_by`` = ``actor``. Strikes newly reversed get ``reversed_at``.
    """
    counts = {"reversed": 0, "added": 0, "strikes": 0}
    rows = {r.idem_key or f"row:{r.id}": r for r in session.scalars(
        select(ActionRow).where(ActionRow.account_id == account.id))}
    keys = _verdict_keys(session, [int(v) for r in rows.values() for v in r.cause_verdict_ids]
                         + list(session.scalars(select(Strike.verdict_id).where(Strike.account_id == account.id))))
    row_of_key = {k: i for i, k in keys.items()}
    was = {a.id: a for a in before.actions}
    for a in after.actions:
        old = was.get(a.id)
        if old is not None:
            if old == a:
                continue
            row = rows[a.id]
            if a.status == "reversed" and row.status != "reversed":
                counts["reversed"] += 1
            row.status, row.ended_at, row.note, row.step = a.status, a.ended_at, a.note, a.step
            continue
        verdict_rows = [row_of_key[v] for v in a.verdict_ids if v in row_of_key]
        subject = a.verdict_ids[0].rsplit("#", 1)[0] if a.target == "content" and a.verdict_ids else a.subject
        session.add(ActionRow(
            tenant=account.tenant, account_id=account.id, kind=a.kind, target=a.target, subject=subject,
            category=a.category or None, status=a.status, starts_at=a.issued_at, expires_at=a.expires_at,
            ended_at=a.ended_at, cause_verdict_ids=verdict_rows, rule_ids=list(a.rules),
            detection_rule_ids=list(a.detection_rules), policy=a.policy, points=a.points, step=a.step, note=a.note,
            idem_key=a.id, created_by=actor, created_at=a.issued_at))
        counts["added"] += 1
    struck = {(s.verdict_id, s.category) for s in before.strikes if s.reversed_at is None}
    for s in after.strikes:
        if s.reversed_at is not None and (s.verdict_id, s.category) in struck and s.verdict_id in row_of_key:
            for row in session.scalars(select(Strike).where(Strike.verdict_id == row_of_key[s.verdict_id],
                                                            Strike.category == s.category,
                                                            Strike.reversed_at.is_(None))):
                row.reversed_at = s.reversed_at
                counts["strikes"] += 1
    session.flush()
    return counts


def _verdict_keys(session: Session, verdict_row_ids: Iterable[int]) -> dict[int, str]:
    """Verdict row id -> the decision key the ladder names it by (``<post id>#<version>``)."""
    ids = sorted(set(verdict_row_ids))
    if not ids:
        return {}
    rows = session.execute(select(VerdictRow.id, PostVersion.post_id, PostVersion.version)
                           .join(PostVersion, VerdictRow.post_version_id == PostVersion.id)
                           .where(VerdictRow.id.in_(ids)))
    return {vid: f"{pid}#{ver}" for vid, pid, ver in rows}


def list_appeals(session: Session, tenant: str, *, status: str = "open", account: str | None = None,
                 limit: int = 50) -> list[AppealView]:
    """The tenant's appeals, oldest first; ``account`` (an external id) keeps that account's."""
    if status not in STATUSES:
        raise QLError(errors.REVIEW_INVALID, f"unknown status '{status}' (one of {', '.join(STATUSES)})")
    if limit < 1:
        raise QLError(errors.REVIEW_INVALID, f"limit must be at least 1, not {limit}")
    stmt = select(Appeal, ActionRow).join(ActionRow, Appeal.action_id == ActionRow.id).where(Appeal.tenant == tenant)
    if status != "all":
        stmt = stmt.where(Appeal.status == status)
    if account is not None:
        stmt = stmt.where(ActionRow.account_id.in_([a.id for a in find_accounts(session, tenant, account)]))
    return [_view(session, ap, ac) for ap, ac in session.execute(stmt.order_by(Appeal.created_at, Appeal.id)
                                                                  .limit(limit))]


def get_appeal(session: Session, tenant: str, appeal_id: int) -> AppealView:
    """One appeal; ``QL-6110`` when the tenant has none with this id."""
    row = session.scalars(select(Appeal).where(Appeal.id == appeal_id, Appeal.tenant == tenant)).first()
    if row is None:
        raise QLError(errors.APPEAL_NOT_FOUND, f"tenant '{tenant}' has no appeal {appeal_id}")
    return _view(session, row, find_action(session, tenant, row.action_id))


def _view(session: Session, appeal: Appeal, action: ActionRow) -> AppealView:
    account = session.get(Account, action.account_id)
    return AppealView(id=appeal.id, tenant=appeal.tenant, action_id=action.id, action_key=action.idem_key,
                      action_kind=action.kind, action_status=action.status,
                      account=account.external_id if account else "", appellant=appeal.appellant,
                      reason=appeal.reason, status=appeal.status, decided_by=appeal.decided_by,
                      decision_note=appeal.decision_note, changes=list(appeal.changes or []),
                      created_at=appeal.created_at, decided_at=appeal.decided_at)


__all__ = [
    "APPEALABLE",
    "OUTCOMES",
    "STATUSES",
    "AppealView",
    "decide_appeal",
    "deciders_barred",
    "file_appeal",
    "find_action",
    "get_appeal",
    "list_appeals",
    "persist_reversal",
]
