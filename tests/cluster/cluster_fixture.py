"""A crafted small gang and a helper that stores posts with verdicts, for the cluster tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from qinglang.store.tables import Account, PostVersion, VerdictRow

NOW = datetime(2026, 11, 1, tzinfo=UTC)
MULE_WALLET = "wallet:tron:TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"


def add_post(session: Session, account: str, post_id: str, identifiers: Iterable[str],
             categories: Iterable[str] = ("stock_tipping",), *, tenant: str = "t", platform: str = "weibo",
             posted_at: str = "2026-10-01T08:00:00Z", severity: str = "high") -> VerdictRow:
    """A stored post version by ``account`` whose verdict names ``identifiers`` (flagged when ``categories``)."""
    acc = session.query(Account).filter_by(tenant=tenant, platform=platform, external_id=account).first()
    if acc is None:
        acc = Account(tenant=tenant, platform=platform, external_id=account)
        session.add(acc)
        session.flush()
    post = PostVersion(tenant=tenant, post_id=post_id, version=1, account_id=acc.id, platform=platform,
                       content_hash=f"{post_id:0>64}"[-64:], fields={}, posted_at=posted_at, first_seen=NOW,
                       last_seen=NOW)
    session.add(post)
    session.flush()
    cats = list(categories)
    text = " ".join(identifiers)
    entities, pos = [], 0
    for ident in identifiers:
        entities.append({"type": ident.split(":")[0], "value": ident, "field": "text", "start": pos,
                         "end": pos + len(ident), "text": ident})
        pos += len(ident) + 1
    verdict = VerdictRow(post_version_id=post.id, tenant=tenant, flagged=bool(cats),
                         categories=[{"code": c, "severity": severity, "score": 0.9, "review_only": False,
                                      "rules": []} for c in cats],
                         severity=severity if cats else "none", review_only=False, hits=[], entities=entities,
                         versions={"text": text}, versions_key=f"{post_id:0>64}"[-64:])
    session.add(verdict)
    session.flush()
    return verdict


#: A small gang, crafted so each role shows: the operator posts the gang's site first,
#: a teacher gives stock tips with the group's WeChat, traffic accounts divert to it,
#: a collector posts the wallet; plus a bystander whose only link is a bank hotline
#: (allow-listed) and an unrelated pair.
GANG = [
    # account, post, identifiers, categories, posted_at
    ("op", "p1", ["domain:niu-gu.cn", "url:http://niu-gu.cn/app"], ["stock_tipping"], "2026-09-01T00:00:00Z"),
    ("teacher", "p2", ["wechat:niugu_88", "domain:niu-gu.cn"], ["stock_tipping"], "2026-09-02T00:00:00Z"),
    ("traffic1", "p3", ["wechat:niugu_88"], ["traffic_diversion"], "2026-09-03T00:00:00Z"),
    ("traffic2", "p4", ["wechat:niugu_88", "url:http://niu-gu.cn/app"], ["traffic_diversion"], "2026-09-04T00:00:00Z"),
    ("collector", "p5", ["wallet:tron:TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", "domain:niu-gu.cn"], ["card_cashout"],
     "2026-09-05T00:00:00Z"),
    ("mule", "p6", ["wallet:tron:TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"], [], "2026-09-06T00:00:00Z"),  # not flagged
    ("bystander", "p7", ["phone:+8695588", "wechat:own_handle"], ["loan_marketing"], "2026-09-07T00:00:00Z"),
    ("victim", "p8", ["phone:+8695588"], ["loan_marketing"], "2026-09-08T00:00:00Z"),
]


def load_gang(session: Session, tenant: str = "t") -> None:
    """The gang's posts; the mule's wallet (in an unflagged post) also comes from its account data."""
    from qinglang.cluster.settings import default_settings
    from qinglang.cluster.store import SOURCE_ACCOUNT, upsert_links

    for account, post_id, idents, cats, at in GANG:
        add_post(session, account, post_id, idents, cats, tenant=tenant, posted_at=at)
    mule = session.query(Account).filter_by(tenant=tenant, external_id="mule").one()
    upsert_links(session, tenant, {(mule.id, MULE_WALLET): (NOW, [{"field": "payment_account", "line": 1}])},
                 SOURCE_ACCOUNT, default_settings())
