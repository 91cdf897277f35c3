"""Hashed character n-gram features, computed for a whole batch in numpy.

Why this and not scikit-learn's ``HashingVectorizer``: the classifier runs inside
the scan at tens of thousands of posts per second, and sklearn builds every n-gram
as a Python string before hashing it (about 300 strings for a 100-character
post), which alone costs more than the whole budget. Here a batch is encoded once
into one array of code points and every n-gram of every post is hashed with a few
vectorised integer operations, so the cost per post is a few microseconds and
independent of the Python interpreter's speed.

The same function builds the training matrix and the inference matrix, so what
the model learned and what it sees can never drift apart. The hash is our own
(polynomial over code points + the murmur3 64-bit finaliser), fixed and documented
here, so an artifact's weights mean the same on every platform and numpy version.

Feature values: each n-gram occurrence contributes its bucket's IDF weight (1.0
everywhere when ``weighting == "count"``), and a post's vector is divided by the
square root of the sum of its occurrences' squared weights. For posts where every
n-gram occurs once this is exactly the L2-normalised TF-IDF vector; repeated
n-grams are counted linearly in the numerator and the norm, which keeps the
computation free of a per-post de-duplication sort.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from qinglang import errors
from qinglang.errors import QLError

Weighting = Literal["tfidf", "count"]

_P = np.uint64(0x100000001B3)  # FNV-64 prime: the polynomial's base
_M1 = np.uint64(0xFF51AFD7ED558CCD)  # murmur3 fmix64 constants
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
#: per-length salt (multiples of the golden ratio, mod 2^64): keeps "ab" and "ab " apart
_SALTS = tuple(np.uint64((0x9E3779B97F4A7C15 * n) & 0xFFFFFFFFFFFFFFFF) for n in range(9))
_S33 = np.uint64(33)

#: code points treated as a plain space: line breaks between joined fields, tabs
_SPACE_LIKE = (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x3000, 0xA0)
#: placeholders and masks: "XX银行" / "某某证券" in written examples, "xxx" where a corpus hid a name or number
_PLACEHOLDER = re.compile(r"(?<![a-z])x{2,}(?![a-z])|某某", re.IGNORECASE)


def mask_placeholders(text: str) -> str:
    """``text`` with placeholder runs (``xx``, ``XXX``, ``某某``) turned into spaces of the same length.

    Why: the project's written examples use "XX银行", "某某证券" for names, and they
    occur far more in some categories' positives than in negatives (in the Chinese
    examples, "XX" in 40% of ``impersonation`` positives, 7% of negatives); public
    corpora mask names and numbers as "xxx". A model that learns the placeholder
    flags every masked message. Same length, so n-gram positions stay valid.
    """
    if "xx" not in text and "XX" not in text and "某某" not in text and "xX" not in text and "Xx" not in text:
        return text
    return _PLACEHOLDER.sub(lambda m: " " * len(m.group()), text)


@dataclass(frozen=True, slots=True)
class FeatureParams:
    """Everything that defines the feature space; stored in ``model.json``.

    ``fold_digits`` maps every ASCII digit to ``0`` before hashing, so that the
    shape of a number (six digits: a stock code; eleven: a phone) is learned rather
    than the particular numbers seen in training. ``mask_placeholders`` blanks
    placeholder runs first (:func:`mask_placeholders`); off in artifacts that predate it.
    """

    ngram_min: int = 1
    ngram_max: int = 3
    buckets_log2: int = 18
    weighting: Weighting = "tfidf"
    fold_digits: bool = True
    mask_placeholders: bool = False

    @property
    def n_buckets(self) -> int:
        return 1 << self.buckets_log2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureParams:
        """Rebuild from ``model.json``, refusing values that would make nonsense features."""
        try:
            p = cls(
                ngram_min=int(d["ngram_min"]),
                ngram_max=int(d["ngram_max"]),
                buckets_log2=int(d["buckets_log2"]),
                weighting=str(d["weighting"]),  # type: ignore[arg-type]
                fold_digits=bool(d["fold_digits"]),
                mask_placeholders=bool(d.get("mask_placeholders", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise QLError(errors.MODEL_INVALID, f"bad feature parameters: {exc}") from None
        p.validate()
        return p

    def validate(self) -> None:
        if not (1 <= self.ngram_min <= self.ngram_max <= 8):
            raise QLError(errors.MODEL_INVALID, f"bad n-gram range {self.ngram_min}-{self.ngram_max}")
        if not (8 <= self.buckets_log2 <= 24):
            raise QLError(errors.MODEL_INVALID, f"bad bucket count 2^{self.buckets_log2}")
        if self.weighting not in ("tfidf", "count"):
            raise QLError(errors.MODEL_INVALID, f"unknown weighting {self.weighting!r}")


def _codepoints(texts: list[str], fold_digits: bool, mask: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """All texts as one uint64 code-point array, plus each text's length."""
    if mask:
        texts = [mask_placeholders(t) for t in texts]
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    raw = "".join(texts).encode("utf-32-le", "surrogatepass")
    cp = np.frombuffer(raw, dtype="<u4").astype(np.uint64)
    for c in _SPACE_LIKE:
        cp[cp == c] = 32
    if fold_digits:
        cp[(cp >= 48) & (cp <= 57)] = 48
    return cp, lengths


def _fmix(x: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser: spreads the polynomial's bits over the top bits we keep."""
    x ^= x >> _S33
    x *= _M1
    x ^= x >> _S33
    x *= _M2
    x ^= x >> _S33
    return x


@dataclass(slots=True)
class NgramBatch:
    """The hashed n-grams of a batch, in post order (CSR layout without values).

    ``buckets[indptr[i]:indptr[i+1]]`` are post ``i``'s n-gram buckets; ``starts``
    and ``sizes`` give each one's position and length in that post's text (only
    filled when asked for, for explanations).
    """

    buckets: np.ndarray  # int64
    indptr: np.ndarray  # int64, len n_posts + 1
    starts: np.ndarray | None = None
    sizes: np.ndarray | None = None


def hash_ngrams(texts: list[str], params: FeatureParams, *, positions: bool = False) -> NgramBatch:
    """Hash every n-gram of every text into ``params.n_buckets`` buckets.

    N-grams never cross from one text into the next. Within a post the order is by
    start position, then by length.
    """
    n_docs = len(texts)
    cp, lengths = _codepoints(texts, params.fold_digits, params.mask_placeholders)
    total = int(cp.shape[0])
    ends = np.cumsum(lengths)
    width = params.ngram_max - params.ngram_min + 1
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return NgramBatch(empty, np.zeros(n_docs + 1, dtype=np.int64), empty if positions else None,
                          empty if positions else None)
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    room = ends[doc] - np.arange(total, dtype=np.int64)  # characters left in this post from here
    shift = np.uint64(64 - params.buckets_log2)
    hashes = np.empty((total, width), dtype=np.uint64)
    valid = np.empty((total, width), dtype=bool)
    acc = cp.copy()
    for n in range(1, params.ngram_max + 1):
        if n > 1:
            nxt = np.zeros(total, dtype=np.uint64)
            nxt[: total - n + 1] = cp[n - 1 :]
            acc = acc * _P + nxt
        if n >= params.ngram_min:
            j = n - params.ngram_min
            hashes[:, j] = _fmix(acc ^ _SALTS[n]) >> shift
            valid[:, j] = room >= n
    flat_valid = valid.ravel()
    buckets = hashes.ravel()[flat_valid].astype(np.int64)
    doc_of = np.repeat(doc, width)[flat_valid]
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc_of, minlength=n_docs), out=indptr[1:])
    if not positions:
        return NgramBatch(buckets, indptr)
    doc_start = ends - lengths
    pos = np.arange(total, dtype=np.int64) - doc_start[doc]
    starts = np.repeat(pos, width)[flat_valid]
    sizes = np.tile(np.arange(params.ngram_min, params.ngram_max + 1, dtype=np.int64), total)[flat_valid]
    return NgramBatch(buckets, indptr, starts, sizes)


def featurize(texts: list[str], params: FeatureParams, idf: np.ndarray | None) -> sp.csr_matrix:
    """The batch's feature matrix (n_texts × n_buckets), possibly with duplicate entries.

    ``idf`` is the per-bucket weight vector (``None`` or all ones for ``count``).
    Duplicates (an n-gram occurring twice, or two n-grams sharing a bucket) are
    summed by any sparse product; call ``sum_duplicates`` before handing the matrix
    to code that assumes canonical form.
    """
    batch = hash_ngrams(texts, params)
    values = _values(batch, idf)
    return sp.csr_matrix(
        (values, batch.buckets, batch.indptr), shape=(len(texts), params.n_buckets), copy=False
    )


def _values(batch: NgramBatch, idf: np.ndarray | None) -> np.ndarray:
    """Each occurrence's weight, divided by its post's norm (see the module docstring)."""
    n_docs = batch.indptr.shape[0] - 1
    counts = np.diff(batch.indptr)
    if idf is None:
        norms = np.sqrt(counts.astype(np.float32))
        norms[norms == 0] = 1.0
        return np.repeat((1.0 / norms).astype(np.float32), counts)
    w = idf[batch.buckets]
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), counts)
    sq = np.bincount(doc_of, weights=(w * w).astype(np.float64), minlength=n_docs)
    sq[sq == 0] = 1.0
    inv = (1.0 / np.sqrt(sq)).astype(np.float32)
    return (w * np.repeat(inv, counts)).astype(np.float32)


def document_frequency(x: sp.csr_matrix) -> np.ndarray:
    """In how many rows each bucket occurs (``x`` may hold duplicates)."""
    y = x.copy()
    y.sum_duplicates()
    return np.bincount(y.indices, minlength=x.shape[1]).astype(np.int64)


def idf_from_df(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Smoothed IDF, as scikit-learn's ``TfidfTransformer(smooth_idf=True)`` computes it."""
    return (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
