"""Decisions: the sanctions ladder, review triggers and licensed-account rules.

Pure and storage-free: state in, new state out, with an explicit ``now``. The store
persists :class:`AccountState` and the decisions; see docs/sanctions.md.
"""

from qinglang.decide.ladder import (
    AccountState,
    Action,
    Change,
    Decision,
    LicenceStatus,
    Reversal,
    ReviewCase,
    Strike,
    apply_decision,
    confirm,
    decide,
    expire,
    reverse,
)
from qinglang.decide.policy import LadderPolicy, default_ladder, load_ladder, load_ladder_text

__all__ = [
    "AccountState",
    "Action",
    "Change",
    "Decision",
    "LadderPolicy",
    "LicenceStatus",
    "Reversal",
    "ReviewCase",
    "Strike",
    "apply_decision",
    "confirm",
    "decide",
    "default_ladder",
    "expire",
    "load_ladder",
    "load_ladder_text",
    "reverse",
]
