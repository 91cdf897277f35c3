"""Cluster fixtures: the store's per-test databases (SQLite and PostgreSQL), reused from tests/store.

The crafted small gang and the post helper are in ``cluster_fixture.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_store_conftest", Path(__file__).parents[1] / "store" / "conftest.py")
assert _spec and _spec.loader
_store = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_store)
blank_url = _store.blank_url
engine = _store.engine
