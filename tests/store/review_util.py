"""Shared by the review, appeal and export tests: ingest project-written posts into a fresh store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from qinglang.decide import LadderPolicy, default_ladder
from qinglang.detect.engine import Engine as Detector
from qinglang.ingest import ingest_records
from qinglang.store.tables import ActionRow, Case

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)

#: project-written posts: a stock tipster (three posts), a review-only rumor, a benign post
TIP1 = {"id": "t1", "account_id": "tipster", "platform": "weibo", "lang": "zh",
        "text": "免费荐股，每天一只牛股，加微信 niugu_8899 进VIP群，明天必涨停"}
TIP2 = {"id": "t2", "account_id": "tipster", "platform": "weibo",
        "text": "老师带单，今天必涨停！加薇❤：abc12345 进VIP群"}
TIP3 = {"id": "t3", "account_id": "tipster", "platform": "weibo",
        "text": "【內部消息】主力已經建倉完畢，下週必漲！炒股交流群免费进，扣扣：556677889"}
RUMOR = {"id": "r1", "account_id": "gossip", "platform": "weibo",
         "text": "听说某某银行要倒闭了，大家赶紧去取钱，内部消息"}
BENIGN = {"id": "b1", "account_id": "walker", "platform": "weibo", "text": "今天天气很好，我们去公园散步吧"}

_DETECTOR: Detector | None = None


def detector() -> Detector:
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = Detector.from_options(None, model=None)
    return _DETECTOR


def strict_ladder() -> LadderPolicy:
    """The bundled ladder, but every removal needs a person: cases that carry a proposal."""
    policy = default_ladder()
    review = policy.review.model_copy(update={"high_impact": {"remove_content": 0, "mute": 0,
                                                              "suspend_updates": 0}})
    return policy.model_copy(update={"review": review})


def ingest(factory: sessionmaker[Session], posts: Sequence[dict[str, Any]], *, tenant: str = "t1",
           now: datetime = NOW, policy: LadderPolicy | None = None) -> None:
    list(ingest_records(detector(), list(enumerate(posts, 1)), factory, tenant=tenant, now=now,
                        policy=policy or default_ladder(), batch_size=8))


def case_ids(factory: sessionmaker[Session], tenant: str = "t1") -> list[int]:
    with factory() as s:
        return list(s.scalars(select(Case.id).where(Case.tenant == tenant).order_by(Case.id)))


def actions(factory: sessionmaker[Session], tenant: str = "t1") -> dict[str, ActionRow]:
    with factory() as s:
        return {a.idem_key or str(a.id): a for a in s.scalars(select(ActionRow).where(ActionRow.tenant == tenant))}
