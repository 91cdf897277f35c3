"""Pooling evaluations of disjoint parts of a data set (cross-fitting folds) into one.

Cross-fitted measurement evaluates each fold with a model trained on the other
folds, so one file yields K reports. Averaging their ratios would weight a small
fold like a large one and leave ratios undefined in folds without positives;
instead the *counts* are summed (post-level TP/FP/FN/TN and gold hits, per-category
TP/FP/FN/extra, group and ambiguous-class tallies) and every ratio is computed once
from the sums, with the same definitions as :mod:`qinglang.eval.metrics`.

One part of a report cannot be pooled exactly: each report keeps only its top
:data:`~qinglang.eval.metrics.TOP_NEGATIVE_RULES` rules on negatives, so the merged
list sums those lists (a rule outside some fold's top list is undercounted there).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from qinglang import errors
from qinglang.errors import QLError
from qinglang.eval.metrics import (
    TOP_NEGATIVE_RULES,
    AmbiguousStats,
    CategoryStats,
    GroupStats,
    Metrics,
    PostLevel,
    RuleStats,
    macro_average,
    micro_average,
)
from qinglang.eval.run import SKIP_EXAMPLES, EvalReport, SkipStats, Timing


def merge_metrics(parts: Sequence[Metrics]) -> Metrics:
    """Sum the counts of several :class:`Metrics` and recompute every average once."""
    post = PostLevel()
    cats: dict[str, CategoryStats] = {}
    groups: dict[str, GroupStats] = {}
    amb: dict[str, AmbiguousStats] = {}
    rules: dict[str, RuleStats] = {}
    for m in parts:
        post.tp += m.post.tp
        post.fp += m.post.fp
        post.fn += m.post.fn
        post.tn += m.post.tn
        post.gold_hits += m.post.gold_hits
        for code, c in m.categories.items():
            t = cats.setdefault(code, CategoryStats(code))
            t.tp += c.tp
            t.fp += c.fp
            t.fn += c.fn
            t.extra += c.extra
            t.fp_on_negatives += c.fp_on_negatives
        for name, g in m.groups.items():
            tg = groups.setdefault(name, GroupStats())
            tg.rows += g.rows
            tg.positives += g.positives
            tg.negatives += g.negatives
            tg.ambiguous += g.ambiguous
            tg.flagged += g.flagged
            tg.codes.update(g.codes)
        for target, a in m.ambiguous.items():
            ta = amb.setdefault(target, AmbiguousStats(expected=a.expected))
            ta.rows += a.rows
            ta.flagged += a.flagged
            ta.hit_expected += a.hit_expected
            ta.codes.update(a.codes)
        for r in m.negative_rules:
            tr = rules.setdefault(r.rule, RuleStats(r.rule, r.category, r.example_id))
            tr.count += r.count
            tr.flagged += r.flagged
    cats = dict(sorted(cats.items()))
    top = sorted(rules.values(), key=lambda r: (-r.count, r.rule))[:TOP_NEGATIVE_RULES]
    return Metrics(
        post=post,
        categories=cats,
        micro=micro_average(cats.values()),
        macro=macro_average(cats.values()),
        groups=dict(sorted(groups.items())),
        ambiguous=dict(sorted(amb.items())),
        negative_rules=top,
    )


def merge_reports(
    reports: Sequence[EvalReport], *, file: str | None = None, path: str | None = None
) -> EvalReport:
    """One report for the union of disjoint parts (folds) of a file.

    Row counts, skips and timing are summed; the label map must be the same in every
    part (numbers are only comparable under one map). ``versions`` is the first
    part's, with ``parts`` (how many were pooled) added, and ``models`` listing the
    distinct models when the parts were scored by different ones.
    """
    if not reports:
        raise QLError(errors.BAD_OPTION, "nothing to merge: no reports")
    first = reports[0]
    for r in reports[1:]:
        if r.label_map != first.label_map:
            raise QLError(errors.BAD_OPTION, f"cannot merge reports under different label maps "
                                      f"({first.label_map.get('sha256')} vs {r.label_map.get('sha256')})")
    skipped: dict[str, SkipStats] = {}
    for r in reports:
        for code, s in r.skipped.items():
            t = skipped.setdefault(code, SkipStats(s.code, s.title))
            t.count += s.count
            t.examples.extend(s.examples[: max(0, SKIP_EXAMPLES - len(t.examples))])
    timing = Timing(batch_size=first.timing.batch_size)
    for r in reports:
        timing.posts += r.timing.posts
        timing.detect_seconds += r.timing.detect_seconds
        timing.total_seconds += r.timing.total_seconds
    versions = dict(first.versions)
    versions["parts"] = len(reports)
    models = [r.versions.get("model") for r in reports]
    distinct = [m for i, m in enumerate(models) if m is not None and m not in models[:i]]
    if len(distinct) > 1:
        versions["models"] = distinct
    limits = {r.limit for r in reports}
    return EvalReport(
        file=file or first.file,
        path=path or first.path,
        format=first.format,
        rows_in_file=sum(r.rows_in_file for r in reports),
        rows_read=sum(r.rows_read for r in reports),
        limit=limits.pop() if len(limits) == 1 else None,
        label_map=dict(first.label_map),
        versions=versions,
        metrics=merge_metrics([r.metrics for r in reports]),
        skipped=dict(sorted(skipped.items())),
        timing=timing,
    )


def counts(report: EvalReport) -> dict[str, object]:
    """The additive counts of a report (what :func:`merge_reports` sums), for checks and tests."""
    m = report.metrics
    return {
        "post": {"tp": m.post.tp, "fp": m.post.fp, "fn": m.post.fn, "tn": m.post.tn,
                 "gold_hits": m.post.gold_hits},
        "categories": {c: {"tp": s.tp, "fp": s.fp, "fn": s.fn, "extra": s.extra,
                           "fp_on_negatives": s.fp_on_negatives} for c, s in m.categories.items()},
        "groups": {g: {"rows": s.rows, "flagged": s.flagged, "positives": s.positives,
                       "negatives": s.negatives, "ambiguous": s.ambiguous, "codes": Counter(s.codes)}
                   for g, s in m.groups.items()},
        "rows": {"read": report.rows_read, "in_file": report.rows_in_file, "skipped": report.rows_skipped,
                 "ambiguous": m.ambiguous_rows},
    }
