"""Counting and scoring verdicts against gold labels.

The definitions here are the ones documented in docs/evaluation.md; change both
together. The module knows nothing about files or engines: :class:`Scorer` takes
(gold, verdict) pairs one at a time, so the same code scores a 20-row fixture in a
unit test and a 20,000-row corpus streamed in batches, and its answers can be
checked by hand.

Undefined ratios (0/0) are ``None``, never 0 or 1: a category the data never
exercises has no precision, and pretending otherwise would move the macro average.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from qinglang.eval.labels import Gold
from qinglang.model import Verdict

#: how many rules the "fire most on negatives" list keeps
TOP_NEGATIVE_RULES = 15


def ratio(num: int, den: int) -> float | None:
    """num/den, or None when the denominator is 0 (undefined, not zero)."""
    return num / den if den else None


def f1_score(tp: int, fp: int, fn: int) -> float | None:
    """2TP / (2TP + FP + FN): the harmonic mean of P and R, defined whenever either is."""
    return ratio(2 * tp, 2 * tp + fp + fn)


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _sorted_counter(c: Counter[str]) -> dict[str, int]:
    return dict(sorted(c.items()))


class _PRF:
    """Precision, recall and F1 from ``tp``/``fp``/``fn`` (None when undefined)."""

    __slots__ = ()
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return f1_score(self.tp, self.fp, self.fn)


@dataclass(slots=True)
class PostLevel(_PRF):
    """Post-level confusion counts: positive = gold positive, predicted = any code flagged.

    ``gold_hits`` counts positives flagged with at least one of their gold codes
    (the stricter "flagged for the right reason" recall).
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    gold_hits: int = 0

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        return self.fp + self.tn

    @property
    def fp_rate(self) -> float | None:
        return ratio(self.fp, self.fp + self.tn)

    @property
    def category_recall(self) -> float | None:
        return ratio(self.gold_hits, self.positives)

    def to_dict(self) -> dict[str, Any]:
        return {
            "category_recall": _r(self.category_recall),
            "f1": _r(self.f1),
            "fn": self.fn,
            "fp": self.fp,
            "fp_rate": _r(self.fp_rate),
            "gold_hits": self.gold_hits,
            "negatives": self.negatives,
            "positives": self.positives,
            "precision": _r(self.precision),
            "recall": _r(self.recall),
            "tn": self.tn,
            "tp": self.tp,
        }


@dataclass(slots=True)
class CategoryStats(_PRF):
    """Per-category counts. ``fp_on_negatives`` ⊆ ``fp``; ``extra`` is not in ``fp``.

    ``extra`` counts this code predicted on a positive "any of" row whose set does
    not contain it: possibly right (the set is a heuristic), possibly wrong, so it
    is neither credited nor charged.
    """

    code: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    extra: int = 0
    fp_on_negatives: int = 0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def fp_rate(self, negatives: int) -> float | None:
        """Share of negative rows on which this code was flagged."""
        return ratio(self.fp_on_negatives, negatives)

    def to_dict(self, negatives: int) -> dict[str, Any]:
        return {
            "extra": self.extra,
            "f1": _r(self.f1),
            "fn": self.fn,
            "fp": self.fp,
            "fp_on_negatives": self.fp_on_negatives,
            "fp_rate": _r(self.fp_rate(negatives)),
            "precision": _r(self.precision),
            "recall": _r(self.recall),
            "support": self.support,
            "tp": self.tp,
        }


@dataclass(frozen=True, slots=True)
class Average:
    """A micro or macro average over categories.

    ``categories`` is how many categories entered the average: for micro, those with
    any TP/FP/FN; for macro, per metric, those where the metric is defined.
    """

    precision: float | None
    recall: float | None
    f1: float | None
    categories: dict[str, int]
    tp: int = 0
    fp: int = 0
    fn: int = 0
    extra: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": dict(sorted(self.categories.items())),
            "extra": self.extra,
            "f1": _r(self.f1),
            "fn": self.fn,
            "fp": self.fp,
            "precision": _r(self.precision),
            "recall": _r(self.recall),
            "tp": self.tp,
        }


def micro_average(stats: Iterable[CategoryStats]) -> Average:
    """Pool TP/FP/FN over categories, then compute P/R/F1 once."""
    stats = list(stats)
    active = [s for s in stats if s.tp or s.fp or s.fn]
    tp = sum(s.tp for s in active)
    fp = sum(s.fp for s in active)
    fn = sum(s.fn for s in active)
    extra = sum(s.extra for s in stats)
    n = len(active)
    return Average(
        ratio(tp, tp + fp),
        ratio(tp, tp + fn),
        f1_score(tp, fp, fn),
        {"precision": n, "recall": n, "f1": n},
        tp,
        fp,
        fn,
        extra,
    )


def macro_average(stats: Iterable[CategoryStats]) -> Average:
    """Unweighted mean of the per-category metric over categories where it is defined."""
    stats = list(stats)

    def mean(values: list[float | None]) -> tuple[float | None, int]:
        defined = [v for v in values if v is not None]
        return (sum(defined) / len(defined) if defined else None), len(defined)

    p, np_ = mean([s.precision for s in stats])
    r, nr = mean([s.recall for s in stats])
    f, nf = mean([s.f1 for s in stats])
    return Average(p, r, f, {"precision": np_, "recall": nr, "f1": nf})


@dataclass(slots=True)
class GroupStats:
    """One slice of the data (a publisher class, a news section): how often it is flagged."""

    rows: int = 0
    positives: int = 0
    negatives: int = 0
    ambiguous: int = 0
    flagged: int = 0
    codes: Counter[str] = field(default_factory=Counter)

    @property
    def flag_rate(self) -> float | None:
        return ratio(self.flagged, self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ambiguous": self.ambiguous,
            "codes": _sorted_counter(self.codes),
            "flag_rate": _r(self.flag_rate),
            "flagged": self.flagged,
            "negatives": self.negatives,
            "positives": self.positives,
            "rows": self.rows,
        }


@dataclass(slots=True)
class AmbiguousStats:
    """Ambiguous rows of one ``target_category``: not scored, but never hidden.

    ``hit_expected`` counts rows flagged with a code the label map lists for the
    class, so a reader can see whether the engine treats the class as in scope.
    """

    expected: tuple[str, ...] = ()
    rows: int = 0
    flagged: int = 0
    hit_expected: int = 0
    codes: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "codes": _sorted_counter(self.codes),
            "expected": list(self.expected),
            "flag_rate": _r(ratio(self.flagged, self.rows)),
            "flagged": self.flagged,
            "hit_expected": self.hit_expected,
            "rows": self.rows,
        }


@dataclass(slots=True)
class RuleStats:
    """A rule that fired on negative rows: how often, and one row to look at."""

    rule: str
    category: str
    example_id: str
    count: int = 0
    flagged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "count": self.count,
            "example_id": self.example_id,
            "flagged": self.flagged,
            "rule": self.rule,
        }


@dataclass(slots=True)
class Metrics:
    """Everything :class:`Scorer` derives; the quality numbers of one evaluation."""

    post: PostLevel
    categories: dict[str, CategoryStats]
    micro: Average
    macro: Average
    groups: dict[str, GroupStats]
    ambiguous: dict[str, AmbiguousStats]
    negative_rules: list[RuleStats]

    @property
    def ambiguous_rows(self) -> int:
        return sum(a.rows for a in self.ambiguous.values())

    @property
    def ambiguous_flagged(self) -> int:
        return sum(a.flagged for a in self.ambiguous.values())

    def to_dict(self) -> dict[str, Any]:
        negatives = self.post.negatives
        return {
            "ambiguous": {
                "by_target": {k: v.to_dict() for k, v in sorted(self.ambiguous.items())},
                "flagged": self.ambiguous_flagged,
                "rows": self.ambiguous_rows,
            },
            "categories": {k: v.to_dict(negatives) for k, v in sorted(self.categories.items())},
            "groups": {k: v.to_dict() for k, v in sorted(self.groups.items())},
            "macro": self.macro.to_dict(),
            "micro": self.micro.to_dict(),
            "negative_rules": [r.to_dict() for r in self.negative_rules],
            "post": self.post.to_dict(),
        }


def verdict_codes(verdict: Verdict) -> list[str]:
    """The verdict's flagged codes, de-duplicated, in the engine's order."""
    return list(dict.fromkeys(verdict.codes()))


class Scorer:
    """Accumulates (gold, verdict) pairs; :meth:`result` turns the counts into metrics.

    ``categories`` seeds the per-category table (the taxonomy) so that every code
    appears in the report even when the data never touches it; codes met in gold
    labels or verdicts are added as they come.
    """

    def __init__(self, categories: Sequence[str] = ()) -> None:
        self.post = PostLevel()
        self.categories: dict[str, CategoryStats] = {c: CategoryStats(c) for c in categories}
        self.groups: dict[str, GroupStats] = {}
        self.ambiguous: dict[str, AmbiguousStats] = {}
        self.rules: dict[str, RuleStats] = {}

    def _cat(self, code: str) -> CategoryStats:
        stats = self.categories.get(code)
        if stats is None:
            stats = self.categories[code] = CategoryStats(code)
        return stats

    def add(self, gold: Gold, verdict: Verdict) -> None:
        """Score one row."""
        predicted = verdict_codes(verdict)
        flagged = bool(predicted)
        self._add_group(gold, predicted)
        if not gold.scored:
            self._add_ambiguous(gold, predicted)
            return
        if gold.negative:
            self._add_negative(verdict, predicted)
            return
        gold_set = set(gold.codes)
        hit = gold_set.intersection(predicted)
        if flagged:
            self.post.tp += 1
        else:
            self.post.fn += 1
        if hit:
            self.post.gold_hits += 1
        if gold.kind == "exact":
            for code in predicted:
                if code in gold_set:
                    self._cat(code).tp += 1
                else:
                    self._cat(code).fp += 1
            for code in gold.codes:
                if code not in hit:
                    self._cat(code).fn += 1
            return
        # "any of": credit every predicted code of the set, or charge the primary once
        if hit:
            for code in predicted:
                if code in gold_set:
                    self._cat(code).tp += 1
        else:
            self._cat(gold.codes[0]).fn += 1
        for code in predicted:
            if code not in gold_set:
                self._cat(code).extra += 1

    def _add_negative(self, verdict: Verdict, predicted: list[str]) -> None:
        if predicted:
            self.post.fp += 1
        else:
            self.post.tn += 1
        for code in predicted:
            stats = self._cat(code)
            stats.fp += 1
            stats.fp_on_negatives += 1
        seen: set[str] = set()
        for hit in verdict.hits:
            if hit.rule in seen:
                continue
            seen.add(hit.rule)
            rs = self.rules.get(hit.rule)
            if rs is None:
                rs = self.rules[hit.rule] = RuleStats(hit.rule, hit.category, verdict.id)
            rs.count += 1
            if predicted:
                rs.flagged += 1

    def _add_group(self, gold: Gold, predicted: list[str]) -> None:
        g = self.groups.get(gold.group)
        if g is None:
            g = self.groups[gold.group] = GroupStats()
        g.rows += 1
        if gold.positive:
            g.positives += 1
        elif gold.negative:
            g.negatives += 1
        else:
            g.ambiguous += 1
        if predicted:
            g.flagged += 1
            g.codes.update(predicted)

    def _add_ambiguous(self, gold: Gold, predicted: list[str]) -> None:
        key = gold.target or "-"
        a = self.ambiguous.get(key)
        if a is None:
            a = self.ambiguous[key] = AmbiguousStats(expected=gold.codes)
        a.rows += 1
        if predicted:
            a.flagged += 1
            a.codes.update(predicted)
            if set(gold.codes).intersection(predicted):
                a.hit_expected += 1

    def top_negative_rules(self, n: int = TOP_NEGATIVE_RULES) -> list[RuleStats]:
        """Rules by how many negative rows they fired on (ties: rule id)."""
        return sorted(self.rules.values(), key=lambda r: (-r.count, r.rule))[:n]

    def result(self) -> Metrics:
        cats = dict(sorted(self.categories.items()))
        return Metrics(
            post=self.post,
            categories=cats,
            micro=micro_average(cats.values()),
            macro=macro_average(cats.values()),
            groups=dict(sorted(self.groups.items())),
            ambiguous=dict(sorted(self.ambiguous.items())),
            negative_rules=self.top_negative_rules(),
        )
