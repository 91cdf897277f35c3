"""The end-of-scan summary: what was read, what was flagged, what failed and where.

A scan over millions of posts is judged first by its counts, so the summary leads
with them (``records = verdicts + errors`` is visible at a glance), then lists the
categories found with their severity and whether only a person may act, then the
errors by code with the first record of each, so a user can open the input there.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from qinglang import errors
from qinglang.model import SEVERITY_RANK
from qinglang.policy.loader import CategoryInfo
from qinglang.scan import ScanStats


def error_titles() -> dict[str, str]:
    """Code -> title for every code in :mod:`qinglang.errors`."""
    return {
        v.code: v.title for v in vars(errors).values() if isinstance(v, errors.ErrorCode)
    }


def summary_renderable(stats: ScanStats, taxonomy: Mapping[str, CategoryInfo]) -> Group:
    """Tables for a rich console (plain text when the console is not a terminal)."""
    elapsed = stats.elapsed
    rate = stats.records / elapsed if elapsed > 0 else 0.0
    parts: list[Table | Text] = []

    counts = Table(box=box.SIMPLE, title="scan", title_justify="left", show_header=True)
    for name in ("records", "verdicts", "flagged", "review only", "errors"):
        counts.add_column(name, justify="right")
    counts.add_column("time", justify="right")
    counts.add_row(
        f"{stats.records:,}",
        f"{stats.verdicts:,}",
        f"{stats.flagged:,}",
        f"{stats.review_only:,}",
        Text(f"{stats.error_count:,}", style="bold red" if stats.error_count else ""),
        f"{elapsed:.2f} s ({rate:,.0f}/s)",
    )
    parts.append(counts)
    if stats.severities:
        by_sev = sorted(stats.severities.items(), key=lambda kv: (-SEVERITY_RANK.get(kv[0], 0), kv[0]))
        parts.append(Text("flagged by severity: " + ", ".join(f"{s} {n:,}" for s, n in by_sev)))

    if stats.categories:
        cats = Table(box=box.SIMPLE, title="categories", title_justify="left")
        cats.add_column("category")
        cats.add_column("posts", justify="right")
        cats.add_column("severity")
        cats.add_column("review only")
        for code, n in sorted(stats.categories.items(), key=lambda kv: (-kv[1], kv[0])):
            info = taxonomy.get(code)
            cats.add_row(
                code,
                f"{n:,}",
                info.severity if info else "?",
                ("yes" if info.review_only else "no") if info else "?",
            )
        parts.append(cats)

    if stats.errors:
        titles = error_titles()
        errs = Table(box=box.SIMPLE, title="errors", title_justify="left")
        errs.add_column("code")
        errs.add_column("records", justify="right")
        errs.add_column("what")
        errs.add_column("first")
        for code, n in sorted(stats.errors.items()):
            first = stats.first_errors.get(code)
            where = f"record {first.record}: {first.message}" if first else ""
            errs.add_row(code, f"{n:,}", titles.get(code, ""), where)
        parts.append(errs)

    return Group(*parts)
