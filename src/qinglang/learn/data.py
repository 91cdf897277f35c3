"""Labeled training data: reading files, turning their labels into category codes, splitting.

Two row shapes are accepted. Rows written for this project carry ``labels``, an
exact list of category codes (empty = benign). The shared development corpora
carry the publisher's class mapped heuristically (``target_category`` +
``is_positive``); those go through the evaluation kit's label map, the one place
where that mapping lives, so training and evaluation can never disagree on what a
row means. A mapped positive trains its *primary* code (the first of its "any of"
set, the one a miss is charged to) and says nothing about the other categories:
a crypto-scam post from janitr may well also divert traffic to Telegram, and its
label does not say so either way. Such a row is therefore *partial*: positive for
its primary code, unknown (left out of training and scoring) for every other code.
Treating it as negative for them would teach the model, against the project's own
examples, that "DM me on Telegram" is not traffic diversion. Mapped negatives are
negative for every code. Ambiguous rows (``is_positive: null``) are skipped and
counted, because training on a guess would teach the guess.

Every file is described by a :class:`FileStats` that goes into the model card:
rows read, used and skipped (with reasons), positives per code, a checksum, and a
licence note. The licence note matters: only data whose licence allows it may train
a model the project ships (see ``docs/model.md``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qinglang import errors
from qinglang.errors import QLError
from qinglang.model import Post

#: Licence notes for known files, by file name. ``shippable`` says whether a model
#: trained on the file may ship as the project's default (data/README.md).
KNOWN_SOURCES: dict[str, tuple[str, bool]] = {
    "janitr_x_crypto_en.jsonl": ("MIT (janitrai/janitr); LLM-first labels, human-reviewed", True),
    "telecom_fraud5_zh.jsonl": ("GPL-3.0, academic use (Telecom_Fraud_Texts_5): research only, never ship", False),
    "thucnews_titles_zh.jsonl": ("THUCNews research terms: research only, never ship", False),
    "weibo21_zh_trainval.jsonl": ("Weibo21 (MDFEND) research only: never ship", False),
}
#: project-written example files (``qinglang/examples/labeled_*.jsonl``): the project's own licence
PROJECT_LICENCE = ("written by the project (Apache-2.0)", True)

_TEXT_FIELDS = ("text", "title", "transcript", "ocr", "bio")


@dataclass(slots=True)
class LabeledRow:
    """One usable training row: its raw text fields (normalized later, as the engine does) and codes."""

    id: str
    fields: dict[str, Any]
    labels: tuple[str, ...]
    weight: float = 1.0
    lang: str | None = None
    source: str = ""
    #: False for a mapped positive: only its primary code is known, the others are unknown
    complete: bool = True

    def post(self) -> Post:
        """The row as the engine sees it."""
        return Post(id=self.id, lang=self.lang, **self.fields)


@dataclass(slots=True)
class FileStats:
    """What one labeled file contributed; rendered into the model card."""

    path: str
    name: str
    sha256: str
    rows: int = 0
    used: int = 0
    positives: int = 0
    negatives: int = 0
    #: mapped positives: known for their primary code only
    partial: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    per_code: Counter[str] = field(default_factory=Counter)
    licence: str = "unknown: check before shipping"
    shippable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "sha256": self.sha256,
            "rows": self.rows,
            "used": self.used,
            "positives": self.positives,
            "negatives": self.negatives,
            "partial": self.partial,
            "skipped": dict(sorted(self.skipped.items())),
            "per_code": dict(sorted(self.per_code.items())),
            "licence": self.licence,
            "shippable": self.shippable,
        }


def licence_of(path: Path) -> tuple[str, bool]:
    """The licence note and shippability of a training file, from its name and place."""
    name = path.name
    if name in KNOWN_SOURCES:
        return KNOWN_SOURCES[name]
    parts = path.resolve().parts
    if len(parts) >= 3 and parts[-3:-1] == ("qinglang", "examples") and name.startswith("labeled_"):
        return PROJECT_LICENCE
    return ("unknown: not a file the project knows; check its licence before shipping", False)


# --- reading ---------------------------------------------------------------------------


def iter_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """``(record_no, row)`` for each record; ``None`` for a record that does not parse.

    Reads through the evaluation kit's reader (``qinglang.eval.run.iter_labeled``) so
    a labeled file means the same to training as to evaluation.
    """
    from qinglang.eval.run import iter_labeled

    for n, item in iter_labeled(path):
        yield n, None if isinstance(item, QLError) else item


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_label_map(path: Path | None) -> Any:
    """The evaluation kit's label map (``qinglang.eval.labels``); ``None`` = the shipped one."""
    from qinglang.eval.labels import load_label_map as _load

    return _load(path)


def _row_fields(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The row's text fields (``text``, ``title``, ... and ``links``), or None when it has no text."""
    fields: dict[str, Any] = {k: row[k] for k in _TEXT_FIELDS if isinstance(row.get(k), str) and row[k].strip()}
    links = row.get("links")
    if isinstance(links, list) and links and all(isinstance(u, str) for u in links):
        fields["links"] = links
    if not fields:
        return None
    fields.setdefault("text", "")
    return fields


def row_codes(
    row: Mapping[str, Any], label_map: Any, known: set[str]
) -> tuple[tuple[str, ...] | None, str, bool]:
    """A row's training codes, why it is skipped (codes None), and whether its labels are complete.

    Exact ``labels`` win (complete); else ``is_positive``/``target_category`` through
    the label map: positives train their primary code only (partial), negatives
    train as benign (complete), ambiguous rows are skipped.
    """
    from qinglang.eval.labels import gold_from_row

    try:
        gold = gold_from_row(row, label_map, known_codes=known)
    except QLError as exc:
        return None, f"no usable label ({exc.message})", True
    if gold.kind == "ambiguous":
        return None, "ambiguous (is_positive: null)", True
    if gold.kind == "exact":
        return gold.codes, "", True
    if gold.kind == "negative":
        return (), "", True
    return (gold.codes[0],), "", False


def read_labeled(
    path: Path, *, label_map: Any, known_codes: Iterable[str], display_path: str | None = None
) -> tuple[list[LabeledRow], FileStats]:
    """Every usable row of one labeled file, plus what it contributed (for the model card)."""
    if not path.is_file():
        raise QLError(errors.FILE_NOT_FOUND, f"no labeled file at {path}", file=str(path))
    known = set(known_codes)
    licence, shippable = licence_of(path)
    stats = FileStats(display_path or str(path), path.name, _sha256(path), licence=licence, shippable=shippable)
    rows: list[LabeledRow] = []
    for n, row in iter_rows(path):
        stats.rows += 1
        if row is None:
            stats.skipped["unparseable record"] += 1
            continue
        fields = _row_fields(row)
        if fields is None:
            stats.skipped["no text"] += 1
            continue
        codes, reason, complete = row_codes(row, label_map, known)
        if codes is None:
            stats.skipped[reason] += 1
            continue
        weight = row.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            stats.skipped["bad weight"] += 1
            continue
        rid = row.get("id")
        rid = str(rid) if isinstance(rid, (str, int)) and not isinstance(rid, bool) and str(rid) else f"{path.name}:{n}"
        lang = row.get("lang") if isinstance(row.get("lang"), str) else None
        rows.append(LabeledRow(rid, fields, tuple(codes), float(weight), lang, path.name, complete))
        stats.used += 1
        stats.partial += not complete
        if codes:
            stats.positives += 1
            stats.per_code.update(codes)
        else:
            stats.negatives += 1
    return rows, stats


# --- splitting -------------------------------------------------------------------------


def split_rows(
    norm_texts: list[str], labels: list[tuple[str, ...]], dev_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train/dev split: grouped by identical text, stratified by primary code.

    Rows with the same normalized text always land on the same side (public corpora
    hold duplicates; a duplicate on both sides would grade memorisation). Groups are
    stratified by their first row's primary code (``""`` for benign): each stratum
    sends ``round(dev_fraction × groups)`` of its groups to dev, at least one when
    it has two or more, so rare categories appear on both sides where possible.
    """
    if not 0.0 < dev_fraction < 1.0:
        raise QLError(errors.BAD_OPTION, f"dev_fraction must be between 0 and 1, not {dev_fraction}")
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(norm_texts):
        groups.setdefault(t, []).append(i)
    strata: dict[str, list[str]] = {}
    for key, members in groups.items():
        strata.setdefault(labels[members[0]][0] if labels[members[0]] else "", []).append(key)
    rng = np.random.default_rng(seed)
    dev: list[int] = []
    for stratum in sorted(strata):
        keys = sorted(strata[stratum])  # sorted, so the split does not depend on file order
        order = rng.permutation(len(keys))
        k = round(dev_fraction * len(keys))
        if len(keys) >= 2:
            k = min(max(k, 1), len(keys) - 1)
        else:
            k = 0
        for j in order[:k]:
            dev.extend(groups[keys[j]])
    dev_idx = np.array(sorted(dev), dtype=np.int64)
    mask = np.ones(len(norm_texts), dtype=bool)
    mask[dev_idx] = False
    return np.flatnonzero(mask).astype(np.int64), dev_idx
