"""The registry in the database: audited upserts, --replace, loading back, bindings (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from qinglang.errors import QLError
from qinglang.model import Post
from qinglang.registry import BindingStatus, match_name
from qinglang.store import audit, registry_store
from qinglang.store.db import session_factory
from qinglang.store.repo import upsert_account
from qinglang.store.tables import Account, AuditEntry, RegistryAlias, RegistryEntity

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
HEADER = "id,name,aliases,kind,licence_type,licence_number,valid_from,valid_to,source,affiliation\n"
KUAIYI = "kuaiyi,深圳市快易小额贷款有限公司,快易贷,institution,lender,LND-440300-0077,2016-05-01,2030-12-31,gdjr,\n"
CMB = "cmb,招商银行股份有限公司,招行;招商银行,institution,bank,B0011H144030001,1987-04-08,,nfra,\n"
WANG = "wangjg,王建国,,person,securities_advisory,S0100520070001,2015-01-01,2030-12-31,sac,中信证券\n"


def run(engine: Engine, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """``fn(session, ...)`` in one committed transaction."""
    with session_factory(engine)() as session, session.begin():
        return fn(session, *args, **kwargs)


def imp(engine: Engine, text: str, *, actor: str = "alice", now: datetime = T0, replace: bool = False):  # type: ignore[no-untyped-def]
    return run(engine, registry_store.import_registry, text, actor=actor, now=now, replace=replace)


def audit_rows(engine: Engine) -> list[AuditEntry]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_import_then_the_same_file_again_is_unchanged(engine: Engine) -> None:
    first = imp(engine, HEADER + KUAIYI + CMB + WANG)
    assert (first.added, first.changed, first.unchanged, first.retired) == (["kuaiyi", "cmb", "wangjg"], [], [], [])
    assert first.ok and first.rows_read == 3
    again = imp(engine, HEADER + KUAIYI + CMB + WANG, now=T0 + timedelta(days=1))
    assert (again.added, again.changed, again.unchanged) == ([], [], ["kuaiyi", "cmb", "wangjg"])
    entries = audit_rows(engine)
    assert [(e.action, e.subject, e.actor) for e in entries] == [
        ("registry.add", "registry:kuaiyi", "alice"), ("registry.add", "registry:cmb", "alice"),
        ("registry.add", "registry:wangjg", "alice")]  # the unchanged import logged nothing
    assert entries[1].payload["before"] is None
    assert entries[1].payload["after"]["aliases"] == ["招行", "招商银行"]
    assert entries[0].at == T0
    with session_factory(engine)() as session:
        assert audit.verify(session).ok


def test_a_changed_entry_is_updated_in_place_with_before_and_after(engine: Engine) -> None:
    imp(engine, HEADER + KUAIYI + CMB)
    with session_factory(engine)() as session:
        row_id = session.scalar(select(RegistryEntity.id).where(RegistryEntity.entry_id == "kuaiyi"))
    renewed = KUAIYI.replace("2030-12-31", "2035-12-31").replace(",快易贷,", ",快易贷;快易金融,")
    out = imp(engine, HEADER + renewed + CMB, actor="bob", now=T0 + timedelta(days=3))
    assert (out.added, out.changed, out.unchanged) == ([], ["kuaiyi"], ["cmb"])
    with session_factory(engine)() as session:
        row = session.scalars(select(RegistryEntity).where(RegistryEntity.entry_id == "kuaiyi")).one()
        assert row.id == row_id and row.valid_to == date(2035, 12, 31)
        assert row.updated_at == T0 + timedelta(days=3) and row.created_at == T0
        aliases = session.scalars(select(RegistryAlias.alias).where(RegistryAlias.entity_id == row_id)
                                  .order_by(RegistryAlias.id)).all()
        assert aliases == ["快易贷", "快易金融"]
    change = audit_rows(engine)[-1]
    assert (change.action, change.actor, change.subject) == ("registry.change", "bob", "registry:kuaiyi")
    assert change.payload["before"]["valid_to"] == "2030-12-31"
    assert change.payload["after"]["valid_to"] == "2035-12-31"
    assert change.payload["after"]["aliases"] == ["快易贷", "快易金融"]


def test_replace_retires_what_the_snapshot_no_longer_lists(engine: Engine) -> None:
    imp(engine, HEADER + KUAIYI + CMB + WANG)
    out = imp(engine, HEADER + CMB, replace=True, now=T0 + timedelta(days=1))
    assert sorted(out.retired) == ["kuaiyi", "wangjg"] and out.unchanged == ["cmb"]
    with session_factory(engine)() as session:
        assert [e.id for e in registry_store.load_registry(session)] == ["cmb"]
        assert len(registry_store.load_registry(session, include_retired=True)) == 3
        assert registry_store.has_entries(session)
        retired = registry_store.get_entity(session, "kuaiyi")
        assert retired.retired_at == T0 + timedelta(days=1)
    assert [e.action for e in audit_rows(engine)][-2:] == ["registry.retire", "registry.retire"]
    # listed again: reinstated, as a change
    back = imp(engine, HEADER + KUAIYI + CMB, replace=True, now=T0 + timedelta(days=2))
    assert back.changed == ["kuaiyi"] and back.retired == []
    with session_factory(engine)() as session:
        assert registry_store.get_entity(session, "kuaiyi").retired_at is None


def test_replace_with_bad_rows_imports_the_good_ones_and_retires_nothing(engine: Engine) -> None:
    imp(engine, HEADER + KUAIYI + CMB)
    bad = "x1,某某券商,,institution,brokr,X-1,,,,\n"
    out = imp(engine, HEADER + CMB + bad + WANG, replace=True)
    assert out.replace_skipped and out.retired == [] and out.added == ["wangjg"]
    assert [(p.line, p.code.code) for p in out.problems] == [(3, "QL-8002")]
    with session_factory(engine)() as session:
        assert len(registry_store.load_registry(session)) == 3


def test_a_number_held_by_a_stored_entry_is_a_bad_row_with_its_line(engine: Engine) -> None:
    imp(engine, HEADER + KUAIYI)
    clash = "other,另一家贷款公司,,institution,lender,lnd 440300 0077,,,,\n"
    out = imp(engine, HEADER + CMB + clash)
    assert out.added == ["cmb"]
    assert [(p.line, p.field, p.code.code) for p in out.problems] == [(3, "licence_number", "QL-8006")]
    assert "entry kuaiyi" in out.problems[0].reason
    # a full snapshot frees the number: the old holder is retired, the new one takes it
    out = imp(engine, HEADER + CMB + clash, replace=True)
    assert out.ok and out.added == ["other"] and out.retired == ["kuaiyi"]


def test_a_value_too_long_for_its_column_is_a_bad_row(engine: Engine) -> None:
    long_name = "长" * 600
    out = imp(engine, HEADER + KUAIYI + f"x,{long_name},,institution,bank,B-1,,,,\n")
    assert out.added == ["kuaiyi"]
    assert [(p.line, p.field, p.code.code) for p in out.problems] == [(3, "name", "QL-8001")]


def test_file_level_problems_raise_and_write_nothing(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QLError) as err:
        imp(engine, "name,licence_type\nx,bank\n")
    assert err.value.code.code == "QL-8009"
    with pytest.raises(QLError) as err:
        imp(engine, str(tmp_path / "missing.csv"))
    assert err.value.code.code == "QL-4002"
    assert audit_rows(engine) == []


def test_load_registry_round_trips_every_field(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "licences.csv"
    path.write_text(HEADER.rstrip("\n") + ",branch\n" + KUAIYI.rstrip("\n") + ",南山\n"
                    + "cmb,招商银行股份有限公司,招行,institution,bank,B0011H144030001,,,,,\n", encoding="utf-8")
    out = imp(engine, str(path))
    assert out.ok, out.problems
    with session_factory(engine)() as session:
        registry = registry_store.load_registry(session)
    kuaiyi = registry.get("kuaiyi")
    assert kuaiyi is not None and kuaiyi.extra == {"branch": "南山"} and kuaiyi.aliases == ("快易贷",)
    assert kuaiyi.valid_from == date(2016, 5, 1) and kuaiyi.source == "gdjr"
    cmb = registry.get("cmb")
    assert cmb is not None and cmb.source == "licences.csv"  # the file's name, not its path
    assert match_name(registry, "招 商 銀 行")[0].entry.id == "cmb"


@pytest.mark.parametrize(("kwargs", "ids"), [
    ({}, ["cmb", "kuaiyi", "wangjg"]),
    ({"licence_type": "lender"}, ["kuaiyi"]),
    ({"licence_type": "投顾"}, ["wangjg"]),
    ({"valid_on": date(2010, 1, 1)}, ["cmb"]),
    ({"valid_on": date(2031, 1, 1)}, ["cmb"]),
    ({"valid_on": date(2020, 1, 1)}, ["cmb", "kuaiyi", "wangjg"]),
    ({"limit": 1}, ["cmb"]),
])  # fmt: skip
def test_list_entities_filters(engine: Engine, kwargs: dict, ids: list[str]) -> None:  # type: ignore[type-arg]
    imp(engine, HEADER + KUAIYI + CMB + WANG)
    with session_factory(engine)() as session:
        assert [e["id"] for e in registry_store.list_entities(session, **kwargs)] == ids


def test_list_by_an_unknown_type_is_a_coded_error(engine: Engine) -> None:
    with session_factory(engine)() as session, pytest.raises(QLError) as err:
        registry_store.list_entities(session, licence_type="brokr")
    assert err.value.code.code == "QL-8002" and "broker" in (err.value.hint or "")


def test_entity_detail_and_unknown_ids(engine: Engine) -> None:
    imp(engine, HEADER + KUAIYI)
    with session_factory(engine)() as session:
        body = registry_store.entity_detail(session, "kuaiyi", on=date(2031, 1, 1))
        assert body["validity"] == "expired" and [h["action"] for h in body["history"]] == ["registry.add"]
        with pytest.raises(QLError) as err:
            registry_store.entity_detail(session, "nope")
        assert err.value.code.code == "QL-6202"


# --- bindings ---


def _account(engine: Engine, name: str, platform: str = "weibo", tenant: str = "acme") -> int:
    return run(engine, lambda s: upsert_account(s, tenant, platform, name, now=T0).id)


def _get(session, account_id: int) -> Account:  # type: ignore[no-untyped-def]
    account = session.get(Account, account_id)
    assert account is not None
    return account


def test_declared_binding_wins_over_name_matches(engine: Engine) -> None:
    imp(engine, HEADER + KUAIYI + CMB)
    acct = _account(engine, "快易贷")
    ids = run(engine, registry_store.binding_ids, ["kuaiyi", "cmb", "nope"])
    assert set(ids) == {"kuaiyi", "cmb"}
    # ingest matched it by name
    assert run(engine, lambda s: registry_store.apply_matched_bindings(s, {acct: "kuaiyi"}, now=T0)) == 1
    assert run(engine, lambda s: registry_store.apply_matched_bindings(s, {acct: "kuaiyi"}, now=T0)) == 0
    # a person declares it is really cmb's account
    assert run(engine, lambda s: registry_store.declare_binding(s, _get(s, acct), "cmb", actor="carol", now=T0))
    assert not run(engine, lambda s: registry_store.declare_binding(s, _get(s, acct), "cmb", actor="carol", now=T0))
    # the next ingest's name match does not undo it
    assert run(engine, lambda s: registry_store.apply_matched_bindings(s, {acct: "kuaiyi"}, now=T0)) == 0
    assert run(engine, lambda s: registry_store.set_matched_binding(s, _get(s, acct), ids["kuaiyi"],
                                                                     entry_id="kuaiyi", now=T0)) is False
    with session_factory(engine)() as session:
        a = _get(session, acct)
        assert (a.registry_entity_id, a.binding_source, a.bound_by) == (ids["cmb"], "declared", "carol")
        assert registry_store.declared_licences(session, "acme") == {("weibo", "快易贷"): "B0011H144030001"}
        assert registry_store.declared_licences(session, "other") == {}
    binds = [e for e in audit_rows(engine) if e.action.startswith("account.")]
    assert [(e.action, e.actor, e.tenant) for e in binds] == [("account.bind", "ingest", "acme"),
                                                              ("account.bind", "carol", "acme")]
    assert binds[1].payload["before"] == {"entry_id": "kuaiyi", "source": "matched"}
    assert binds[1].payload["after"] == {"entry_id": "cmb", "source": "declared"}
    # unbinding is audited too, and lets name matches in again
    assert run(engine, lambda s: registry_store.remove_binding(s, _get(s, acct), actor="carol", now=T0))
    assert run(engine, lambda s: registry_store.apply_matched_bindings(s, {acct: "kuaiyi"}, now=T0)) == 1
    assert run(engine, lambda s: registry_store.apply_matched_bindings(s, {acct: None}, now=T0)) == 1
    with session_factory(engine)() as session:
        assert _get(session, acct).registry_entity_id is None


def test_binding_to_unknown_or_retired_entries_is_refused(engine: Engine) -> None:
    imp(engine, HEADER + KUAIYI + CMB)
    imp(engine, HEADER + CMB, replace=True)
    acct = _account(engine, "someone")
    for entry, code in (("nope", "QL-6202"), ("kuaiyi", "QL-6203")):
        with pytest.raises(QLError) as err:
            run(engine, lambda s, e=entry: registry_store.declare_binding(s, _get(s, acct), e, actor="x", now=T0))
        assert err.value.code.code == code
    # and a retired entry binds nothing by name either
    assert run(engine, lambda s: registry_store.apply_matched_bindings(s, {acct: "kuaiyi"}, now=T0)) == 0


@pytest.mark.parametrize(("name", "bio", "declare", "licensed", "claimed", "entry"), [
    ("快易贷", None, None, True, False, "kuaiyi"),            # bound by its short name
    ("小额贷款客服", None, "kuaiyi", True, False, "kuaiyi"),   # declared: the name does not matter
    ("贷款小王", None, None, False, False, None),              # unbound: unlicensed
    ("金牌顾问", "持牌放贷，执业编号：LND-440300-9999", None, False, True, None),  # claims a licence it lacks
])  # fmt: skip
def test_licence_status_for_a_stored_account(engine: Engine, name: str, bio: str | None, declare: str | None,
                                             licensed: bool, claimed: bool, entry: str | None) -> None:
    imp(engine, HEADER + KUAIYI + CMB)
    acct = _account(engine, name)
    if declare:
        run(engine, lambda s: registry_store.declare_binding(s, _get(s, acct), declare, actor="x", now=T0))
    with session_factory(engine)() as session, session.begin():
        registry = registry_store.load_registry(session)
        status = registry_store.licence_status_for(session, registry, _get(session, acct),
                                                   Post(id="p", text="x", account_id=name, bio=bio), T0)
        assert registry_store.licence_status_for(session, None, _get(session, acct),
                                                 Post(id="p", text="x"), T0) is None
    assert status is not None
    assert (status.licensed, status.claimed, status.registry_id if licensed else None) == (licensed, claimed, entry)
    with session_factory(engine)() as session:
        a = _get(session, acct)
        assert (a.binding_source is not None) == (entry is not None)
        assert a.binding_source == ("declared" if declare else "matched" if entry else None)


def test_a_lapsed_name_match_is_linked_but_not_licensed(engine: Engine) -> None:
    imp(engine, HEADER + KUAIYI)
    acct = _account(engine, "深圳市快易小额贷款有限公司")
    later = datetime(2031, 1, 1, tzinfo=UTC)
    with session_factory(engine)() as session, session.begin():
        registry = registry_store.load_registry(session)
        binding = registry_store.bind_stored_account(session, registry, _get(session, acct),
                                                     Post(id="p", text="x"), later)
        assert binding.status is BindingStatus.LAPSED
    with session_factory(engine)() as session:
        assert _get(session, acct).binding_source == "matched"
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "account.bind")) == 1


def test_an_import_is_one_transaction(engine: Engine) -> None:
    """A failure after the rows were flushed (here: the audit log refuses an over-long actor) leaves nothing."""
    with pytest.raises(QLError) as err:
        imp(engine, HEADER + KUAIYI + CMB, actor="x" * 200)
    assert err.value.code.code == "QL-6004"
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(RegistryEntity)) == 0
        assert session.scalar(select(func.count()).select_from(RegistryAlias)) == 0


def test_migration_0003_down_and_up_keeps_accounts_and_entries(engine: Engine) -> None:
    """The columns are added and dropped in place: accounts (referenced by posts and actions) are never recreated."""
    from alembic import command

    from qinglang.store import db

    imp(engine, HEADER + KUAIYI)
    acct = _account(engine, "快易贷")
    run(engine, lambda s: registry_store.declare_binding(s, _get(s, acct), "kuaiyi", actor="x", now=T0))
    cfg = db.alembic_config(engine.url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    db.upgrade(engine)
    with session_factory(engine)() as session:
        a = _get(session, acct)
        assert a.external_id == "快易贷" and a.registry_entity_id is not None
        assert a.binding_source is None  # the column came back empty
        assert [e.id for e in registry_store.load_registry(session)] == ["kuaiyi"]
