"""Each account's role in its gang, and the gang's chain, by rules kept as data.

A campaign divides the work: traffic accounts post and divert people to private
contacts, "teachers" give the tips that draw them in, collectors hold the payment
accounts and wallets, operators run the sites and apps. What an account does shows
in what it holds and posts, so a role is a rule over an :class:`AccountProfile`
(``roles.yaml``: identifier kinds held, categories of flagged posts, being first to
show a site another member also shows, a number of flagged posts). An account gets
every role whose rule matches; its primary role is the first in the file's order.

The chain groups a cluster's accounts and identifiers into the four links of an
operation: information (who posts and teaches), funds (who collects, into what),
technology (who runs which sites, devices and addresses) and people (everyone, and
the contacts they hand out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qinglang.cluster.settings import BUCKETS, RoleRule, Settings, identifier_kind


@dataclass(slots=True)
class AccountProfile:
    """What one account holds and posts, as the role rules see it."""

    account: str
    #: identifier -> when the account first showed it
    identifiers: dict[str, datetime | None] = field(default_factory=dict)
    #: category -> number of the account's flagged posts in it
    categories: Counter[str] = field(default_factory=Counter)
    flagged: int = 0

    @property
    def kinds(self) -> set[str]:
        return {identifier_kind(i) for i in self.identifiers}


def first_holders(profiles: Iterable[AccountProfile], kinds: Iterable[str]) -> dict[str, str]:
    """For identifiers of ``kinds`` held by two or more accounts: the account that showed it first.

    Ties (or unknown times) go to the lower account key, so the answer repeats.
    """
    wanted = set(kinds)
    holders: dict[str, list[tuple[bool, datetime | None, str]]] = {}
    for p in profiles:
        for ident, seen in p.identifiers.items():
            if identifier_kind(ident) in wanted:
                holders.setdefault(ident, []).append((seen is None, seen, p.account))
    out: dict[str, str] = {}
    for ident, who in holders.items():
        if len(who) >= 2:
            who.sort(key=lambda t: (t[0], t[1] or datetime.min, t[2]))
            out[ident] = who[0][2]
    return out


def _has_conditions(rule: RoleRule) -> bool:
    """A rule without conditions is the catch-all: given only when nothing else matched."""
    return bool(rule.kinds_any or rule.categories_any or rule.first_to_post or rule.min_flagged)


def _matches(rule: RoleRule, p: AccountProfile, firsts: Mapping[str, set[str]]) -> bool:
    if rule.kinds_any and not (p.kinds & set(rule.kinds_any)):
        return False
    if rule.categories_any and not any(p.categories.get(c) for c in rule.categories_any):
        return False
    if rule.first_to_post and not firsts.get(rule.role):
        return False
    return p.flagged >= rule.min_flagged


def assign_roles(profiles: list[AccountProfile], settings: Settings) -> dict[str, list[str]]:
    """Account -> its roles, primary first (every account gets at least the last, catch-all rule)."""
    firsts: dict[str, dict[str, set[str]]] = {}
    for rule in settings.roles:
        if rule.first_to_post:
            for ident, account in first_holders(profiles, rule.first_to_post).items():
                firsts.setdefault(account, {}).setdefault(rule.role, set()).add(ident)
    out: dict[str, list[str]] = {}
    for p in profiles:
        got = [r.role for r in settings.roles if _has_conditions(r) and _matches(r, p, firsts.get(p.account, {}))]
        out[p.account] = got or [settings.roles[-1].role]
    return out


def build_chain(profiles: list[AccountProfile], roles: Mapping[str, list[str]], settings: Settings,
                identifiers: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """The cluster's chain: per bucket, its accounts (by primary role) and identifiers.

    ``identifiers`` are the cluster's linking identifiers with how many members hold
    each; an identifier sits in the bucket its kind names in ``links.yaml``.
    """
    chain: dict[str, dict[str, Any]] = {}
    for bucket in BUCKETS:
        spec = settings.chain.get(bucket)
        wanted = set(spec.roles) if spec else set()
        accounts = sorted(p.account for p in profiles if roles[p.account][0] in wanted)
        idents = sorted(
            (i for i in identifiers if identifier_kind(i) in settings.kinds
             and settings.kinds[identifier_kind(i)].bucket == bucket),
            key=lambda i: (-identifiers[i], i),
        )
        entry: dict[str, Any] = {"accounts": accounts,
                                 "identifiers": [{"identifier": i, "accounts": identifiers[i]} for i in idents]}
        if bucket == "information":
            cats: Counter[str] = Counter()
            for p in profiles:
                cats.update(p.categories)
            entry["categories"] = dict(sorted(cats.items(), key=lambda kv: (-kv[1], kv[0])))
        chain[bucket] = entry
    return chain
