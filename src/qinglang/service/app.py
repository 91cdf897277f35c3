"""The FastAPI application: ``create_app(settings)`` builds everything once, at start-up.

Start-up order: refuse an insecure production configuration (``QL-9502``), open and
migrate the database, build the engine (bundled packs and model unless told
otherwise), load the ladder; then the routers. Nothing of this happens per request.
``app_from_environment`` is the factory ``uvicorn --factory`` (and ``qinglang serve``
with several workers) calls in each worker process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from qinglang import __version__
from qinglang.scan import Detector
from qinglang.service import handlers
from qinglang.service.auth import security_schemes
from qinglang.service.body import BodyLimitMiddleware
from qinglang.service.detection import Detection
from qinglang.service.keys import KeyCache
from qinglang.service.metrics import Metrics, MetricsMiddleware
from qinglang.service.ratelimit import TokenBuckets
from qinglang.service.routers import ROUTERS
from qinglang.service.settings import Settings, load_settings
from qinglang.service.state import ServiceState

log = logging.getLogger(__name__)

DESCRIPTION = """Moderate posts for illegal financial activity, with evidence; ingest them into the
store and the sanctions ladder; read the audit log. Every error is `{"code", "message"}`
(codes in docs/verdict-schema.md). Authenticate with `Authorization: Bearer <key>` or
`X-API-Key: <key>`; keys are created with `qinglang keys create` or `POST /v1/keys`."""


def build_engine(settings: Settings) -> Detector:
    from qinglang.detect.engine import Engine

    return Engine.from_options(None, model=None if settings.model == "none" else settings.model, mode=None)


def _versions(detector: Detector, settings: Settings, ladder: Any, db: Any) -> dict[str, Any]:
    from qinglang.store.db import current_revision

    engine_versions = dict(getattr(detector, "versions", {}) or {})
    return {
        "service": __version__,
        "engine": str(engine_versions.get("engine", "")),
        "packs": dict(engine_versions.get("packs", {})),
        "model": engine_versions.get("model"),
        "ladder": {"name": ladder.ladder, "version": ladder.version},
        "schema_revision": current_revision(db),
    }


def create_app(settings: Settings | None = None, *, detector: Detector | None = None) -> FastAPI:
    """The application for ``settings`` (default: :func:`load_settings`); ``detector`` replaces the engine."""
    from qinglang.decide import default_ladder
    from qinglang.store.db import make_engine, session_factory, upgrade

    settings = settings if settings is not None else load_settings()
    settings.check_startable()
    if settings.env == "development" and not settings.secret.get_secret_value():
        log.warning("no QINGLANG_SECRET set: using the development secret (refused when env=production)")
    db = make_engine(settings.db_url)
    upgrade(db)
    detector = detector if detector is not None else build_engine(settings)
    ladder = default_ladder()
    metrics = Metrics()
    service = ServiceState(
        settings=settings,
        secret=settings.secret_value,
        db=db,
        sessions=session_factory(db),
        detection=Detection(detector, timeout_s=settings.detect_timeout_s, chunk=settings.detect_chunk,
                            max_text_chars=settings.max_text_chars),
        metrics=metrics,
        buckets=TokenBuckets(settings.rate_per_s, settings.rate_burst),
        key_cache=KeyCache(settings.key_cache_s),
        ladder=ladder,
        versions=_versions(detector, settings, ladder, db),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        service.detection.close()
        db.dispose()

    app = FastAPI(title="qinglang", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.service = service
    app.state.metrics = metrics
    handlers.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, on_error=metrics.error)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for router in ROUTERS:
        app.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = security_schemes(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn workers: settings from ``QINGLANG_CONFIG`` and ``QINGLANG_*``."""
    from qinglang.scan import tune_gc_for_batch

    app = create_app(load_settings())
    tune_gc_for_batch()  # freeze the loaded engine out of the collector's way, as 'qinglang scan' does
    return app
