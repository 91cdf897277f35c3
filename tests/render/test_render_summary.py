"""The scan summary shows the counts, the categories and the errors by code."""

from __future__ import annotations

import io

from rich.console import Console

from qinglang.model import CategoryScore, ErrorRecord, Verdict
from qinglang.policy.loader import taxonomy
from qinglang.render.summary import error_titles, summary_renderable
from qinglang.scan import ScanStats


def render(stats: ScanStats) -> str:
    console = Console(record=True, width=160, file=io.StringIO())
    console.print(summary_renderable(stats, taxonomy()))
    return console.export_text()


def test_summary_counts_categories_and_errors() -> None:
    stats = ScanStats()
    stats.add(Verdict("1", [CategoryScore("stock_tipping", 0.9, "high", False)], "high", False, [], [], {}))
    stats.add(Verdict("2", [CategoryScore("financial_rumor", 0.6, "low", True)], "low", True, [], [], {}))
    stats.add(Verdict("3", [], "none", False, [], [], {}))
    stats.add(ErrorRecord(None, "QL-1001", "line 4: malformed JSON", 4))
    stats.finish()
    text = render(stats)
    assert "records" in text and "flagged" in text
    row = next(line for line in text.splitlines() if " s (" in line).split()
    assert row[:5] == ["4", "3", "2", "1", "1"]  # records, verdicts, flagged, review only, errors
    assert "stock_tipping" in text and "financial_rumor" in text
    rumor = next(line for line in text.splitlines() if "financial_rumor" in line)
    assert "yes" in rumor  # review only
    assert "QL-1001" in text and "record 4: line 4: malformed JSON" in text
    assert "flagged by severity: high 1, low 1" in text


def test_summary_without_errors_has_no_error_table() -> None:
    stats = ScanStats()
    stats.add(Verdict("1", [], "none", False, [], [], {}))
    assert "errors" in render(stats) and "QL-" not in render(stats)


def test_error_titles_cover_errors_module() -> None:
    titles = error_titles()
    assert titles["QL-1007"] == "input is empty" and titles["QL-4001"] == "unsupported file format"
