"""``qinglang cluster``: find gangs through shared identifiers, explain, export and act on them (docs/clusters.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from qinglang.commands.common import (
    EXIT_OK,
    EXIT_RECORD_ERRORS,
    DbOption,
    JsonFlag,
    TenantOption,
    db_session,
    print_json,
    reported,
)

app = typer.Typer(help="Gang clusters: accounts linked by shared phones, handles, wallets and sites.",
                  no_args_is_help=True)

AllowlistOption = Annotated[
    str | None,
    typer.Option("--allowlist", help="Extra known-benign identifiers, one canonical value per line (added to the "
                 "bundled allow-list).", show_default=False),
]


def _settings(allowlist: str | None = None) -> Any:
    from qinglang.cluster.settings import default_settings, load_allowlist

    settings = default_settings()
    return settings.with_allowlist(load_allowlist(allowlist)) if allowlist else settings


@app.command("build")
def cluster_build(db: DbOption = None, tenant: TenantOption = "default", allowlist: AllowlistOption = None,
                  as_json: JsonFlag = False) -> None:
    """Read verdicts stored since the last run, update the link graph, re-cluster; ids stay stable."""
    from qinglang.cluster import store

    with reported(), db_session(db) as session, session.begin():
        report = store.build(session, tenant, _settings(allowlist))
    if as_json:
        print_json(report.to_dict())
        return
    s = report.stats
    typer.echo(f"read {report.verdicts_read} flagged verdicts (watermark {report.watermark}), "
               f"{report.links_added} new links; graph: {s['accounts']} accounts, {s['identifiers']} identifiers, "
               f"{s['hubs']} hubs, {s['allow_listed']} allow-listed")
    typer.echo(f"{report.clusters} clusters: {len(report.new_ids)} new, {len(report.kept_ids)} kept, "
               f"{len(report.retired_ids)} retired")


@app.command("accounts")
def cluster_accounts(
    file: Annotated[str, typer.Argument(help="JSON Lines or CSV: account, platform, device_id, ip, "
                                        "payment_account, registration_phone, seen_at.")],
    db: DbOption = None, tenant: TenantOption = "default", as_json: JsonFlag = False,
) -> None:
    """Import account-level identifiers; a bad value is reported with its line and code, the rest imported."""
    from qinglang.cluster import store

    with reported(), db_session(db) as session, session.begin():
        report = store.import_accounts(session, tenant, file, _settings())
    if as_json:
        print_json(report.to_dict())
    else:
        for p in report.problems:
            typer.echo(f"line {p.line}: {p.code.code} {p.message}", err=True)
        typer.echo(f"{report.rows} rows, {report.accounts} accounts, {report.links_added} new links, "
                   f"{len(report.problems)} problems")
    raise typer.Exit(EXIT_RECORD_ERRORS if report.problems else EXIT_OK)


@app.command("list")
def cluster_list(
    db: DbOption = None, tenant: TenantOption = "default",
    min_size: Annotated[int, typer.Option("--min-size", min=0, help="Only clusters with this many members.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, riskiest first.")] = 50,
    retired: Annotated[bool, typer.Option("--retired", help="Include retired cluster ids.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Clusters of the tenant, riskiest first."""
    from qinglang.cluster import store

    with reported(), db_session(db) as session:
        rows = store.list_clusters(session, tenant, min_size=min_size, limit=limit, include_retired=retired)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        cats = ", ".join(r["categories"]) or "-"
        typer.echo(f"{r['cluster_id']}  risk {r['risk']:.3f}  {r['size']:>5} accounts  "
                   f"{','.join(r['platforms']) or '-'}  {cats}" + ("" if r["status"] == "active" else "  (retired)"))


@app.command("show")
def cluster_show(cluster_id: Annotated[str, typer.Argument(help="Cluster id, e.g. C-000001.")],
                 db: DbOption = None, tenant: TenantOption = "default", as_json: JsonFlag = False) -> None:
    """One cluster: members and roles, shared identifiers, chain, risk terms."""
    from qinglang.cluster import store

    with reported(), db_session(db) as session:
        info = store.show(session, tenant, cluster_id)
    if as_json:
        print_json(info)
        return
    typer.echo(f"{info['cluster_id']}: {info['size']} accounts, risk {info['risk']:.3f} {info['risk_terms']}")
    typer.echo(f"active {info['first_activity'] or '-'} .. {info['last_activity'] or '-'} on "
               f"{', '.join(info['platforms']) or '-'}; categories {info['categories']}")
    typer.echo("members:")
    for m in info["members"]:
        typer.echo(f"  {m['platform'] or '-'}:{m['account']}  {m['role']}  ({', '.join(m['roles'])})")
    typer.echo("shared identifiers:")
    for i in info["identifiers"]:
        typer.echo(f"  {i['identifier']}  ({i['accounts']} accounts)")
    typer.echo("chain:")
    for bucket, entry in info["chain"].items():
        typer.echo(f"  {bucket}: {len(entry['accounts'])} accounts, {len(entry['identifiers'])} identifiers")


@app.command("explain")
def cluster_explain(
    account_a: Annotated[str, typer.Argument(help="Account id (platform:id when it exists on several platforms).")],
    account_b: Annotated[str, typer.Argument(help="The other account.")],
    db: DbOption = None, tenant: TenantOption = "default", allowlist: AllowlistOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Why two accounts are in one cluster: the shortest path of shared identifiers, with posts and spans."""
    from qinglang.cluster import store

    with reported(), db_session(db) as session:
        result = store.explain(session, tenant, account_a, account_b, _settings(allowlist))
    if as_json:
        print_json(result)
        return
    typer.echo(f"{result['from']} and {result['to']} are in {result['cluster_id']}, "
               f"{result['length']} shared identifier(s) apart:")
    for hop in result["path"]:
        typer.echo(f"  {hop['from']} -- {hop['identifier']} -- {hop['to']}")
        for account, rows in hop["evidence"].items():
            for r in rows:
                for e in r["evidence"][:3]:
                    where = (f"post {e['post_id']} v{e['version']} {e['field']}[{e['start']}:{e['end']}]"
                             if "post_id" in e else f"account data {e.get('field')} (line {e.get('line')})")
                    typer.echo(f"      {account}: {where}")


@app.command("export")
def cluster_export(
    cluster_id: Annotated[str, typer.Argument(help="Cluster id, or 'all' for blocklists over every active cluster.")],
    output: Annotated[str, typer.Option("-o", "--output", help="Folder to write into (created).")] = ".",
    what: Annotated[list[str] | None, typer.Option(
        "--format", help="dossier (JSON + HTML), domains, hosts, rpz, handles, wallets, csv; repeatable. "
        "Default: everything.", show_default=False)] = None,
    min_risk: Annotated[float, typer.Option("--min-risk", min=0, max=1, help="With 'all': only clusters this "
                                            "risky.")] = 0.0,
    db: DbOption = None, tenant: TenantOption = "default",
) -> None:
    """Write a cluster's dossier (JSON + HTML) and identifier blocklists for hand-over."""
    from qinglang import errors
    from qinglang.cluster import export, store
    from qinglang.commands.common import fail

    formats = what or ["dossier", *export.BLOCKLIST_FORMATS]
    bad = [f for f in formats if f != "dossier" and f not in export.BLOCKLIST_FORMATS]
    if bad or (cluster_id == "all" and "dossier" in (what or [])):
        fail(errors.BAD_OPTION, f"--format {', '.join(bad) or 'dossier'}: want dossier (one cluster) or one of "
             f"{', '.join(export.BLOCKLIST_FORMATS)}")
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    now = datetime.now(UTC)
    suffix = {"domains": "domains.txt", "hosts": "hosts", "rpz": "rpz.zone", "handles": "handles.txt",
              "wallets": "wallets.txt", "csv": "identifiers.csv"}
    with reported(), db_session(db) as session:
        if cluster_id == "all":
            idents = []
            for summary in store.list_clusters(session, tenant, limit=10**9):
                if summary["risk"] >= min_risk:
                    idents += export.cluster_identifiers(store.show(session, tenant, summary["cluster_id"]))
            stem = f"{tenant}-clusters"
        else:
            doc = export.dossier(session, tenant, cluster_id, generated_at=now)
            idents = export.cluster_identifiers(doc)
            stem = cluster_id
            if "dossier" in formats:
                import orjson

                (out / f"{stem}.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
                (out / f"{stem}.html").write_text(export.render_html(doc), encoding="utf-8")
                written += [f"{stem}.json", f"{stem}.html"]
    for fmt in formats:
        if fmt == "dossier":
            continue
        name = f"{stem}-{suffix[fmt]}"
        (out / name).write_text(export.blocklist(idents, fmt), encoding="utf-8")
        written.append(name)
    typer.echo(f"wrote {', '.join(written)} to {out}", err=True)


@app.command("act")
def cluster_act(
    cluster_id: Annotated[str, typer.Argument(help="Cluster id, e.g. C-000001.")],
    review: Annotated[bool, typer.Option("--review", help="Open a review case whatever the cluster's size.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the proposal, record nothing.")] = False,
    actor: Annotated[str, typer.Option("--actor", help="Who proposes it (audit log, actions, case).")] = "cluster",
    db: DbOption = None, tenant: TenantOption = "default", as_json: JsonFlag = False,
) -> None:
    """Propose one ladder step for the whole cluster: act, or a review case for large clusters; audited."""
    from qinglang.cluster import act

    with reported(), db_session(db) as session, session.begin():
        result = act.propose(session, tenant, cluster_id, _settings(), now=datetime.now(UTC), force_review=review,
                             dry_run=dry_run, actor=actor)
    if as_json:
        print_json(result)
        return
    typer.echo(f"{cluster_id}: {result['outcome']} {result['action']} on {result['size']} accounts"
               + (f" ({', '.join(result['reasons'])})" if result["reasons"] else ""))
    if result.get("existing_case"):
        typer.echo(f"case {result['case_id']} for this cluster and action is already waiting for a person")
    elif result["case_id"] is not None:
        typer.echo(f"opened case {result['case_id']}")
    elif not dry_run:
        typer.echo(f"recorded on {len(result['recorded'])} accounts")
