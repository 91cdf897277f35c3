"""Judge a change before it goes live: ``qinglang eval LABELED --compare A B``.

A change to the packs, the model, the mode or a threshold moves some verdicts and
leaves most alone. Two separate ``qinglang eval`` runs show that the totals moved,
not *which posts* moved or whether each move was right; this module runs both
configurations on the same rows (read once, each batch detected by A and then by
B, so both see exactly the same posts) and reports:

- each configuration's metrics, computed by the eval kit's own
  :class:`~qinglang.eval.metrics.Scorer` (so the figures equal those of two separate
  ``evaluate`` runs), side by side with their deltas;
- the **flips**: posts whose verdict differs (flagged ↔ not flagged, or a different
  set of codes), each classified as a *fix* (B right where A was wrong), a
  *regression* (the reverse) or *neutral* (both right, both wrong, or not scorable).

A configuration is a YAML file or an inline spec (``rules``, ``model=default``,
``model=DIR,mode=model``, ``packs=a.yaml+b.yaml``, ``thresholds=code:0.7``); see
docs/evaluation.md, "Comparing configurations".
"""

from __future__ import annotations

import difflib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from qinglang import errors
from qinglang.errors import QLError
from qinglang.eval.labels import Gold, LabelMap, load_label_map
from qinglang.eval.metrics import CategoryStats, Metrics, Scorer, verdict_codes
from qinglang.eval.report import _int, _num, _pct, _Table, _text_table
from qinglang.eval.run import (
    EvalReport,
    LabeledRows,
    SkipLog,
    Timing,
    _format_of,
    _sort_keys,
)
from qinglang.model import ErrorRecord, Post, Verdict

if TYPE_CHECKING:
    from qinglang.eval.run import DetectEngine

#: engine modes a configuration may name (the engine's own list)
MODES = ("rules", "model", "combined")
#: flips the JSON report lists unless told otherwise (``--flips N``)
DEFAULT_JSON_FLIPS = 50
#: flips the text report lists
TEXT_FLIPS = 20
#: characters of a post's text kept with a flip, to recognise it without opening the file
EXCERPT_CHARS = 60

FlipKind = Literal["fix", "regression", "neutral"]
FlipChange = Literal["flagged", "unflagged", "codes"]
#: order flips are listed in: what to look at first
_KIND_ORDER: dict[str, int] = {"regression": 0, "fix": 1, "neutral": 2}
_CONFIG_KEYS = ("name", "packs", "model", "mode", "thresholds")


# --- configurations -------------------------------------------------------------------


class _ConfigDoc(BaseModel):
    """The YAML form of a configuration; unknown keys are errors, not ignored typos."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    packs: list[str] | None = None
    model: str | None = None
    mode: Literal["rules", "model", "combined"] | None = None
    thresholds: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class Config:
    """One side of a comparison: which packs, which model, which mode, which thresholds.

    ``packs`` None means the bundled packs; ``model`` None means rules only, and
    "default" the bundled model. ``mode`` is resolved ("rules" without a model,
    "combined" with one unless told otherwise). ``source`` says where it came from
    (a file path, or ``inline``) so an error or a report can name it.
    """

    name: str
    packs: tuple[str, ...] | None = None
    model: str | None = None
    mode: str = "rules"
    thresholds: dict[str, float] = field(default_factory=dict)
    source: str = "inline"

    def build(self) -> DetectEngine:
        """The engine this configuration describes (packs and model load here)."""
        from qinglang.detect.engine import Engine

        return Engine.from_options(
            list(self.packs) if self.packs else None,
            model=self.model,
            mode=self.mode,
            thresholds=dict(self.thresholds) or None,
        )

    def describe(self) -> str:
        """One line for the report header."""
        parts = [f"mode {self.mode}"]
        parts.append("packs " + ("+".join(self.packs) if self.packs else "bundled"))
        if self.model is not None:
            parts.append(f"model {self.model}")
        if self.thresholds:
            parts.append("thresholds " + ", ".join(f"{k} {v:g}" for k, v in sorted(self.thresholds.items())))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "model": self.model,
            "name": self.name,
            "packs": list(self.packs) if self.packs is not None else None,
            "source": self.source,
            "thresholds": dict(sorted(self.thresholds.items())),
        }


def _bad_config(source: str, where: str, message: str, near: str | None = None) -> QLError:
    label = f"config {source}" if source != "inline" else "config"
    return QLError(
        errors.BAD_OPTION,
        f"{label}: {where}: {message}",
        hint=f"did you mean '{near}'?" if near else None,
        file=source,
        entry=where,
    )


def _close(name: str, known: Sequence[str]) -> str | None:
    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


def _resolve(doc: _ConfigDoc, *, source: str, base: Path | None, default_name: str) -> Config:
    """Check the parts against each other and the taxonomy; resolve relative paths.

    Paths in a YAML file are relative to that file (so a config can travel with its
    packs); inline paths are relative to the working directory.
    """
    from qinglang.policy.loader import taxonomy

    def where(p: str) -> str:
        return str(base / p) if base is not None and not Path(p).is_absolute() else p

    packs = None
    if doc.packs is not None:
        if not doc.packs:
            raise _bad_config(source, "packs", "an empty list; leave packs out for the bundled packs")
        packs = tuple(where(p) for p in doc.packs)
    model = doc.model
    if model is not None and model != "default":
        model = where(model)
    mode = doc.mode or ("combined" if model is not None else "rules")
    if mode == "rules" and model is not None:
        raise _bad_config(source, "mode", "'rules' uses no model; drop the model or choose model/combined")
    if mode != "rules" and model is None:
        raise _bad_config(source, "mode", f"'{mode}' needs a model (a directory, or default)")
    known = sorted(taxonomy())
    thresholds: dict[str, float] = {}
    for code, value in (doc.thresholds or {}).items():
        if code not in known:
            raise _bad_config(source, f"thresholds[{code!r}]", "unknown category code", _close(code, known))
        if not 0.0 <= value <= 1.0:
            raise _bad_config(source, f"thresholds[{code!r}]", f"must be in [0, 1], not {value}")
        thresholds[code] = float(value)
    return Config(doc.name or default_name, packs, model, mode, thresholds, source)


def _pydantic_problem(source: str, exc: ValidationError) -> QLError:
    err = exc.errors()[0]
    loc = [str(x) for x in err["loc"]]
    where = loc[0] if loc else "document"
    for part in loc[1:]:
        where += f"[{part}]" if part.isdigit() else f"[{part!r}]"
    if err["type"] == "extra_forbidden":
        return _bad_config(source, where, "unknown key", _close(loc[-1], _CONFIG_KEYS))
    return _bad_config(source, where, err["msg"])


def parse_config_yaml(text: str, *, source: str = "<config>", base: Path | None = None) -> Config:
    """Validate the YAML text of a configuration (see :func:`load_config`)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "document"
        raise _bad_config(source, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise _bad_config(source, "document", "a configuration is a mapping (name, packs, model, mode, thresholds)")
    try:
        doc = _ConfigDoc.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_problem(source, exc) from None
    return _resolve(doc, source=source, base=base, default_name=Path(source).stem)


def parse_spec(spec: str) -> Config:
    """An inline configuration: comma-separated ``key=value`` items or a bare mode.

    ``rules``; ``model=default``; ``model=DIR,mode=model``; ``packs=a.yaml+b.yaml``;
    ``thresholds=stock_tipping:0.7+loan_marketing:0.6``; ``name=candidate``. Lists
    are joined with ``+`` because ``,`` separates the items.
    """
    raw: dict[str, Any] = {}
    items = [s.strip() for s in spec.split(",")]
    if not spec.strip() or any(not s for s in items):
        raise _bad_config("inline", repr(spec), "an empty item; write e.g. rules or model=default,mode=model")
    for item in items:
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq:
            if key in MODES:
                key, value = "mode", key
            else:
                raise _bad_config(
                    "inline", repr(item), f"not key=value nor a mode ({', '.join(MODES)})", _close(key, MODES)
                )
        if key not in _CONFIG_KEYS:
            raise _bad_config("inline", key, "unknown key", _close(key, _CONFIG_KEYS))
        if key in raw:
            raise _bad_config("inline", key, "given twice")
        if not value:
            raise _bad_config("inline", key, "has no value")
        if key == "packs":
            raw[key] = [p for p in value.split("+")]
            if any(not p for p in raw[key]):
                raise _bad_config("inline", key, "an empty pack path")
        elif key == "thresholds":
            th: dict[str, Any] = {}
            for part in value.split("+"):
                code, colon, num = part.partition(":")
                if not colon or not code:
                    raise _bad_config("inline", key, f"'{part}' is not code:value")
                try:
                    th[code.strip()] = float(num)
                except ValueError:
                    raise _bad_config("inline", f"thresholds[{code.strip()!r}]", f"'{num}' is not a number") from None
            raw[key] = th
        else:
            raw[key] = value
    try:
        doc = _ConfigDoc.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_problem("inline", exc) from None
    return _resolve(doc, source="inline", base=None, default_name=spec)


def _is_inline(spec: str) -> bool:
    """Which reading of a ``--compare`` value is meant.

    A bare mode is inline; an existing file is a file; ``key=value`` is inline; a
    name ending in .yaml/.yml is a (possibly missing) file; anything else is read as
    inline so that a typo such as ``rule`` gets "did you mean 'rules'", not "no file".
    """
    s = spec.strip()
    if s in MODES:
        return True
    if Path(spec).is_file():
        return False
    if "=" in s:
        return True
    return not s.lower().endswith((".yaml", ".yml"))


def load_config(spec: str | Config) -> Config:
    """A configuration from an inline spec or the path of a YAML file.

    Raises QL-4002 for a missing file and QL-4003 naming the file (or ``inline``)
    and the field for anything invalid.
    """
    if isinstance(spec, Config):
        return spec
    if _is_inline(spec):
        return parse_spec(spec)
    p = Path(spec)
    if not p.is_file():
        raise QLError(
            errors.FILE_NOT_FOUND,
            f"no configuration file at {p}",
            hint="an inline spec is key=value items or a mode, e.g. rules, model=default",
            file=str(p),
        )
    return parse_config_yaml(p.read_text("utf-8"), source=str(p), base=p.parent)


# --- flips ----------------------------------------------------------------------------


def _right(gold: Gold, codes: frozenset[str]) -> bool | None:
    """Whether one verdict is right for its row; None where the row is not scored.

    Negative: nothing flagged. "Any of": flagged with a code of the set (codes
    outside it are neither credited nor charged, as in the metrics). Exact: exactly
    the gold codes.
    """
    if not gold.scored:
        return None
    if gold.negative:
        return not codes
    if gold.kind == "exact":
        return codes == frozenset(gold.codes)
    return bool(codes.intersection(gold.codes))


@dataclass(frozen=True, slots=True)
class Flip:
    """A post whose verdict differs between A and B, and whether the change is right."""

    id: str
    record: int
    kind: FlipKind
    change: FlipChange
    a_codes: tuple[str, ...]
    b_codes: tuple[str, ...]
    gold: str
    gold_kind: str
    expected: tuple[str, ...]
    a_right: bool | None
    b_right: bool | None
    excerpt: str

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(c for c in self.b_codes if c not in self.a_codes)

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(c for c in self.a_codes if c not in self.b_codes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a_codes": list(self.a_codes),
            "a_right": self.a_right,
            "b_codes": list(self.b_codes),
            "b_right": self.b_right,
            "change": self.change,
            "excerpt": self.excerpt,
            "expected": list(self.expected),
            "gold": self.gold,
            "gold_kind": self.gold_kind,
            "id": self.id,
            "kind": self.kind,
            "record": self.record,
        }


def _excerpt(post: Post) -> str:
    text = " ".join(post.text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _flip(post: Post, record: int, gold: Gold, a: Verdict, b: Verdict) -> Flip | None:
    a_codes, b_codes = frozenset(verdict_codes(a)), frozenset(verdict_codes(b))
    if a_codes == b_codes:
        return None
    a_right, b_right = _right(gold, a_codes), _right(gold, b_codes)
    kind: FlipKind = "neutral"
    if a_right is False and b_right is True:
        kind = "fix"
    elif a_right is True and b_right is False:
        kind = "regression"
    change: FlipChange = "codes" if a_codes and b_codes else ("flagged" if b_codes else "unflagged")
    label = "positive" if gold.positive else "negative" if gold.negative else "ambiguous"
    return Flip(
        post.id,
        record,
        kind,
        change,
        tuple(sorted(a_codes)),
        tuple(sorted(b_codes)),
        label,
        gold.kind,
        gold.codes,
        a_right,
        b_right,
        _excerpt(post),
    )


@dataclass(slots=True)
class FlipSummary:
    """Counts of flips per kind, per kind of change, and per category touched."""

    total: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_change: Counter[str] = field(default_factory=Counter)
    #: code -> added / removed / fix / regression / neutral (flips that added or removed it)
    by_category: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, flip: Flip) -> None:
        self.total += 1
        self.by_kind[flip.kind] += 1
        self.by_change[flip.change] += 1
        for moved, codes in (("added", flip.added), ("removed", flip.removed)):
            for code in codes:
                c = self.by_category.setdefault(code, Counter())
                c[moved] += 1
                c[flip.kind] += 1

    def to_dict(self) -> dict[str, Any]:
        cat_keys = ("added", "removed", "fix", "regression", "neutral")
        return {
            "by_category": {code: {k: c[k] for k in cat_keys} for code, c in sorted(self.by_category.items())},
            "by_change": {k: self.by_change[k] for k in ("flagged", "unflagged", "codes")},
            "by_kind": {k: self.by_kind[k] for k in ("fix", "regression", "neutral")},
            "total": self.total,
        }


# --- the report -----------------------------------------------------------------------


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def _r6(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


@dataclass(slots=True)
class CompareReport:
    """Both configurations' evaluations of one file, and the posts that flipped.

    ``a_report``/``b_report`` are ordinary :class:`EvalReport` objects (their metrics
    equal separate ``evaluate`` runs). ``flips`` holds every flip, regressions first,
    then fixes, then neutral ones, each in file order. ``compared`` counts rows both
    configurations produced a verdict for; ``error_mismatch`` rows where only one did.
    """

    a: Config
    b: Config
    a_report: EvalReport
    b_report: EvalReport
    flips: list[Flip]
    summary: FlipSummary
    compared: int
    error_mismatch: int

    def metric_deltas(self) -> dict[str, Any]:
        """B − A for the post-level figures, per category, and the averages."""
        pa, pb = self.a_report.metrics.post, self.b_report.metrics.post
        post = {
            k: _r6(_delta(getattr(pa, k), getattr(pb, k)))
            for k in ("precision", "recall", "f1", "fp_rate", "category_recall")
        }
        cats: dict[str, Any] = {}
        for code, ca, cb in _category_pairs(self.a_report.metrics, self.b_report.metrics):
            na, nb = self.a_report.metrics.post.negatives, self.b_report.metrics.post.negatives
            cats[code] = {
                "f1": _r6(_delta(ca.f1, cb.f1)),
                "fp_rate": _r6(_delta(ca.fp_rate(na), cb.fp_rate(nb))),
                "precision": _r6(_delta(ca.precision, cb.precision)),
                "recall": _r6(_delta(ca.recall, cb.recall)),
            }
        avgs = {}
        for name in ("micro", "macro"):
            xa, xb = getattr(self.a_report.metrics, name), getattr(self.b_report.metrics, name)
            avgs[name] = {k: _r6(_delta(getattr(xa, k), getattr(xb, k))) for k in ("precision", "recall", "f1")}
        return {"categories": cats, "post": post, **avgs}

    def to_dict(self, flips: int = DEFAULT_JSON_FLIPS) -> dict[str, Any]:
        """The ``--json`` output: both evaluations, the deltas, and the first ``flips`` flips."""
        ra = self.a_report
        shared = ("file", "path", "format", "label_map")

        def side(cfg: Config, rep: EvalReport) -> dict[str, Any]:
            body = {k: v for k, v in rep.to_dict().items() if k not in shared}
            body["config"] = cfg.to_dict()
            return body

        shown = self.flips[: max(flips, 0)]
        return _sort_keys(
            {
                "a": side(self.a, ra),
                "b": side(self.b, self.b_report),
                "delta": self.metric_deltas(),
                "file": ra.file,
                "flips": {**self.summary.to_dict(), "shown": len(shown), "list": [f.to_dict() for f in shown]},
                "format": ra.format,
                "label_map": ra.label_map,
                "path": ra.path,
                "rows": {
                    "compared": self.compared,
                    "error_mismatch": self.error_mismatch,
                    "in_file": ra.rows_in_file,
                    "limit": ra.limit,
                    "read": ra.rows_read,
                },
            }
        )


def _category_pairs(a: Metrics, b: Metrics) -> list[tuple[str, CategoryStats, CategoryStats]]:
    """Every code either side knows, with an empty row where one side never met it."""
    codes = sorted(set(a.categories) | set(b.categories))
    return [(c, a.categories.get(c, CategoryStats(c)), b.categories.get(c, CategoryStats(c))) for c in codes]


# --- the run --------------------------------------------------------------------------


def compare(
    path: str | Path,
    a: Config | str,
    b: Config | str,
    *,
    label_map: LabelMap | str | Path | None = None,
    limit: int | None = None,
    batch_size: int = 1024,
) -> CompareReport:
    """Detect every labeled row of ``path`` with configurations ``a`` and ``b`` and compare.

    ``a``/``b`` are :class:`Config` objects, inline specs or YAML paths. The file is
    read once; each batch goes to A's engine, then B's. Each side is scored with its
    own :class:`Scorer`, exactly as :func:`~qinglang.eval.run.evaluate` would; rows
    either engine returns an error record for are skipped for that side only, and are
    not flips. Raises QLError for whole-run problems (see ``evaluate``) and bad configs.
    """
    started = time.perf_counter()
    p = Path(path)
    if limit is not None and limit < 1:
        raise QLError(errors.BAD_OPTION, f"--limit must be at least 1, not {limit}")
    if batch_size < 1:
        raise QLError(errors.BAD_OPTION, f"batch size must be at least 1, not {batch_size}")
    cfg_a, cfg_b = load_config(a), load_config(b)
    if not p.is_file():
        raise QLError(errors.FILE_NOT_FOUND, f"no labeled file at {p}", file=str(p))
    fmt = _format_of(p)
    eng_a, eng_b = cfg_a.build(), cfg_b.build()
    known = list(dict.fromkeys([*eng_a.taxonomy, *eng_b.taxonomy]))
    lm = label_map if isinstance(label_map, LabelMap) else load_label_map(label_map, known_codes=known)
    rows = LabeledRows(p, lm, known, limit)

    scorers = (Scorer(list(eng_a.taxonomy)), Scorer(list(eng_b.taxonomy)))
    engine_errors = (SkipLog(), SkipLog())  # per side; rows unusable for both are in rows.skipped
    timings = (Timing(batch_size=batch_size), Timing(batch_size=batch_size))
    flips: list[Flip] = []
    summary = FlipSummary()
    compared = error_mismatch = 0

    posts: list[Post] = []
    golds: list[Gold] = []
    records: list[int] = []

    def detect(side: int, engine: DetectEngine) -> Sequence[Verdict]:
        t0 = time.perf_counter()
        verdicts = engine.detect(posts)
        timings[side].detect_seconds += time.perf_counter() - t0
        if len(verdicts) != len(posts):
            raise QLError(errors.RECORD_FAILED, f"engine returned {len(verdicts)} verdicts for {len(posts)} posts")
        timings[side].posts += len(posts)
        return verdicts

    def flush() -> None:
        nonlocal compared, error_mismatch
        if not posts:
            return
        va, vb = detect(0, eng_a), detect(1, eng_b)
        for post, gold, record, x, y in zip(posts, golds, records, va, vb, strict=True):
            for side, v in ((0, x), (1, y)):
                if isinstance(v, ErrorRecord):
                    engine_errors[side].add(v.code, record, v.message)
                else:
                    scorers[side].add(gold, v)
            x_err, y_err = isinstance(x, ErrorRecord), isinstance(y, ErrorRecord)
            if x_err or y_err:
                error_mismatch += x_err != y_err
                continue
            compared += 1
            f = _flip(post, record, gold, x, y)
            if f is not None:
                flips.append(f)
                summary.add(f)
        posts.clear()
        golds.clear()
        records.clear()

    for record, post, gold in rows:
        posts.append(post)
        golds.append(gold)
        records.append(record)
        if len(posts) >= batch_size:
            flush()
    flush()

    total = time.perf_counter() - started
    reports = []
    for side, eng in ((0, eng_a), (1, eng_b)):
        timings[side].total_seconds = total
        reports.append(
            EvalReport(
                file=p.name,
                path=str(p),
                format=fmt,
                rows_in_file=rows.rows_in_file,
                rows_read=rows.rows_read,
                limit=limit,
                label_map=lm.info(),
                versions=dict(eng.versions),
                metrics=scorers[side].result(),
                skipped=rows.skipped.merged(engine_errors[side]),
                timing=timings[side],
            )
        )
    flips.sort(key=lambda f: (_KIND_ORDER[f.kind], f.record))
    return CompareReport(cfg_a, cfg_b, reports[0], reports[1], flips, summary, compared, error_mismatch)


# --- rendering ------------------------------------------------------------------------


def _dnum(x: float | None) -> str:
    return "-" if x is None else f"{x:+.3f}"


def _dpp(x: float | None) -> str:
    """A difference of rates, in percentage points."""
    return "-" if x is None else f"{100 * x:+.2f}pp"


def _post_compare_table(report: CompareReport) -> _Table:
    pa, pb = report.a_report.metrics.post, report.b_report.metrics.post
    rows: list[list[str]] = []
    for label, key in (
        ("precision", "precision"),
        ("recall", "recall"),
        ("f1", "f1"),
        ("cat. recall", "category_recall"),
    ):
        x, y = getattr(pa, key), getattr(pb, key)
        rows.append([label, _num(x), _num(y), _dnum(_delta(x, y))])
    rows.append(["fp rate", _pct(pa.fp_rate), _pct(pb.fp_rate), _dpp(_delta(pa.fp_rate, pb.fp_rate))])
    for key in ("tp", "fp", "fn", "tn"):
        x, y = getattr(pa, key), getattr(pb, key)
        rows.append([key, _int(x), _int(y), f"{y - x:+,}"])
    return _Table(["posts", "A", "B", "B-A"], rows)


def _category_compare_table(report: CompareReport) -> _Table:
    ma, mb = report.a_report.metrics, report.b_report.metrics
    na, nb = ma.post.negatives, mb.post.negatives
    headers = ["category", "P A", "P B", "ΔP", "R A", "R B", "ΔR", "F1 A", "F1 B", "ΔF1"]
    headers += ["FP A", "FP B", "ΔFP"]
    rows: list[list[str]] = []
    for code, ca, cb in _category_pairs(ma, mb):
        if not any((ca.tp, ca.fp, ca.fn, cb.tp, cb.fp, cb.fn)):
            continue  # the data never touches it under either configuration
        fa, fb = ca.fp_rate(na), cb.fp_rate(nb)
        row = [code]
        for x, y in ((ca.precision, cb.precision), (ca.recall, cb.recall), (ca.f1, cb.f1)):
            row += [_num(x), _num(y), _dnum(_delta(x, y))]
        row += [_pct(fa), _pct(fb), _dpp(_delta(fa, fb))]
        rows.append(row)
    for name in ("micro", "macro"):
        xa, xb = getattr(ma, name), getattr(mb, name)
        row = [f"{name} avg"]
        for k in ("precision", "recall", "f1"):
            x, y = getattr(xa, k), getattr(xb, k)
            row += [_num(x), _num(y), _dnum(_delta(x, y))]
        rows.append([*row, "", "", ""])
    return _Table(headers, rows)


def _flip_category_table(report: CompareReport) -> _Table:
    rows = [
        [code, _int(c["added"]), _int(c["removed"]), _int(c["fix"]), _int(c["regression"]), _int(c["neutral"])]
        for code, c in sorted(report.summary.by_category.items())
    ]
    return _Table(["category", "added in B", "removed in B", "fix", "regression", "neutral"], rows)


def _flip_table(flips: Sequence[Flip]) -> _Table:
    def codes(c: tuple[str, ...]) -> str:
        return ", ".join(c) or "-"

    rows = [
        [
            f.kind,
            f.id,
            codes(f.a_codes),
            codes(f.b_codes),
            f.gold + (f" ({codes(f.expected)})" if f.expected else ""),
            f.excerpt,
        ]
        for f in flips
    ]
    return _Table(["kind", "id", "A", "B", "gold", "text"], rows, frozenset(range(6)))


def render_compare_text(report: CompareReport, *, timing: bool = True, flips: int = TEXT_FLIPS) -> str:
    """Plain-text comparison: configurations, metrics side by side, flip summary, first flips."""
    ra, rb = report.a_report, report.b_report
    lm = ra.label_map
    size = f"{_int(ra.rows_in_file)} rows"
    if ra.rows_read < ra.rows_in_file:
        size += f", first {_int(ra.rows_read)} read (--limit {ra.limit})"
    s = report.summary
    parts = [
        "qinglang eval --compare",
        f"file: {ra.file} ({size})",
        f"label map: {lm.get('source')} v{lm.get('version')} (sha256 {lm.get('sha256')})",
        f"A: {report.a.name} ({report.a.describe()}); versions {_versions(ra.versions)}",
        f"B: {report.b.name} ({report.b.describe()}); versions {_versions(rb.versions)}",
        "",
        "Rows",
    ]
    for side, rep in (("A", ra), ("B", rb)):
        r = rep.rows()
        parts.append(
            f"  {side}: read {_int(r['read'])} = positives {_int(r['positives'])} + negatives"
            f" {_int(r['negatives'])} + ambiguous {_int(r['ambiguous'])} + skipped {_int(r['skipped'])}"
        )
    parts.append(
        f"  compared (a verdict from both): {_int(report.compared)}; a verdict from one only: "
        f"{_int(report.error_mismatch)}"
    )
    parts += [
        "",
        "Posts (positive = gold in scope; predicted = any category flagged)",
        _text_table(_post_compare_table(report)),
        "",
        "Per category (categories the data touches; FP = share of negatives flagged with it)",
        _text_table(_category_compare_table(report)),
        "",
        f"Flips: {_int(s.total)} posts changed verdict ({_pct(s.total / report.compared if report.compared else None)}"
        " of compared)",
        f"  fix {_int(s.by_kind['fix'])}, regression {_int(s.by_kind['regression'])},"
        f" neutral {_int(s.by_kind['neutral'])}",
        f"  newly flagged {_int(s.by_change['flagged'])}, no longer flagged {_int(s.by_change['unflagged'])},"
        f" other codes {_int(s.by_change['codes'])}",
    ]
    if s.by_category:
        parts += ["", "Flips per category", _text_table(_flip_category_table(report))]
    shown = report.flips[: max(flips, 0)]
    if shown:
        more = f" (first {len(shown)} of {_int(s.total)}; --json --flips N for more)" if s.total > len(shown) else ""
        parts += ["", f"Flipped posts: regressions, then fixes, then neutral{more}", _text_table(_flip_table(shown))]
    if timing:
        parts += ["", "Timing"]
        for side, rep in (("A", ra), ("B", rb)):
            t = rep.timing
            pps = t.posts_per_s
            rate = "-" if pps is None else f"{pps:,.0f} posts/s"
            parts.append(f"  {side}: {_int(t.posts)} posts detected in {t.detect_seconds:.2f} s: {rate}")
        parts.append(f"  {ra.timing.total_seconds:.2f} s in all (batch {ra.timing.batch_size})")
    return "\n".join(parts) + "\n"


def _versions(v: dict[str, Any]) -> str:
    out = [str(v.get("engine", "-"))]
    packs = v.get("packs") or {}
    out += [f"{k}@{ver}" for k, ver in sorted(packs.items())]
    model = v.get("model")
    if isinstance(model, dict):
        out.append(f"model {model.get('name')}@{model.get('version')}")
    return " ".join(out)
