"""Fixtures shared by the evaluation tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_fakes import FIXTURES, FakeEngine


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def small_fixture() -> Path:
    return FIXTURES / "labeled_small.jsonl"
