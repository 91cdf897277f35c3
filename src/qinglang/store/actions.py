"""Persist what the decide layer decides: strikes, actions, cases; load an AccountState.

The decide layer (``qinglang.decide``) is pure and names verdicts by a string id. The
store names them by row. The bridge is the **decision key** of a post version,
``<post id>#<version>`` (:func:`decision_key`): the verdict handed to ``decide`` carries
it as its id, so a changed post (a new version) is decided again while the same version
seen again (or re-detected by a new engine version) is not. Action ids the ladder makes
(``<key>/<kind>``) become ``actions.idem_key``.

Every write is idempotent: strikes are unique per (verdict, category), actions per
(tenant, idem_key), and a case is not opened twice for the same post version. Inserts
run in savepoints, so a concurrent writer that wins a race on a unique key leaves its
row in place and this one is used. Functions flush, never commit: the caller owns the
transaction. See docs/store.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from qinglang.decide import AccountState, Action, Decision
from qinglang.decide import Strike as DecidedStrike
from qinglang.store.repo import _insert_or_get
from qinglang.store.tables import Account, ActionRow, Case, CaseVerdict, PostVersion, Strike, VerdictRow

#: ``cases.opened_by`` and ``actions.created_by`` for what ingest records
INGEST_ACTOR = "ingest"


def decision_key(post_id: str, version: int) -> str:
    """The verdict id the decide layer sees for one post version: ``<post id>#<version>``."""
    return f"{post_id}#{version}"


def account_key(account: Account) -> str:
    """The account id the decide layer sees (and action subjects name): the external id."""
    return account.external_id


@dataclass(slots=True)
class Persisted:
    """What :func:`persist_decision` added (only rows that were new)."""

    strikes: int = 0
    actions: list[str] = field(default_factory=list)
    case_reasons: list[str] = field(default_factory=list)
    case_id: int | None = None


def _verdict_keys(session: Session, verdict_row_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(verdict_row_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(VerdictRow.id, PostVersion.post_id, PostVersion.version)
        .join(PostVersion, VerdictRow.post_version_id == PostVersion.id)
        .where(VerdictRow.id.in_(ids))
    )
    return {vid: decision_key(pid, ver) for vid, pid, ver in rows}


def load_account_state(session: Session, account: Account) -> AccountState:
    """The account's strikes and every action it ever got, as the decide layer's state."""
    strikes = list(session.scalars(select(Strike).where(Strike.account_id == account.id).order_by(Strike.id)))
    actions = list(session.scalars(select(ActionRow).where(ActionRow.account_id == account.id)
                                   .order_by(ActionRow.id)))
    keys = _verdict_keys(session, [s.verdict_id for s in strikes]
                         + [int(v) for a in actions for v in a.cause_verdict_ids])
    return AccountState(
        account_id=account_key(account),
        followers=account.followers or 0,
        strikes=tuple(
            DecidedStrike(verdict_id=keys.get(s.verdict_id, str(s.verdict_id)), category=s.category,
                          severity=s.severity, points=s.points, at=s.at, rules=tuple(s.rule_ids),
                          reversed_at=s.reversed_at)
            for s in strikes
        ),
        actions=tuple(_action_from_row(a, keys, account) for a in actions),
    )


def _action_from_row(row: ActionRow, keys: dict[int, str], account: Account) -> Action:
    return Action(
        id=row.idem_key or f"row:{row.id}",
        kind=row.kind,
        account_id=account_key(account),
        target="content" if row.target == "content" else "account",
        subject=row.subject,
        category=row.category or "",
        verdict_ids=tuple(keys.get(int(v), str(v)) for v in row.cause_verdict_ids),
        rules=tuple(row.rule_ids),
        detection_rules=tuple(row.detection_rule_ids),
        policy=row.policy,
        points=row.points,
        issued_at=row.starts_at,
        expires_at=row.expires_at,
        step=row.step,
        status=row.status,  # type: ignore[arg-type]
        ended_at=row.ended_at,
        note=row.note,
    )


def persist_expiry(session: Session, account: Account, before: AccountState, after: AccountState) -> int:
    """Write the actions :func:`qinglang.decide.expire` marked expired; returns how many."""
    was = {a.id: a.status for a in before.actions}
    done = [a for a in after.actions if a.status == "expired" and was.get(a.id) == "active"]
    for a in done:
        row = session.scalars(select(ActionRow).where(ActionRow.tenant == account.tenant,
                                                      ActionRow.idem_key == a.id)).first()
        if row is not None and row.status == "active":
            row.status = "expired"
            row.ended_at = a.ended_at
    return len(done)


def case_exists(session: Session, post_version: PostVersion) -> bool:
    """Whether a case already holds a verdict on this post version."""
    stmt = (select(CaseVerdict.case_id)
            .join(VerdictRow, CaseVerdict.verdict_id == VerdictRow.id)
            .where(VerdictRow.post_version_id == post_version.id)
            .limit(1))
    return session.scalar(stmt) is not None


def persist_decision(
    session: Session,
    decision: Decision,
    *,
    account: Account,
    post_version: PostVersion,
    verdict_row: VerdictRow,
    actor: str = INGEST_ACTOR,
) -> Persisted:
    """Record a decision's strike and actions (``act``) or its case (``review``), once.

    ``decision`` names the verdict by :func:`decision_key`; ``verdict_row`` is the stored
    verdict it was made on. A ``review`` decision opens a case (with the ladder's proposal
    in ``detail``) unless one already holds this post version; nothing is struck until a
    person confirms. Flushes, never commits.
    """
    out = Persisted()
    tenant = account.tenant
    if decision.outcome == "act":
        if decision.strike is not None:
            out.strikes += _save_strike(session, decision.strike, account, verdict_row)
        for action in decision.actions:
            if _save_action(session, action, account, post_version, verdict_row, actor):
                out.actions.append(action.kind)
    elif decision.outcome == "review" and decision.case is not None and not case_exists(session, post_version):
        case = decision.case
        detail = case.detail
        if decision.actions:
            detail += "; proposed: " + ", ".join(a.kind for a in decision.actions)
        key = case_key(post_version.post_id, post_version.version)
        stmt = select(Case).where(Case.tenant == tenant, Case.idem_key == key)
        row, created = _insert_or_get(
            session,
            lambda: Case(tenant=tenant, title=f"review post {post_version.post_id} v{post_version.version}",
                         status="open", reasons=list(case.reasons), categories=list(case.categories), detail=detail,
                         priority=_priority(verdict_row), account_id=account.id, opened_by=actor,
                         created_at=decision.decided_at, updated_at=decision.decided_at, idem_key=key),
            lambda: session.scalars(stmt).first(),
        )
        if created:  # else another writer opened it a moment ago, with its verdict
            session.add(CaseVerdict(case_id=row.id, verdict_id=verdict_row.id, added_at=decision.decided_at))
            session.flush()
            out.case_reasons = list(case.reasons)
            out.case_id = row.id
    return out


def case_key(post_id: str, version: int) -> str:
    """``cases.idem_key`` of the review case ingest opens for one post version."""
    return f"{decision_key(post_id, version)}/case"


def _priority(verdict_row: VerdictRow) -> int:
    return {"high": 3, "medium": 2, "low": 1}.get(verdict_row.severity, 0)


def _save_strike(session: Session, strike: DecidedStrike, account: Account, verdict_row: VerdictRow) -> int:
    stmt = select(Strike).where(Strike.verdict_id == verdict_row.id, Strike.category == strike.category)
    _, created = _insert_or_get(
        session,
        lambda: Strike(tenant=account.tenant, account_id=account.id, verdict_id=verdict_row.id,
                       category=strike.category, severity=strike.severity, points=strike.points, at=strike.at,
                       rule_ids=list(strike.rules), reversed_at=strike.reversed_at),
        lambda: session.scalars(stmt).first(),
    )
    return int(created)


def _save_action(session: Session, action: Action, account: Account, post_version: PostVersion,
                 verdict_row: VerdictRow, actor: str) -> bool:
    stmt = select(ActionRow).where(ActionRow.tenant == account.tenant, ActionRow.idem_key == action.id)
    subject = post_version.post_id if action.target == "content" else action.subject
    values: dict[str, Any] = dict(
        tenant=account.tenant, account_id=account.id, kind=action.kind, target=action.target, subject=subject,
        category=action.category or None, status=action.status, starts_at=action.issued_at,
        expires_at=action.expires_at, ended_at=action.ended_at, cause_verdict_ids=[verdict_row.id],
        rule_ids=list(action.rules), detection_rule_ids=list(action.detection_rules), policy=action.policy,
        points=action.points, step=action.step, note=action.note, idem_key=action.id, created_by=actor,
        created_at=action.issued_at,
    )
    _, created = _insert_or_get(session, lambda: ActionRow(**values), lambda: session.scalars(stmt).first())
    return created



class AccountRef(Protocol):
    """What loading a state needs of an account: an ORM ``Account`` or a lighter row (``store.batch``)."""

    id: int
    external_id: str
    followers: int | None


def load_account_states(session: Session, accounts: Iterable[AccountRef]) -> dict[int, AccountState]:
    """:func:`load_account_state` for many accounts in three queries, keyed by account row id.

    For set-based ingest (``store.batch``): the states are the same as loading each
    account on its own (strikes and actions in row order), without a round trip per account.
    """
    by_id = {a.id: a for a in accounts}
    if not by_id:
        return {}
    ids = sorted(by_id)
    strikes: dict[int, list[Strike]] = {i: [] for i in ids}
    actions: dict[int, list[ActionRow]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        for s in session.scalars(select(Strike).where(Strike.account_id.in_(chunk)).order_by(Strike.id)):
            strikes[s.account_id].append(s)
        for a in session.scalars(select(ActionRow).where(ActionRow.account_id.in_(chunk)).order_by(ActionRow.id)):
            actions[a.account_id].append(a)
    keys = _verdict_keys(session, [s.verdict_id for rows in strikes.values() for s in rows]
                         + [int(v) for rows in actions.values() for a in rows for v in a.cause_verdict_ids])
    return {
        i: AccountState(
            account_id=by_id[i].external_id,  # account_key() of the account
            followers=by_id[i].followers or 0,
            strikes=tuple(
                DecidedStrike(verdict_id=keys.get(s.verdict_id, str(s.verdict_id)), category=s.category,
                              severity=s.severity, points=s.points, at=s.at, rules=tuple(s.rule_ids),
                              reversed_at=s.reversed_at)
                for s in strikes[i]
            ),
            actions=tuple(_action_from_row(a, keys, by_id[i]) for a in actions[i]),  # type: ignore[arg-type]
        )
        for i in ids
    }


def _chunks(ids: list[int], size: int = 5000) -> Iterable[list[int]]:
    """Bound IN lists (SQLite and psycopg cap the parameters of one statement)."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
