"""People's decisions as labeled training data: the rows ``qinglang train`` and ``qinglang eval`` read.

Every reviewed or successfully appealed post version becomes one JSON Lines row in the
project's exact-label shape (``qinglang.learn.data``, ``qinglang.eval.labels``): ``id``,
the post's text fields (``text``, ``title``, ``transcript``, ``ocr``, ``bio``, ``links``),
``lang``, and ``labels``, the category codes a person says the post carries:

- ``confirm``: the detected categories;
- ``recategorize``: the reviewer's categories;
- ``overturn``: none (a benign row: a false positive to learn from);
- an upheld appeal takes the contested action's category out of the labels the post had
  by then (its review's, else the detected ones): a negative for the struck category.

Events are applied in time order, so an appeal upheld after a confirmation wins.
``label_source`` is ``review`` or ``appeal`` (the last event) and ``meta`` holds the
provenance: tenant, post id and version, who decided what and when, the detected codes,
the codes people removed (``negatives``). Nothing about the account is exported: the
rows are for training a text classifier. Rows with no text are left out and counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from qinglang.model import TEXT_FIELDS  # the post fields a training row carries
from qinglang.store.tables import ActionRow, Appeal, PostVersion, Review, VerdictRow


@dataclass(slots=True)
class ExportStats:
    """What an export wrote."""

    rows: int = 0
    positives: int = 0
    negatives: int = 0
    no_text: int = 0
    by_source: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "positives": self.positives, "negatives": self.negatives,
                "no_text": self.no_text, "by_source": dict(sorted(self.by_source.items()))}


@dataclass(slots=True)
class _Event:
    at: datetime
    order: int
    source: str  # review | appeal
    decision: str
    by: str
    verdict_id: int
    labels: list[str] | None = None  # a review's labels
    removed: str | None = None  # an upheld appeal's category
    ref: dict[str, Any] = field(default_factory=dict)


def _events(session: Session, tenant: str, since: datetime | None) -> dict[int, list[_Event]]:
    """Review and upheld-appeal events per verdict row id."""
    out: dict[int, list[_Event]] = defaultdict(list)
    stmt = select(Review).where(Review.tenant == tenant)
    if since is not None:
        stmt = stmt.where(Review.created_at >= since)
    for r in session.scalars(stmt.order_by(Review.id)):
        out[r.verdict_id].append(_Event(r.created_at, r.id, "review", r.decision, r.reviewer, r.verdict_id,
                                        labels=list(r.categories or []), ref={"case_id": r.case_id,
                                                                              "review_id": r.id}))
    stmt2 = (select(Appeal, ActionRow).join(ActionRow, Appeal.action_id == ActionRow.id)
             .where(Appeal.tenant == tenant, Appeal.status == "upheld"))
    if since is not None:
        stmt2 = stmt2.where(Appeal.decided_at >= since)
    for appeal, action in session.execute(stmt2.order_by(Appeal.id)):
        for vid in action.cause_verdict_ids:
            out[int(vid)].append(_Event(appeal.decided_at or appeal.created_at, appeal.id, "appeal", "upheld",
                                        appeal.decided_by or "", int(vid), removed=action.category,
                                        ref={"appeal_id": appeal.id, "action_id": action.id}))
    return out


def export_rows(session: Session, tenant: str, *, since: datetime | None = None,
                stats: ExportStats | None = None) -> Iterator[dict[str, Any]]:
    """One labeled row per post version a person decided on (see the module doc), oldest post first."""
    stats = stats if stats is not None else ExportStats()
    events = _events(session, tenant, since)
    if not events:
        return
    rows = session.execute(select(VerdictRow, PostVersion).join(PostVersion, VerdictRow.post_version_id ==
                                                                PostVersion.id)
                           .where(VerdictRow.id.in_(sorted(events))).order_by(PostVersion.id, VerdictRow.id))
    by_post: dict[int, tuple[PostVersion, list[VerdictRow]]] = {}
    for verdict, post in rows:
        by_post.setdefault(post.id, (post, []))[1].append(verdict)
    for post, verdicts in by_post.values():
        row = _row(tenant, post, verdicts, sorted((e for v in verdicts for e in events[v.id]),
                                                  key=lambda e: (e.at, e.source == "appeal", e.order)))
        if row is None:
            stats.no_text += 1
            continue
        stats.rows += 1
        stats.positives += bool(row["labels"])
        stats.negatives += not row["labels"]
        stats.by_source[row["label_source"]] = stats.by_source.get(row["label_source"], 0) + 1
        yield row


def _row(tenant: str, post: PostVersion, verdicts: list[VerdictRow], events: list[_Event]) -> dict[str, Any] | None:
    fields = post.fields
    text = {k: fields[k] for k in TEXT_FIELDS if fields.get(k)}
    if not isinstance(text.get("text"), str) or not text["text"].strip():
        return None
    detected = list(dict.fromkeys(c["code"] for v in verdicts for c in v.categories))
    labels = list(detected)
    for e in events:
        if e.labels is not None:
            labels = list(e.labels)
        elif e.removed is not None:
            labels = [c for c in labels if c != e.removed]
    last = events[-1]
    row: dict[str, Any] = {"id": f"{post.post_id}#{post.version}", **text}
    if fields.get("lang"):
        row["lang"] = fields["lang"]
    row["labels"] = labels
    row["label_source"] = last.source
    row["meta"] = {
        "tenant": tenant, "post_id": post.post_id, "version": post.version, "decision": last.decision,
        "decided_by": last.by, "decided_at": last.at.isoformat(), "detected": detected,
        "negatives": [c for c in dict.fromkeys([*detected, *(e.removed for e in events if e.removed)])
                      if c not in labels],
        "history": [{"source": e.source, "decision": e.decision, "by": e.by, "at": e.at.isoformat(), **e.ref}
                    for e in events],
    }
    return row


def write_jsonl(session: Session, tenant: str, fp: IO[bytes], *, since: datetime | None = None) -> ExportStats:
    """Write :func:`export_rows` to a binary file as JSON Lines (UTF-8, one row a line)."""
    stats = ExportStats()
    for row in export_rows(session, tenant, since=since, stats=stats):
        fp.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
    return stats


__all__ = ["TEXT_FIELDS", "ExportStats", "export_rows", "write_jsonl"]
