"""Roles and permissions, read from ``data/roles.yaml`` (the matrix in docs/service.md)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml


@cache
def _matrix() -> tuple[tuple[str, ...], dict[str, frozenset[str]]]:
    text = resources.files("qinglang.service").joinpath("data/roles.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    roles = tuple(doc["roles"])
    perms = {name: frozenset(allowed) for name, allowed in doc["permissions"].items()}
    for name, allowed in perms.items():
        unknown = allowed - set(roles)
        if unknown:  # a typo in the data file must not silently deny (or allow) anyone
            raise ValueError(f"roles.yaml: permission {name!r} names unknown roles {sorted(unknown)}")
    return roles, perms


ROLES: tuple[str, ...] = _matrix()[0]
PERMISSIONS: dict[str, frozenset[str]] = _matrix()[1]


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` holds ``permission``; an unknown permission is a programming error."""
    return role in PERMISSIONS[permission]
