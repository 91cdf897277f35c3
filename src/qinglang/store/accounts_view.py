"""What the store knows about an account, for people (``qinglang accounts``) and the HTTP service.

:func:`account_view` gathers one account: its linked registry entity and how it was
bound, its strikes (which count toward the ladder now), its actions with their causes,
its latest posts and verdicts, its open cases and its appeals. :func:`list_accounts`
ranks a tenant's accounts by points in the window or by their latest action, for a
reviewer's queue. Everything is returned as plain values (``datetime`` stays a
``datetime``; ``orjson`` writes ISO 8601), so the CLI and an API render the same thing.

Points count as the ladder counts them (:meth:`qinglang.decide.AccountState.points`):
strikes not reversed, in the window ``(now - window_days, now]``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from qinglang import errors
from qinglang.decide import LadderPolicy
from qinglang.errors import QLError
from qinglang.store.registry_store import MATCHED, _aliases, entity_dict
from qinglang.store.tables import (
    Account,
    ActionRow,
    Appeal,
    Case,
    PostVersion,
    RegistryEntity,
    Strike,
    VerdictRow,
)

SortKey = Literal["points", "recent"]
SORT_KEYS: tuple[str, ...] = ("points", "recent")


def find_account(session: Session, tenant: str, external_id: str, platform: str | None = None) -> Account:
    """The tenant's account with this id (on ``platform`` when given; ``""`` is "no platform").

    ``QL-6106`` when there is none; ``QL-6201`` when ``platform`` is left out and the
    id exists on several platforms (the hint lists them).
    """
    stmt = select(Account).where(Account.tenant == tenant, Account.external_id == external_id)
    if platform is not None:
        stmt = stmt.where(Account.platform == platform)
    rows = list(session.scalars(stmt.order_by(Account.platform)))
    if not rows:
        where = f" on platform {platform!r}" if platform else ""
        raise QLError(errors.ACCOUNT_NOT_FOUND, f"tenant {tenant!r} has no account {external_id!r}{where}",
                      hint="'qinglang accounts list --tenant T' shows the accounts with strikes or actions")
    if len(rows) > 1:
        raise QLError(errors.ACCOUNT_AMBIGUOUS,
                      f"account {external_id!r} exists on {len(rows)} platforms in tenant {tenant!r}",
                      hint="give --platform: " + ", ".join(repr(r.platform) for r in rows))
    return rows[0]


def _window_start(now: datetime, policy: LadderPolicy) -> datetime:
    return now - timedelta(days=policy.window_days)


def _counts(at: datetime, reversed_at: datetime | None, now: datetime, start: datetime) -> bool:
    """The ladder's rule for a strike that counts (``decide.ladder._counting``)."""
    return reversed_at is None and start < at <= now


def _binding(session: Session, account: Account, now: datetime) -> dict[str, Any] | None:
    if account.registry_entity_id is None:
        return None
    row = session.get(RegistryEntity, account.registry_entity_id)
    if row is None:  # pragma: no cover - the foreign key sets NULL on delete
        return None
    entity = entity_dict(row, _aliases(session, [row.id]).get(row.id, ()), on=now.date())
    # a binding written before binding_source existed can only have come from a name match at ingest
    return {"entity": entity, "source": account.binding_source or MATCHED, "bound_at": account.bound_at,
            "bound_by": account.bound_by}


def _post_keys(session: Session, verdict_ids: set[int]) -> dict[int, dict[str, Any]]:
    if not verdict_ids:
        return {}
    rows = session.execute(select(VerdictRow.id, PostVersion.post_id, PostVersion.version)
                           .join(PostVersion, VerdictRow.post_version_id == PostVersion.id)
                           .where(VerdictRow.id.in_(sorted(verdict_ids))))
    return {vid: {"verdict_id": vid, "post_id": pid, "version": ver} for vid, pid, ver in rows}


def account_view(session: Session, account: Account, *, now: datetime, policy: LadderPolicy,
                 history: int = 20) -> dict[str, Any]:
    """Everything about one account as plain values; ``history`` latest post versions with verdicts."""
    start = _window_start(now, policy)
    strikes = list(session.scalars(select(Strike).where(Strike.account_id == account.id)
                                   .order_by(Strike.at.desc(), Strike.id.desc())))
    actions = list(session.scalars(select(ActionRow).where(ActionRow.account_id == account.id)
                                   .order_by(ActionRow.starts_at.desc(), ActionRow.id.desc())))
    keys = _post_keys(session, {s.verdict_id for s in strikes}
                      | {int(v) for a in actions for v in a.cause_verdict_ids})
    strike_items = []
    points = 0
    for s in strikes:
        counts = _counts(s.at, s.reversed_at, now, start)
        points += s.points if counts else 0
        strike_items.append({"id": s.id, "category": s.category, "severity": s.severity, "points": s.points,
                             "at": s.at, "counts": counts, "rule_ids": list(s.rule_ids),
                             "reversed_at": s.reversed_at, "cause": keys.get(s.verdict_id)})
    step = policy.step_for(points)
    action_ids = [a.id for a in actions]
    appeals = list(session.scalars(select(Appeal).where(Appeal.action_id.in_(action_ids))
                                   .order_by(Appeal.created_at.desc(), Appeal.id.desc()))) if action_ids else []
    cases = list(session.scalars(select(Case).where(Case.account_id == account.id, Case.closed_at.is_(None))
                                 .order_by(Case.created_at.desc(), Case.id.desc())))
    return {
        "account": {"tenant": account.tenant, "platform": account.platform, "account_id": account.external_id,
                    "followers": account.followers, "created_at": account.created_at,
                    "updated_at": account.updated_at},
        "binding": _binding(session, account, now),
        "points": {"in_window": points, "window_days": policy.window_days,
                   "step": step.action if step is not None else None, "policy": policy.ref, "now": now},
        "strikes": strike_items,
        "actions": [_action_item(a, keys, now) for a in actions],
        "history": _history(session, account, history),
        "open_cases": [{"id": c.id, "status": c.status, "title": c.title, "reasons": list(c.reasons),
                        "categories": list(c.categories), "priority": c.priority, "assignee": c.assignee,
                        "created_at": c.created_at} for c in cases],
        "appeals": [{"id": p.id, "action_id": p.action_id, "status": p.status, "appellant": p.appellant,
                     "reason": p.reason, "decided_by": p.decided_by, "created_at": p.created_at,
                     "decided_at": p.decided_at} for p in appeals],
    }


def _action_item(a: ActionRow, keys: dict[int, dict[str, Any]], now: datetime) -> dict[str, Any]:
    # an active action past its expiry is "due": the next ingest or expiry run ends it
    due = a.status == "active" and a.expires_at is not None and a.expires_at <= now
    return {"id": a.id, "key": a.idem_key, "kind": a.kind, "target": a.target, "subject": a.subject,
            "category": a.category, "status": a.status, "expiry_due": due, "starts_at": a.starts_at,
            "expires_at": a.expires_at, "ended_at": a.ended_at,
            "causes": [keys.get(int(v), {"verdict_id": int(v)}) for v in a.cause_verdict_ids],
            "rule_ids": list(a.rule_ids), "detection_rule_ids": list(a.detection_rule_ids),
            "points": a.points, "policy": a.policy, "created_by": a.created_by, "note": a.note}


def _history(session: Session, account: Account, limit: int) -> list[dict[str, Any]]:
    """The latest ``limit`` post versions, each with its latest verdict."""
    if limit <= 0:
        return []
    posts = list(session.scalars(select(PostVersion).where(PostVersion.account_id == account.id)
                                 .order_by(PostVersion.first_seen.desc(), PostVersion.id.desc()).limit(limit)))
    verdicts: dict[int, VerdictRow] = {}
    if posts:
        for v in session.scalars(select(VerdictRow).where(VerdictRow.post_version_id.in_([p.id for p in posts]))
                                 .order_by(VerdictRow.id)):
            verdicts[v.post_version_id] = v  # the latest (highest id) wins
    out = []
    for p in posts:
        v = verdicts.get(p.id)
        out.append({"post_id": p.post_id, "version": p.version, "first_seen": p.first_seen,
                    "posted_at": p.posted_at,
                    "verdict": None if v is None else {
                        "id": v.id, "flagged": v.flagged, "severity": v.severity, "review_only": v.review_only,
                        "categories": [{"code": c.get("code"), "score": c.get("score")} for c in v.categories
                                       if isinstance(c, dict)]}})
    return out


def list_accounts(session: Session, tenant: str, *, now: datetime, policy: LadderPolicy,
                  sort: SortKey = "points", limit: int = 50) -> list[dict[str, Any]]:
    """The tenant's accounts that have a strike or an action, by points in the window or latest action."""
    if sort not in SORT_KEYS:
        raise QLError(errors.BAD_OPTION, f"unknown sort {sort!r}", hint="one of " + ", ".join(SORT_KEYS))
    start = _window_start(now, policy)
    pts = (select(Strike.account_id.label("aid"), func.sum(Strike.points).label("points"))
           .where(Strike.tenant == tenant, Strike.reversed_at.is_(None), Strike.at > start, Strike.at <= now)
           .group_by(Strike.account_id).subquery())
    acts = (select(ActionRow.account_id.label("aid"),
                   func.count().filter(ActionRow.status == "active").label("active"),
                   func.count().label("actions"), func.max(ActionRow.starts_at).label("last_action"))
            .where(ActionRow.tenant == tenant).group_by(ActionRow.account_id).subquery())
    any_strike = select(Strike.account_id).where(Strike.tenant == tenant).distinct().subquery()
    points = func.coalesce(pts.c.points, 0)
    stmt = (select(Account, points, func.coalesce(acts.c.active, 0), func.coalesce(acts.c.actions, 0),
                   acts.c.last_action, RegistryEntity.entry_id, RegistryEntity.name)
            .outerjoin(pts, pts.c.aid == Account.id)
            .outerjoin(acts, acts.c.aid == Account.id)
            .outerjoin(any_strike, any_strike.c.account_id == Account.id)
            .outerjoin(RegistryEntity, RegistryEntity.id == Account.registry_entity_id)
            .where(Account.tenant == tenant, or_(acts.c.aid.is_not(None), any_strike.c.account_id.is_not(None))))
    if sort == "points":
        stmt = stmt.order_by(points.desc(), acts.c.last_action.desc().nulls_last(), Account.id)
    else:
        stmt = stmt.order_by(acts.c.last_action.desc().nulls_last(), points.desc(), Account.id)
    out = []
    for account, p, active, total, last, entry_id, name in session.execute(stmt.limit(limit)):
        step = policy.step_for(int(p))
        out.append({"platform": account.platform, "account_id": account.external_id, "points": int(p),
                    "step": step.action if step is not None else None, "active_actions": int(active),
                    "actions": int(total), "last_action_at": _aware(last),
                    "entity": None if entry_id is None else {"entry_id": entry_id, "name": name},
                    "binding_source": account.binding_source or (MATCHED if entry_id else None)})
    return out


def _aware(value: Any) -> datetime | None:
    """``max()`` over a UTC column comes back naive (and as text on SQLite): make it a UTC datetime."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


__all__ = ["SORT_KEYS", "account_view", "find_account", "list_accounts"]
