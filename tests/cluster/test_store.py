"""Clusters on the store (SQLite and PostgreSQL): build, incremental runs, stable ids, explain, act, dossier."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cluster_fixture import NOW, add_post, load_gang
from sqlalchemy import Engine, func, select

from golden_util import assert_golden
from qinglang.cluster import act, export, store
from qinglang.cluster.settings import default_settings
from qinglang.cluster.tables import ClusterRun
from qinglang.errors import QLError
from qinglang.store import audit
from qinglang.store.db import session_factory
from qinglang.store.tables import ActionRow, Case

S = default_settings()


def _build(engine: Engine, now: datetime = NOW) -> store.BuildReport:
    with session_factory(engine)() as session, session.begin():
        return store.build(session, "t", S, now=now)


def test_build_finds_the_gang_and_not_the_hotline(engine: Engine) -> None:
    with session_factory(engine)() as session, session.begin():
        load_gang(session)
    report = _build(engine)
    assert report.new_ids == ["C-000001"] and report.clusters == 1
    with session_factory(engine)() as session:
        info = store.show(session, "t", "C-000001")
    assert sorted(m["account"] for m in info["members"]) == ["collector", "mule", "op", "teacher", "traffic1",
                                                            "traffic2"]
    roles = {m["account"]: m["role"] for m in info["members"]}
    assert roles == {"op": "operator", "teacher": "teacher", "traffic1": "traffic", "traffic2": "traffic",
                     "collector": "collector", "mule": "collector"}
    assert info["first_activity"] == "2026-09-01T00:00:00Z" and info["last_activity"] == "2026-09-05T00:00:00Z"
    assert info["platforms"] == ["weibo"] and info["risk"] > 0.8


def test_incremental_build_keeps_ids_as_members_come_and_go(engine: Engine) -> None:
    with session_factory(engine)() as session, session.begin():
        load_gang(session)
    _build(engine)
    with session_factory(engine)() as session, session.begin():
        add_post(session, "traffic3", "p9", ["wechat:niugu_88"], ["traffic_diversion"])
        add_post(session, "x1", "p10", ["qq:55555"], ["loan_marketing"])
        add_post(session, "x2", "p11", ["qq:55555"], ["loan_marketing"])
    second = _build(engine, datetime(2026, 11, 2, tzinfo=UTC))
    assert second.verdicts_read == 3  # only what arrived since the watermark
    assert second.kept_ids == ["C-000001"] and second.new_ids == ["C-000002"]
    with session_factory(engine)() as session:
        assert store.show(session, "t", "C-000001")["size"] == 7
        runs = session.scalars(select(ClusterRun.watermark).order_by(ClusterRun.id)).all()
    assert runs == [8, 11]
    # an account leaves (closed; its links go with it): the id stays
    with session_factory(engine)() as session, session.begin():
        from qinglang.store.tables import Account

        session.delete(session.scalars(select(Account).where(Account.external_id == "mule")).one())
    third = _build(engine, datetime(2026, 11, 3, tzinfo=UTC))
    assert third.kept_ids == ["C-000001", "C-000002"] and third.new_ids == []
    with session_factory(engine)() as session:
        assert store.show(session, "t", "C-000001")["size"] == 6
        with pytest.raises(QLError) as exc:
            store.show(session, "t", "C-000009")
    assert exc.value.code.code == "QL-9006"


def test_explain_returns_a_real_path_with_evidence(engine: Engine) -> None:
    with session_factory(engine)() as session, session.begin():
        load_gang(session)
    _build(engine)
    with session_factory(engine)() as session:
        result = store.explain(session, "t", "traffic1", "mule", S)
        with pytest.raises(QLError) as exc:
            store.explain(session, "t", "traffic1", "victim", S)
    assert exc.value.code.code == "QL-9007"  # the hotline is allow-listed: the victim is in no cluster
    hops = [(h["from"], h["identifier"], h["to"]) for h in result["path"]]
    assert hops == [("traffic1", "wechat:niugu_88", "teacher"), ("teacher", "domain:niu-gu.cn", "collector"),
                    ("collector", "wallet:tron:TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", "mule")]
    first = result["path"][0]["evidence"]
    assert first["traffic1"][0]["evidence"][0] | {} == {
        "verdict_id": 3, "post_id": "p3", "version": 1, "field": "text", "start": 0, "end": 15,
        "text": "wechat:niugu_88"}
    assert first["teacher"][0]["evidence"][0]["post_id"] == "p2"


def test_act_as_one_and_review_for_large_clusters(engine: Engine) -> None:
    with session_factory(engine)() as session, session.begin():
        load_gang(session)
    _build(engine)
    with session_factory(engine)() as session, session.begin():
        result = act.propose(session, "t", "C-000001", S, now=NOW)
        again = act.propose(session, "t", "C-000001", S, now=NOW)
    assert result["outcome"] == "act" and result["action"] == "warning" and len(result["recorded"]) == 6
    assert again["recorded"] == []  # acting twice adds nothing
    with session_factory(engine)() as session:
        rows = session.scalars(select(ActionRow).order_by(ActionRow.id)).all()
        assert len(rows) == 6 and all(r.idem_key.startswith("cluster:C-000001:warning:") for r in rows)
        mule = next(r for r in rows if r.subject == "mule")
        assert mule.cause_verdict_ids == []  # per-account evidence: the mule posted nothing flagged
        assert next(r for r in rows if r.subject == "op").cause_verdict_ids == [1]
        assert audit.verify(session).ok
        assert [e.action for e in session.scalars(select(audit.AuditEntry))] == ["cluster.act"]
    small = S.clusters.model_copy(update={"review_size": 3})
    settings = type(S)(S.kinds, S.hub_share, small, S.roles, S.chain, S.risk, S.allowlist)
    with session_factory(engine)() as session, session.begin():
        review = act.propose(session, "t", "C-000001", settings, now=NOW)
    assert review["outcome"] == "review" and review["reasons"] == ["cluster_size"]
    with session_factory(engine)() as session:
        case = session.get(Case, review["case_id"])
        assert case is not None and "proposed warning on 6 accounts" in case.detail
    with session_factory(engine)() as session, session.begin():
        again = act.propose(session, "t", "C-000001", settings, now=NOW)
    assert again["case_id"] == review["case_id"] and again["existing_case"]  # the waiting case, not a second one
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        session.get(Case, review["case_id"]).status = "closed"  # type: ignore[union-attr]
        session.commit()
    with session_factory(engine)() as session, session.begin():
        later = act.propose(session, "t", "C-000001", settings, now=NOW)
    assert later["case_id"] != review["case_id"] and not later.get("existing_case")  # closed: a new proposal


def test_dossier_golden_and_blocklists(engine: Engine) -> None:
    with session_factory(engine)() as session, session.begin():
        load_gang(session)
    _build(engine)
    with session_factory(engine)() as session:
        doc = export.dossier(session, "t", "C-000001", generated_at=NOW)
    assert_golden("cluster_dossier.json", json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    assert_golden("cluster_dossier.html", export.render_html(doc))
    idents = export.cluster_identifiers(doc)
    assert export.blocklist(idents, "domains") == "niu-gu.cn\n"
    assert export.blocklist(idents, "hosts") == "0.0.0.0 niu-gu.cn\n"
    assert export.blocklist(idents, "rpz").endswith("niu-gu.cn CNAME .\n*.niu-gu.cn CNAME .\n")
    assert export.blocklist(idents, "handles") == "wechat:niugu_88\n"
    assert export.blocklist(idents, "wallets") == "wallet:tron:TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE\n"
    assert export.blocklist(idents, "csv").splitlines()[0] == "identifier,kind,value,cluster_id"


def test_reads_before_any_build_are_coded(engine: Engine) -> None:
    with session_factory(engine)() as session, pytest.raises(QLError) as exc:
        store.list_clusters(session, "t")
    assert exc.value.code.code == "QL-9010"
