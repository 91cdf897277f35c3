"""Set-based ingest writes (``store.batch``) on SQLite and PostgreSQL: the same rows as the per-post path,
idempotent, and safe with two writers at once."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from qinglang.decide import default_ladder
from qinglang.detect.engine import Engine as Detector
from qinglang.errors import QLError
from qinglang.ingest import IngestStats, ingest_records
from qinglang.model import Post
from qinglang.registry import import_csv
from qinglang.store import audit
from qinglang.store.batch import BatchItem, store_batch, supported
from qinglang.store.db import make_engine, session_factory, upgrade
from qinglang.store.registry_store import DECLARED, save_entries
from qinglang.store.tables import (
    Account,
    ActionRow,
    AuditEntry,
    Case,
    CaseVerdict,
    PostVersion,
    Strike,
    VerdictRow,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
_DETECTOR: Detector | None = None

#: project-written posts. The tipster posts three times; "t1" comes again unchanged, edited, and its first
#: text replayed, all in one run; "r1" is review-only; "b1" benign; "n1" names no account; the lender's
#: account name is a registry entry (bound), "老李" claims a licence it does not hold.
TIP1 = "免费荐股，每天一只牛股，加微信 niugu_8899 进VIP群，明天必涨停"
TIP1_EDIT = "免费荐股，每天一只牛股，加微信 niugu_9999 进VIP群，下周必涨停"
POSTS: list[dict[str, Any]] = [
    {"id": "t1", "account_id": "tipster", "platform": "weibo", "text": TIP1},
    {"id": "t2", "account_id": "tipster", "platform": "weibo", "text": "老师带单，今天必涨停！加薇❤：abc12345 进VIP群"},
    {"id": "t1", "account_id": "tipster", "platform": "weibo", "text": TIP1},
    {"id": "t1", "account_id": "tipster", "platform": "weibo", "text": TIP1_EDIT},
    {"id": "t3", "account_id": "tipster", "platform": "weibo",
     "text": "【內部消息】主力已經建倉完畢，下週必漲！炒股交流群免费进，扣扣：556677889"},
    {"id": "t1", "account_id": "tipster", "platform": "weibo", "text": TIP1},
    {"id": "r1", "account_id": "gossip", "platform": "weibo", "text": "听说某某银行要倒闭了，大家赶紧去取钱，内部消息"},
    {"id": "r1", "account_id": "gossip", "platform": "weibo", "text": "听说某某银行要倒闭了，大家赶紧去取钱，内部消息"},
    {"id": "b1", "account_id": "walker", "platform": "weibo", "text": "今天天气很好，我们去公园散步吧"},
    {"id": "n1", "text": "免费荐股，每天一只牛股，加微信 niugu_1234 进VIP群，明天必涨停"},
    {"id": "k1", "account_id": "深圳市快易小额贷款有限公司", "platform": "weibo",
     "text": "低息贷款，当天放款，无需抵押，详询客服"},
    {"id": "c1", "account_id": "股神老李", "platform": "weibo", "bio": "持牌投顾", "text": "今天大盘震荡，注意风险"},
    {"id": "c2", "account_id": "股神老李", "platform": "weibo", "bio": "持牌投顾",
     "text": "跟我买，稳赚不赔，加微信 laoli_888 进群"},
]
REGISTRY_CSV = ("id,name,kind,licence_type,licence_number\n"
                "kuaiyi,深圳市快易小额贷款有限公司,institution,lender,LND-440300-0077\n")


def detector() -> Detector:
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = Detector.from_options(None, model=None)
    return _DETECTOR


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def ingest(factory: sessionmaker[Session], posts: Sequence[dict[str, Any]], *, tenant: str, per_post: bool,
           batch_size: int, now: datetime = NOW, registry: Any = None) -> dict[str, Any]:
    stats = IngestStats()
    for _ in ingest_records(detector(), list(enumerate(posts, 1)), factory, tenant=tenant, now=now,
                            policy=default_ladder(), registry=registry, batch_size=batch_size, stats=stats,
                            per_post=per_post):
        pass
    d = stats.to_dict()
    d.pop("batches")
    return d


def _rows(session: Session, model: Any, tenant: str) -> list[dict[str, Any]]:
    table: Table = model.__table__
    return [dict(r._mapping) for r in session.execute(select(table).where(table.c.tenant == tenant))]


def snapshot(session: Session, tenant: str) -> dict[str, Any]:
    """Every row the tenant has, with row ids replaced by natural keys, in a comparable order."""
    accounts = {r["id"]: (r["platform"], r["external_id"]) for r in _rows(session, Account, tenant)}
    posts = {r["id"]: (r["post_id"], r["version"]) for r in _rows(session, PostVersion, tenant)}
    verdicts = {r["id"]: (*posts[r["post_version_id"]], r["versions_key"]) for r in _rows(session, VerdictRow, tenant)}
    cases = {r["id"]: r["title"] for r in _rows(session, Case, tenant)}

    def natural(name: str, row: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in row.items() if k not in ("id", "tenant")}
        if name == "accounts":
            out.pop("updated_at")  # the wall clock when a binding changed (the column's onupdate)
        for key, names in (("account_id", accounts), ("post_version_id", posts), ("verdict_id", verdicts)):
            if key in out and out[key] is not None:
                out[key] = names[out[key]]
        if "cause_verdict_ids" in out:
            out["cause_verdict_ids"] = [verdicts[int(v)] for v in out["cause_verdict_ids"]]
        return out

    def ordered(items: list[dict[str, Any]]) -> list[str]:
        return sorted(json.dumps(i, sort_keys=True, default=str, ensure_ascii=False) for i in items)

    snap: dict[str, Any] = {m.__tablename__: ordered([natural(m.__tablename__, r) for r in _rows(session, m, tenant)])
                            for m in (Account, PostVersion, VerdictRow, Strike, ActionRow, Case)}
    links = session.execute(select(CaseVerdict.case_id, CaseVerdict.verdict_id, CaseVerdict.added_at)
                            .join(Case, Case.id == CaseVerdict.case_id).where(Case.tenant == tenant))
    snap["case_verdicts"] = sorted((cases[c], verdicts[v], str(at)) for c, v, at in links)
    snap["json_null_degraded"] = session.scalar(  # JSON null, not SQL NULL, as the ORM stores None
        select(func.count()).select_from(VerdictRow).where(VerdictRow.tenant == tenant,
                                                           VerdictRow.degraded.is_(None)))
    entries = []
    for e in session.scalars(select(AuditEntry).where(AuditEntry.tenant == tenant)):
        payload = {k: v for k, v in e.payload.items() if k not in ("verdict_row_id", "case_id")}
        entries.append({"actor": e.actor, "action": e.action, "subject": e.subject, "at": str(e.at),
                        "payload": payload, "has_case": e.payload.get("case_id") is not None})
    snap["audit_log"] = ordered(entries)
    return snap


@pytest.mark.parametrize("batch_size", [1, 4, 100])
def test_batch_path_stores_what_the_per_post_path_stores(factory: sessionmaker[Session], batch_size: int) -> None:
    registry = import_csv(REGISTRY_CSV).registry
    with factory() as s, s.begin():
        save_entries(s, import_csv(REGISTRY_CSV).entries, actor="test")
    edited = [dict(p) for p in POSTS]
    edited[8]["text"] += "，顺便买了杯咖啡"  # b1 edited
    edited[6]["text"] += "！"  # r1 edited: a new version, a second case
    runs = [(POSTS, NOW), (POSTS, NOW), (edited, NOW + timedelta(days=40))]  # later: the first actions expire
    for posts, now in runs:
        slow = ingest(factory, posts, tenant="row", per_post=True, batch_size=batch_size, now=now, registry=registry)
        fast = ingest(factory, posts, tenant="set", per_post=False, batch_size=batch_size, now=now,
                      registry=registry)
        assert fast == slow
        with factory() as s:
            assert snapshot(s, "set") == snapshot(s, "row")
    assert slow["posts"] == {"new": 0, "unchanged": len(POSTS) - 2, "new_version": 2}
    with factory() as s:
        snap = snapshot(s, "set")
        assert len(snap["posts"]) == 12 and len(snap["cases"]) == 2 and snap["strikes"]
        assert s.scalar(select(Account.binding_source).where(Account.tenant == "set",
                                                             Account.external_id.like("深圳%"))) == "matched"
        assert audit.verify(s).ok
    assert slow["expired"] > 0  # the mute of the first run ran out: expiry is written on both paths


def test_versions_within_one_batch(factory: sessionmaker[Session]) -> None:
    posts = [Post(id="p", text="a", account_id="x"), Post(id="p", text="b", account_id="x"),
             Post(id="p", text="a", account_id="x"), Post(id="q", text="c"), Post(id="p", text="c", account_id="x")]
    verdicts = detector().detect(posts)
    with factory() as s, s.begin():
        counts = store_batch(s, [BatchItem(p, v) for p, v in zip(posts, verdicts, strict=True)], tenant="t",
                             now=NOW, policy=default_ladder())
    assert counts.posts == {"new": 2, "new_version": 2, "unchanged": 1}
    assert counts.verdicts_created == 4 and counts.decisions == {"none": 4, "skipped": 1}
    with factory() as s:
        rows = s.execute(select(PostVersion.post_id, PostVersion.version, PostVersion.fields["text"].as_string())
                         .order_by(PostVersion.post_id, PostVersion.version)).all()
    assert [tuple(r) for r in rows] == [("p", 1, "a"), ("p", 2, "b"), ("p", 3, "c"), ("q", 1, "c")]


def test_unchanged_posts_move_last_seen(factory: sessionmaker[Session]) -> None:
    posts = [Post(id="p", text="a"), Post(id="p", text="b")]
    items = [BatchItem(p, v) for p, v in zip(posts, detector().detect(posts), strict=True)]
    for now in (NOW, NOW + timedelta(hours=1), NOW - timedelta(hours=1)):
        with factory() as s, s.begin():
            store_batch(s, items[:1], tenant="t", now=now, policy=default_ladder())
    with factory() as s:
        row = s.scalars(select(PostVersion)).one()
    assert (row.first_seen, row.last_seen) == (NOW, NOW + timedelta(hours=1))  # never moves back


def test_a_declared_binding_is_kept(factory: sessionmaker[Session]) -> None:
    registry = import_csv(REGISTRY_CSV).registry
    with factory() as s, s.begin():
        save_entries(s, import_csv(REGISTRY_CSV).entries, actor="test")
        s.add(Account(tenant="t", platform="weibo", external_id="深圳市快易小额贷款有限公司", binding_source=DECLARED,
                      created_at=NOW, updated_at=NOW))
    ingest(factory, [POSTS[10]], tenant="t", per_post=False, batch_size=10, registry=registry)
    with factory() as s:
        account = s.scalars(select(Account)).one()
        assert account.binding_source == DECLARED and account.registry_entity_id is None
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("account.%"))) == 0


def test_a_verdict_for_another_post_is_refused_before_anything_is_written(factory: sessionmaker[Session]) -> None:
    posts = [Post(id="a", text="x"), Post(id="b", text="y")]
    verdicts = detector().detect(posts)
    with factory() as s, s.begin(), pytest.raises(QLError) as err:
        store_batch(s, [BatchItem(posts[0], verdicts[0]), BatchItem(posts[1], verdicts[0])], tenant="t", now=NOW,
                    policy=default_ladder())
    assert err.value.code.code == "QL-6003"
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(PostVersion)) == 0


def test_dialects() -> None:
    assert supported("sqlite") and supported("postgresql") and not supported("mysql")


def test_two_writers_with_overlapping_batches_never_duplicate(pg_url: URL) -> None:
    """Two threads ingest the same post ids at once, some with the same text, some with their own."""
    engine = make_engine(pg_url)
    upgrade(engine)
    factory = session_factory(engine)
    rounds, n = 4, 60
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def posts_for(writer: str, r: int) -> list[Post]:
        out = []
        for i in range(n):
            body = f"第{r}轮 帖子{i} 老师带单，今天必涨停！加薇❤：abc{i:05d} 进VIP群"
            if i % 3 == 0:
                body += f"（{writer}）"  # each writer its own text: two versions, numbered in some order
            out.append(Post(id=f"p{i}", text=body, account_id=f"acct{i % 7}", platform="weibo"))
        return out if writer == "a" else out[::-1]

    batches = {(name, r): [BatchItem(p, v) for p, v in zip(posts, detector().detect(posts), strict=True)]
               for name in ("a", "b") for r in range(rounds) for posts in [posts_for(name, r)]}  # detect: one thread

    def writer(name: str) -> None:
        try:
            for r in range(rounds):
                items = batches[(name, r)]
                barrier.wait(timeout=60)
                for attempt in range(5):
                    try:
                        with factory() as s, s.begin():
                            store_batch(s, items, tenant="t", now=NOW, policy=default_ladder())
                        break
                    except Exception as exc:  # a deadlock PostgreSQL broke: ingest retries the batch too
                        if "deadlock" not in str(exc) or attempt == 4:
                            raise
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    try:
        with engine.connect() as conn:
            def one(sql: str) -> Any:
                return conn.execute(text(sql)).scalar()

            assert one("select count(*) from (select post_id, content_hash from posts "
                       "group by 1, 2 having count(*) > 1) d") == 0
            # versions numbered 1..k without gaps: k versions per post
            assert one("select count(*) from (select post_id from posts group by post_id "
                       "having max(version) <> count(*)) d") == 0
            expected = rounds * (n + n // 3)  # per round: n shared texts and n/3 posts with a second text
            assert one("select count(*) from posts") == expected
            assert one("select count(*) from verdicts") == expected
            assert one("select count(*) from (select verdict_id from strikes group by 1 having count(*) > 1) d") == 0
            assert one("select count(*) from (select verdict_id from case_verdicts group by 1 "
                       "having count(*) > 1) d") == 0
            assert one("select count(*) from accounts") == 7
            strikes, cases = one("select count(*) from strikes"), one("select count(*) from cases")
            assert strikes > 0
            assert one("select count(*) from audit_log where action like 'decide.%'") == strikes + cases
        with factory() as s:
            assert audit.verify(s).ok
    finally:
        engine.dispose()


def test_two_engine_versions_deciding_one_post_version_open_one_case(pg_url: URL) -> None:
    """The post version is stored (an older engine found nothing); two newer engines flag it at once.
    Writer B decides while A's case is not yet committed (so B's "is a case open?" sees none): B's
    case insert waits on A's key, then yields to it. One case, holding A's verdict."""
    import dataclasses

    engine = make_engine(pg_url)
    upgrade(engine)
    factory = session_factory(engine)
    post = Post(id="r1", text="听说某某银行要倒闭了，大家赶紧去取钱，内部消息", account_id="gossip", platform="weibo")
    verdict = detector().detect([post])[0]
    assert verdict.review_only  # a rumor: the ladder opens a case
    older = dataclasses.replace(verdict, categories=[], hits=[], review_only=False, severity="none",
                                versions={**verdict.versions, "engine": "qinglang-older"})
    other = dataclasses.replace(verdict, versions={**verdict.versions, "engine": "qinglang-next"})
    done: list[Any] = []
    try:
        with factory() as s, s.begin():
            store_batch(s, [BatchItem(post, older)], tenant="t", now=NOW, policy=default_ladder())
        with factory() as a:
            a.begin()
            first = store_batch(a, [BatchItem(post, verdict)], tenant="t", now=NOW, policy=default_ladder())

            def writer_b() -> None:
                with factory() as b, b.begin():
                    done.append(store_batch(b, [BatchItem(post, other)], tenant="t", now=NOW,
                                            policy=default_ladder()))

            thread = threading.Thread(target=writer_b)
            thread.start()
            thread.join(timeout=2)
            assert thread.is_alive()  # B waits on A's case key
            a.commit()
        thread.join(timeout=60)
        assert not thread.is_alive() and len(done) == 1
        assert first.cases_opened == 1 and done[0].cases_opened == 0
        with factory() as s:
            assert s.scalar(select(func.count()).select_from(VerdictRow)) == 3  # one per engine version
            assert s.scalar(select(func.count()).select_from(Case)) == 1
            assert s.scalar(select(func.count()).select_from(CaseVerdict)) == 1
            assert audit.verify(s).ok
    finally:
        engine.dispose()
