"""Cluster settings as validated data: ``links.yaml``, ``roles.yaml``, ``allowlist.txt``.

Which identifier kinds link accounts, how strongly, where hubs start, how giants are
split, which rules give a role and how risk is scored are decisions an analyst tunes,
so they live in data files next to this module (docs/clusters.md). The schema is
strict (``extra="forbid"``): a misspelt key is an error (``QL-9009``), not a setting
silently ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qinglang.errors import CLUSTER_SETTINGS, QLError

Strength = Literal["strong", "weak"]
Bucket = Literal["information", "funds", "technology", "people"]
BUCKETS: tuple[str, ...] = ("information", "funds", "technology", "people")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindSpec(_Strict):
    strength: Strength
    hub_degree: int = Field(ge=1)
    bucket: Bucket


class HubSpec(_Strict):
    share: float = Field(ge=0, le=1)


class ClusterSpec(_Strict):
    min_size: int = Field(2, ge=2)
    giant_min_accounts: int = Field(150, ge=2)
    min_modularity: float = Field(0.3, ge=0, le=1)
    max_bridge_links: int = Field(4, ge=0)
    seed: int = 7
    min_jaccard: float = Field(0.3, gt=0, le=1)
    require_flagged: bool = True
    max_evidence: int = Field(20, ge=1)
    review_size: int = Field(20, ge=1)


class LinksFile(_Strict):
    kinds: dict[str, KindSpec]
    hub: HubSpec
    clusters: ClusterSpec = Field(default_factory=ClusterSpec)


class RoleRule(_Strict):
    role: str = Field(pattern=r"^[a-z][a-z_]*$")
    description: str = ""
    kinds_any: list[str] = Field(default_factory=list)
    categories_any: list[str] = Field(default_factory=list)
    first_to_post: list[str] = Field(default_factory=list)
    min_flagged: int = Field(0, ge=0)


class ChainBucket(_Strict):
    roles: list[str] = Field(default_factory=list)


class RiskSpec(_Strict):
    severity: dict[Literal["low", "medium", "high"], float]
    per_extra_category: float = Field(ge=0)
    max_breadth: float = Field(ge=0)
    size_weight: float = Field(ge=0)
    size_log_cap: float = Field(gt=0)
    funds: float = Field(ge=0)
    funds_kinds: list[str]


class RolesFile(_Strict):
    roles: list[RoleRule] = Field(min_length=1)
    chain: dict[Bucket, ChainBucket]
    risk: RiskSpec


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the cluster layer reads from data, validated and cross-checked."""

    kinds: dict[str, KindSpec]
    hub_share: float
    clusters: ClusterSpec
    roles: tuple[RoleRule, ...]
    chain: dict[str, ChainBucket]
    risk: RiskSpec
    allowlist: frozenset[str]

    def hub_threshold(self, kind: str, n_accounts: int) -> int:
        """An identifier of ``kind`` held by more accounts than this is a hub."""
        return max(self.kinds[kind].hub_degree, math.ceil(self.hub_share * n_accounts))

    def with_allowlist(self, extra: frozenset[str]) -> Settings:
        return Settings(self.kinds, self.hub_share, self.clusters, self.roles, self.chain, self.risk,
                        self.allowlist | extra)


def _data(name: str) -> str:
    return resources.files("qinglang.cluster").joinpath("data", name).read_text(encoding="utf-8")


def _parse(model: type[BaseModel], text: str, where: str) -> BaseModel:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise QLError(CLUSTER_SETTINGS, f"{where}: not valid YAML: {exc}") from None
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise QLError(CLUSTER_SETTINGS, f"{where}: {problems}") from None


def parse_allowlist(text: str) -> frozenset[str]:
    """One canonical identifier per line; blank lines and ``#`` comments ignored."""
    out = set()
    for line in text.splitlines():
        value = line.split("#", 1)[0].strip()
        if value:
            out.add(value)
    return frozenset(out)


def load_allowlist(path: str | Path) -> frozenset[str]:
    try:
        return parse_allowlist(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise QLError(CLUSTER_SETTINGS, f"allow-list {path}: cannot be read: {exc}") from None


def load_settings(links_text: str | None = None, roles_text: str | None = None,
                  allowlist_text: str | None = None) -> Settings:
    """Settings from the given texts, each defaulting to the bundled data file."""
    links = _parse(LinksFile, links_text if links_text is not None else _data("links.yaml"), "links.yaml")
    roles = _parse(RolesFile, roles_text if roles_text is not None else _data("roles.yaml"), "roles.yaml")
    assert isinstance(links, LinksFile) and isinstance(roles, RolesFile)
    known = set(links.kinds)
    role_names = {r.role for r in roles.roles}
    for rule in roles.roles:
        for kind in (*rule.kinds_any, *rule.first_to_post):
            if kind not in known:
                raise QLError(CLUSTER_SETTINGS, f"roles.yaml: role {rule.role} names unknown identifier kind {kind!r}")
    for bucket, spec in roles.chain.items():
        for role in spec.roles:
            if role not in role_names:
                raise QLError(CLUSTER_SETTINGS, f"roles.yaml: chain.{bucket} names unknown role {role!r}")
    for kind in roles.risk.funds_kinds:
        if kind not in known:
            raise QLError(CLUSTER_SETTINGS, f"roles.yaml: risk.funds_kinds names unknown kind {kind!r}")
    allow = parse_allowlist(allowlist_text if allowlist_text is not None else _data("allowlist.txt"))
    return Settings(dict(links.kinds), links.hub.share, links.clusters, tuple(roles.roles), dict(roles.chain),
                    roles.risk, allow)


@cache
def default_settings() -> Settings:
    """The bundled settings (cached: the files never change at run time)."""
    return load_settings()


def identifier_kind(identifier: str) -> str:
    """The kind of a canonical identifier: its prefix (``wallet:eth:0x..`` -> ``wallet``)."""
    return identifier.split(":", 1)[0]
