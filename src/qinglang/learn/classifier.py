"""The learned detector: a multi-label linear model over hashed character n-grams.

It sits beside the policy-pack rules, not in place of them: rules carry evidence a
reviewer can read and cover categories with no public training data; the model
catches wordings no rule anticipated. The engine feeds it the *normalized* text of
a post (each text field normalized, joined with "\\n") and combines its probability
with the rules' noisy-or score per category through :func:`combine`.

The artifact is a directory with ``model.json`` (metadata, thresholds, model card
fields) and ``weights.npz`` (numpy arrays only, read with ``allow_pickle=False``):
loading a model never executes code from a file, so a model downloaded from a
colleague is as safe to load as a policy pack. ``model.json`` records the SHA-256 of
``weights.npz``; a model whose weights do not match is refused, because a silently
corrupted weight file would still produce plausible-looking probabilities.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from qinglang import errors
from qinglang.errors import QLError
from qinglang.learn.combination import LangPath, combination_from_dict, gates
from qinglang.learn.features import FeatureParams, _values, featurize, hash_ngrams
from qinglang.model import Post
from qinglang.text.normalize import Normalizer, default_normalizer

#: the artifact format this code writes: 2 adds ``combination`` (per category, per language; learn/combination.py)
FORMAT = "qinglang-textclf/2"
#: format 1 (one ``combine`` entry per category, for every language) still loads and is applied as before
FORMAT_V1 = "qinglang-textclf/1"
FORMATS = (FORMAT_V1, FORMAT)
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"
CARD_FILE = "MODEL_CARD.md"

#: posts featurized at once inside predict_proba: bounds memory on large batches
_CHUNK = 4096
#: probabilities are clipped to [EPS, 1-EPS] before taking logits
EPS = 1e-6
#: a fixed date for the entries of weights.npz, so equal weights give equal bytes
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_REQUIRED_ARRAYS = ("w_bucket", "w_label", "w_value", "bias", "idf")

#: A text exercising the normalizer's passes; its normalized form's hash is stored in
#: the artifact, so a model trained under a different normalizer can be noticed.
NORMALIZER_PROBE = "加薇❤信 ＡＢＣ１２３ 內幕消息 ①②③ jia wei xin 6 0 0 5 1 9 Send\u200b1 ETH 穩賺不賠"


def model_text(post: Post, normalizer: Normalizer | None = None) -> str:
    """The text the model reads for a post: each text field normalized, joined with "\\n".

    The engine and training both call this, so the model is trained on exactly
    what it is later shown.
    """
    norm = (normalizer or default_normalizer()).normalize
    return "\n".join(norm(value).text for _, value in post.fields())


def normalizer_fingerprint() -> str:
    """SHA-256 (16 hex digits) of the current default normalizer's output on a probe."""
    text = default_normalizer().normalize(NORMALIZER_PROBE).text
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --- combining the rules' score with the model's probability ----------------------------


@dataclass(frozen=True, slots=True)
class CombineParams:
    """How one category's rule score and model probability become one score (format-1 artifacts).

    Training now writes per-language :class:`~qinglang.learn.combination.LangPath`
    entries instead; this is what artifacts of format 1 carry, one per category for
    every language, and what they are still applied with.

    ``kind == "logistic"``: ``sigmoid(w_rule * rule + w_model * logit(p) + bias)``,
    fitted on the dev split. ``kind == "rules"``: the rule score alone; what training
    writes when a category's combination cannot be fitted and validated on dev (too
    few positives, silent rules): an unvalidated model must not flag on its own, so
    there it only adds evidence. ``kind == "noisy_or"``: ``1 - (1 - rule)(1 - p)``,
    kept for artifacts that ask for it.
    """

    kind: str = "noisy_or"
    w_rule: float = 0.0
    w_model: float = 0.0
    bias: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        if self.kind in ("noisy_or", "rules"):
            return {"kind": self.kind}
        return {"kind": self.kind, "w_rule": self.w_rule, "w_model": self.w_model, "bias": self.bias}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CombineParams:
        kind = d.get("kind")
        if kind == "noisy_or":
            return cls()
        if kind == "rules":
            return cls("rules")
        if kind != "logistic":
            raise QLError(errors.MODEL_INVALID, f"unknown combination kind {kind!r}")
        try:
            p = cls("logistic", float(d["w_rule"]), float(d["w_model"]), float(d["bias"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise QLError(errors.MODEL_INVALID, f"bad combination parameters: {exc}") from None
        if not all(math.isfinite(v) for v in (p.w_rule, p.w_model, p.bias)):
            raise QLError(errors.MODEL_INVALID, "combination parameters are not finite")
        return p


def _logit(p: float) -> float:
    p = min(max(p, EPS), 1.0 - EPS)
    return math.log(p / (1.0 - p))


def combine(rule_score: float, model_prob: float, params: CombineParams | Mapping[str, Any]) -> float:
    """One calibrated score for a category from the rules' noisy-or score and the model.

    A plain noisy-or would double-count: the model has learned the same phrases
    the rules fire on. The fitted logistic form learns how much each source adds
    given the other, so its output is a probability on the dev data.
    """
    p = params if isinstance(params, CombineParams) else CombineParams.from_dict(params)
    if p.kind == "rules":
        return rule_score
    if p.kind == "noisy_or":
        return 1.0 - (1.0 - rule_score) * (1.0 - model_prob)
    z = p.w_rule * rule_score + p.w_model * _logit(model_prob) + p.bias
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def combine_matrix(
    rule_scores: np.ndarray, model_probs: np.ndarray, params: list[CombineParams]
) -> np.ndarray:
    """:func:`combine` for a batch: ``(n, L)`` rule scores and probabilities, one param per column."""
    rule_scores = np.asarray(rule_scores, dtype=np.float64)
    model_probs = np.asarray(model_probs, dtype=np.float64)
    out = np.empty_like(model_probs)
    pc = np.clip(model_probs, EPS, 1.0 - EPS)
    lg = np.log(pc / (1.0 - pc))
    for j, p in enumerate(params):
        if p.kind == "rules":
            out[:, j] = rule_scores[:, j]
        elif p.kind == "noisy_or":
            out[:, j] = 1.0 - (1.0 - rule_scores[:, j]) * (1.0 - model_probs[:, j])
        else:
            z = p.w_rule * rule_scores[:, j] + p.w_model * lg[:, j] + p.bias
            out[:, j] = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free sigmoid
    return out


# --- the classifier --------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return (0.5 * (1.0 + np.tanh(0.5 * z))).astype(np.float32)


def _invalid(path: Path, message: str) -> QLError:
    return QLError(errors.MODEL_INVALID, f"model at {path}: {message}", file=str(path))


class TextClassifier:
    """Multi-label probabilities for normalized post text.

    ``weights`` is dense ``(n_buckets, n_labels)`` float32 in memory (the artifact
    stores only its non-zero entries, in float16), so a prediction is one sparse ×
    dense product. ``thresholds`` are per label, chosen on the dev split for the
    training run's target precision. ``combination`` (format 2) says per category
    and language how rules and model decide together (``learn/combination.py``);
    a format-1 model has ``combination`` None and one ``combine_params`` entry
    with its ``combined_thresholds`` per category for every language.
    """

    name: str
    version: str
    labels: list[str]
    thresholds: dict[str, float]
    meta: dict[str, Any]

    def __init__(
        self,
        *,
        name: str,
        version: str,
        labels: list[str],
        params: FeatureParams,
        weights: np.ndarray,
        bias: np.ndarray,
        idf: np.ndarray | None,
        thresholds: dict[str, float] | None = None,
        combine_params: dict[str, CombineParams] | None = None,
        combined_thresholds: dict[str, float] | None = None,
        combination: dict[str, dict[str, LangPath]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if weights.shape != (params.n_buckets, len(labels)) or bias.shape != (len(labels),):
            raise QLError(errors.MODEL_INVALID, "weights do not match the feature space and labels")
        self.name = name
        self.version = version
        self.labels = list(labels)
        self.params = params
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.idf = None if idf is None else np.asarray(idf, dtype=np.float32)
        self.thresholds = dict(thresholds or {c: 0.5 for c in self.labels})
        self.combine_params = dict(combine_params or {c: CombineParams() for c in self.labels})
        self.combined_thresholds = dict(combined_thresholds or self.thresholds)
        self.combination = combination
        self.meta = dict(meta or {})
        self._index = {c: i for i, c in enumerate(self.labels)}

    @property
    def combination(self) -> dict[str, dict[str, LangPath]] | None:
        """Per category and language, how rules and model decide together (None: a format-1 model)."""
        return self._combination

    @combination.setter
    def combination(self, value: dict[str, dict[str, LangPath]] | None) -> None:
        self._combination = value
        #: per category, the probabilities outside which the post's language matters (combination.gates)
        self.combination_gates = gates(value) if value is not None else None

    # --- inference ----------------------------------------------------------------

    def decision_function(self, texts: list[str]) -> np.ndarray:
        """Logits ``(n, n_labels)``: what the probabilities are the sigmoid of."""
        n = len(texts)
        out = np.empty((n, len(self.labels)), dtype=np.float32)
        for lo in range(0, n, _CHUNK):
            chunk = texts[lo : lo + _CHUNK]
            x = featurize(chunk, self.params, self.idf)
            out[lo : lo + len(chunk)] = x @ self.weights
        out += self.bias
        return out

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities ``(len(texts), len(labels))``, columns in ``labels`` order."""
        return _sigmoid(self.decision_function(texts))

    def predict(self, texts: list[str]) -> list[list[str]]:
        """The labels whose probability reaches their threshold, per text."""
        probs = self.predict_proba(texts)
        thr = np.array([self.thresholds[c] for c in self.labels], dtype=np.float32)
        hits = probs >= thr
        return [[self.labels[j] for j in np.flatnonzero(row)] for row in hits]

    def top_features(self, text: str, label: str, k: int = 5, min_chars: int = 2) -> list[tuple[str, float]]:
        """The n-grams of ``text`` that pushed most toward ``label``, with their logit contribution.

        Only n-grams of at least ``min_chars`` non-space characters with a positive
        contribution are returned (at most ``k``), most first; contributions are in
        logit units, so they add up with the bias to the label's logit. The n-grams are substrings of ``text``.
        """
        j = self._index.get(label)
        if j is None:
            raise QLError(errors.BAD_OPTION, f"unknown label '{label}'", hint=f"one of {', '.join(self.labels)}")
        batch = hash_ngrams([text], self.params, positions=True)
        if not len(batch.buckets):
            return []
        assert batch.starts is not None and batch.sizes is not None
        contrib = _values(batch, self.idf) * self.weights[batch.buckets, j]
        # one entry per bucket (an n-gram repeated in the post sums its occurrences),
        # strings built only for the few that are returned: this runs per flagged
        # category on the scan's hot path
        uniq, first, inverse = np.unique(batch.buckets, return_index=True, return_inverse=True)
        total = np.bincount(inverse, weights=contrib, minlength=len(uniq))
        order = np.argsort(-total, kind="stable")
        out: list[tuple[str, float]] = []
        for u in order[: 4 * k]:
            if total[u] <= 0.0:
                break
            i = first[u]
            gram = text[batch.starts[i] : batch.starts[i] + batch.sizes[i]]
            if len(gram.strip()) >= min_chars:  # a lone character or a space explains little
                out.append((gram, float(total[u])))
        out.sort(key=lambda s: (-s[1], s[0]))
        return out[:k]

    def combine(self, label: str, rule_score: float, model_prob: float) -> float:
        """:func:`combine` with this model's fitted parameters for ``label``."""
        return combine(rule_score, model_prob, self.combine_params[label])

    def normalizer_matches(self) -> bool:
        """Whether the current normalizer turns text into what this model was trained on."""
        return self.meta.get("normalizer", {}).get("fingerprint") == normalizer_fingerprint()

    # --- artifact -----------------------------------------------------------------

    def _arrays(self) -> dict[str, np.ndarray]:
        w16 = self.weights.astype(np.float16)
        bucket, label = np.nonzero(w16)
        arrays = {
            "w_bucket": bucket.astype(np.int32),
            "w_label": label.astype(np.uint8),
            "w_value": w16[bucket, label],
            "bias": self.bias.astype(np.float32),
            "idf": (self.idf if self.idf is not None else np.zeros(0, dtype=np.float32)).astype(np.float16),
        }
        return arrays

    def save(self, path: str | Path) -> None:
        """Write ``model.json`` and ``weights.npz`` into directory ``path`` (created if needed).

        Weights go out as float16 (what :meth:`load` gives back is exactly what
        training measured, since training evaluates the quantized model). The
        npz is written with fixed zip timestamps: equal weights give equal bytes.
        """
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        blob = _npz_bytes(self._arrays())
        (out / WEIGHTS_FILE).write_bytes(blob)
        doc = {k: v for k, v in self.meta.items() if k not in ("combine", "combined_thresholds", "combination")}
        doc.update(
            {
                "format": FORMAT if self.combination is not None else FORMAT_V1,
                "name": self.name,
                "version": self.version,
                "labels": self.labels,
                "features": self.params.to_dict(),
                "thresholds": {c: float(self.thresholds[c]) for c in self.labels},
                "weights_file": {"name": WEIGHTS_FILE, "sha256": hashlib.sha256(blob).hexdigest(),
                                 "bytes": len(blob)},
            }
        )
        if self.combination is not None:
            doc["combination"] = {c: {lang: path.to_dict() for lang, path in sorted(self.combination[c].items())}
                                  for c in self.labels}
        else:
            doc["combine"] = {c: self.combine_params[c].to_dict() for c in self.labels}
            doc["combined_thresholds"] = {c: float(self.combined_thresholds[c]) for c in self.labels}
        (out / MODEL_FILE).write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", "utf-8")
        self.meta = doc

    @classmethod
    def load(cls, path: str | Path) -> TextClassifier:
        """Load an artifact directory (or its ``model.json``).

        Raises QL-3002 when there is no model at ``path`` and QL-3003 when there is
        one but it cannot be trusted: unreadable JSON, missing fields, weights whose
        checksum, shapes or values do not match the metadata.
        """
        p = Path(path)
        if p.is_file() and p.name == MODEL_FILE:
            p = p.parent
        if not p.is_dir():
            raise QLError(errors.MODEL_NOT_FOUND, f"no model at {p}", file=str(p))
        mfile = p / MODEL_FILE
        if not mfile.is_file():
            raise QLError(errors.MODEL_NOT_FOUND, f"no {MODEL_FILE} in {p}", file=str(p))
        try:
            doc = json.loads(mfile.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _invalid(p, f"{MODEL_FILE} is not readable JSON: {exc}") from None
        found = doc.get("format") if isinstance(doc, dict) else None
        if found not in FORMATS:
            raise _invalid(p, f"not a {FORMAT} artifact (format {found!r}; this version of qinglang reads "
                              f"{' and '.join(FORMATS)})")
        try:
            name, version = str(doc["name"]), str(doc["version"])
            labels = doc["labels"]
            if not isinstance(labels, list) or not labels or not all(isinstance(c, str) for c in labels):
                raise _invalid(p, "labels must be a non-empty list of codes")
            if len(set(labels)) != len(labels) or len(labels) > 255:
                raise _invalid(p, "labels must be distinct (at most 255)")
            params = FeatureParams.from_dict(doc["features"])
            thresholds = _label_floats(p, doc["thresholds"], labels, "thresholds")
            combination = None
            if found == FORMAT:
                combination = combination_from_dict(doc.get("combination"), labels)
                combined, combine_params = dict(thresholds), {c: CombineParams("rules") for c in labels}
            else:
                combined = _label_floats(p, doc.get("combined_thresholds", thresholds), labels,
                                         "combined_thresholds")
                comb_raw = doc.get("combine") or {}
                if not isinstance(comb_raw, dict):
                    raise _invalid(p, "combine must be a mapping")
                combine_params = {c: CombineParams.from_dict(comb_raw.get(c, {"kind": "noisy_or"})) for c in labels}
            wf = doc["weights_file"]
            expected_sha = str(wf["sha256"])
        except QLError as exc:
            if exc.context.get("file"):
                raise
            raise _invalid(p, exc.message) from None
        except (KeyError, TypeError, AttributeError) as exc:
            raise _invalid(p, f"{MODEL_FILE} lacks or mistypes a field: {exc}") from None
        wpath = p / WEIGHTS_FILE
        if not wpath.is_file():
            raise _invalid(p, f"{WEIGHTS_FILE} is missing")
        blob = wpath.read_bytes()
        if hashlib.sha256(blob).hexdigest() != expected_sha:
            raise _invalid(p, f"{WEIGHTS_FILE} does not match the checksum in {MODEL_FILE} (corrupted or replaced)")
        weights, bias, idf = _read_arrays(p, blob, params, len(labels))
        return cls(
            name=name,
            version=version,
            labels=labels,
            params=params,
            weights=weights,
            bias=bias,
            idf=idf,
            thresholds=thresholds,
            combine_params=combine_params,
            combined_thresholds=combined,
            combination=combination,
            meta=doc,
        )


def _label_floats(p: Path, raw: Any, labels: list[str], what: str) -> dict[str, float]:
    if not isinstance(raw, dict) or set(raw) != set(labels):
        raise _invalid(p, f"{what} must give one value per label")
    out = {}
    for c in labels:
        v = raw[c]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0.0 <= float(v) <= 1.0):
            raise _invalid(p, f"{what}[{c}] must be a number in [0, 1]")
        out[c] = float(v)
    return out


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` (zip of ``.npy``) with fixed timestamps and sorted entries: reproducible bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            a = io.BytesIO()
            np.lib.format.write_array(a, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, a.getvalue(), compresslevel=9)
    return buf.getvalue()


def _read_arrays(
    p: Path, blob: bytes, params: FeatureParams, n_labels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Decode and check ``weights.npz``; every inconsistency is QL-3003, never an IndexError later."""
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            arrays = {k: z[k] for k in _REQUIRED_ARRAYS}
    except KeyError as exc:
        raise _invalid(p, f"{WEIGHTS_FILE} lacks array {exc}") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise _invalid(p, f"{WEIGHTS_FILE} is not a readable numpy archive: {exc}") from None
    nb = params.n_buckets
    bucket, label, value = arrays["w_bucket"], arrays["w_label"], arrays["w_value"]
    bias, idf = arrays["bias"], arrays["idf"]
    if not (bucket.ndim == label.ndim == value.ndim == 1 and bucket.shape == label.shape == value.shape):
        raise _invalid(p, "weight arrays have mismatched shapes")
    if bucket.dtype.kind not in "iu" or label.dtype.kind not in "iu" or value.dtype.kind != "f":
        raise _invalid(p, "weight arrays have the wrong types")
    if bucket.size and (int(bucket.min()) < 0 or int(bucket.max()) >= nb):
        raise _invalid(p, "weight bucket index out of range")
    if label.size and int(label.max()) >= n_labels:
        raise _invalid(p, "weight label index out of range")
    if bias.shape != (n_labels,) or bias.dtype.kind != "f":
        raise _invalid(p, "bias does not match the labels")
    if idf.dtype.kind != "f" or idf.shape not in ((0,), (nb,)):
        raise _invalid(p, "idf does not match the feature space")
    if (params.weighting == "tfidf") != (idf.shape == (nb,)):
        raise _invalid(p, "idf presence does not match the weighting")
    if not (np.isfinite(value).all() and np.isfinite(bias).all() and np.isfinite(idf).all()):
        raise _invalid(p, "weights hold non-finite values")
    weights = np.zeros((nb, n_labels), dtype=np.float32)
    weights[bucket.astype(np.int64), label.astype(np.int64)] = value.astype(np.float32)
    return weights, bias.astype(np.float32), (idf.astype(np.float32) if idf.size else None)


def default_model_path() -> Path:
    """The shipped default artifact, ``qinglang/models/default``."""
    return Path(str(resources.files("qinglang.models").joinpath("default")))


@cache
def default_model() -> TextClassifier:
    """The shipped default model, loaded once per process."""
    return TextClassifier.load(default_model_path())
