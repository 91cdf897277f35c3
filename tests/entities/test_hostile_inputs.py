"""Hostile inputs stay linear: no extractor regex backtracks catastrophically.

The 2-second bound on a 10k-character input is a guard against ReDoS, not a speed
target (speed lives in benchmarks/; ``bench_entities.py`` prints per-extractor figures).
"""

from __future__ import annotations

import time

import pytest

from qinglang.entities import extract_entities
from qinglang.text.offsets import NormalizedText

HOSTILE = [
    "1 " * 5000,
    "1-" * 5000,
    "1." * 5000,
    "9" * 10000,
    "微信 " + "a " * 5000,
    "微信" * 3000,
    "qq" + " " * 5000 + "1",
    "telegram " * 2000,
    "a." * 5000 + "com",
    "a点" * 5000,
    "abc dot " * 2000,
    "x" * 10000,
    "1x" * 5000,
    "日" * 5000 + "赚",
    "每天" + "在" * 5000 + "赚500",
    "$" * 5000,
    "0x" + "a" * 10000,
    "bc1" + "q" * 10000,
    "@" * 5000,
    "a@" * 5000,
    "http://" + "a." * 3000,
    "6222 " * 3000,
    "%" * 5000 + "1",
    "1%" * 3000,
    "年化利率" * 1000 + "7%",
    "guaranteed " * 1000 + "20%",
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:12]))
def test_hostile_input_is_linear(text: str) -> None:
    t = time.process_time()
    extract_entities(NormalizedText.identity(text), "text")
    assert time.process_time() - t < 2.0
