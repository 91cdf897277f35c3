"""Gold labels for evaluation: what a labeled row says the engine should find.

Public labeled corpora do not speak our taxonomy. Their publishers' labels were
mapped heuristically onto it (``target_category`` + ``is_positive``), and one
publisher class often corresponds to several of our codes: a "loan / credit-card
agent fraud" script is an unlicensed intermediary, a card cash-out offer or illegal
loan marketing depending on its wording. So such rows carry an *any of* set: a
detection is right if it names any code of the set. Rows written for this project
can instead carry an exact ``labels`` list, which is scored as ordinary
multi-label classification.

The mapping from ``target_category`` to codes is data, not code
(``eval/data/label_map.yaml``), so that a reviewer can argue with it and a user can
override it with ``--label-map`` without touching Python. It is validated against
the taxonomy on load: a typo in a code would otherwise silently turn every row of a
class into a miss.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from qinglang import errors
from qinglang.errors import QLError

#: how a row's gold was derived (see docs/evaluation.md, "Gold labels")
GoldKind = Literal["exact", "any_of", "negative", "ambiguous"]

#: fields a label map's ``group_by`` may name, besides ``meta.<key>``
GROUP_FIELDS: tuple[str, ...] = ("label_source", "target_category", "source", "lang")

_LABEL_MAP_KEYS = {"version", "targets", "group_by"}


@dataclass(frozen=True, slots=True)
class Gold:
    """The gold label of one row.

    ``codes`` is the exact label set for ``exact`` rows, the "any of" set for
    ``any_of`` rows (first code = the primary, which a miss is charged to), the
    codes that *would* count as a hit for ``ambiguous`` rows (reported, never
    scored), and empty for ``negative`` rows.
    """

    kind: GoldKind
    codes: tuple[str, ...]
    group: str
    label_source: str | None = None
    target: str | None = None

    @property
    def positive(self) -> bool:
        """In scope: the engine should flag this row."""
        return self.kind == "any_of" or (self.kind == "exact" and bool(self.codes))

    @property
    def negative(self) -> bool:
        """Benign or out of scope: any flag on this row is a false positive."""
        return self.kind == "negative" or (self.kind == "exact" and not self.codes)

    @property
    def scored(self) -> bool:
        """Counted in precision/recall (ambiguous rows are only reported)."""
        return self.kind != "ambiguous"


@dataclass(frozen=True, slots=True)
class LabelMap:
    """``target_category`` → "any of" codes, plus how to slice rows into groups.

    ``group_by`` is a list of (file-name glob, field) pairs; the first glob matching
    the evaluated file's name picks the field whose value is a row's group.
    ``label_source`` is used when none matches.
    """

    targets: dict[str, tuple[str, ...]]
    group_by: tuple[tuple[str, str], ...]
    version: int
    source: str
    sha256: str

    def codes_for(self, target: str) -> tuple[str, ...] | None:
        """The "any of" codes for a ``target_category``, or None if it is unmapped."""
        return self.targets.get(target)

    def group_field(self, file_name: str) -> str:
        """The row field that names a row's group in a file called ``file_name``."""
        for pattern, field_name in self.group_by:
            if fnmatch.fnmatch(file_name, pattern):
                return field_name
        return "label_source"

    def info(self) -> dict[str, Any]:
        """Identity of the map for the report: results are only comparable under one map."""
        return {"source": self.source, "version": self.version, "sha256": self.sha256}


def _default_codes() -> set[str]:
    from qinglang.policy.loader import taxonomy

    return set(taxonomy())


def _bad(source: str, where: str, message: str, hint: str | None = None) -> QLError:
    return QLError(
        errors.BAD_LABEL_MAP,
        f"label map {source}: {where}: {message}",
        hint=f"did you mean '{hint}'?" if hint else None,
        file=source,
        entry=where,
    )


def _close(name: str, known: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


def load_label_map(
    path: str | Path | None = None, *, known_codes: Iterable[str] | None = None
) -> LabelMap:
    """Load and validate a label map; ``None`` loads the one shipped in the package.

    ``known_codes`` defaults to the taxonomy; pass ``engine.taxonomy`` keys to check
    against the engine actually being evaluated. Raises QL-5002 naming the entry.
    """
    if path is None:
        res = resources.files("qinglang.eval").joinpath("data", "label_map.yaml")
        text, source = res.read_text("utf-8"), "builtin:label_map.yaml"
    else:
        p = Path(path)
        if not p.is_file():
            raise QLError(errors.FILE_NOT_FOUND, f"no label map at {p}", file=str(p))
        text, source = p.read_text("utf-8"), str(p)
    return parse_label_map(text, source=source, known_codes=known_codes)


def parse_label_map(
    text: str, *, source: str = "<label map>", known_codes: Iterable[str] | None = None
) -> LabelMap:
    """Validate the YAML text of a label map (see :func:`load_label_map`)."""
    known = set(known_codes) if known_codes is not None else _default_codes()
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "document"
        raise _bad(source, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise _bad(source, "document", "a label map is a mapping with version and targets")
    for key in raw:
        if key not in _LABEL_MAP_KEYS:
            raise _bad(source, str(key), "unknown key", _close(str(key), _LABEL_MAP_KEYS))
    version = raw.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise _bad(source, "version", "must be an integer")
    targets_raw = raw.get("targets")
    if not isinstance(targets_raw, dict) or not targets_raw:
        raise _bad(source, "targets", "must be a non-empty mapping of target_category to codes")
    targets: dict[str, tuple[str, ...]] = {}
    for name, codes in targets_raw.items():
        where = f"targets[{name!r}]"
        if not isinstance(name, str) or not name:
            raise _bad(source, where, "a target_category must be a non-empty string")
        if codes is None:
            codes = []
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise _bad(source, where, "must be a list of category codes ([] for none)")
        for code in codes:
            if code not in known:
                raise _bad(source, where, f"unknown category code '{code}'", _close(code, known))
        if len(set(codes)) != len(codes):
            raise _bad(source, where, "lists a code twice")
        targets[name] = tuple(codes)
    group_by: list[tuple[str, str]] = []
    gb_raw = raw.get("group_by") or {}
    if not isinstance(gb_raw, dict):
        raise _bad(source, "group_by", "must be a mapping of file-name glob to field")
    for pattern, field_name in gb_raw.items():
        where = f"group_by[{pattern!r}]"
        if not isinstance(pattern, str) or not isinstance(field_name, str):
            raise _bad(source, where, "glob and field must be strings")
        if field_name not in GROUP_FIELDS and not (
            field_name.startswith("meta.") and len(field_name) > 5
        ):
            raise _bad(
                source,
                where,
                f"unknown field '{field_name}' (one of {', '.join(GROUP_FIELDS)}, meta.<key>)",
                _close(field_name, GROUP_FIELDS),
            )
        group_by.append((pattern, field_name))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return LabelMap(targets, tuple(group_by), version, source, digest)


# --- rows -> gold ---------------------------------------------------------------------


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _field(row: Mapping[str, Any], name: str) -> str | None:
    if name.startswith("meta."):
        meta = row.get("meta")
        return _as_text(meta.get(name[5:])) if isinstance(meta, Mapping) else None
    return _as_text(row.get(name))


def row_group(row: Mapping[str, Any], group_field: str) -> str:
    """A row's slice for per-group flag rates.

    An explicit ``group`` column wins (project fixtures use it); else the field the
    label map names for this file; else ``label_source``; else ``target_category``.
    """
    for value in (
        _as_text(row.get("group")),
        _field(row, group_field),
        _as_text(row.get("label_source")),
        _as_text(row.get("target_category")),
    ):
        if value:
            return value
    return "-"


def _no_labels(message: str, record: int | None) -> QLError:
    return QLError(errors.NO_LABELS, message, record=record)


def gold_from_row(
    row: Mapping[str, Any],
    label_map: LabelMap,
    *,
    group_field: str = "label_source",
    known_codes: Iterable[str] | None = None,
    record: int | None = None,
) -> Gold:
    """Derive a row's gold label, or raise QL-5001 when the row has no usable label.

    Order: an exact ``labels`` list; else ``is_positive`` with ``target_category``
    mapped through the label map. Negatives need no mapping (they have no codes),
    positives do; ambiguous rows keep their mapped codes only for reporting.
    """
    known = set(known_codes) if known_codes is not None else _default_codes()
    label_source = _as_text(row.get("label_source"))
    target = _as_text(row.get("target_category"))
    group = row_group(row, group_field)

    labels = row.get("labels")
    if labels is not None:
        if not isinstance(labels, list) or not all(isinstance(c, str) for c in labels):
            raise _no_labels("'labels' must be a list of category codes", record)
        unknown = sorted({c for c in labels if c not in known})
        if unknown:
            raise _no_labels(f"'labels' holds unknown category code(s) {unknown}", record)
        codes = tuple(dict.fromkeys(labels))
        return Gold("exact", codes, group, label_source, target)

    if "is_positive" not in row:
        raise _no_labels("neither 'labels' nor 'is_positive'", record)
    is_positive = row.get("is_positive")
    if is_positive is False:
        return Gold("negative", (), group, label_source, target)
    if is_positive is None:
        mapped = label_map.codes_for(target) if target else None
        return Gold("ambiguous", mapped or (), group, label_source, target)
    if is_positive is not True:
        raise _no_labels(f"'is_positive' must be true, false or null, not {is_positive!r}", record)
    if not target:
        raise _no_labels("positive row without 'target_category'", record)
    mapped = label_map.codes_for(target)
    if mapped is None:
        raise _no_labels(f"target_category {target!r} is not in the label map", record)
    if not mapped:
        raise _no_labels(
            f"positive row, but target_category {target!r} maps to no category code", record
        )
    return Gold("any_of", mapped, group, label_source, target)
