"""Act on a cluster as one: one ladder step for every member, with each member's own evidence.

A gang answers as its worst member: each member's ladder state is loaded
(``store.actions.load_account_state``, expired actions expired), its counting strike
points looked up on the ladder (``LadderPolicy.step_for``), and the cluster's step is
the highest any member reached, at least the ladder's first step (every member of a
stored cluster is linked to flagged posts). Every member's own flagged verdicts stay
on its action (``cause_verdict_ids``), so an appeal is judged per account.

A cluster with more members than ``review_size`` (``links.yaml``), or any cluster when
asked, is not acted on: one case is opened with the proposal and the per-account
evidence, for a person to confirm. Either way one audit entry records it
(``cluster.act`` / ``cluster.review``). Action ids are
``cluster:<id>:<step>:<account row id>``, so acting twice adds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qinglang.cluster import store
from qinglang.cluster.settings import Settings
from qinglang.decide import LadderPolicy, default_ladder, expire
from qinglang.decide.policy import STEP_RANK
from qinglang.store import audit
from qinglang.store.actions import load_account_state, persist_expiry
from qinglang.store.repo import _insert_or_get
from qinglang.store.tables import ActionRow, Case, CaseVerdict, PostVersion, VerdictRow

ACTOR = "cluster"


def _flagged_verdicts(session: Session, account_id: int) -> list[int]:
    stmt = (select(VerdictRow.id).join(PostVersion, VerdictRow.post_version_id == PostVersion.id)
            .where(PostVersion.account_id == account_id, VerdictRow.flagged.is_(True)).order_by(VerdictRow.id))
    return list(session.scalars(stmt))


def propose(session: Session, tenant: str, cluster_id: str, settings: Settings, *, now: datetime,
            policy: LadderPolicy | None = None, force_review: bool = False, dry_run: bool = False,
            actor: str = ACTOR) -> dict[str, Any]:
    """Propose (and unless ``dry_run``, record) the cluster-level action; returns what was decided."""
    policy = policy or default_ladder()
    row = store.get_cluster(session, tenant, cluster_id)
    step_rank = STEP_RANK[policy.steps[0].action]
    per_account: list[dict[str, Any]] = []
    for account, member in store.members(session, row):
        before = load_account_state(session, account)
        state = expire(before, now)
        if not dry_run:
            persist_expiry(session, account, before, state)
        points = state.points(now, policy)
        step = policy.step_for(points)
        if step is not None:
            step_rank = max(step_rank, STEP_RANK[step.action])
        per_account.append({"account": account.external_id, "platform": account.platform, "role": member.role,
                            "points": points, "own_step": step.action if step else None,
                            "verdict_ids": _flagged_verdicts(session, account.id), "_row": account})
    kind = next(s for s in policy.steps if STEP_RANK[s.action] == step_rank)
    reasons = []
    if row.size > settings.clusters.review_size:
        reasons.append("cluster_size")
    if force_review:
        reasons.append("requested")
    outcome = "review" if reasons else "act"
    result: dict[str, Any] = {"cluster_id": cluster_id, "outcome": outcome, "action": kind.action,
                              "policy": policy.ref, "reasons": reasons, "size": row.size,
                              "accounts": [{k: v for k, v in a.items() if k != "_row"} for a in per_account],
                              "recorded": [], "case_id": None}
    if dry_run:
        return result
    if outcome == "review":
        # one case in the queue per cluster and proposed action: proposing it again while a
        # person has not yet closed the first one points at that one
        prefix = f"cluster:{cluster_id}:{kind.action}:"
        earlier = session.execute(select(Case.id, Case.status).where(Case.tenant == tenant,
                                                                     Case.idem_key.startswith(prefix))).all()
        waiting = next((cid for cid, status in earlier if status != "closed"), None)
        if waiting is not None:
            result["case_id"] = waiting
            result["existing_case"] = True
            return result
        detail = (f"cluster {cluster_id}: proposed {kind.action} on {row.size} accounts ({policy.ref}); evidence "
                  + "; ".join(f"{a['account']}: verdicts {a['verdict_ids']}" for a in per_account))
        case = Case(tenant=tenant, title=f"cluster {cluster_id}: {kind.action} on {row.size} accounts",
                    status="open", reasons=reasons, categories=list(row.categories), detail=detail,
                    priority=3 if row.risk >= 0.7 else 2, opened_by=actor, created_at=now, updated_at=now,
                    idem_key=f"{prefix}{len(earlier) + 1}")  # the n-th proposal of this action
        session.add(case)
        session.flush()
        for vid in sorted({v for a in per_account for v in a["verdict_ids"]}):
            session.add(CaseVerdict(case_id=case.id, verdict_id=vid, added_at=now))
        session.flush()
        result["case_id"] = case.id
    else:
        expires = now + timedelta(days=kind.duration_days) if kind.duration_days else None
        for a in per_account:
            account = a["_row"]
            idem = f"cluster:{cluster_id}:{kind.action}:{account.id}"
            stmt = select(ActionRow).where(ActionRow.tenant == tenant, ActionRow.idem_key == idem)
            values: dict[str, Any] = dict(
                tenant=tenant, account_id=account.id, kind=kind.action, target="account",
                subject=account.external_id, status="active", starts_at=now, expires_at=expires,
                cause_verdict_ids=a["verdict_ids"], rule_ids=[f"cluster:{cluster_id}"], detection_rule_ids=[],
                policy=policy.ref, points=a["points"], step=True, idem_key=idem, created_by=actor, created_at=now,
                note=f"cluster {cluster_id} ({row.size} accounts) acted on as one",
            )
            _, created = _insert_or_get(session, lambda v=values: ActionRow(**v),
                                        lambda s=stmt: session.scalars(s).first())
            if created:
                result["recorded"].append(a["account"])
    if outcome == "review" or result["recorded"]:
        payload = {k: v for k, v in result.items() if k != "accounts"}
        payload["accounts"] = [{"account": a["account"], "verdict_ids": a["verdict_ids"]} for a in result["accounts"]]
        audit.append(session, actor=actor, action=f"cluster.{outcome}", subject=f"cluster:{cluster_id}",
                     payload=payload, at=now, tenant=tenant)
    return result
