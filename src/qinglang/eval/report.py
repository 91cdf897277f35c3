"""Render an :class:`~qinglang.eval.run.EvalReport` as plain text or Markdown.

Both renderers are pure functions of the report, with every table in a fixed order
(codes and groups sorted by name, rules by count then id), so the same report
always gives the same bytes and a quality document can be regenerated and diffed.
Timing is the one part that differs between runs of the same engine on the same
file; ``timing=False`` leaves it out for byte-stable snippets.

Ratios are shown to three decimals, rates as percentages, and an undefined ratio
(0/0) as ``-`` rather than 0, matching ``None`` in the JSON.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from qinglang.eval.run import EvalReport

#: how many of a group's / ambiguous class's most frequent codes a table cell shows
TOP_CODES = 3


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _int(n: int) -> str:
    return f"{n:,}"


def _codes(c: Counter[str], n: int = TOP_CODES) -> str:
    top = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return ", ".join(f"{k} {v}" for k, v in top) or "-"


def _width(s: str) -> int:
    """Display width: CJK characters take two terminal columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(s))
    return fill + s if right else s + fill


class _Table(NamedTuple):
    """Headers, cells, and which columns hold text (left-aligned; numbers go right)."""

    headers: list[str]
    rows: list[list[str]]
    text_cols: frozenset[int] = frozenset({0})


def _text_table(table: _Table, indent: str = "  ") -> str:
    """Columns padded to their widest cell."""
    headers, rows = table.headers, table.rows
    widths = [_width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], _width(cell))

    def line(cells: Sequence[str]) -> str:
        out = [_pad(c, widths[i], right=i not in table.text_cols) for i, c in enumerate(cells)]
        return (indent + "  ".join(out)).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|")


def _md_table(table: _Table) -> str:
    out = ["| " + " | ".join(table.headers) + " |"]
    out.append("|" + "|".join("---" if i in table.text_cols else "---:" for i in range(len(table.headers))) + "|")
    out.extend("| " + " | ".join(_md_cell(c) for c in r) + " |" for r in table.rows)
    return "\n".join(out)


# --- table contents (shared by both renderers) ----------------------------------------


def _post_table(report: EvalReport) -> _Table:
    p = report.metrics.post
    headers = ["posts", "precision", "recall", "f1", "fp rate", "cat. recall"]
    headers += ["tp", "fp", "fn", "tn"]
    row = [
        "all",
        _num(p.precision),
        _num(p.recall),
        _num(p.f1),
        _pct(p.fp_rate),
        _num(p.category_recall),
        _int(p.tp),
        _int(p.fp),
        _int(p.fn),
        _int(p.tn),
    ]
    return _Table(headers, [row])


def _category_table(report: EvalReport) -> _Table:
    m = report.metrics
    neg = m.post.negatives
    headers = ["category", "support", "tp", "fp", "fn", "extra"]
    headers += ["precision", "recall", "f1", "fp rate (neg)"]
    rows = [
        [
            code,
            _int(s.support),
            _int(s.tp),
            _int(s.fp),
            _int(s.fn),
            _int(s.extra),
            _num(s.precision),
            _num(s.recall),
            _num(s.f1),
            _pct(s.fp_rate(neg)),
        ]
        for code, s in m.categories.items()
    ]
    for name, avg in (("micro avg", m.micro), ("macro avg", m.macro)):
        tp, fp, fn = (_int(avg.tp), _int(avg.fp), _int(avg.fn)) if name == "micro avg" else ("",) * 3
        extra = _int(avg.extra) if name == "micro avg" else ""
        rows.append(
            [name, "", tp, fp, fn, extra, _num(avg.precision), _num(avg.recall), _num(avg.f1), ""]
        )
    return _Table(headers, rows)


def _group_table(report: EvalReport) -> _Table:
    headers = ["group", "rows", "pos", "neg", "amb", "flagged", "flag rate", "top codes"]
    rows = [
        [
            name,
            _int(g.rows),
            _int(g.positives),
            _int(g.negatives),
            _int(g.ambiguous),
            _int(g.flagged),
            _pct(g.flag_rate),
            _codes(g.codes),
        ]
        for name, g in report.metrics.groups.items()
    ]
    return _Table(headers, rows, frozenset({0, 7}))


def _ambiguous_table(report: EvalReport) -> _Table:
    headers = ["target_category", "rows", "flagged", "flag rate", "hit expected", "expected"]
    headers.append("top codes")
    rows = [
        [
            name,
            _int(a.rows),
            _int(a.flagged),
            _pct(a.flagged / a.rows if a.rows else None),
            _int(a.hit_expected),
            ", ".join(a.expected) or "-",
            _codes(a.codes),
        ]
        for name, a in report.metrics.ambiguous.items()
    ]
    return _Table(headers, rows, frozenset({0, 5, 6}))


def _rules_table(report: EvalReport) -> _Table:
    headers = ["rule", "category", "negatives hit", "flagged", "example id"]
    rows = [
        [r.rule, r.category, _int(r.count), _int(r.flagged), r.example_id]
        for r in report.metrics.negative_rules
    ]
    return _Table(headers, rows, frozenset({0, 1, 4}))


def _skipped_lines(report: EvalReport) -> list[str]:
    out = []
    for code, s in report.skipped.items():
        recs = ", ".join(str(e["record"]) for e in s.examples if e["record"] is not None)
        first = s.examples[0]["message"] if s.examples else ""
        out.append(f"{code} {s.title}: {_int(s.count)} (records {recs or '-'}; e.g. {first})")
    return out


def _rows_line(report: EvalReport) -> str:
    r = report.rows()
    return (
        f"read {_int(r['read'])} = positives {_int(r['positives'])}"
        f" + negatives {_int(r['negatives'])} + ambiguous {_int(r['ambiguous'])}"
        f" + skipped {_int(r['skipped'])}"
    )


def _header_lines(report: EvalReport) -> list[str]:
    lm = report.label_map
    packs = report.versions.get("packs") or {}
    pack_s = ", ".join(f"{k} {v}" for k, v in sorted(packs.items())) or "-"
    size = f"{_int(report.rows_in_file)} rows"
    if report.rows_read < report.rows_in_file:
        size += f", first {_int(report.rows_read)} read (--limit {report.limit})"
    return [
        f"file: {report.file} ({size})",
        f"engine: {report.versions.get('engine', '-')}; packs: {pack_s}",
        f"label map: {lm.get('source')} v{lm.get('version')} (sha256 {lm.get('sha256')})",
    ]


def _timing_line(report: EvalReport) -> str:
    t = report.timing
    pps = t.posts_per_s
    rate = "-" if pps is None else f"{pps:,.0f} posts/s"
    return (
        f"{_int(t.posts)} posts detected in {t.detect_seconds:.2f} s: {rate}"
        f" (batch {t.batch_size}; {t.total_seconds:.2f} s in all)"
    )


# --- renderers ------------------------------------------------------------------------


def render_text(report: EvalReport, *, timing: bool = True) -> str:
    """Plain-text tables for a terminal or a docs code block."""
    m = report.metrics
    parts = [
        "qinglang eval",
        *_header_lines(report),
        "",
        "Rows",
        "  " + _rows_line(report),
        "",
        "Posts (positive = gold in scope; predicted = any category flagged)",
        _text_table(_post_table(report)),
        "",
        "Per category (\"any of\" credit; extra = outside the set on a positive row)",
        _text_table(_category_table(report)),
        "",
        "Groups (flag rate = flagged / rows)",
        _text_table(_group_table(report)) if m.groups else "  (none)",
        "",
        f"Ambiguous rows (not scored): {_int(m.ambiguous_rows)},"
        f" flagged {_int(m.ambiguous_flagged)}",
    ]
    if m.ambiguous:
        parts.append(_text_table(_ambiguous_table(report)))
    parts += ["", "Rules firing most on negatives"]
    parts.append(_text_table(_rules_table(report)) if m.negative_rules else "  (none)")
    parts += ["", "Skipped rows"]
    parts += ["  " + s for s in _skipped_lines(report)] or ["  (none)"]
    if timing:
        parts += ["", "Timing", "  " + _timing_line(report)]
    return "\n".join(parts) + "\n"


def render_markdown(report: EvalReport, *, heading_level: int = 3, timing: bool = True) -> str:
    """A Markdown section for docs/quality.md, headed by the file name and its row count."""
    h = "#" * heading_level
    sub = "#" * (heading_level + 1)
    m = report.metrics
    parts = [f"{h} `{report.file}` ({_int(report.rows_in_file)} rows)", ""]
    parts += [f"- {line}" for line in _header_lines(report)]
    parts += [f"- rows: {_rows_line(report)}"]
    if timing:
        parts.append(f"- timing: {_timing_line(report)}")
    parts += ["", f"{sub} Posts", "", _md_table(_post_table(report)), ""]
    parts += [f"{sub} Per category", "", _md_table(_category_table(report)), ""]
    if m.groups:
        parts += [f"{sub} Groups", "", _md_table(_group_table(report)), ""]
    if m.ambiguous:
        parts += [
            f"{sub} Ambiguous rows (not scored)",
            "",
            f"{_int(m.ambiguous_rows)} rows, {_int(m.ambiguous_flagged)} flagged.",
            "",
            _md_table(_ambiguous_table(report)),
            "",
        ]
    if m.negative_rules:
        parts += [f"{sub} Rules firing most on negatives", "", _md_table(_rules_table(report)), ""]
    if report.skipped:
        parts += [f"{sub} Skipped rows", ""]
        parts += [f"- {_md_cell(s)}" for s in _skipped_lines(report)]
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"
