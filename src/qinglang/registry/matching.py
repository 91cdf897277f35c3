"""Match names to registry entries and bind accounts to them.

Names are compared in the project's normalized space (simplified Chinese,
half-width, lowercase, separators between Han removed), then read two ways: a
*compact* key (letters, digits and Han only: "Goldman Sachs" = "goldmansachs") for
equality, and a *spaced* key (punctuation as single spaces, none between Han) for
containment at word boundaries. Legal-form suffixes from ``data/legal_suffixes.txt``
are stripped to get a name's *core*.

Reasons and scores (one best match per entry):

==================  =====  =====================================================
reason              score  when
==================  =====  =====================================================
``exact``           1.00   the query is the entry's full name
``alias``           0.95   the query is one of the entry's aliases (short names)
``suffix_stripped`` 0.90   equal once legal-form suffixes are stripped
``contained``       < 0.85 one core contains the other at a word boundary (the
                           contained part has >= 4 characters); 0.5 + 0.35 x the
                           length ratio
==================  =====  =====================================================

See ``docs/registry.md`` for binding outcomes.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources

from qinglang.registry.entries import EntityKind, LicenceType, Registry, RegistryEntry, licence_key
from qinglang.text.lexicon import HAN
from qinglang.text.normalize import default_normalizer

SCORE_EXACT = 1.0
SCORE_ALIAS = 0.95
SCORE_SUFFIX = 0.9
#: Default score a name match needs to bind an account: exact, alias or suffix-stripped.
BIND_THRESHOLD = 0.9
#: Shortest contained part (characters of the compact key) a ``contained`` match needs.
MIN_CONTAINED = 4

_NON_WORD = re.compile(r"[^\w]+|_+")
_HAN_GAP = re.compile(f"(?<=[{HAN}]) (?=[{HAN}])")
_HAN_CHAR = re.compile(f"[{HAN}]")


class MatchReason(StrEnum):
    EXACT = "exact"
    ALIAS = "alias"
    SUFFIX_STRIPPED = "suffix_stripped"
    CONTAINED = "contained"


@dataclass(frozen=True, slots=True)
class Match:
    """``entry`` matched the query by ``reason``; ``matched`` is the entry's name or alias that did."""

    entry: RegistryEntry
    score: float
    reason: MatchReason
    matched: str

    def to_dict(self) -> dict[str, object]:
        return {"entry_id": self.entry.id, "score": self.score, "reason": self.reason.value, "matched": self.matched}


# -- keys -----------------------------------------------------------------------


def spaced_key(text: str) -> str:
    """Normalized text with punctuation as single spaces and no space between Han."""
    norm = default_normalizer().normalize(text).text
    spaced = " ".join(_NON_WORD.sub(" ", norm).split())
    return _HAN_GAP.sub("", spaced)


def compact_key(spaced: str) -> str:
    return spaced.replace(" ", "")


@cache
def legal_suffixes() -> tuple[str, ...]:
    """The suffixes from the data file as spaced keys, longest first."""
    raw = resources.files("qinglang.registry").joinpath("data/legal_suffixes.txt").read_text(encoding="utf-8")
    keys = set()
    for line in raw.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and (key := spaced_key(line)):
            keys.add(key)
    return tuple(sorted(keys, key=lambda k: (-len(k), k)))


@cache
def legal_suffix_set() -> frozenset[str]:
    return frozenset(legal_suffixes())


def strip_suffixes(spaced: str) -> str:
    """Strip legal-form suffixes from the end, repeatedly; never down to nothing."""
    text = spaced
    if text in legal_suffix_set():
        return text  # a name that is only a legal form ("有限公司") keeps it
    changed = True
    while changed:
        changed = False
        for suffix in legal_suffixes():
            if len(suffix) >= len(text) or not text.endswith(suffix):
                continue
            if _joins(text[-len(suffix) - 1], suffix[0]):
                continue  # "zinc" does not end in the suffix "inc"
            text = text[: -len(suffix)].rstrip()
            changed = True
            break
    return text


def _contains_at_boundary(long: str, short: str) -> bool:
    """``short`` occurs in ``long`` (spaced keys) without splitting a Latin word or number."""
    start = long.find(short)
    while start != -1:
        end = start + len(short)
        left_ok = start == 0 or not _joins(long[start - 1], short[0])
        right_ok = end == len(long) or not _joins(short[-1], long[end])
        if left_ok and right_ok:
            return True
        start = long.find(short, start + 1)
    return False


def _joins(a: str, b: str) -> bool:
    """Two adjacent characters of the same Latin word or number (Han never joins)."""
    return a.isalnum() and b.isalnum() and not _HAN_CHAR.match(a) and not _HAN_CHAR.match(b)


# -- the name index ---------------------------------------------------------------


@dataclass(slots=True)
class _Name:
    entry: RegistryEntry
    text: str
    is_alias: bool
    compact: str
    core_spaced: str
    core: str


@dataclass(slots=True)
class _Index:
    version: int
    names: list[_Name] = field(default_factory=list)
    by_compact: dict[str, list[_Name]] = field(default_factory=dict)
    by_core: dict[str, list[_Name]] = field(default_factory=dict)


_INDEXES: weakref.WeakKeyDictionary[Registry, _Index] = weakref.WeakKeyDictionary()


def _index(registry: Registry) -> _Index:
    idx = _INDEXES.get(registry)
    if idx is not None and idx.version == registry.version:
        return idx
    idx = _Index(registry.version)
    for entry in registry:
        for i, text in enumerate(entry.names):
            spaced = spaced_key(text)
            if not spaced:
                continue
            core_spaced = strip_suffixes(spaced)
            name = _Name(entry, text, i > 0, compact_key(spaced), core_spaced, compact_key(core_spaced))
            idx.names.append(name)
            idx.by_compact.setdefault(name.compact, []).append(name)
            idx.by_core.setdefault(name.core, []).append(name)
    _INDEXES[registry] = idx
    return idx


# -- matching -----------------------------------------------------------------------


def match_name(
    registry: Registry,
    name: str,
    *,
    on: date | None = None,
    kinds: Iterable[EntityKind] | None = None,
    licence_types: Iterable[LicenceType] | None = None,
    min_score: float = 0.0,
) -> list[Match]:
    """Entries whose name or alias matches ``name``, best first (one match per entry).

    ``on`` keeps only entries whose licence is in force that day; ``kinds`` and
    ``licence_types`` filter further. Ties are ordered by entry id.
    """
    spaced = spaced_key(name)
    if not spaced:
        return []
    compact = compact_key(spaced)
    core_spaced = strip_suffixes(spaced)
    core = compact_key(core_spaced)
    idx = _index(registry)
    kind_set = set(kinds) if kinds is not None else None
    type_set = set(licence_types) if licence_types is not None else None
    best: dict[str, Match] = {}

    def offer(n: _Name, score: float, reason: MatchReason) -> None:
        e = n.entry
        if score < min_score or (on is not None and not e.valid_on(on)):
            return
        if (kind_set is not None and e.kind not in kind_set) or (
            type_set is not None and e.licence_type not in type_set
        ):
            return
        held = best.get(e.id)
        if held is None or score > held.score:
            best[e.id] = Match(e, round(score, 4), reason, n.text)

    for n in idx.by_compact.get(compact, ()):
        offer(n, SCORE_ALIAS if n.is_alias else SCORE_EXACT, MatchReason.ALIAS if n.is_alias else MatchReason.EXACT)
    for n in idx.by_core.get(core, ()):
        offer(n, SCORE_SUFFIX, MatchReason.SUFFIX_STRIPPED)
    if len(core) >= MIN_CONTAINED:
        for n in idx.names:
            if n.core == core or len(n.core) < MIN_CONTAINED:
                continue
            if len(n.core) < len(core):
                short, long, short_s, long_s = n.core, core, n.core_spaced, core_spaced
            else:
                short, long, short_s, long_s = core, n.core, core_spaced, n.core_spaced
            if short in long and _contains_at_boundary(long_s, short_s):
                offer(n, 0.5 + 0.35 * len(short) / len(long), MatchReason.CONTAINED)
    return sorted(best.values(), key=lambda m: (-m.score, m.entry.id))


# -- licence claims -------------------------------------------------------------------

#: Words that claim a licence (normalized space: simplified, lowercase).
CLAIM_WORDS = (
    "持牌",
    "持证",
    "有牌照",
    "正规牌照",
    "金融牌照",
    "执业编号",
    "执业证书",
    "从业编号",
    "从业资格",
    "登记编号",
    "资格证书",
    "许可证",
    "证监会备案",
    "证监会认证",
    "证监会批准",
    "licensed",
    "licence no",
    "license no",
    "licence number",
    "license number",
    "registered adviser",
    "registered advisor",
    "sec registered",
    "fca authorised",
    "fca authorized",
    "fca registered",
)
#: A number after a claim word: "执业编号：S0100520070001", "licence no. AB-1234".
_NUMBER_AFTER = re.compile(
    r"(?:执业编号|执业证书编号|证书编号|从业编号|登记编号|注册编号|许可证号|许可证编号|牌照号|编号|证号"
    r"|(?<![a-z])(?:licen[cs]e (?:no|number)|reg(?:istration)? (?:no|number)|frn|crd|ce no))"
    r"[\s.:：#№]*(?:为|是)?\s*([a-z0-9][a-z0-9-]{3,}[a-z0-9])",
)
#: A Chinese securities practitioner number (S + 13 digits) anywhere.
_SAC_NUMBER = re.compile(r"(?<![a-z0-9])s\d{13}(?![0-9])")
_TOKEN = re.compile(r"[a-z0-9][a-z0-9-]{4,}[a-z0-9]")


@dataclass(frozen=True, slots=True)
class LicenceClaim:
    """What a text claims: licence numbers it states, and whether it claims a licence at all."""

    numbers: tuple[str, ...]
    claims_licence: bool
    words: tuple[str, ...] = ()


def find_licence_claims(text: str, registry: Registry | None = None) -> LicenceClaim:
    """Numbers stated after a claim word, S+13-digit numbers, and any token the registry holds."""
    if not text:
        return LicenceClaim((), False)
    norm = default_normalizer().normalize(text).text
    words = tuple(w for w in CLAIM_WORDS if w in norm)
    found: dict[str, str] = {}
    for m in _NUMBER_AFTER.finditer(norm):
        if any(ch.isdigit() for ch in m.group(1)):
            found.setdefault(licence_key(m.group(1)), m.group(1).upper())
    for m in _SAC_NUMBER.finditer(norm):
        found.setdefault(licence_key(m.group()), m.group().upper())
    if registry is not None:
        for m in _TOKEN.finditer(norm):
            key = licence_key(m.group())
            if any(ch.isdigit() for ch in key) and registry.has_licence_key(key):
                found.setdefault(key, m.group().upper())
    return LicenceClaim(tuple(found.values()), bool(words or found), words)


# -- binding ------------------------------------------------------------------------------


class BindingStatus(StrEnum):
    BOUND = "bound"
    LAPSED = "lapsed"
    CLAIMS_UNHELD_LICENCE = "claims_unheld_licence"
    UNBOUND = "unbound"


class ClaimProblem(StrEnum):
    NOT_IN_REGISTRY = "not_in_registry"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    HELD_BY_OTHER = "held_by_other"
    NO_LICENCE_FOUND = "no_licence_found"


@dataclass(frozen=True, slots=True)
class Binding:
    """The outcome of :func:`bind_account`.

    ``status``: ``bound`` (``entry`` holds a licence in force), ``lapsed`` (the
    account is ``entry`` by name, but its licence is not in force and the account
    claims none), ``claims_unheld_licence`` (it claims a licence or number it does
    not hold: ``claim_problem`` says why, ``entry`` is the registry entry involved if
    any) or ``unbound``. ``via`` is ``declared``, ``stated`` (a number in the
    display name or bio) or ``name``. ``name_match`` is the display name's match to
    ``entry``; ``candidates`` are name matches that did not bind (review them:
    an unbound account named like a licensed institution may be impersonating it).
    ``also_held`` lists the other licences of an entity bound by name that holds
    several (one entry per licence, same name).
    """

    status: BindingStatus
    entry: RegistryEntry | None = None
    via: str | None = None
    name_match: Match | None = None
    claimed_licence: str | None = None
    claim_problem: ClaimProblem | None = None
    candidates: tuple[Match, ...] = ()
    explanation: str = ""
    also_held: tuple[RegistryEntry, ...] = ()

    @property
    def bound(self) -> bool:
        return self.status is BindingStatus.BOUND

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "entry_id": self.entry.id if self.entry else None,
            "via": self.via,
            "name_match": self.name_match.to_dict() if self.name_match else None,
            "claimed_licence": self.claimed_licence,
            "claim_problem": self.claim_problem.value if self.claim_problem else None,
            "candidates": [c.to_dict() for c in self.candidates],
            "explanation": self.explanation,
            "also_held": [e.id for e in self.also_held],
        }


def _unheld(
    entry: RegistryEntry | None, number: str | None, problem: ClaimProblem, via: str | None, why: str, **kw: object
) -> Binding:
    return Binding(
        BindingStatus.CLAIMS_UNHELD_LICENCE,
        entry=entry,
        via=via,
        claimed_licence=number,
        claim_problem=problem,
        explanation=why,
        **kw,  # type: ignore[arg-type]
    )


def _mentions(text: str, entry: RegistryEntry) -> bool:
    """Whether ``text`` names ``entry`` (its name or an alias, suffixes stripped, any length).

    Used for stated numbers, where a short personal name ("王建国") in a display name
    ("中信证券王建国") is enough: the number already picks the entry.
    """
    spaced = spaced_key(text)
    for name in entry.names:
        core = strip_suffixes(spaced_key(name))
        if len(compact_key(core)) >= 2 and _contains_at_boundary(spaced, core):
            return True
    return False


def _full_core(entry: RegistryEntry) -> str:
    return compact_key(strip_suffixes(spaced_key(entry.name)))


def _validity_problem(entry: RegistryEntry, on: date) -> ClaimProblem:
    return ClaimProblem.EXPIRED if entry.validity_on(on) == "expired" else ClaimProblem.NOT_YET_VALID


def _describe_validity(entry: RegistryEntry, on: date) -> str:
    if entry.validity_on(on) == "expired":
        return f"expired on {entry.valid_to}"
    return f"not valid before {entry.valid_from}"


def bind_account(
    registry: Registry,
    *,
    declared_licence: str | None,
    display_name: str,
    bio: str | None = None,
    on: date,
    threshold: float = BIND_THRESHOLD,
    bind_persons_by_name: bool = False,
) -> Binding:
    """Bind an account to a registry entry, or say what it claims that it does not hold.

    In order:

    1. ``declared_licence`` (a number the platform has on file for the account):
       held and in force -> ``bound`` via ``declared`` (it wins whatever the name);
       unknown, expired or not yet valid -> ``claims_unheld_licence``.
    2. Numbers stated in the display name or bio: each must be held, in force, and
       held by an entry the display name matches (any reason, containment
       included); otherwise ``claims_unheld_licence`` (``held_by_other`` when the
       number is someone else's). All good -> ``bound`` via ``stated``.
    3. The display name: the best match at or above ``threshold`` binds when one
       entry alone has the top score (persons only with ``bind_persons_by_name``:
       personal names are not unique). In force -> ``bound``; not in force ->
       ``claims_unheld_licence`` if the account claims a licence, else ``lapsed``.
    4. Nothing bound but the account claims a licence ("持牌", "licensed") ->
       ``claims_unheld_licence`` (``no_licence_found``); otherwise ``unbound``.
    """
    matches = match_name(registry, display_name)
    by_entry = {m.entry.id: m for m in matches}

    declared = (declared_licence or "").strip()
    if declared:
        entry = registry.by_licence(declared)
        if entry is None:
            why = f"declared licence {declared!r} is not in the registry"
            return _unheld(None, declared, ClaimProblem.NOT_IN_REGISTRY, "declared", why, candidates=tuple(matches[:5]))
        if not entry.valid_on(on):
            why = f"declared licence {declared!r} of {entry.name!r} {_describe_validity(entry, on)}"
            return _unheld(entry, declared, _validity_problem(entry, on), "declared", why)
        why = f"declared licence {declared!r} is held by {entry.name!r} and in force on {on}"
        return Binding(BindingStatus.BOUND, entry, "declared", by_entry.get(entry.id), declared, explanation=why)

    claim = find_licence_claims(" ".join(t for t in (display_name, bio or "") if t), registry)
    stated: list[tuple[RegistryEntry, str]] = []
    for number in claim.numbers:
        entry = registry.by_licence(number)
        if entry is None:
            why = f"stated licence {number!r} is not in the registry"
            return _unheld(None, number, ClaimProblem.NOT_IN_REGISTRY, "stated", why, candidates=tuple(matches[:5]))
        if not entry.valid_on(on):
            why = f"stated licence {number!r} of {entry.name!r} {_describe_validity(entry, on)}"
            return _unheld(
                entry, number, _validity_problem(entry, on), "stated", why, name_match=by_entry.get(entry.id)
            )
        if entry.id not in by_entry and not _mentions(display_name, entry):
            why = f"stated licence {number!r} is held by {entry.name!r}, whose name the display name does not match"
            return _unheld(entry, number, ClaimProblem.HELD_BY_OTHER, "stated", why)
        stated.append((entry, number))
    if stated:
        entry, number = max(stated, key=lambda p: by_entry[p[0].id].score if p[0].id in by_entry else 0.0)
        why = f"stated licence {number!r} is held by {entry.name!r}, in force, and the display name names it"
        return Binding(BindingStatus.BOUND, entry, "stated", by_entry.get(entry.id), number, explanation=why)

    eligible = [m for m in matches if bind_persons_by_name or m.entry.kind is EntityKind.INSTITUTION]
    top = [m for m in eligible if m.score >= threshold and m.score == eligible[0].score] if eligible else []
    also: tuple[RegistryEntry, ...] = ()
    if len(top) > 1:
        in_force = [m for m in top if m.entry.valid_on(on)]
        if in_force:
            top = in_force  # a renewed licence beats the lapsed one
        if len({_full_core(m.entry) for m in top}) == 1:  # one entity holding several licences
            top, also = top[:1], tuple(m.entry for m in top[1:])
    if len(top) == 1:
        m = top[0]
        rest = tuple(c for c in matches if c is not m and c.entry not in also)[:5]
        if m.entry.valid_on(on):
            why = f"display name matches {m.entry.name!r} ({m.reason.value}, {m.score}); licence in force on {on}"
            return Binding(BindingStatus.BOUND, m.entry, "name", m, candidates=rest, explanation=why, also_held=also)
        state = _describe_validity(m.entry, on)
        if claim.claims_licence:
            why = f"claims a licence; the display name matches {m.entry.name!r}, whose licence {state}"
            problem = _validity_problem(m.entry, on)
            return _unheld(m.entry, m.entry.licence_number, problem, "name", why, name_match=m, candidates=rest)
        why = f"display name matches {m.entry.name!r} ({m.reason.value}), whose licence {state}"
        return Binding(BindingStatus.LAPSED, m.entry, "name", m, candidates=rest, explanation=why)
    if len(top) > 1:
        names = ", ".join(repr(m.entry.name) for m in top)
        note = f"display name matches several entries equally ({names}); not bound"
    else:
        note = "no registry entry matches the display name closely enough"
        if matches:
            m = matches[0]
            note += f" (closest: {m.entry.name!r}, {m.reason.value}, {m.score})"
    if claim.claims_licence:
        why = f"claims a licence ({', '.join(claim.words)}) but {note}"
        return _unheld(None, None, ClaimProblem.NO_LICENCE_FOUND, None, why, candidates=tuple(matches[:5]))
    return Binding(BindingStatus.UNBOUND, candidates=tuple(matches[:5]), explanation=note)
