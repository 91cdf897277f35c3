"""The HTTP service: FastAPI over the same engine, store and ladder as the CLI (docs/service.md).

Importing this package is cheap (the store imports :mod:`qinglang.service.tables`);
the application itself is built by :func:`qinglang.service.app.create_app`.
"""
