"""``qinglang serve``: the HTTP service on uvicorn (docs/service.md).

Settings come from ``--config`` (TOML/YAML), ``QINGLANG_*`` variables and these
options, in that order of precedence from last to first; an insecure production
configuration is refused before anything listens (``QL-9502``, exit status 2).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from qinglang.commands.common import reported

ConfigOption = Annotated[
    str | None,
    typer.Option("--config", help="Settings file (.toml with a [service] table, or .yaml). Default: "
                 "QINGLANG_CONFIG, else built-in defaults and QINGLANG_* variables.", show_default=False),
]


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on. Default: 127.0.0.1.",
                                             show_default=False)] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on. Default: 8000.",
                                             show_default=False)] = None,
    config: ConfigOption = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Worker processes (each loads the "
                                                "engine; one core each). Default: 1.", show_default=False)] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (overrides QINGLANG_DB_URL and the "
                                           "settings file).", show_default=False)] = None,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                             help="Log every request (the metrics count them anyway).")] = False,
) -> None:
    """Run the HTTP service: moderation, ingest, audit, keys, health and metrics."""
    import uvicorn

    from qinglang.service.settings import load_settings

    with reported():
        settings = load_settings(config, host=host, port=port, workers=workers, db_url=db)
        settings.check_startable()
        if settings.workers > 1:
            # each worker builds its own app from the environment: hand the file and overrides down
            if config:
                os.environ["QINGLANG_CONFIG"] = config
            if db:
                os.environ["QINGLANG_DB_URL"] = db
            uvicorn.run("qinglang.service.app:app_from_environment", factory=True, host=settings.host,
                        port=settings.port, workers=settings.workers, access_log=access_log)
            return
        from qinglang.scan import tune_gc_for_batch
        from qinglang.service.app import create_app

        app = create_app(settings)
        tune_gc_for_batch()
    uvicorn.run(app, host=settings.host, port=settings.port, access_log=access_log)
