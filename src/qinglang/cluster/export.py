"""Hand-over material: a dossier per cluster (JSON + readable HTML) and identifier blocklists.

The dossier is what another department receives: the cluster's summary, members and
roles, shared identifiers, chain, a timeline of the members' flagged posts, and the
**evidence hashes**: each post version's ``content_hash`` (SHA-256 over its text
fields, as stored) so the receiver can check the posts they are later given are the
ones the cluster was built on, plus ``dossier_sha256`` over the canonical JSON of
everything else. The HTML page is rendered from ``templates/dossier.html.j2``
(autoescaped: member names and identifiers come from the public).

Blocklists are plain formats other systems take as they are: domains one per line,
a hosts file (``0.0.0.0 domain``), an RPZ zone (``domain CNAME .`` and its wildcard),
handles and wallets one per line, and CSV with every identifier.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qinglang.cluster import store
from qinglang.cluster.settings import identifier_kind
from qinglang.cluster.tables import ClusterMember
from qinglang.store.tables import Account, PostVersion, VerdictRow

BLOCKLIST_FORMATS = ("domains", "hosts", "rpz", "handles", "wallets", "csv")
HANDLE_KINDS = ("wechat", "qq", "telegram", "whatsapp", "email", "phone")
WALLET_KINDS = ("wallet", "bank_card", "pay")


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def timeline(session: Session, row: Any) -> list[dict[str, Any]]:
    """The members' flagged post versions, oldest first, each with its content hash."""
    stmt = (select(PostVersion, VerdictRow.categories, VerdictRow.id, Account.external_id)
            .join(VerdictRow, VerdictRow.post_version_id == PostVersion.id)
            .join(Account, Account.id == PostVersion.account_id)
            .join(ClusterMember, ClusterMember.account_id == Account.id)
            .where(ClusterMember.cluster_row_id == row.id, VerdictRow.flagged.is_(True)))
    seen: set[tuple[str, int]] = set()
    out = []
    for post, categories, verdict_id, account in session.execute(stmt):
        if (post.post_id, post.version) in seen:
            continue
        seen.add((post.post_id, post.version))
        at = store._parse_time(post.posted_at, post.first_seen)
        out.append({"at": _iso(at), "account": account, "post_id": post.post_id, "version": post.version,
                    "platform": post.platform or "", "verdict_id": verdict_id,
                    "categories": sorted(c.get("code", "") for c in categories or []),
                    "content_sha256": post.content_hash})
    out.sort(key=lambda e: (e["at"] or "", e["post_id"], e["version"]))
    return out


def dossier(session: Session, tenant: str, cluster_id: str, *, generated_at: datetime | None = None) -> dict[str, Any]:
    """The cluster's dossier as plain JSON, with its evidence hashes and its own SHA-256."""
    info = store.show(session, tenant, cluster_id)
    row = store.get_cluster(session, tenant, cluster_id)
    body = {
        "dossier": "qinglang.cluster/1",
        "tenant": tenant,
        "generated_at": _iso(generated_at or datetime.now(UTC)),
        **info,
        "timeline": timeline(session, row),
    }
    body["evidence_hashes"] = sorted({e["content_sha256"] for e in body["timeline"]})
    body["dossier_sha256"] = hashlib.sha256(_canonical(body)).hexdigest()
    return body


def render_html(doc: dict[str, Any]) -> str:
    """The dossier as one self-contained, autoescaped HTML page."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("qinglang.cluster", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    return env.get_template("dossier.html.j2").render(d=doc)


def _domains(identifiers: Iterable[str]) -> list[str]:
    return sorted({i.split(":", 1)[1] for i in identifiers if identifier_kind(i) == "domain"})


def blocklist(identifiers: Iterable[tuple[str, str]], fmt: str) -> str:
    """``identifiers`` are (identifier, cluster id); the list in ``fmt`` (see :data:`BLOCKLIST_FORMATS`)."""
    items = sorted(set(identifiers))
    values = [i for i, _ in items]
    if fmt == "domains":
        lines = _domains(values)
    elif fmt == "hosts":
        lines = [f"0.0.0.0 {d}" for d in _domains(values)]
    elif fmt == "rpz":
        head = ["$TTL 300", "@ SOA localhost. root.localhost. 1 3600 600 86400 300", "@ NS localhost."]
        lines = head + [rec for d in _domains(values) for rec in (f"{d} CNAME .", f"*.{d} CNAME .")]
    elif fmt == "handles":
        lines = sorted({i for i in values if identifier_kind(i) in HANDLE_KINDS})
    elif fmt == "wallets":
        lines = sorted({i for i in values if identifier_kind(i) in WALLET_KINDS})
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["identifier", "kind", "value", "cluster_id"])
        for ident, cid in items:
            w.writerow([ident, identifier_kind(ident), ident.split(":", 1)[1] if ":" in ident else ident, cid])
        return buf.getvalue()
    else:
        raise ValueError(f"unknown blocklist format {fmt!r}")
    return "".join(line + "\n" for line in lines)


def cluster_identifiers(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The shared identifiers of a dossier or ``show`` result, with its cluster id."""
    return [(i["identifier"], doc["cluster_id"]) for i in doc.get("identifiers", [])]
