"""Idempotent ingest: posts, versions, verdicts and accounts, on both backends."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from importlib import resources

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from qinglang.detect.engine import Engine as Detector
from qinglang.errors import QLError
from qinglang.io.records import post_from_mapping
from qinglang.model import Post, Verdict
from qinglang.store.db import session_factory
from qinglang.store.repo import content_hash, save_post_and_verdict, verdict_dict
from qinglang.store.tables import (
    Account,
    ActionRow,
    AuditEntry,
    PostVersion,
    RegistryAlias,
    RegistryEntity,
    Strike,
    VerdictRow,
)

_DETECTOR: Detector | None = None


def detector() -> Detector:
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = Detector()
    return _DETECTOR


def verdict_for(post: Post, **versions: str) -> Verdict:
    verdict = detector().detect([post])[0]
    if versions:
        verdict.versions = {**verdict.versions, **versions}
    return verdict


def sample_posts() -> list[Post]:
    text = resources.files("qinglang.samples").joinpath("posts.jsonl").read_text(encoding="utf-8")
    return [post_from_mapping(json.loads(line), i) for i, line in enumerate(text.splitlines(), 1) if line.strip()]


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


POST = Post(id="p1", text="免費薦股，每天一隻牛股，加 薇❤信 niugu_8899", account_id="acc1", platform="weibo")


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_same_post_twice_is_stored_once(factory: sessionmaker[Session]) -> None:
    verdict = verdict_for(POST)
    assert verdict.flagged
    with factory() as s, s.begin():
        first = save_post_and_verdict(s, POST, verdict, "t1")
    with factory() as s, s.begin():
        again = save_post_and_verdict(s, dataclasses.replace(POST), verdict_for(POST), "t1")
    assert (first.status, first.verdict_created) == ("new", True)
    assert (again.status, again.verdict_created) == ("unchanged", False)
    assert again.post.id == first.post.id and again.verdict.id == first.verdict.id
    with factory() as s:
        assert (count(s, PostVersion), count(s, VerdictRow), count(s, Account)) == (1, 1, 1)


def test_twice_in_one_transaction(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        a = save_post_and_verdict(s, POST, verdict_for(POST), "t1")
        b = save_post_and_verdict(s, POST, verdict_for(POST), "t1")
        assert a.verdict is b.verdict and b.status == "unchanged"
        assert count(s, VerdictRow) == 1


def test_edited_post_is_version_2(factory: sessionmaker[Session]) -> None:
    edited = dataclasses.replace(POST, text=POST.text + " 稳赚不赔")
    with factory() as s, s.begin():
        v1 = save_post_and_verdict(s, POST, verdict_for(POST), "t1")
    with factory() as s, s.begin():
        v2 = save_post_and_verdict(s, edited, verdict_for(edited), "t1")
    with factory() as s, s.begin():
        replay = save_post_and_verdict(s, POST, verdict_for(POST), "t1")
    assert (v1.status, v1.post.version) == ("new", 1)
    assert (v2.status, v2.post.version) == ("new_version", 2)
    assert v2.post.content_hash != v1.post.content_hash
    # an old version replayed is the stored version 1, not a third version
    assert (replay.status, replay.post.id, replay.verdict.id) == ("unchanged", v1.post.id, v1.verdict.id)
    with factory() as s:
        assert (count(s, PostVersion), count(s, VerdictRow), count(s, Account)) == (2, 2, 1)
        versions = s.scalars(select(PostVersion.version).order_by(PostVersion.version)).all()
        assert versions == [1, 2]


def test_metadata_change_is_not_a_new_version(factory: sessionmaker[Session]) -> None:
    later = dataclasses.replace(POST, timestamp="2025-03-04T00:00:00Z", lang="zh", title="")
    assert content_hash(later) == content_hash(POST)
    with factory() as s, s.begin():
        save_post_and_verdict(s, POST, verdict_for(POST), "t1")
        assert save_post_and_verdict(s, later, verdict_for(later), "t1").status == "unchanged"


def test_links_and_other_text_fields_count() -> None:
    assert content_hash(dataclasses.replace(POST, links=["t.me/x"])) != content_hash(POST)
    assert content_hash(dataclasses.replace(POST, ocr="加V")) != content_hash(POST)
    assert content_hash(dataclasses.replace(POST, links=[])) == content_hash(POST)


def test_new_engine_version_adds_a_verdict_to_the_same_version(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        old = save_post_and_verdict(s, POST, verdict_for(POST), "t1")
        new = save_post_and_verdict(s, POST, verdict_for(POST, engine="9.9.9"), "t1")
        again = save_post_and_verdict(s, POST, verdict_for(POST, engine="9.9.9"), "t1")
    assert new.status == "unchanged" and new.verdict_created and new.post.id == old.post.id
    assert new.verdict.id != old.verdict.id
    assert not again.verdict_created and again.verdict.id == new.verdict.id


def test_tenants_are_separate(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        a = save_post_and_verdict(s, POST, verdict_for(POST), "t1")
        b = save_post_and_verdict(s, POST, verdict_for(POST), "t2")
    assert a.status == b.status == "new"
    assert a.account is not None and b.account is not None and a.account.id != b.account.id


def test_accounts_are_upserted(factory: sessionmaker[Session]) -> None:
    other = Post(id="p2", text="another", account_id="acc1", platform="weibo")
    elsewhere = Post(id="p3", text="another", account_id="acc1", platform="douyin")
    anonymous = Post(id="p4", text="nobody")
    no_platform = Post(id="p5", text="x", account_id="acc1")
    with factory() as s, s.begin():
        r1 = save_post_and_verdict(s, POST, verdict_for(POST), "t1")
        r2 = save_post_and_verdict(s, other, verdict_for(other), "t1")
        r3 = save_post_and_verdict(s, elsewhere, verdict_for(elsewhere), "t1")
        r4 = save_post_and_verdict(s, anonymous, verdict_for(anonymous), "t1")
        r5 = save_post_and_verdict(s, no_platform, verdict_for(no_platform), "t1")
        p6 = dataclasses.replace(no_platform, id="p6")
        r6 = save_post_and_verdict(s, p6, verdict_for(p6), "t1")
    assert r1.account is not None and r2.account is not None and r3.account is not None
    assert r1.account.id == r2.account.id != r3.account.id
    assert r4.account is None and r4.post.account_id is None
    assert r5.account is not None and r5.account.platform == ""
    assert r6.account is not None and r6.account.id == r5.account.id
    assert r1.post.account_id == r1.account.id


def test_verdict_for_another_post_is_refused(factory: sessionmaker[Session]) -> None:
    other = dataclasses.replace(POST, id="elsewhere")
    with factory() as s, pytest.raises(QLError) as info:
        save_post_and_verdict(s, POST, verdict_for(other), "t1")
    assert info.value.code.code == "QL-6003"


def test_verdicts_round_trip_to_dict(factory: sessionmaker[Session]) -> None:
    """What is read back is Verdict.to_dict(), JSON for JSON, on every sample post."""
    posts = sample_posts()
    verdicts = detector().detect(posts)
    assert any(v.hits and v.entities for v in verdicts)
    with factory() as s, s.begin():
        ids = [save_post_and_verdict(s, p, v, "t1").verdict.id for p, v in zip(posts, verdicts, strict=True)]
    with factory() as s:
        for vid, post, verdict in zip(ids, posts, verdicts, strict=True):
            row = s.get_one(VerdictRow, vid)
            version = s.get_one(PostVersion, row.post_version_id)
            assert verdict_dict(row, version) == json.loads(json.dumps(verdict.to_dict()))
            fields = {f.name: getattr(post, f.name) for f in dataclasses.fields(post)}
            assert version.fields == {k: v for k, v in fields.items() if v is not None}


def test_datetimes_are_utc_aware(factory: sessionmaker[Session]) -> None:
    shanghai = timezone(timedelta(hours=8))
    seen = datetime(2025, 3, 3, 9, 12, tzinfo=shanghai)
    with factory() as s, s.begin():
        save_post_and_verdict(s, POST, verdict_for(POST), "t1", now=seen)
    with factory() as s:
        row = s.scalars(select(PostVersion)).one()
        assert row.first_seen == seen and row.first_seen.tzinfo is not None
        assert row.first_seen.utcoffset() == timedelta(0)
        assert row.first_seen.hour == 1
    later = seen + timedelta(hours=2)
    with factory() as s, s.begin():
        assert save_post_and_verdict(s, POST, verdict_for(POST), "t1", now=later).post.last_seen == later
    with factory() as s:
        row = s.scalars(select(PostVersion)).one()
        assert (row.first_seen, row.last_seen) == (seen, later)


def test_naive_datetimes_are_refused(factory: sessionmaker[Session]) -> None:
    with factory() as s, pytest.raises(StatementError, match="naive datetime"):
        s.add(AuditEntry(actor="a", action="x", subject="s", prev_hash="0", hash="1", at=datetime(2025, 1, 1)))
        s.flush()


def test_foreign_keys_are_enforced(factory: sessionmaker[Session]) -> None:
    with factory() as s, pytest.raises(IntegrityError):
        s.add(ActionRow(tenant="t1", account_id=12345, kind="warn", created_by="test"))
        s.flush()


def test_action_idempotency_key(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        account = save_post_and_verdict(s, POST, verdict_for(POST), "t1").account
        assert account is not None
        s.add(ActionRow(tenant="t1", account_id=account.id, kind="warn", created_by="ladder", idem_key="k1"))
        s.add(ActionRow(tenant="t1", account_id=account.id, kind="note", created_by="ladder"))
        s.add(ActionRow(tenant="t1", account_id=account.id, kind="note", created_by="ladder"))
    with factory() as s, pytest.raises(IntegrityError):
        s.add(ActionRow(tenant="t1", account_id=account.id, kind="warn", created_by="ladder", idem_key="k1"))
        s.flush()


def test_concurrent_ingest_of_one_post(factory: sessionmaker[Session], engine: Engine) -> None:
    """Writers racing on the same post end with one version and one verdict (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite allows one writer at a time; concurrent writers are a PostgreSQL setup")
    verdict = verdict_for(POST)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []
    results: list[str] = []

    def work() -> None:
        try:
            barrier.wait()
            with factory() as s, s.begin():
                results.append(save_post_and_verdict(s, POST, verdict, "t1").status)
        except BaseException as exc:  # collected and raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(results) == ["new"] + ["unchanged"] * 5
    with factory() as s:
        assert (count(s, PostVersion), count(s, VerdictRow), count(s, Account)) == (1, 1, 1)


def test_one_strike_per_verdict_and_category(factory: sessionmaker[Session]) -> None:
    now = datetime(2025, 3, 3, tzinfo=UTC)
    with factory() as s, s.begin():
        saved = save_post_and_verdict(s, POST, verdict_for(POST), "t1")
        assert saved.account is not None
        account_id, verdict_id = saved.account.id, saved.verdict.id
        s.add(Strike(tenant="t1", account_id=account_id, verdict_id=verdict_id, category="c", severity="high",
                     points=3, at=now))  # fmt: skip
    with factory() as s, pytest.raises(IntegrityError):
        s.add(Strike(tenant="t1", account_id=account_id, verdict_id=verdict_id, category="c", severity="high",
                     points=3, at=now))  # fmt: skip
        s.flush()


def test_registry_entities_and_aliases(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        entity = RegistryEntity(entry_id="csrc-001", name="某某证券股份有限公司", licence_type="broker",
                                licence_number="Z1234", valid_from=date(2020, 1, 1), extra={"k": "v"})  # fmt: skip
        s.add(entity)
        s.flush()
        s.add_all([RegistryAlias(entity_id=entity.id, alias="某某证券"), RegistryAlias(entity_id=entity.id,
                   kind="domain", alias="example.com")])  # fmt: skip
        s.add(Account(tenant="t1", platform="weibo", external_id="official", registry_entity_id=entity.id))
    with factory() as s:
        row = s.scalars(select(RegistryEntity)).one()
        assert (row.valid_from, row.valid_to, row.kind, row.extra) == (
            date(2020, 1, 1),
            None,
            "institution",
            {"k": "v"},
        )
        aliases = s.scalars(select(RegistryAlias.alias).where(RegistryAlias.entity_id == row.id)).all()
        assert sorted(aliases) == ["example.com", "某某证券"]
    with factory() as s, pytest.raises(IntegrityError):
        s.add(RegistryEntity(entry_id="csrc-001", name="dup", licence_type="broker", licence_number="Z1"))
        s.flush()
