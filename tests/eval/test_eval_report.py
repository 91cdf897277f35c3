"""The text and Markdown renderings: deterministic, complete, naming the file and its size."""

from __future__ import annotations

from pathlib import Path

from eval_fakes import FakeEngine

from qinglang.eval.report import render_markdown, render_text
from qinglang.eval.run import evaluate


def test_text_is_deterministic_and_complete(fake_engine: FakeEngine, small_fixture: Path) -> None:
    a = render_text(evaluate(fake_engine, small_fixture), timing=False)
    b = render_text(evaluate(FakeEngine(), small_fixture), timing=False)
    assert a == b
    assert "file: labeled_small.jsonl (17 rows)" in a
    assert "read 17 = positives 8 + negatives 5 + ambiguous 2 + skipped 2" in a
    for section in ("Posts", "Per category", "Groups", "Ambiguous rows", "Rules firing most", "Skipped"):
        assert section in a
    assert "QL-5001 record has no usable label: 1 (records 15;" in a
    assert "Timing" not in a
    lines = {line.split()[0]: line for line in a.splitlines() if line.startswith("  ") and line.split()}
    assert lines["stock_tipping"].split()[1:] == [
        "1", "1", "2", "0", "0", "0.333", "1.000", "0.500", "20.00%"
    ]
    assert lines["disguised_pyramid"].split()[6] == "-"  # precision undefined, not 0
    assert "t.tip" in a and "f04" in a


def test_text_with_timing(fake_engine: FakeEngine, small_fixture: Path) -> None:
    out = render_text(evaluate(fake_engine, small_fixture))
    assert "Timing" in out
    assert "15 posts detected in" in out


def test_limit_is_shown(fake_engine: FakeEngine, small_fixture: Path) -> None:
    out = render_text(evaluate(fake_engine, small_fixture, limit=4), timing=False)
    assert "file: labeled_small.jsonl (17 rows, first 4 read (--limit 4))" in out


def test_markdown(fake_engine: FakeEngine, small_fixture: Path) -> None:
    md = render_markdown(evaluate(fake_engine, small_fixture), timing=False)
    assert md.startswith("### `labeled_small.jsonl` (17 rows)\n")
    assert "#### Per category" in md
    assert "| stock_tipping | 1 | 1 | 2 | 0 | 0 | 0.333 | 1.000 | 0.500 | 20.00% |" in md
    assert "|---|---:|" in md
    groups_head = "| group | rows | pos | neg | amb | flagged | flag rate | top codes |\n"
    assert groups_head + "|---|---:|---:|---:|---:|---:|---:|---|" in md
    assert md == render_markdown(evaluate(FakeEngine(), small_fixture), timing=False)
    assert render_markdown(evaluate(fake_engine, small_fixture), heading_level=2).startswith("## ")


def test_markdown_escapes_pipes(fake_engine: FakeEngine, tmp_path: Path) -> None:
    p = tmp_path / "w.jsonl"
    p.write_text('{"id": "1", "text": "hello", "label_source": "fake|财经", "is_positive": false}\n', "utf-8")
    md = render_markdown(evaluate(fake_engine, p))
    assert "| fake\\|财经 |" in md
