"""The store: posts, verdicts, accounts, registry, actions, cases, reviews, appeals, audit.

SQLAlchemy 2 models (``tables``), packaged Alembic migrations (``migrations``), engine
and session helpers (``db``) and repositories (``repo``). See docs/store.md.
"""

from qinglang.store.db import database_url, make_engine, session_factory, upgrade
from qinglang.store.repo import SaveResult, content_hash, save_post_and_verdict

__all__ = [
    "SaveResult",
    "content_hash",
    "database_url",
    "make_engine",
    "save_post_and_verdict",
    "session_factory",
    "upgrade",
]
