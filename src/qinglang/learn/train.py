"""Training: labeled files in, a model artifact with its model card out.

The procedure, and why:

1. Read the files (``data.py``); rows from the shared corpora go through the
   evaluation kit's label map. Normalize every text with the engine's normalizer,
   because the model will only ever see normalized text.
2. Split train/dev (unless a dev file is given): grouped by identical text,
   stratified by primary code, seeded.
3. Fit one binary linear model per category on hashed char n-grams (one-vs-rest).
   A category with fewer than :data:`MIN_TRAIN_POSITIVES` training positives is not
   fitted (constant low probability) and the card says so: a model must not
   pretend to know a category it has not seen.
4. Optionally Platt-calibrate each category on out-of-fold decision values, prune
   near-zero weights and quantize to float16 — then evaluate *the quantized model*,
   so the figures and thresholds are those of the artifact that ships.
5. Choose each category's threshold on dev for the target precision.
6. Per category and per language, decide on dev how rules and model combine
   (``combination.py``): the rules' own verdicts (``Engine.detect``) flag as they
   do; a model path that flags on its own, or a veto of rule hits, is opened only
   where that language's dev rows validate it.
7. Write ``model.json``, ``weights.npz`` and ``MODEL_CARD.md``.

Everything is a function of the data and the seed: two runs give byte-identical
``weights.npz`` and identical thresholds.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from qinglang import errors
from qinglang.errors import QLError
from qinglang.learn import card
from qinglang.learn import combination as comb_rules
from qinglang.learn.classifier import (
    CARD_FILE,
    TextClassifier,
    model_text,
    normalizer_fingerprint,
)
from qinglang.learn.combination import LangPath, apply_paths, fit_category
from qinglang.learn.data import FileStats, LabeledRow, load_label_map, read_labeled, split_rows
from qinglang.learn.features import FeatureParams, document_frequency, featurize, hash_ngrams, idf_from_df
from qinglang.learn.lang import lang_of

#: a category needs this many training positives to be fitted at all
MIN_TRAIN_POSITIVES = 3
#: below this many dev positives a threshold is not estimated (0.5 is used and the card says so)
MIN_DEV_POSITIVES = 5
#: folds for the out-of-fold decision values that Platt calibration is fitted on
CALIBRATION_FOLDS = 3

#: Defaults chosen by measurement (docs/model.md, "Choosing the family").
DEFAULT_FAMILY = "logreg"
DEFAULT_C = {"logreg": 30.0, "svm": 0.5}
DEFAULT_CALIBRATE = {"logreg": True, "svm": True}
#: class-balanced loss: rare categories (a few dozen examples) otherwise never clear a threshold
DEFAULT_BALANCED = True
#: weights smaller than this (logit units per unit of feature value, which is ≤ 1) are dropped
DEFAULT_PRUNE = 0.02

FAMILIES = ("logreg", "svm")
#: char 1-3 grams, 2^18 buckets, TF-IDF, digits folded, placeholders masked (features.mask_placeholders)
DEFAULT_FEATURES = FeatureParams(mask_placeholders=True)


@dataclass(slots=True)
class TrainResult:
    """What a training run produced: the artifact's place, the model, and its dev figures."""

    out: Path
    model: TextClassifier
    n_train: int
    n_dev: int
    files: list[FileStats]
    dev_metrics: dict[str, dict[str, Any]]
    thresholds: dict[str, float]
    seconds: float
    notes: list[str] = field(default_factory=list)
    #: dev probabilities (n_dev, L) and labels, for callers that measure further
    dev_prob: np.ndarray | None = None
    dev_labels: np.ndarray | None = None
    dev_ids: list[str] = field(default_factory=list)
    #: which dev labels are known (False: a partial row's non-primary codes)
    dev_known: np.ndarray | None = None

    @property
    def meta(self) -> dict[str, Any]:
        return self.model.meta


# --- fitting ---------------------------------------------------------------------------


def _estimator(family: str, c: float, seed: int, balanced: bool) -> Any:
    cw = "balanced" if balanced else None
    if family == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=seed, class_weight=cw)
    if family == "svm":
        from sklearn.svm import LinearSVC

        return LinearSVC(C=c, max_iter=5000, random_state=seed, class_weight=cw)
    raise QLError(errors.BAD_OPTION, f"unknown model family '{family}'", hint=f"one of {', '.join(FAMILIES)}")


def _fit_binary(
    x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, family: str, c: float, seed: int, balanced: bool
) -> tuple[np.ndarray, float]:
    est = _estimator(family, c, seed, balanced)
    est.fit(x, y, sample_weight=w)
    return np.asarray(est.coef_, dtype=np.float64).ravel(), float(np.asarray(est.intercept_).ravel()[0])


def _platt(scores: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Fit ``sigmoid(a·s + b)`` to labels (Platt's targets, which keep it from saturating)."""
    from sklearn.linear_model import LogisticRegression

    n_pos, n_neg = float(w[y == 1].sum()), float(w[y == 0].sum())
    # Platt (1999): soft targets instead of 0/1, so separable folds do not push a → ∞
    t_pos, t_neg = (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0)
    s = scores.reshape(-1, 1)
    xs = np.vstack([s, s])
    ys = np.concatenate([np.ones_like(y), np.zeros_like(y)])
    ws = np.concatenate([w * np.where(y == 1, t_pos, t_neg), w * np.where(y == 1, 1 - t_pos, 1 - t_neg)])
    lr = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    lr.fit(xs, ys, sample_weight=ws)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def fit_linear(
    x: sp.csr_matrix,
    y: np.ndarray,
    w: np.ndarray,
    *,
    family: str,
    c: float,
    calibrate: bool,
    seed: int,
    balanced: bool = False,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """One-vs-rest fit: ``(weights (n_buckets, L), bias (L,), per-label notes)``.

    The logit of label ``j`` is ``x @ weights[:, j] + bias[j]``; Platt scaling, when
    on, is folded into these numbers, so inference is one product and a sigmoid.
    ``known[i, j]`` False leaves row ``i`` out of label ``j``'s fit (its label for
    that category is unknown: see ``data.py`` on partial rows).
    """
    from sklearn.model_selection import StratifiedKFold

    n, n_labels = y.shape
    n_features = x.shape[1]
    # Fit on the columns that occur in training only: features absent from every
    # training row get zero weight from an L2-regularised fit anyway, and a 2^18-wide
    # solver state for a few thousand used columns costs most of the time.
    used = np.unique(x.indices)
    remap = np.full(n_features, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    x = sp.csr_matrix((x.data, remap[x.indices], x.indptr), shape=(n, len(used)))
    weights = np.zeros((n_features, n_labels), dtype=np.float64)
    bias = np.zeros(n_labels, dtype=np.float64)
    notes: list[dict[str, Any]] = []
    for j in range(n_labels):
        rows = np.flatnonzero(known[:, j]) if known is not None else np.arange(n)
        xj, yj, wj = x[rows], y[rows, j], w[rows]
        m = len(rows)
        pos = int(yj.sum())
        if pos < MIN_TRAIN_POSITIVES or pos == m:
            prior = (pos + 0.5) / (m + 1.0)
            bias[j] = math.log(prior / (1.0 - prior))
            notes.append({"fitted": False, "train_positives": pos, "train_rows": m,
                          "reason": f"fewer than {MIN_TRAIN_POSITIVES} training positives"})
            continue
        coef, intercept = _fit_binary(xj, yj, wj, family, c, seed, balanced)
        note: dict[str, Any] = {"fitted": True, "train_positives": pos, "train_rows": m, "calibrated": False}
        if calibrate and pos >= 2 * CALIBRATION_FOLDS and m - pos >= 2 * CALIBRATION_FOLDS:
            oof = np.zeros(m, dtype=np.float64)
            folds = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed)
            for tr, te in folds.split(np.zeros(m), yj):
                cf, ic = _fit_binary(xj[tr], yj[tr], wj[tr], family, c, seed, balanced)
                oof[te] = xj[te] @ cf + ic
            a, b = _platt(oof, yj, wj)
            coef, intercept = coef * a, intercept * a + b
            note.update(calibrated=True, platt_a=round(a, 6), platt_b=round(b, 6))
        weights[used, j] = coef
        bias[j] = intercept
        notes.append(note)
    return weights, bias, notes


def prune_and_quantize(weights: np.ndarray, tol: float) -> np.ndarray:
    """Drop weights below ``tol`` and round the rest to float16, as the artifact stores them."""
    w = np.where(np.abs(weights) < tol, 0.0, weights)
    return w.astype(np.float16).astype(np.float32)


# --- thresholds and metrics -------------------------------------------------------------


def choose_threshold(scores: np.ndarray, y: np.ndarray, target_precision: float) -> tuple[float, str]:
    """The threshold with the highest recall whose precision on ``(scores, y)`` reaches the target.

    Returns ``(threshold, how)``: ``how`` is ``"target"`` when the target was met,
    ``"best_precision"`` when it cannot be (the most precise cut is taken), and
    ``"fallback"`` (0.5) with fewer than :data:`MIN_DEV_POSITIVES` positives. The
    threshold is the midpoint between the last accepted score and the next lower
    one, so scores of new posts near the boundary are not decided by a tie.
    """
    n_pos = int(y.sum())
    if n_pos < MIN_DEV_POSITIVES:
        return 0.5, "fallback"
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order].astype(np.float64), y[order].astype(np.int64)
    tp, k = np.cumsum(t), np.arange(1, len(t) + 1)
    last = np.r_[s[1:] != s[:-1], True]  # cut after the last of each run of equal scores
    cut_idx = np.flatnonzero(last)
    precision = tp[cut_idx] / k[cut_idx]
    recall_tp = tp[cut_idx]
    ok = precision >= target_precision - 1e-12
    how = "target"
    if ok.any():
        cand = np.flatnonzero(ok)
        best = cand[np.argmax(recall_tp[cand])]  # first max: the highest cut with that recall
    else:
        how = "best_precision"
        best = int(np.lexsort((-recall_tp, -precision))[0])
    i = cut_idx[best]
    hi = s[i]
    lo = s[i + 1] if i + 1 < len(s) else max(hi - 0.01, 0.0)
    return float(np.float32((hi + lo) / 2.0)), how


def binary_metrics(scores: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, Any]:
    """Counts, precision, recall, F1 at a threshold, and average precision (threshold-free)."""
    pred = scores >= threshold
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    out: dict[str, Any] = {"positives": int(y.sum()), "tp": tp, "fp": fp, "fn": fn,
                           "precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)}
    if 0 < y.sum() < len(y):
        from sklearn.metrics import average_precision_score

        out["ap"] = round(float(average_precision_score(y, scores)), 4)
    return out


def cross_fitted_metrics(scores: np.ndarray, y: np.ndarray, target_precision: float, seed: int) -> dict[str, Any]:
    """Honest dev figures for "threshold chosen on dev": 2-fold, each half thresholded on the other.

    In-sample figures at a threshold chosen on the same rows flatter the model;
    these do not (they are what the procedure delivers on rows it did not see).
    """
    n = len(y)
    rng = np.random.default_rng(seed)
    halves = np.zeros(n, dtype=np.int64)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        idx = idx[rng.permutation(len(idx))]
        halves[idx[1::2]] = 1
    tp = fp = fn = 0
    for h in (0, 1):
        fit, ev = halves != h, halves == h
        thr, _ = choose_threshold(scores[fit], y[fit], target_precision)
        m = binary_metrics(scores[ev], y[ev], thr)
        tp, fp, fn = tp + m["tp"], fp + m["fp"], fn + m["fn"]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


# --- combination ------------------------------------------------------------------------


def _rule_flags(rows: list[LabeledRow], labels: list[str]) -> tuple[np.ndarray | None, str]:
    """Per dev row and category, whether the rules alone flag it (``Engine.detect``, rules only).

    If the engine cannot be built (packs being edited), None and the reason (for the
    card); the model still trains, and its paths are then fitted as if the rules
    flagged nothing, which only makes them stricter.
    """
    col = {c: j for j, c in enumerate(labels)}
    try:
        from qinglang.detect.engine import Engine

        engine = Engine()
        flagged = np.zeros((len(rows), len(labels)), dtype=bool)
        for i, v in enumerate(engine.detect([r.post() for r in rows])):
            for code in v.codes():
                if code in col:
                    flagged[i, col[code]] = True
    except QLError as exc:
        return None, f"rules unavailable ({exc.code.code} {exc.message}); taken as flagging nothing"
    packs = ", ".join(f"{k} {v}" for k, v in engine.versions.get("packs", {}).items())
    return flagged, f"Engine.detect with the bundled packs ({packs})"


# --- the run ----------------------------------------------------------------------------


def _created() -> str:
    """Creation time; ``SOURCE_DATE_EPOCH`` pins it for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch and epoch.isdigit() else datetime.now(UTC)
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _display(path: Path) -> str:
    """A path for the card: relative to the working directory or the data folder, never a home path."""
    p = path.resolve()
    for base in (Path.cwd().resolve(), Path.cwd().resolve().parent):
        try:
            return str(p.relative_to(base))
        except ValueError:
            continue
    return path.name


def _normalize(rows: list[LabeledRow]) -> list[str]:
    """The model's input for each row, built exactly as the engine builds it."""
    return [model_text(r.post()) for r in rows]


def train(
    train_paths: list[Path],
    *,
    dev_path: Path | None = None,
    dev_fraction: float = 0.2,
    seed: int = 0,
    out: Path,
    name: str,
    version: str,
    target_precision: float = 0.9,
    label_map: Path | None = None,
    family: str = DEFAULT_FAMILY,
    features: FeatureParams | None = None,
    c: float | None = None,
    calibrate: bool | None = None,
    prune: float = DEFAULT_PRUNE,
    balanced: bool | None = None,
    use_rules: bool = True,
    max_path_fp_rate: float = comb_rules.MAX_PATH_FP_RATE,
    min_lang_negatives: int = comb_rules.MIN_DEV_NEGATIVES,
    allow_veto: bool = False,
) -> TrainResult:
    """Train a model on labeled files and write its artifact (with model card) to ``out``.

    ``dev_path`` gives a separate dev file; otherwise ``dev_fraction`` of the
    training rows is held out (grouped, stratified, seeded). Thresholds are chosen
    on dev for ``target_precision``. ``family``/``features``/``c``/``calibrate``
    default to the measured choice (docs/model.md). ``use_rules=False`` skips the
    engine (the combination is then fitted as if the rules flagged nothing).
    ``max_path_fp_rate`` and ``min_lang_negatives`` bound where the model may flag
    on its own (``combination.py``). ``allow_veto`` lets a dev-validated veto overrule
    rule hits; off by default (docs/model.md: vetoes validated on the project's own
    dev rows removed true rule hits on a file the model had never seen).
    """
    t0 = time.perf_counter()
    if not 0.0 < target_precision <= 1.0:
        raise QLError(errors.BAD_OPTION, f"target precision must be in (0, 1], not {target_precision}")
    if not train_paths:
        raise QLError(errors.BAD_OPTION, "no training files")
    if family not in FAMILIES:
        raise QLError(errors.BAD_OPTION, f"unknown model family '{family}'", hint=f"one of {', '.join(FAMILIES)}")
    params = features or DEFAULT_FEATURES
    params.validate()
    c_value = DEFAULT_C[family] if c is None else float(c)
    do_calibrate = DEFAULT_CALIBRATE[family] if calibrate is None else calibrate
    do_balance = DEFAULT_BALANCED if balanced is None else balanced

    from qinglang.policy.loader import taxonomy

    labels = list(taxonomy())
    lmap = load_label_map(label_map)
    files: list[FileStats] = []
    rows: list[LabeledRow] = []
    for p in train_paths:
        r, st = read_labeled(Path(p), label_map=lmap, known_codes=labels, display_path=_display(Path(p)))
        rows.extend(r)
        files.append(st)
    dev_rows: list[LabeledRow] = []
    dev_stats: FileStats | None = None
    if dev_path is not None:
        dev_rows, dev_stats = read_labeled(Path(dev_path), label_map=lmap, known_codes=labels,
                                           display_path=_display(Path(dev_path)))
    if not rows:
        raise QLError(errors.EMPTY_INPUT, "no usable training rows in " + ", ".join(str(p) for p in train_paths))

    norm = _normalize(rows)
    col = {code: j for j, code in enumerate(labels)}

    def label_matrix(rs: list[LabeledRow]) -> tuple[np.ndarray, np.ndarray]:
        """Labels and which of them are known (a partial row knows its primary code only)."""
        y = np.zeros((len(rs), len(labels)), dtype=np.int64)
        known = np.ones((len(rs), len(labels)), dtype=bool)
        for i, r in enumerate(rs):
            if not r.complete:
                known[i, :] = False
            for code in r.labels:
                y[i, col[code]] = 1
                known[i, col[code]] = True
        return y, known

    if dev_rows:
        tr_rows, tr_norm = rows, norm
        dv_rows, dv_norm = dev_rows, _normalize(dev_rows)
        split_note = f"separate dev file {dev_stats.name if dev_stats else ''}"
    else:
        tr_idx, dv_idx = split_rows(norm, [r.labels for r in rows], dev_fraction, seed)
        tr_rows = [rows[i] for i in tr_idx]
        tr_norm = [norm[i] for i in tr_idx]
        dv_rows = [rows[i] for i in dv_idx]
        dv_norm = [norm[i] for i in dv_idx]
        split_note = (f"{dev_fraction:.0%} of groups held out: grouped by identical normalized text, "
                      f"stratified by primary code, seed {seed}")
    if not dv_rows:
        raise QLError(errors.BAD_OPTION, "the dev split is empty: give more rows or a dev file")
    (y_tr, k_tr), (y_dv, k_dv) = label_matrix(tr_rows), label_matrix(dv_rows)
    w_tr = np.array([r.weight for r in tr_rows], dtype=np.float64)

    # features: IDF from the training split only
    idf = None
    if params.weighting == "tfidf":
        batch = hash_ngrams(tr_norm, params)
        ones = sp.csr_matrix((np.ones_like(batch.buckets, dtype=np.float32), batch.buckets, batch.indptr),
                             shape=(len(tr_norm), params.n_buckets))
        idf = idf_from_df(document_frequency(ones), len(tr_norm)).astype(np.float16).astype(np.float32)
    x_tr = featurize(tr_norm, params, idf)
    x_tr.sum_duplicates()

    weights, bias, fit_notes = fit_linear(x_tr, y_tr, w_tr, family=family, c=c_value, calibrate=do_calibrate,
                                          seed=seed, balanced=do_balance, known=k_tr)
    wq = prune_and_quantize(weights, prune)
    model = TextClassifier(name=name, version=version, labels=labels, params=params, weights=wq,
                           bias=bias.astype(np.float32), idf=idf)

    # dev: model thresholds
    prob = model.predict_proba(dv_norm).astype(np.float64)
    thresholds: dict[str, float] = {}
    how: dict[str, str] = {}
    kd = [np.flatnonzero(k_dv[:, j]) for j in range(len(labels))]  # dev rows scored per label
    for j, code in enumerate(labels):
        thresholds[code], how[code] = choose_threshold(prob[kd[j], j], y_dv[kd[j], j], target_precision)
    model.thresholds = thresholds

    # dev: the rules' verdicts, then per category and language how rules and model combine
    if use_rules:
        rule_flags, rule_source = _rule_flags(dv_rows, labels)
    else:
        rule_flags, rule_source = None, "not used in this run (use_rules=False); taken as flagging nothing"
    flags = rule_flags if rule_flags is not None else np.zeros(prob.shape, dtype=bool)
    dv_langs = np.array([lang_of(r.post()) or "" for r in dv_rows], dtype=object)
    fit_kw: dict[str, Any] = {"target_precision": target_precision, "max_fp_rate": max_path_fp_rate,
                              "min_negatives": min_lang_negatives, "allow_veto": allow_veto}
    combination: dict[str, dict[str, LangPath]] = {}
    comb = np.zeros(prob.shape, dtype=bool)
    for j, code in enumerate(labels):
        rj = kd[j]
        combination[code] = fit_category(y_dv[rj, j], flags[rj, j], prob[rj, j], dv_langs[rj], **fit_kw)
        comb[rj, j] = apply_paths(combination[code], dv_langs[rj], flags[rj, j], prob[rj, j])
    model.combination = combination

    dev_metrics: dict[str, dict[str, Any]] = {}
    for j, code in enumerate(labels):
        rows_j, yj = kd[j], y_dv[kd[j], j]
        m: dict[str, Any] = {"dev_positives": int(yj.sum()), "dev_rows": len(rows_j),
                             "train_positives": int(y_tr[:, j].sum()),
                             "fitted": fit_notes[j]["fitted"], "threshold": thresholds[code],
                             "threshold_how": how[code]}
        m["model"] = binary_metrics(prob[rows_j, j], yj, thresholds[code])
        m["model_cross_fitted"] = cross_fitted_metrics(prob[rows_j, j], yj, target_precision, seed)
        m["model_at_0.5"] = binary_metrics(prob[rows_j, j], yj, 0.5)
        if rule_flags is not None:
            m["rules"] = binary_metrics(rule_flags[rows_j, j].astype(np.float64), yj, 0.5)
        m["combined"] = binary_metrics(comb[rows_j, j].astype(np.float64), yj, 0.5)
        m["combined_cross_fitted"] = comb_rules.cross_fitted(yj, flags[rows_j, j], prob[rows_j, j],
                                                             dv_langs[rows_j], seed, **fit_kw)
        m["combine"] = "; ".join(f"{lang}: {p.kind}" + (" + veto" if p.veto_below is not None else "")
                                 for lang, p in combination[code].items()) or "rules decide (no dev rows)"
        m["fit"] = fit_notes[j]
        dev_metrics[code] = m

    import sklearn

    all_files = [*files, *([dev_stats] if dev_stats else [])]
    meta: dict[str, Any] = {
        "created": _created(),
        "seed": seed,
        "family": {
            "name": family,
            "estimator": "LogisticRegression(liblinear, L2)" if family == "logreg" else "LinearSVC (L2, hinge²)",
            "C": c_value,
            "class_weight": "balanced" if do_balance else "none",
            "one_vs_rest": True,
            "calibration": f"Platt on {CALIBRATION_FOLDS}-fold out-of-fold scores" if do_calibrate else "none",
            "prune_below": prune,
            "storage": "float16, non-zero entries only",
        },
        "input": "normalized text: each text field through qinglang.text.normalize.default_normalizer(), "
                 "joined with \\n",
        "normalizer": {"fingerprint": normalizer_fingerprint()},
        "target_precision": target_precision,
        "training_data": [f.to_dict() for f in files],
        "dev_data": dev_stats.to_dict() if dev_stats else None,
        "split": {"how": split_note, "train_rows": len(tr_rows), "dev_rows": len(dv_rows),
                  "train_positives": int((y_tr.sum(axis=1) > 0).sum()),
                  "dev_positives": int((y_dv.sum(axis=1) > 0).sum())},
        "shippable": all(f.shippable for f in all_files),
        "label_map": lmap.info(),
        "rule_scores": rule_source,
        "combination_rules": {
            "form": "flag if the rules flag, or (where validated for the post's language) the model's "
                    "probability reaches the path's threshold; a veto only where dev showed it helps",
            "min_dev_positives": comb_rules.MIN_DEV_POSITIVES, "min_dev_negatives": min_lang_negatives,
            "min_rules_missed": comb_rules.MIN_RULES_MISSED, "max_path_fp_rate": max_path_fp_rate,
            "min_veto_negatives": comb_rules.MIN_VETO_NEGATIVES, "allow_veto": allow_veto,
            "language": "the row's lang if given, else qinglang.learn.lang.detect_lang on its text",
            "dev_languages": dict(sorted(Counter(str(x) or "unknown" for x in dv_langs).items())),
        },
        "dev_metrics": dev_metrics,
        "environment": {"python": platform.python_version(), "numpy": np.__version__,
                        "scikit-learn": sklearn.__version__},
    }
    meta["training_seconds"] = round(time.perf_counter() - t0, 2)
    model.meta = meta
    out = Path(out)
    model.save(out)
    (out / CARD_FILE).write_text(card.render(model.meta), "utf-8")
    notes = [f"{code}: not fitted ({dev_metrics[code]['fit']['reason']})"
             for code in labels if not dev_metrics[code]["fitted"]]
    return TrainResult(out, model, len(tr_rows), len(dv_rows), all_files, dev_metrics, thresholds,
                       time.perf_counter() - t0, notes, prob, y_dv, [r.id for r in dv_rows], k_dv)


# --- command line -----------------------------------------------------------------------

#: ``train_main``'s first parameter is called ``train`` (the CLI option's name) and hides the function
_train = train


def train_main(
    train: list[str],
    dev: str | None,
    out: str,
    seed: int,
    name: str,
    version: str,
    target_precision: float,
    label_map: str | None,
) -> int:
    """``qinglang train``: train, print a short summary, return the exit code (0 ok, 2 error)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False)
    err = Console(stderr=True)
    try:
        res = _train(
            [Path(p) for p in train],
            dev_path=Path(dev) if dev else None,
            seed=seed,
            out=Path(out),
            name=name,
            version=version,
            target_precision=target_precision,
            label_map=Path(label_map) if label_map else None,
        )
    except QLError as exc:
        err.print(f"[red]error[/red] {exc.code.code} {exc.message}" + (f" ({exc.hint})" if exc.hint else ""),
                  markup=True, highlight=False)
        return 2
    meta = res.meta
    console.print(f"[bold]{res.model.name} {res.model.version}[/bold] → {res.out}  "
                  f"({meta['weights_file']['bytes'] / 1e6:.2f} MB weights, {res.seconds:.1f} s)")
    for f in res.files:
        console.print(f"  {f.name}: {f.rows} rows, {f.used} used ({f.positives} positive), "
                      f"skipped {sum(f.skipped.values())} — {f.licence}", highlight=False)
    console.print(f"  train {res.n_train} rows, dev {res.n_dev} rows; target precision {target_precision}")
    table = Table("category", "dev+", "thr", "P", "R", "AP", "rules R", "comb. R", "comb. P")
    unfitted = []
    for code, m in res.dev_metrics.items():
        if not m["fitted"]:
            unfitted.append(code)
            continue
        mm = m["model"]
        rules = m.get("rules")
        table.add_row(
            code, str(m["dev_positives"]),
            f"{m['threshold']:.2f}" + ("" if m["threshold_how"] == "target" else "*"),
            f"{mm['precision']:.2f}", f"{mm['recall']:.2f}",
            f"{mm['ap']:.2f}" if "ap" in mm else "-",
            f"{rules['recall']:.2f}" if rules else "-",
            f"{m['combined']['recall']:.2f}", f"{m['combined']['precision']:.2f}",
        )
    console.print(table)
    console.print("  * threshold not at target precision (few dev positives or target unreachable); "
                  f"see {res.out / CARD_FILE}", highlight=False)
    if unfitted:
        console.print(f"  not fitted (fewer than {MIN_TRAIN_POSITIVES} training positives; rules only): "
                      + ", ".join(unfitted), highlight=False)
    if not meta["shippable"]:
        console.print("[yellow]not shippable[/yellow]: trained on data whose licence does not allow shipping "
                      "(research-only or unknown)")
    sys.stdout.flush()
    return 0


def _main(argv: list[str] | None = None) -> int:
    """``python -m qinglang.learn.train``: the same as ``qinglang train``, for use before the CLI has it."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m qinglang.learn.train", description=train.__doc__)
    ap.add_argument("train", nargs="+", help="labeled JSONL/CSV/Parquet files")
    ap.add_argument("--dev", default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="qinglang-textclf")
    ap.add_argument("--version", default="0.0.0")
    ap.add_argument("--target-precision", type=float, default=0.9)
    ap.add_argument("--label-map", default=None)
    a = ap.parse_args(argv)
    return train_main(a.train, a.dev, a.out, a.seed, a.name, a.version, a.target_precision, a.label_map)


if __name__ == "__main__":
    sys.exit(_main())
