"""Extraction stays cheap: plain posts cost microseconds, hostile inputs stay linear.

The bounds are loose (shared CI machines are noisy); they catch a gate that stopped
working or a regex that backtracks, not small regressions. ``bench_entities.py``
prints the real figures.
"""

from __future__ import annotations

import time

import pytest
from bench_entities import PLAIN

from qinglang.entities import extract_entities
from qinglang.text.offsets import NormalizedText


def test_plain_posts_are_cheap() -> None:
    nts = [NormalizedText.identity(p.lower()) for p in PLAIN]
    best = float("inf")
    for _ in range(5):
        t = time.process_time()
        for _ in range(50):
            for nt in nts:
                extract_entities(nt, "text")
        best = min(best, (time.process_time() - t) / (50 * len(nts)) * 1e6)
    assert best < 150, f"{best:.1f} µs/post"


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
