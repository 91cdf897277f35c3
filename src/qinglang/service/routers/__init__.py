"""One router module per area; :data:`ROUTERS` is the order they are mounted in.

Accounts, registry, cases/reviews, appeals and clusters have one module each
(``accounts``, ``registry``, ``cases``, ``appeals``, ``clusters``) over the store
modules for them (``qinglang.store``, ``qinglang.cluster``), with the permissions of
``data/roles.yaml``.
"""

from __future__ import annotations

from fastapi import APIRouter

from qinglang.service.routers import (
    accounts,
    appeals,
    audit,
    cases,
    clusters,
    health,
    ingest,
    keys,
    moderate,
    registry,
    versions,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    versions.router,
    moderate.router,
    ingest.router,
    audit.router,
    keys.router,
    accounts.router,
    registry.router,
    cases.router,
    appeals.router,
    clusters.router,
)
