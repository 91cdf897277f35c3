"""Per category and per language: when the model may flag on its own, and when it may overrule a rule.

The rules flag as they do without a model; the model adds to them, never silently
replaces them:

- **Model path.** For a (category, language) the model flags on its own when its
  probability reaches a threshold, *only* where the dev rows of that language
  validated it: at least :data:`MIN_DEV_POSITIVES` positives and
  :data:`MIN_DEV_NEGATIVES` negatives in that language, rules that miss at least
  :data:`MIN_RULES_MISSED` of those positives (otherwise what the model adds cannot
  be measured), and a threshold at which the flags the model adds reach the target
  precision while flagging at most :data:`MAX_PATH_FP_RATE` of that language's dev
  negatives. Anywhere else — another language, a language the post does not reveal,
  a category dev could not validate — the rules decide and the model's probability
  is only shown as evidence. The failure this prevents: a combination validated on
  English crypto posts let the model flag ordinary Chinese messages
  (docs/model-quality.md).
- **Veto.** A low model probability overrules a rule hit only when training allows
  vetoes (``allow_veto``, off by default) and dev showed the veto raising precision
  by more than it costs recall, on at least :data:`MIN_VETO_NEGATIVES` vetoed
  negatives. Off by default because twice a veto that dev supported removed true
  loan-fraud hits on a file the model had never seen (docs/model.md): the dev rows
  come from the same writers as the training rows, so they cannot show how the
  model scores the rules' true hits elsewhere. The dev measurement is recorded either way.

Everything here is data in ``model.json`` (``combination``: per category, per
language, a :class:`LangPath` with its dev counts and the reason for its kind) and is
rendered into the model card. Artifacts of format 1 carry one fitted combination per
category for all languages (:class:`~qinglang.learn.classifier.CombineParams`);
:func:`decide` still applies them as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qinglang import errors
from qinglang.errors import QLError
from qinglang.learn.lang import lang_of
from qinglang.model import Post

#: a language needs this many dev positives of a category before anything is fitted for it
MIN_DEV_POSITIVES = 5
#: ... and this many dev negatives: with n negatives and none flagged, the FP rate is only known to be ≲ 3/n
MIN_DEV_NEGATIVES = 30
#: the rules must miss this many of those dev positives for the model's contribution to be measurable
MIN_RULES_MISSED = 5
#: the model path may flag at most this share of the language's dev negatives (the goal: no rise in FP rate)
MAX_PATH_FP_RATE = 0.005
#: a veto needs this many dev negatives it would clear
MIN_VETO_NEGATIVES = 5

KINDS = ("rules", "or_model")


@dataclass(frozen=True, slots=True)
class LangPath:
    """How one category is decided for posts of one language.

    ``kind == "rules"``: the rules decide. ``kind == "or_model"``: flagged when the
    rules flag *or* the model's probability reaches ``model_threshold``.
    ``veto_below``: when set, a post whose probability is below it is not flagged
    for the category even if the rules flag it. ``dev`` holds the dev counts the
    decision rests on, ``reason`` says why in words.
    """

    kind: str = "rules"
    model_threshold: float | None = None
    veto_below: float | None = None
    dev: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    veto_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "model_threshold": self.model_threshold, "veto_below": self.veto_below,
                "dev": dict(self.dev), "reason": self.reason, "veto_reason": self.veto_reason}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LangPath:
        if not isinstance(d, Mapping):
            raise QLError(errors.MODEL_INVALID, "a combination entry must be a mapping")
        kind = d.get("kind")
        if kind not in KINDS:
            raise QLError(errors.MODEL_INVALID, f"unknown combination kind {kind!r}", hint=f"one of {', '.join(KINDS)}")
        thr, veto = _prob_or_none(d.get("model_threshold"), "model_threshold"), _prob_or_none(
            d.get("veto_below"), "veto_below")
        if kind == "or_model" and thr is None:
            raise QLError(errors.MODEL_INVALID, "an or_model combination needs a model_threshold")
        dev = d.get("dev", {})
        return cls(kind, thr if kind == "or_model" else None, veto, dict(dev) if isinstance(dev, Mapping) else {},
                   str(d.get("reason", "")), str(d.get("veto_reason", "")))


def _prob_or_none(v: Any, what: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0.0 <= v <= 1.0:
        raise QLError(errors.MODEL_INVALID, f"{what} must be a number in [0, 1] or null, not {v!r}")
    return float(v)


def combination_from_dict(raw: Any, labels: list[str]) -> dict[str, dict[str, LangPath]]:
    """``model.json``'s ``combination`` block: one mapping of language → :class:`LangPath` per label."""
    if not isinstance(raw, Mapping) or set(raw) != set(labels):
        raise QLError(errors.MODEL_INVALID, "combination must give one entry per label")
    out: dict[str, dict[str, LangPath]] = {}
    for code in labels:
        per = raw[code]
        if not isinstance(per, Mapping) or not all(isinstance(k, str) and k for k in per):
            raise QLError(errors.MODEL_INVALID, f"combination[{code}] must map language codes to entries")
        out[code] = {lang: LangPath.from_dict(v) for lang, v in per.items()}
    return out


# --- inference ---------------------------------------------------------------------------


class LazyLang:
    """A post's language (:func:`~qinglang.learn.lang.lang_of`), worked out on first use only.

    Most posts never need it: a category's language matters only when the model's
    probability could open a path or trigger a veto (see :func:`gates`).
    """

    __slots__ = ("_lang", "_post")

    def __init__(self, post: Post) -> None:
        self._post: Post | None = post
        self._lang: str | None = None

    def __call__(self) -> str | None:
        if self._post is not None:
            self._lang, self._post = lang_of(self._post), None
        return self._lang


def gates(combination: Mapping[str, Mapping[str, LangPath]]) -> dict[str, tuple[float | None, float | None]]:
    """Per category: the lowest model threshold of any language's path, the highest veto (None: none).

    A probability between the two cannot change anything in any language, so the
    post's language is not needed for that category.
    """
    out: dict[str, tuple[float | None, float | None]] = {}
    for code, per in combination.items():
        thr = [p.model_threshold for p in per.values() if p.kind == "or_model" and p.model_threshold is not None]
        veto = [p.veto_below for p in per.values() if p.veto_below is not None]
        out[code] = (min(thr) if thr else None, max(veto) if veto else None)
    return out


def decide(model: Any, code: str, lang: str | LazyLang | None, rule_score: float, prob: float,
           override: float | None = None) -> tuple[float, float] | None:
    """What the engine does with one category of one post in combined mode.

    ``None``: the rules decide (the model's probability is shown as evidence when
    they flag). Otherwise ``(score, threshold)``: the model decided, and the category
    is flagged when ``score`` reaches ``threshold`` (a veto returns a score below it).
    ``lang`` is the post's language or a :class:`LazyLang`. ``override`` replaces the
    model path's threshold (the engine's per-category threshold hook). A model
    without a ``combination`` (format 1 artifacts, stubs) uses its per-category
    ``combine_params`` for every language, as before.
    """
    combination = getattr(model, "combination", None)
    if combination is None:
        if model.combine_params[code].kind == "rules":
            return None
        score = model.combine(code, rule_score, prob)
        return score, (override if override is not None else model.combined_thresholds[code])
    gate = getattr(model, "combination_gates", None)
    lowest, veto_max = (gate if gate is not None else gates(combination)).get(code, (None, None))
    may_flag = lowest is not None and prob >= (override if override is not None else lowest)
    if not may_flag and (veto_max is None or prob >= veto_max):
        return None
    if isinstance(lang, LazyLang):
        lang = lang()
    path = combination.get(code, {}).get(lang) if lang else None
    if path is None:
        return None
    if path.kind == "or_model":
        threshold = override if override is not None else path.model_threshold
        if prob >= threshold:
            return max(rule_score, prob), threshold
    if path.veto_below is not None and prob < path.veto_below:
        return prob, path.veto_below
    return None


def apply_paths(paths: Mapping[str, LangPath], langs: np.ndarray, rule_flag: np.ndarray,
                prob: np.ndarray) -> np.ndarray:
    """:func:`decide` for a batch of one category: which rows end up flagged (training's view of it)."""
    flag = rule_flag.astype(bool).copy()
    for lang, path in paths.items():
        m = langs == lang
        if path.kind == "or_model" and path.model_threshold is not None:
            flag[m] |= prob[m] >= path.model_threshold
        if path.veto_below is not None:
            flag[m] &= ~(prob[m] < path.veto_below)
    return flag


# --- fitting on dev ----------------------------------------------------------------------------


def path_threshold(scores: np.ndarray, y: np.ndarray, target: float, max_fp: int) -> tuple[float, int, int] | None:
    """The model threshold with the most true positives whose flags reach ``target`` precision with ≤ ``max_fp`` FPs.

    ``(threshold, tp, fp)`` on ``(scores, y)``, or None when no cut adds a true
    positive under those limits. The threshold sits halfway to the next lower score.
    """
    if not len(y):
        return None
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order].astype(np.float64), y[order].astype(np.int64)
    tp = np.cumsum(t)
    fp = np.cumsum(1 - t)
    cut = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    ok = (tp[cut] >= 1) & (fp[cut] <= max_fp) & (tp[cut] >= target * (tp[cut] + fp[cut]) - 1e-9)
    if not ok.any():
        return None
    cand = np.flatnonzero(ok)
    i = cut[cand[np.argmax(tp[cut][cand])]]
    hi = s[i]
    lo = s[i + 1] if i + 1 < len(s) else max(hi - 0.01, 0.0)
    return float(np.float32((hi + lo) / 2.0)), int(tp[i]), int(fp[i])


def _pr(flag: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    tp = int((flag & (y == 1)).sum())
    n_flag, n_pos = int(flag.sum()), int(y.sum())
    return (tp / n_flag if n_flag else 1.0), (tp / n_pos if n_pos else 0.0)


def fit_veto(y: np.ndarray, flag: np.ndarray, rule_flag: np.ndarray, prob: np.ndarray,
             ceiling: float | None, min_negatives: int) -> tuple[float | None, str, dict[str, int]]:
    """A probability below which rule hits are dropped, if dev shows it helps; else None and why.

    Candidates drop the rule-flagged rows with the lowest probabilities. One is taken
    only if it clears at least ``min_negatives`` negatives and its precision gain (in
    points) exceeds its recall loss; of those, the one with the largest difference.
    ``ceiling`` (the model path's threshold) bounds it, so one probability never
    both flags and vetoes.
    """
    rf = rule_flag.astype(bool)
    idx = np.flatnonzero(rf)
    none: dict[str, int] = {"vetoed_tp": 0, "vetoed_fp": 0}
    if int((y[idx] == 0).sum()) < min_negatives:
        return None, f"no veto: the rules flag {int((y[idx] == 0).sum())} dev negatives (< {min_negatives})", none
    order = idx[np.argsort(prob[idx], kind="stable")]
    p_sorted = prob[order].astype(np.float64)
    base_p, base_r = _pr(flag, y)
    best: tuple[float, float, int, int] | None = None  # (gain - loss, threshold, tp, fp)
    for k in np.flatnonzero(np.r_[p_sorted[1:] != p_sorted[:-1], True]):
        v = float(np.float32((p_sorted[k] + (p_sorted[k + 1] if k + 1 < len(p_sorted) else 1.0)) / 2.0))
        if ceiling is not None and v > ceiling:
            break
        dropped = order[: k + 1]
        fp_removed = int((y[dropped] == 0).sum())
        if fp_removed < min_negatives:
            continue
        new = flag.copy()
        new[dropped] = False
        p, r = _pr(new, y)
        margin = (p - base_p) - (base_r - r)
        if margin > 1e-12 and (best is None or margin > best[0] + 1e-12):
            best = (margin, v, int((y[dropped] == 1).sum()), fp_removed)
    if best is None:
        return None, ("no veto: on dev no probability cut under the rule hits raises precision by more than it "
                      "costs recall"), none
    margin, v, tp, fp = best
    return v, (f"veto below {v:.4f}: on dev it clears {fp} false and {tp} true rule hits "
               f"(precision gain − recall loss {100 * margin:+.1f} points)"), {"vetoed_tp": tp, "vetoed_fp": fp}


def fit_lang(y: np.ndarray, rule_flag: np.ndarray, prob: np.ndarray, *, target_precision: float,
             max_fp_rate: float = MAX_PATH_FP_RATE, min_positives: int = MIN_DEV_POSITIVES,
             min_negatives: int = MIN_DEV_NEGATIVES, min_missed: int = MIN_RULES_MISSED,
             min_veto: int = MIN_VETO_NEGATIVES, allow_veto: bool = False) -> LangPath:
    """The :class:`LangPath` for one category and one language, from that language's dev rows."""
    y = y.astype(np.int64)
    rf = rule_flag.astype(bool)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    missed = ~rf & (y == 1)
    dev: dict[str, Any] = {"positives": pos, "negatives": neg, "rules_tp": int((rf & (y == 1)).sum()),
                           "rules_fp": int((rf & (y == 0)).sum()), "rules_missed": int(missed.sum()),
                           "added_tp": 0, "added_fp": 0, "vetoed_tp": 0, "vetoed_fp": 0}
    if pos < min_positives or neg < min_negatives:
        return LangPath("rules", dev=dev, reason=(
            f"rules decide: {pos} dev positives and {neg} dev negatives in this language "
            f"(a model path needs {min_positives} and {min_negatives})"), veto_reason="no veto: too few dev rows")
    kind, thr, reason = "rules", None, ""
    max_fp = math.floor(max_fp_rate * neg + 1e-9)
    if int(missed.sum()) < min_missed:
        reason = (f"rules decide: the rules miss {int(missed.sum())} of {pos} dev positives "
                  f"(< {min_missed}), too few to measure what the model adds")
    else:
        found = path_threshold(prob[~rf], y[~rf], target_precision, max_fp)
        if found is None:
            reason = (f"rules decide: no model threshold adds a dev positive at precision ≥ {target_precision} "
                      f"with ≤ {max_fp} of {neg} dev negatives flagged")
        else:
            thr, tp, fp = found
            kind = "or_model"
            dev["added_tp"], dev["added_fp"] = tp, fp
            reason = (f"rules or model ≥ {thr:.4f}: the model adds {tp} of the {int(missed.sum())} dev positives "
                      f"the rules miss, with {fp} of {neg} dev negatives")
    flag = rf | ((prob >= thr) if thr is not None else np.zeros_like(rf))
    veto, veto_reason, counts = fit_veto(y, flag, rf, prob, thr, min_veto)
    if veto is not None and not allow_veto:
        veto_reason = f"no veto: vetoes are off for this model (allow_veto); dev alone supports one ({veto_reason})"
        veto, counts = None, {"vetoed_tp": 0, "vetoed_fp": 0}
    dev.update(counts)
    return LangPath(kind, thr, veto, dev, reason, veto_reason)


def fit_category(y: np.ndarray, rule_flag: np.ndarray, prob: np.ndarray, langs: np.ndarray,
                 **kw: Any) -> dict[str, LangPath]:
    """One :class:`LangPath` per language present in the dev rows (rows of unknown language are left out)."""
    out: dict[str, LangPath] = {}
    for lang in sorted({str(x) for x in langs if x}):
        m = langs == lang
        out[lang] = fit_lang(y[m], rule_flag[m], prob[m], **kw)
    return out


def cross_fitted(y: np.ndarray, rule_flag: np.ndarray, prob: np.ndarray, langs: np.ndarray, seed: int,
                 **kw: Any) -> dict[str, Any]:
    """Honest figures for "fit the paths on dev": 2-fold, each half decided by paths fitted on the other half."""
    n = len(y)
    rng = np.random.default_rng(seed)
    halves = np.zeros(n, dtype=np.int64)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        halves[idx[rng.permutation(len(idx))][1::2]] = 1
    tp = fp = fn = 0
    for h in (0, 1):
        fit, ev = halves != h, halves == h
        paths = fit_category(y[fit], rule_flag[fit], prob[fit], langs[fit], **kw)
        flag = apply_paths(paths, langs[ev], rule_flag[ev], prob[ev])
        yy = y[ev] == 1
        tp, fp, fn = tp + int((flag & yy).sum()), fp + int((flag & ~yy).sum()), fn + int((~flag & yy).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}
