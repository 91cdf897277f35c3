"""Honest figures for rules alone, the learned model alone, and the two combined.

Usage: python scripts/model_quality.py [--data ../shared/data] [--out docs/model-quality.md]
                                       [--k 5] [--seed 0] [--quick] [--limit N] [--json PATH]
                                       [--model PATH]

The shipped default model is trained on janitr (MIT) plus the project's examples, so
evaluating it on janitr grades memorisation. This script measures instead:

1. janitr, cross-fitted: K folds (identical normalized texts in one fold, stratified
   by class, seeded); per fold, a model trained exactly like the shipped one
   (``qinglang.learn.train.train``, same defaults, seed 0) on the other folds plus the
   project's examples, and the held-out fold evaluated with three engines: rules
   alone, model alone (``mode="model"``), combined. The evaluation kit's counts are
   summed over folds and the metrics computed once (``qinglang.eval.merge``).
2. the shipped model on the files it never saw (telecom, THUCNews, Weibo21); ``--model PATH``
   measures a candidate in its place (and cross-fits janitr with the candidate's example files);
3. an experimental in-domain model, measured and never shipped: telecom cross-fitted
   the same way, plus one model trained on all of telecom and evaluated on THUCNews
   and Weibo21, which it never saw. Research-only data trains models in temporary
   directories only; nothing is written into the repository but the report.

The development data is read where it lies and never copied into the project.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from qinglang.detect.engine import Engine
from qinglang.eval.merge import merge_reports
from qinglang.eval.metrics import verdict_codes
from qinglang.eval.run import EvalReport, evaluate
from qinglang.learn.classifier import TextClassifier, default_model_path, model_text
from qinglang.model import Post, Verdict

REPO = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = REPO / "src" / "qinglang" / "examples"
#: the first three example files (small, for tests); a measurement uses the model's own, ``examples_of(model)``
EXAMPLES = [EXAMPLES_DIR / f"labeled_{lang}.jsonl" for lang in ("zh", "en", "it")]

JANITR = "janitr_x_crypto_en.jsonl"
TELECOM = "telecom_fraud5_zh.jsonl"
THUC = "thucnews_titles_zh.jsonl"
WEIBO = "weibo21_zh_trainval.jsonl"
CONFIGS = ("rules", "model", "combined")
#: THUCNews sections whose headlines are the hard financial negatives
THUC_FINANCE = ("finance", "stocks")
#: the telecom publisher's loan / credit-card agent class
LOAN_GROUP = "贷款、代办信用卡类"
WEIBO_FINANCE = ("real|财经商业",)
#: how the shipped default model is trained (docs/model.md, "The shipped default model"); the rest are
#: ``train()``'s defaults, which is what ``python -m qinglang.learn.train`` uses
SHIPPED_RECIPE: dict[str, Any] = {"seed": 0, "version": "measurement"}
#: rows per file with --quick (a seeded sample, not the first rows: the files are sorted by class)
QUICK_LIMIT = 1500
TEXT_FIELDS = ("text", "title", "transcript", "ocr", "bio")


# --- rows and folds ---------------------------------------------------------------------


@dataclass(slots=True)
class Record:
    """One line of a labeled file, kept byte for byte so fold files hold the original rows."""

    line: bytes
    id: str
    key: str  # the normalized text the model reads: rows with the same key share a fold
    stratum: str  # the row's class, for stratified folds
    gold: str  # "pos", "neg", "amb" or "?" (no usable label)


def _gold_kind(row: dict[str, Any]) -> str:
    labels = row.get("labels")
    if isinstance(labels, list):
        return "pos" if labels else "neg"
    if "is_positive" not in row:
        return "?"
    return {True: "pos", False: "neg", None: "amb"}.get(row["is_positive"], "?")


def _stratum(row: dict[str, Any]) -> str:
    labels = row.get("labels")
    if isinstance(labels, list):
        return "labels:" + (str(labels[0]) if labels else "")
    return f"{row.get('is_positive')}|{row.get('target_category')}"


def read_records(path: Path) -> list[Record]:
    """Every record of a labeled JSONL file with its fold key (the model's input text) and class."""
    out: list[Record] = []
    with path.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            raw = line.rstrip(b"\r\n") + b"\n"
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                row = None
            if not isinstance(row, dict):
                out.append(Record(raw, f"{path.name}:{n}", "\0" + raw.decode("utf-8", "replace"), "?", "?"))
                continue
            rid = row.get("id")
            rid = str(rid) if isinstance(rid, (str, int)) and not isinstance(rid, bool) else f"{path.name}:{n}"
            fields = {k: row[k] for k in TEXT_FIELDS if isinstance(row.get(k), str)}
            links = row.get("links")
            if isinstance(links, list) and all(isinstance(u, str) for u in links):
                fields["links"] = links
            fields.setdefault("text", "")
            key = model_text(Post(id=rid, **fields))
            out.append(Record(raw, rid, key, _stratum(row), _gold_kind(row)))
    return out


def subsample(records: list[Record], n: int | None, seed: int) -> list[Record]:
    """A seeded sample of ``n`` records in file order (all of them when ``n`` is None or larger)."""
    if n is None or n >= len(records):
        return records
    idx = np.sort(np.random.default_rng(seed).choice(len(records), size=n, replace=False))
    return [records[i] for i in idx]


def assign_folds(records: Sequence[Record], k: int, seed: int) -> np.ndarray:
    """Fold number (0..k-1) per record: grouped by identical normalized text, stratified, seeded.

    Groups take their first row's class as stratum; within each stratum (sorted, so
    the result does not depend on file order) the groups are shuffled and dealt to
    the folds in turn, continuing the turn across strata so fold sizes stay even.
    """
    if k < 2:
        raise ValueError(f"need at least 2 folds, not {k}")
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault(r.key, []).append(i)
    strata: dict[str, list[str]] = {}
    for key, members in groups.items():
        strata.setdefault(records[members[0]].stratum, []).append(key)
    rng = np.random.default_rng(seed)
    fold = np.full(len(records), -1, dtype=np.int64)
    turn = 0
    for s in sorted(strata):
        keys = sorted(strata[s])
        for j in rng.permutation(len(keys)):
            fold[groups[keys[j]]] = turn % k
            turn += 1
    return fold


def write_records(path: Path, records: Iterable[Record]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for r in records:
            fh.write(r.line)
    return path


def file_ids(path: Path) -> set[str]:
    """The ids of the rows in a JSONL file (what a model trained on it has seen)."""
    return {r.id for r in read_records(path)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- measuring --------------------------------------------------------------------------


class Recorder:
    """An engine wrapper that remembers, per post id, the codes each verdict flagged."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.flags: dict[str, tuple[str, ...]] = {}

    @property
    def taxonomy(self) -> dict[str, Any]:
        return self.engine.taxonomy

    @property
    def versions(self) -> dict[str, Any]:
        return self.engine.versions

    def detect(self, posts: Sequence[Post], /) -> Sequence[Verdict]:
        verdicts = self.engine.detect(posts)
        for p, v in zip(posts, verdicts, strict=False):
            if isinstance(v, Verdict):
                self.flags[p.id] = tuple(verdict_codes(v))
        return verdicts


def engines_for(rules: Engine, model: TextClassifier) -> dict[str, Engine]:
    """Rules alone, the model alone and combined; the model engines reuse the rules engine's packs."""
    return {
        "rules": rules,
        "model": Engine(rules.packs, model=model, mode="model"),
        "combined": Engine(rules.packs, model=model, mode="combined"),
    }


def measure(path: Path, engines: dict[str, Engine]) -> tuple[dict[str, EvalReport], dict[str, dict[str, tuple]]]:
    """``evaluate`` the file with each engine; also what each flagged per post id."""
    reports: dict[str, EvalReport] = {}
    flags: dict[str, dict[str, tuple]] = {}
    for name, eng in engines.items():
        rec = Recorder(eng)
        reports[name] = evaluate(rec, path)
        flags[name] = rec.flags
    return reports, flags


@dataclass(slots=True)
class FoldResult:
    """One fold: what its model was trained on, what was evaluated, and the reports."""

    fold: int
    train_file: Path
    heldout_file: Path
    train_ids: set[str]
    heldout_ids: set[str]
    model_training_data: list[dict[str, Any]]
    model_meta: dict[str, Any]
    combine: list[dict[str, Any]]
    reports: dict[str, EvalReport]
    flags: dict[str, dict[str, tuple]]
    train_seconds: float


@dataclass(slots=True)
class CrossFit:
    """K folds of one file and their pooled reports."""

    file: str
    rows: int
    k: int
    seed: int
    extra_train: list[str]
    folds: list[FoldResult]
    merged: dict[str, EvalReport]
    records: list[Record] = field(repr=False, default_factory=list)


def examples_of(model: TextClassifier) -> list[Path]:
    """The project's example files a model was trained on (its card's training data), in its order.

    The cross-fits train each fold model on these, so they measure the recipe of the
    model under test; a model that names none gets every ``labeled_*.jsonl``.
    """
    names = [t.get("name", "") for t in model.meta.get("training_data", [])]
    found = [EXAMPLES_DIR / n for n in names if n.startswith("labeled_") and (EXAMPLES_DIR / n).is_file()]
    return found or sorted(EXAMPLES_DIR.glob("labeled_*.jsonl"))


def train_model(train_files: list[Path], out: Path, name: str) -> tuple[TextClassifier, float]:
    """Train with the shipped recipe into ``out`` (a temporary directory) and load the artifact."""
    from qinglang.learn.train import train

    if out.resolve().is_relative_to(REPO.resolve()):
        raise SystemExit(f"refusing to write a measurement model into the repository: {out}")
    t0 = time.perf_counter()
    train(train_files, out=out, name=name, **SHIPPED_RECIPE)
    return TextClassifier.load(out), time.perf_counter() - t0


def cross_fit(
    path: Path,
    *,
    k: int,
    seed: int,
    workdir: Path,
    rules: Engine,
    extra_train: Sequence[Path],
    records: list[Record] | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> CrossFit:
    """Cross-fit ``path``: per fold, train on the other folds + ``extra_train`` and evaluate the fold.

    Fold files keep the original file name (in per-fold folders under ``workdir``) so
    the label map's per-file grouping applies to them as to the whole file.
    """
    records = records if records is not None else read_records(path)
    folds = assign_folds(records, k, seed)
    results: list[FoldResult] = []
    for i in range(k):
        d = workdir / f"{path.stem}-fold{i + 1}of{k}"
        train_file = write_records(d / "train" / path.name, (r for r, f in zip(records, folds, strict=True) if f != i))
        held = write_records(d / "heldout" / path.name, (r for r, f in zip(records, folds, strict=True) if f == i))
        clf, secs = train_model([train_file, *extra_train], d / "model", f"crossfit-{path.stem}-fold{i + 1}")
        train_ids, held_ids = file_ids(train_file), file_ids(held)
        trained_on = next((t for t in clf.meta["training_data"] if t["name"] == path.name), {})
        if train_ids & held_ids or trained_on.get("sha256") != sha256(train_file):
            raise SystemExit(f"fold {i + 1} of {path.name}: the model saw held-out rows; refusing to measure")
        reports, flags = measure(held, engines_for(rules, clf))
        results.append(FoldResult(
            fold=i + 1, train_file=train_file, heldout_file=held, train_ids=train_ids,
            heldout_ids=held_ids, model_training_data=clf.meta["training_data"], model_meta=clf.meta,
            combine=combination_rows(clf), reports=reports, flags=flags, train_seconds=secs))
        r = reports
        log(f"  {path.name} fold {i + 1}/{k}: {sum(folds == i)} held out, trained in {secs:.1f} s; micro-F1 "
            + " / ".join(f"{c} {_f3(r[c].metrics.micro.f1)}" for c in CONFIGS))
    merged = {c: merge_reports([f.reports[c] for f in results], file=path.name, path=str(path)) for c in CONFIGS}
    return CrossFit(path.name, len(records), k, seed, [str(p) for p in extra_train], results, merged, records)


# --- figures ------------------------------------------------------------------------------


def _f3(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def _pts(a: float | None, b: float | None) -> str:
    """b − a in points (percentage points of a 0..1 figure)."""
    return "-" if a is None or b is None else f"{100 * (b - a):+.1f}"


def group_rate(report: EvalReport, names: Sequence[str]) -> tuple[int, int]:
    """(flagged, rows) pooled over the named groups."""
    flagged = rows = 0
    for n in names:
        g = report.metrics.groups.get(n)
        if g is not None:
            flagged += g.flagged
            rows += g.rows
    return flagged, rows


def rate_str(fr: tuple[int, int]) -> str:
    f, n = fr
    return f"{f:,}/{n:,} ({_pct(f / n if n else None, 2)})" if n else "-"


def flips(records: Sequence[Record], flags: dict[str, dict[str, tuple]]) -> dict[str, int]:
    """Post-level changes from rules alone to combined, by gold kind."""
    out = {"pos_gained": 0, "pos_lost": 0, "neg_added": 0, "neg_removed": 0}
    rules, comb = flags["rules"], flags["combined"]
    for r in records:
        if r.id not in rules or r.id not in comb or r.gold not in ("pos", "neg"):
            continue
        a, b = bool(rules[r.id]), bool(comb[r.id])
        if a == b:
            continue
        if r.gold == "pos":
            out["pos_gained" if b else "pos_lost"] += 1
        else:
            out["neg_added" if b else "neg_removed"] += 1
    return out


def combo_row(code: str, params: dict[str, Any], thr: float, rule_thr: float) -> dict[str, Any]:
    """What a fitted combination means in model probabilities.

    ``p_alone``: the probability at which the model flags the category with no rule
    hit; ``p_veto``: the probability below which a rule score of ``rule_thr`` (the
    weakest rule evidence that flags on its own) is overruled.
    """
    row: dict[str, Any] = {"code": code, "kind": params["kind"], "threshold": thr}
    if params["kind"] != "logistic":
        return row
    a, b, c = params["w_rule"], params["w_model"], params["bias"]
    lt = math.log(thr / (1 - thr)) if 0 < thr < 1 else 0.0

    def p_at(r: float) -> float:
        z = (lt - c - a * r) / b
        return 1 / (1 + math.exp(-z)) if z > -700 else 0.0

    row.update(w_rule=a, w_model=b, bias=c, p_alone=p_at(0.0), p_veto=p_at(rule_thr), rule_thr=rule_thr)
    return row


def combination_rows(model: TextClassifier, rthr: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Where a model may decide instead of the rules alone.

    Format 2 (per-language combination): one row per category and language whose
    path opens (the model flags at its threshold) or carries a veto, with the dev
    counts it was validated on. Format 1: the fitted logistic combinations
    (:func:`combo_row`).
    """
    comb = getattr(model, "combination", None)
    if comb is None:
        return [combo_row(c, model.combine_params[c].to_dict(), model.combined_thresholds[c],
                          (rthr or {}).get(c, 0.5)) for c in model.labels
                if model.combine_params[c].kind == "logistic"]
    rows = []
    for code in model.labels:
        for lang, path in sorted(comb.get(code, {}).items()):
            if path.kind == "or_model" or path.veto_below is not None:
                rows.append({"code": code, "lang": lang, "kind": path.kind, "threshold": path.model_threshold,
                             "veto_below": path.veto_below, **path.dev})
    return rows


def rule_thresholds(rules: Engine) -> dict[str, float]:
    """Per category, the lowest pack threshold: the weakest rule score that flags on its own."""
    out: dict[str, float] = {}
    for pack in rules.packs:
        for code, cdef in pack.doc.categories.items():
            out[code] = min(out.get(code, 1.0), cdef.threshold)
    return out


@dataclass(slots=True)
class Section:
    """One measured setting: a file, how the model relates to it, the three reports."""

    key: str
    title: str
    file: str
    rows_in_file: int
    rows_used: int
    how: str
    reports: dict[str, EvalReport]
    flips: dict[str, int]
    crossfit: CrossFit | None = None
    models: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)  # (label, combination rows)
    note: str = ""
    flags: dict[str, dict[str, tuple]] = field(default_factory=dict, repr=False)


def post_table(reports: dict[str, EvalReport]) -> list[str]:
    out = ["| engine | rows scored | P | R | F1 | FP rate | micro-P | micro-R | micro-F1 | category recall |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in CONFIGS:
        m = reports[c].metrics
        p = m.post
        out.append(f"| {c} | {p.positives + p.negatives:,} (+{m.ambiguous_rows:,} ambiguous) | {_f3(p.precision)} | "
                   f"{_f3(p.recall)} | {_f3(p.f1)} | {_pct(p.fp_rate, 2)} | {_f3(m.micro.precision)} | "
                   f"{_f3(m.micro.recall)} | {_f3(m.micro.f1)} | {_f3(p.category_recall)} |")
    return out


def category_table(reports: dict[str, EvalReport]) -> list[str]:
    codes = sorted({c for r in reports.values() for c, s in r.metrics.categories.items()
                    if s.tp or s.fp or s.fn or s.extra})
    out = ["| category | support (r/m/c) | F1 rules | F1 model | F1 combined | P r/m/c | R r/m/c | "
           "FP on negatives r/m/c | extra r/m/c |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for code in codes:
        s = [reports[c].metrics.categories.get(code) for c in CONFIGS]

        def cell(fn: Callable[[Any], Any], s: list[Any] = s) -> str:
            return " / ".join("-" if x is None else str(fn(x)) for x in s)

        out.append(f"| `{code}` | {cell(lambda x: x.support)} | "
                   + " | ".join(_f3(x.f1) if x else "-" for x in s)
                   + f" | {cell(lambda x: _f3(x.precision))} | {cell(lambda x: _f3(x.recall))} | "
                   f"{cell(lambda x: x.fp_on_negatives)} | {cell(lambda x: x.extra)} |")
    return out


def watch_groups(sec: Section) -> list[tuple[str, Sequence[str]]]:
    if sec.file == THUC:
        return [("THUCNews finance + stocks headlines (negatives)", THUC_FINANCE)]
    if sec.file == TELECOM:
        return [(f"telecom loan / credit-card agent class `{LOAN_GROUP}` (positives)", (LOAN_GROUP,))]
    if sec.file == WEIBO:
        return [("Weibo21 real finance & business posts `real|财经商业` (negatives)", WEIBO_FINANCE)]
    return []


def render_section(sec: Section) -> list[str]:
    out = [f"### {sec.title}", "", f"`{sec.file}`: {sec.rows_in_file:,} rows in the file, "
           f"{sec.rows_used:,} used here. {sec.how}", ""]
    if sec.note:
        out += [sec.note, ""]
    out += ["Post level (P/R/F1 over scored rows; FP rate over negatives; micro over categories, "
            "docs/evaluation.md):", "", *post_table(sec.reports), ""]
    for label, names in watch_groups(sec):
        out.append(f"Flag rate, {label}: " + "; ".join(
            f"{c} {rate_str(group_rate(sec.reports[c], names))}" for c in CONFIGS) + ".")
        out.append("")
    f = sec.flips
    out += [f"Rules → combined, row by row: positives gained {f['pos_gained']:,}, positives lost "
            f"{f['pos_lost']:,}; false positives added {f['neg_added']:,}, removed {f['neg_removed']:,}.", ""]
    out += ["Per category (F1 = 2TP / (2TP + FP + FN); r/m/c = rules / model / combined):", ""]
    out += [*category_table(sec.reports), ""]
    if sec.crossfit is not None:
        cf = sec.crossfit
        out += ["Per fold (micro-F1; each fold's model trained on the other folds + the project's examples):", "",
                "| fold | held-out rows | rows in the model's training file | rules | model | combined |",
                "|---:|---:|---:|---:|---:|---:|"]
        for fr in cf.folds:
            tr = next((t for t in fr.model_training_data if t["name"] == cf.file), {})
            out.append(f"| {fr.fold} | {len(fr.heldout_ids):,} | {tr.get('rows', 0):,} | "
                       + " | ".join(_f3(fr.reports[c].metrics.micro.f1) for c in CONFIGS) + " |")
        out.append("")
    if sec.models:
        out += models_table(sec.models)
    return out


def models_table(models: list[tuple[str, list[dict[str, Any]]]]) -> list[str]:
    """The paths each fold model opened (format 2), or its fitted logistic combinations (format 1)."""
    per_lang = any("lang" in r for _, rows in models for r in rows)
    if per_lang or not any(rows for _, rows in models):
        out = ["Model paths per fold model (per-language combination, docs/model.md): the category and language "
               "for which the model flags on its own at *threshold* (rules flag as always), or overrules rule hits "
               "below *veto*, with the dev rows of that language it was validated on. Every other category and "
               "language: rules decide.", "",
               "| model | category | language | threshold | veto below | dev pos / neg | rules miss | "
               "model adds TP / FP on dev |", "|---|---|---|---:|---:|---:|---:|---:|"]
        for label, rows in models:
            if not rows:
                out.append(f"| {label} | (none) | | | | | | |")
            for r in rows:
                out.append(f"| {label} | `{r['code']}` | {r['lang']} | {_f3(r['threshold'])} | "
                           f"{_f3(r['veto_below'])} | {r.get('positives', 0)} / {r.get('negatives', 0)} | "
                           f"{r.get('rules_missed', 0)} | {r.get('added_tp', 0)} / {r.get('added_fp', 0)} |")
        return [*out, ""]
    out = ["Fitted combinations per fold model: `sigmoid(w_rule·r + w_model·logit(p) + bias) ≥ threshold`. "
           "*p alone*: the model probability that flags with no rule hit; *p veto*: the probability below "
           "which a rule score at the pack threshold (the weakest rule evidence that flags on its own) is "
           "overruled. Categories not listed: rules decide (no validated combination).", "",
           "| model | category | w_rule | w_model | bias | threshold | p alone | p veto (r) |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for label, rows in models:
        for r in rows:
            if r["kind"] == "logistic":
                out.append(f"| {label} | `{r['code']}` | {r['w_rule']:.2f} | {r['w_model']:.2f} | "
                           f"{r['bias']:.2f} | {r['threshold']:.3f} | {r['p_alone']:.3f} | "
                           f"{r['p_veto']:.4f} ({r['rule_thr']:.2f}) |")
    out.append("")
    return out


def summary_rows(sections: Sequence[Section]) -> list[str]:
    out = ["| file | setting | engine | P | R | F1 | FP rate | micro-F1 | Δ micro-F1 vs rules | watched group |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for sec in sections:
        groups = watch_groups(sec)
        for c in CONFIGS:
            m = sec.reports[c].metrics
            base = sec.reports["rules"].metrics.micro.f1
            g = "; ".join(rate_str(group_rate(sec.reports[c], names)) for _, names in groups) or "-"
            out.append(f"| `{sec.file}` | {sec.key} | {c} | {_f3(m.post.precision)} | {_f3(m.post.recall)} | "
                       f"{_f3(m.post.f1)} | {_pct(m.post.fp_rate, 2)} | {_f3(m.micro.f1)} | "
                       f"{'' if c == 'rules' else _pts(base, m.micro.f1)} | {g} |")
    return out


def goals(sections: dict[str, Section]) -> list[dict[str, Any]]:
    """The project's goals, judged on the shipped configuration (honest figures only)."""
    out: list[dict[str, Any]] = []
    for key, label in (("janitr-cv", f"`{JANITR}` (cross-fitted)"), ("telecom-shipped", f"`{TELECOM}`")):
        sec = sections.get(key)
        if sec is None:
            continue
        r, c = sec.reports["rules"].metrics.micro.f1, sec.reports["combined"].metrics.micro.f1
        met = r is not None and c is not None and c - r >= 0.05
        out.append({"goal": f"combined micro-F1 ≥ rules + 5 points on {label}",
                    "measured": f"rules {_f3(r)}, combined {_f3(c)} ({_pts(r, c)} points)", "met": met})
    sec = sections.get("thuc-shipped")
    if sec is not None:
        fr, fc = group_rate(sec.reports["rules"], THUC_FINANCE), group_rate(sec.reports["combined"], THUC_FINANCE)
        rr = fr[0] / fr[1] if fr[1] else 0.0
        rc = fc[0] / fc[1] if fc[1] else 0.0
        out.append({"goal": f"no rise in the FP rate on THUCNews finance + stocks headlines (`{THUC}`), under 1%",
                    "measured": f"rules {rate_str(fr)}, combined {rate_str(fc)}",
                    "met": rc <= rr and rc < 0.01})
    return out


def reading(sections: dict[str, Section]) -> list[str]:
    """Sentences computed from the figures: where the combination helps and where it hurts."""
    out: list[str] = []
    for sec in sections.values():
        rm, mm, cm = (sec.reports[c].metrics for c in CONFIGS)
        helps = [c for c, s in cm.categories.items() if s.f1 is not None and rm.categories.get(c)
                 and rm.categories[c].f1 is not None and s.f1 - rm.categories[c].f1 >= 0.005]
        hurts = [c for c, s in cm.categories.items() if s.f1 is not None and rm.categories.get(c)
                 and rm.categories[c].f1 is not None and rm.categories[c].f1 - s.f1 >= 0.005]
        f = sec.flips
        if not rm.post.positives:
            out.append(f"- **{sec.file}, {sec.key}** (negatives only): FP rate rules {_pct(rm.post.fp_rate, 2)}, "
                       f"model {_pct(mm.post.fp_rate, 2)}, combined {_pct(cm.post.fp_rate, 2)}; combined vs rules "
                       f"+{f['neg_added']} / −{f['neg_removed']} false positives.")
            continue
        out.append(
            f"- **{sec.file}, {sec.key}**: micro-F1 rules {_f3(rm.micro.f1)}, model {_f3(mm.micro.f1)}, "
            f"combined {_f3(cm.micro.f1)} ({_pts(rm.micro.f1, cm.micro.f1)} points vs rules); post-level FP rate "
            f"{_pct(rm.post.fp_rate, 2)} → {_pct(cm.post.fp_rate, 2)}. Combined vs rules: +{f['pos_gained']} / "
            f"−{f['pos_lost']} positives, +{f['neg_added']} / −{f['neg_removed']} false positives. "
            f"Category F1 up: {', '.join(f'`{c}`' for c in helps) or 'none'}; down: "
            f"{', '.join(f'`{c}`' for c in hurts) or 'none'}.")
    return out


def dev_composition(model: TextClassifier, files: Sequence[Path]) -> dict[str, dict[str, Any]] | None:
    """Per category, the dev rows a model's combination was fitted on, by language and class.

    Recomputed the way ``train()`` splits (``qinglang.learn.data.split_rows`` on the
    normalized texts, the model's seed, 20% of groups); None when the recomputed
    split does not match the sizes recorded in the model (then it cannot be trusted).
    """
    from qinglang.learn.data import load_label_map, read_labeled, split_rows

    rows = []
    lmap = load_label_map(None)
    for p in files:
        r, _ = read_labeled(Path(p), label_map=lmap, known_codes=model.labels)
        rows.extend(r)
    norm = [model_text(r.post()) for r in rows]
    tr, dv = split_rows(norm, [r.labels for r in rows], 0.2, int(model.meta.get("seed", 0)))
    split = model.meta.get("split", {})
    if len(tr) != split.get("train_rows") or len(dv) != split.get("dev_rows"):
        return None
    out: dict[str, dict[str, Any]] = {c: {"pos": Counter(), "neg": Counter()} for c in model.labels}
    for i in dv:
        r = rows[i]
        for code in model.labels:
            if r.complete or code in r.labels:
                out[code]["pos" if code in r.labels else "neg"][r.lang or "?"] += 1
    for code, m in model.meta.get("dev_metrics", {}).items():
        if code in out:
            out[code]["rules_dev"] = m.get("rules")
            out[code]["train_positives"] = m.get("train_positives")
    return out


def _langs(c: Counter) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(c.items(), key=lambda kv: -kv[1])) or "0"


def composition_table(model: TextClassifier, comp: dict[str, dict[str, Any]] | None,
                      rthr: dict[str, float]) -> list[str]:
    """Per category, what the combination was decided on: by language for format 2, by class for format 1."""
    comb = getattr(model, "combination", None)
    if comb is not None:
        out = ["| category | language: decision (dev positives / negatives; rules TP / FP / missed; model adds TP / FP)"
               " |", "|---|---|"]
        for code in model.labels:
            cells = []
            for lang, p in sorted(comb.get(code, {}).items(), key=lambda kv: -kv[1].dev.get("positives", 0)):
                d = p.dev
                what = (f"rules or model ≥ {p.model_threshold:.3f}" if p.kind == "or_model" else "rules decide")
                if p.veto_below is not None:
                    what += f", veto below {p.veto_below:.3f}"
                cells.append(f"{lang}: {what} ({d.get('positives', 0)} / {d.get('negatives', 0)}; "
                             f"{d.get('rules_tp', 0)} / {d.get('rules_fp', 0)} / {d.get('rules_missed', 0)}; "
                             f"{d.get('added_tp', 0)} / {d.get('added_fp', 0)})")
            out.append(f"| `{code}` | {'<br>'.join(cells) or 'no dev rows: rules decide'} |")
        return out
    if comp is None:
        return ["(The model's dev split could not be recomputed: its recorded sizes do not match.)"]
    out = ["| category | combination | dev positives | dev negatives | rules on those dev rows (P / R) | "
           "p alone | p veto (r) |", "|---|---|---|---|---|---:|---:|"]
    for code in model.labels:
        c = comp[code]
        row = combo_row(code, model.combine_params[code].to_dict(), model.combined_thresholds[code],
                        rthr.get(code, 0.5))
        rd = c.get("rules_dev") or {}
        rules = f"{rd.get('precision', 0):.2f} / {rd.get('recall', 0):.2f}" if rd else "-"
        alone = f"{row['p_alone']:.3f}" if "p_alone" in row else "-"
        veto = f"{row['p_veto']:.4f} ({row['rule_thr']:.2f})" if "p_veto" in row else "-"
        kind = "logistic" if row["kind"] == "logistic" else "rules decide"
        out.append(f"| `{code}` | {kind} | {_langs(c['pos'])} | {_langs(c['neg'])} | {rules} | {alone} | {veto} |")
    return out


def negative_groups_added(sec: Section, top: int = 3) -> list[tuple[str, int, int, int]]:
    """Negative groups where the combined engine flags more rows than the rules: (group, rules, combined, rows)."""
    rg, cg = sec.reports["rules"].metrics.groups, sec.reports["combined"].metrics.groups
    rows = [(g, rg[g].flagged if g in rg else 0, s.flagged, s.rows) for g, s in cg.items()
            if s.negatives and not s.positives]
    rows = [r for r in rows if r[2] > r[1]]
    return sorted(rows, key=lambda r: (r[1] - r[2], r[0]))[:top]


def worst_added_category(sec: Section) -> str:
    """The category whose false positives on negatives grow most from rules to combined."""
    r, c = sec.reports["rules"].metrics, sec.reports["combined"].metrics
    return max(sorted(c.categories), key=lambda code: c.categories[code].fp_on_negatives
               - (r.categories[code].fp_on_negatives if code in r.categories else 0))


def _category_changes(r: Any, c: Any) -> str:
    """Per category, true positives and false positives on negatives, rules → combined, where they differ."""
    parts = []
    for code in sorted(set(r.categories) | set(c.categories)):
        a, b = r.categories.get(code), c.categories.get(code)
        tp = (a.tp if a else 0, b.tp if b else 0)
        fp = (a.fp_on_negatives if a else 0, b.fp_on_negatives if b else 0)
        if tp[0] != tp[1] or fp[0] != fp[1]:
            parts.append(f"`{code}` TP {tp[0]:,} → {tp[1]:,}, FP on negatives {fp[0]:,} → {fp[1]:,}")
    return "; ".join(parts) or "none"


def why_notes(sections: dict[str, Section], shipped: TextClassifier, role: str) -> list[str]:
    """The mechanism behind the figures, stated with the figures it rests on."""
    out: list[str] = []
    tel = sections.get("telecom-shipped")
    if tel is not None:
        r, c = tel.reports["rules"].metrics, tel.reports["combined"].metrics
        f = tel.flips
        text = (f"- **Telecom, rules → combined ({role} model).** Post level: +{f['pos_gained']:,} / "
                f"−{f['pos_lost']:,} positives, +{f['neg_added']:,} / −{f['neg_removed']:,} false positives. Per "
                f"category: {_category_changes(r, c)}.")
        rows = combination_rows(shipped)
        if getattr(shipped, "combination", None) is not None:
            zh = [x for x in rows if x["lang"] == "zh"]
            if zh:
                text += (" Where this model may flag Chinese posts on its own (or overrule a rule hit): " + "; ".join(
                    f"`{x['code']}` at p ≥ {_f3(x['threshold'])}"
                    + (f", veto below {x['veto_below']:.3f}" if x["veto_below"] is not None else "")
                    + f" (validated on {x.get('positives', 0)} zh dev positives, {x.get('negatives', 0)} negatives; "
                    f"the model added {x.get('added_tp', 0)} / {x.get('added_fp', 0)} there)" for x in zh)
                    + ". Every other category is decided by the rules for Chinese posts, the model's probability "
                    "shown as evidence.")
            else:
                text += (" No model path is open for Chinese in this model (no category's zh dev rows validated "
                         "one), so the rules decide every category for Chinese posts and the model only adds "
                         "evidence; any difference from the rules comes from posts whose language is not zh.")
        else:
            text += (" Format-1 model: one fitted combination per category for every language (logistic for "
                     + (", ".join(f"`{x['code']}`" for x in rows) or "none") + ").")
        if (c.post.fp_rate or 0) > (r.post.fp_rate or 0):
            groups = "; ".join(f"`{g}` {a:,} → {b:,} of {n:,}" for g, a, b, n in negative_groups_added(tel))
            text += (f" The category adding most false positives is `{worst_added_category(tel)}`; negative "
                     f"classes with more flags: {groups or 'none'}.")
        out.append(text)
    jc = sections.get("janitr-cv")
    if jc is not None:
        r, m, c = (jc.reports[x].metrics for x in CONFIGS)
        cp, ra = "crypto_promotion", "rights_agency"
        near = "within a point of" if abs((c.micro.f1 or 0) - (m.micro.f1 or 0)) < 0.01 else "compared with"
        out.append(f"- **Why it helps on janitr.** In-domain, each fold model's dev split holds janitr positives "
                   "the rules miss, so the fit can measure what the model adds: recall of `crypto_promotion` goes "
                   f"from {_f3(r.categories[cp].recall)} (rules) to {_f3(c.categories[cp].recall)} (combined), "
                   f"`rights_agency` from {_f3(r.categories[ra].recall)} to {_f3(c.categories[ra].recall)}, at a "
                   f"post-level FP rate of {_pct(c.post.fp_rate, 2)} instead of {_pct(r.post.fp_rate, 2)}. "
                   f"Combined micro-F1 {_f3(c.micro.f1)} is {near} the model alone ({_f3(m.micro.f1)}).")
    te = sections.get("telecom-experimental-cv")
    if te is not None:
        r, m, c = (te.reports[x].metrics for x in CONFIGS)
        ii = "illegal_intermediary"
        others = sum(s_.fp_on_negatives for code, s_ in c.categories.items() if code != ii)
        out.append(f"- **With in-domain data the model family helps on telecom too** (research-only, not shipped): "
                   f"cross-fitted micro-F1 model alone {_f3(m.micro.f1)}, combined {_f3(c.micro.f1)}, rules "
                   f"{_f3(r.micro.f1)}. On `{ii}`, the one category with telecom training positives, F1 is "
                   f"{_f3(r.categories[ii].f1)} (rules), {_f3(m.categories[ii].f1)} (model), "
                   f"{_f3(c.categories[ii].f1)} (combined). The combined engine also keeps the rules' verdicts on "
                   "the categories this model cannot score (`impersonation`, `card_cashout`, `traffic_diversion`, "
                   f"...: {others:,} flags on negatives), which the model-alone engine never raises; that is most "
                   "of the gap between combined and model alone in micro-F1.")
    th = sections.get("thuc-shipped")
    if th is not None:
        fr = [group_rate(th.reports[x], THUC_FINANCE) for x in CONFIGS]
        text = "- **THUCNews finance + stocks headlines**: " + ", ".join(
            f"{x} {rate_str(f)}" for x, f in zip(CONFIGS, fr, strict=True)) + "."
        longer = [sections[k] for k in ("telecom-shipped", "weibo-shipped") if k in sections]
        if fr[2][0] <= fr[0][0] and any((s.reports["combined"].metrics.post.fp_rate or 0)
                                        > (s.reports["rules"].metrics.post.fp_rate or 0) for s in longer):
            text += (" The risk did not show on headlines; it shows on longer Chinese messages (telecom's negative "
                     "classes, Weibo21).")
        out.append(text)
    wb = sections.get("weibo-shipped")
    if wb is not None:
        r, c = wb.reports["rules"].metrics, wb.reports["combined"].metrics
        out.append(f"- **Weibo21** (no scored positives; negatives only): FP rate {_pct(r.post.fp_rate, 2)} (rules) → "
                   f"{_pct(c.post.fp_rate, 2)} (combined).")
    return out


# --- the run --------------------------------------------------------------------------------


def _rows_in(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def _data_row(name: str, n_file: int, rep: EvalReport, role: str) -> str:
    m = rep.metrics
    return (f"| `{name}` | {n_file:,} | {rep.rows_read:,} | {m.post.positives:,} | {m.post.negatives:,} | "
            f"{m.ambiguous_rows:,} | {rep.rows_skipped:,} | {role} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "model-quality.md")
    ap.add_argument("--k", type=int, default=None, help="folds (default 5; 2 with --quick)")
    ap.add_argument("--seed", type=int, default=0, help="fold assignment seed (models always use seed 0)")
    ap.add_argument("--limit", type=int, default=None, help="rows per file: a seeded sample (default all)")
    ap.add_argument("--quick", action="store_true", help=f"K=2 and {QUICK_LIMIT} rows per file")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    ap.add_argument("--model", type=Path, default=None,
                    help="measure this model artifact in place of the shipped default (a candidate)")
    args = ap.parse_args(argv)
    k = args.k or (2 if args.quick else 5)
    limit = args.limit or (QUICK_LIMIT if args.quick else None)
    started = time.perf_counter()
    paths = {n: args.data / n for n in (JANITR, TELECOM, THUC, WEIBO)}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise SystemExit("missing development data: " + ", ".join(missing))

    def log(s: str) -> None:
        print(s, file=sys.stderr, flush=True)

    rules = Engine()
    rthr = rule_thresholds(rules)
    shipped = TextClassifier.load(args.model or default_model_path())
    role = "candidate" if args.model else "shipped"
    examples = examples_of(shipped)
    records = {n: read_records(p) for n, p in paths.items()}
    used = {n: subsample(r, limit, args.seed) for n, r in records.items()}
    sections: dict[str, Section] = {}
    data_rows: list[str] = []

    with tempfile.TemporaryDirectory(prefix="qinglang-model-quality-") as tmp:
        work = Path(tmp)

        def sample_path(name: str) -> Path:
            if len(used[name]) == len(records[name]):
                return paths[name]
            return write_records(work / "sample" / name, used[name])

        # 1. janitr, cross-fitted
        log(f"janitr cross-fitted, K={k}")
        cf = cross_fit(paths[JANITR], k=k, seed=args.seed, workdir=work / "cv", rules=rules,
                       extra_train=examples, records=used[JANITR], log=log)
        sections["janitr-cv"] = Section(
            "janitr-cv", f"`{JANITR}`: cross-fitted (K={k}), {role} recipe", JANITR, len(records[JANITR]),
            len(used[JANITR]),
            f"Each fold evaluated by a model trained on the other {k - 1} folds + the project's examples.",
            cf.merged, flips(cf.records, _pool_flags(cf)), crossfit=cf,
            models=[(f"fold {fr.fold}", fr.combine) for fr in cf.folds])
        # the shipped model on janitr: in-sample, for contrast only
        rep, fl = measure(sample_path(JANITR), engines_for(rules, shipped))
        sections["janitr-in-sample"] = Section(
            "janitr-in-sample", f"`{JANITR}`: the {role} model, in-sample (train-on-test, for contrast only)",
            JANITR, len(records[JANITR]), len(used[JANITR]),
            f"**Not an honest figure**: the {role} model was trained (and its thresholds and combination fitted) "
            "on these rows. Shown only to size the optimism the cross-fitted figures remove.", rep,
            flips(used[JANITR], fl))

        # 2. the shipped model on the files it never saw
        for name, key in ((TELECOM, "telecom-shipped"), (THUC, "thuc-shipped"), (WEIBO, "weibo-shipped")):
            log(f"{role} model on {name}")
            rep, fl = measure(sample_path(name), engines_for(rules, shipped))
            sections[key] = Section(key, f"`{name}`: the {role} model (never trained on this file)", name,
                                    len(records[name]), len(used[name]),
                                    f"Model: `{shipped.name} {shipped.version}` ({role}).", rep,
                                    flips(used[name], fl), flags=fl)
            data_rows.append(_data_row(name, len(records[name]), rep["rules"], f"{role} model never saw it"))
        data_rows.insert(0, _data_row(JANITR, len(records[JANITR]), cf.merged["rules"],
                                      f"trains the {role} model; cross-fitted here"))

        # 3. experimental in-domain model: telecom cross-fitted, then all of telecom on THUCNews / Weibo21
        log(f"experimental: telecom cross-fitted, K={k}")
        tcf = cross_fit(paths[TELECOM], k=k, seed=args.seed, workdir=work / "cv", rules=rules,
                        extra_train=examples, records=used[TELECOM], log=log)
        sections["telecom-experimental-cv"] = Section(
            "telecom-experimental-cv", f"`{TELECOM}`: experimental in-domain model, cross-fitted (K={k}), "
            "never shipped", TELECOM, len(records[TELECOM]), len(used[TELECOM]),
            f"Each fold evaluated by a model trained on the other {k - 1} telecom folds + the project's examples "
            "(no janitr); research-only data, so the models lived in a temporary directory and were deleted.",
            tcf.merged, flips(tcf.records, _pool_flags(tcf)), crossfit=tcf,
            models=[(f"fold {fr.fold}", fr.combine) for fr in tcf.folds])
        log("experimental: all of telecom → THUCNews, Weibo21")
        tel_all = write_records(work / "telecom-all" / TELECOM, used[TELECOM])
        exp, secs = train_model([tel_all, *examples], work / "telecom-all" / "model", "experimental-telecom-zh")
        for name, key in ((THUC, "thuc-experimental"), (WEIBO, "weibo-experimental")):
            rep, fl = measure(sample_path(name), engines_for(rules, exp))
            sections[key] = Section(
                key, f"`{name}`: the experimental telecom model (never shipped, never saw this file)", name,
                len(records[name]), len(used[name]),
                f"Model trained on all {len(used[TELECOM]):,} telecom rows used here + the project's examples "
                f"({secs:.0f} s), in a temporary directory, deleted after measuring.", rep, flips(used[name], fl))

    log(f"diagnostics: the {role} model's dev split")
    comp = dev_composition(shipped, [paths[JANITR], *examples]) if shipped.combination is None else None
    notes = why_notes(sections, shipped, role)
    comp_lines = composition_table(shipped, comp, rthr)
    elapsed = time.perf_counter() - started
    order = ["janitr-cv", "telecom-shipped", "thuc-shipped", "weibo-shipped", "telecom-experimental-cv",
             "thuc-experimental", "weibo-experimental", "janitr-in-sample"]
    secs_in_order = [sections[s] for s in order if s in sections]
    g = goals(sections)
    cmd = "python scripts/model_quality.py" + (f" --model {args.model}" if args.model else "") + (
        " --quick" if args.quick else "") + (
        f" --k {args.k}" if args.k else "") + (f" --limit {args.limit}" if args.limit else "") + (
        f" --seed {args.seed}" if args.seed else "")
    doc = render_doc(secs_in_order, g, data_rows, rules, shipped, cmd, k, args.seed, limit, elapsed, notes,
                     comp_lines, examples, role)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(doc, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(_figures(secs_in_order, g, elapsed), ensure_ascii=False, indent=1), "utf-8")

    print(f"model quality ({cmd}; {elapsed:.0f} s) → {args.out}")
    for sec in secs_in_order:
        r, m, c = (sec.reports[x].metrics for x in CONFIGS)
        extra = "".join(f"; {names[0] if len(names) == 1 else '+'.join(names)} flag rate "
                        + " / ".join(rate_str(group_rate(sec.reports[x], names)) for x in CONFIGS)
                        for _, names in watch_groups(sec))
        print(f"  {sec.file:28s} {sec.key:24s} micro-F1 r/m/c {_f3(r.micro.f1)} / {_f3(m.micro.f1)} / "
              f"{_f3(c.micro.f1)}  FP rate {_pct(r.post.fp_rate, 2)} / {_pct(m.post.fp_rate, 2)} / "
              f"{_pct(c.post.fp_rate, 2)}{extra}")
    for goal in g:
        print(f"  goal: {goal['goal']}: {goal['measured']} → {'met' if goal['met'] else 'NOT met'}")
    return 0


def _pool_flags(cf: CrossFit) -> dict[str, dict[str, tuple]]:
    pooled: dict[str, dict[str, tuple]] = {c: {} for c in CONFIGS}
    for fr in cf.folds:
        for c in CONFIGS:
            pooled[c].update(fr.flags[c])
    return pooled


def _figures(sections: Sequence[Section], goals_: list[dict[str, Any]], elapsed: float) -> dict[str, Any]:
    return {
        "seconds": round(elapsed, 1),
        "goals": goals_,
        "sections": {s.key: {"file": s.file, "rows_in_file": s.rows_in_file, "rows_used": s.rows_used,
                             "flips": s.flips, "reports": {c: s.reports[c].to_dict() for c in CONFIGS}}
                     for s in sections},
    }


def render_doc(sections: Sequence[Section], goals_: list[dict[str, Any]], data_rows: list[str], rules: Engine,
               shipped: TextClassifier, cmd: str, k: int, seed: int, limit: int | None, elapsed: float,
               notes: list[str], comp_lines: list[str], examples: Sequence[Path], role: str) -> str:
    packs = ", ".join(f"{n} {v}" for n, v in sorted(rules.versions["packs"].items()))
    lm = next(iter(sections)).reports["rules"].label_map
    out = ["# Model quality: rules alone, model alone, combined", ""]
    out.append(
        f"Generated {dt.date.today().isoformat()} by `{cmd}` (from the repository root, the development data in "
        f"`../shared/data`), in {elapsed / 60:.1f} min on {os.cpu_count()} CPU cores "
        f"({platform.python_implementation()} {platform.python_version()}). Packs {packs}; {role} model "
        f"`{shipped.name} {shipped.version}`; label map `{lm.get('source')}` v{lm.get('version')} "
        f"({lm.get('sha256')}). Every figure comes from `qinglang.eval` (`evaluate` on each file or fold, "
        "`qinglang.eval.merge` to pool folds); definitions in [evaluation.md](evaluation.md).")
    if limit:
        out += ["", f"**Quick run**: at most {limit:,} rows per file (a seeded sample), K={k}. "
                "Not the figures to quote."]
    out += ["", "## Data", "",
            "| file | rows in file | rows used | positives | negatives | ambiguous | skipped | role |",
            "|---|---:|---:|---:|---:|---:|---:|---|", *data_rows, "",
 f"The {role} model is trained on `janitr_x_crypto_en.jsonl` (MIT) and the project's examples "
            + " + ".join(f"`{p.name}` ({_rows_in(p):,})" for p in examples)
            + " (rows); the research-only files train experimental models only, in temporary directories, never "
            "shipped (../shared/data/README.md). Ambiguous rows (`is_positive: null`) are in no metric.", "",
            "## How it was measured", "",
            f"- **Cross-fitting** (janitr; telecom for the experimental model): K={k} folds. Rows whose normalized "
            "text (`model_text`, what the model reads) is identical form one group and stay in one fold; groups "
            "are stratified by class (`is_positive`, `target_category` of the group's first row), shuffled with "
            f"seed {seed} and dealt to the folds in turn. For each fold a model is trained with "
 f"`qinglang.learn.train.train` exactly as the {role} one is (its defaults: logistic regression on "
            "char 1-3 TF-IDF, C=30, balanced, Platt, target precision 0.9, seed 0; its own grouped 80/20 dev "
            "split picks thresholds and decides the per-language combination) on the other folds plus the "
            f"{len(examples)} example files above, "
            "and the held-out fold is evaluated with three engines: rules alone (`Engine()`), model alone "
            "(`mode=\"model\"`, the model's own thresholds), combined (`mode=\"combined\"`). Counts (post-level "
            "TP/FP/FN/TN, per-category TP/FP/FN, group tallies) are summed over folds and the metrics computed "
            "once. Each fold's training file is checked to share no row id with its held-out fold.",
            f"- **{role.capitalize()} model on unseen files**: `{shipped.name} {shipped.version}` as it is, on "
            "telecom, THUCNews and Weibo21, which it never saw.",
            "- **Experimental in-domain model** (never shipped): telecom cross-fitted as above, but trained on "
            "telecom folds + the examples (no janitr); and one model trained on all of telecom + the examples, "
            "evaluated on THUCNews and Weibo21, which it never saw.",
            f"- The {role} model on janitr, in-sample, is listed last for contrast only.",
            "- *Rules → combined, row by row* counts the rows whose post-level decision changes between the two "
            "engines: positives gained/lost, false positives added/removed.", "",
            "## Goals", "", "| goal | measured | met |", "|---|---|---|"]
    for g in goals_:
        out.append(f"| {g['goal']} | {g['measured']} | {'yes' if g['met'] else '**no**'} |")
    out += ["", "## Summary", "", *summary_rows(sections), "", "## Reading", "", *reading(
        {s.key: s for s in sections}), "", *notes, "",
            f"## What the {role} model's combination was decided on", "",
            "Its dev split (20% of groups of janitr + the examples), per category and language: the rows the "
            "decision rests on (from the model's `model.json`; format-1 models: recomputed as `train()` draws it, "
            "with *p alone* / *p veto* as in the per-file tables).", "", *comp_lines, "", "## Per file", ""]
    for sec in sections:
        out += render_section(sec)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
