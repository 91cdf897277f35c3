"""Policy pack rules compiled into fast, explainable checks.

A pack's conditions refer to terms, word lists and entity types by name; compiling
resolves every reference to a *requirement*: a set of term ids of the shared
:class:`~qinglang.detect.matcher.TermMatcher` plus a set of entity types. Evaluating
a condition then needs only dictionary look-ups on the post's occurrences, and each
satisfied condition returns the spans that satisfied it, which become the verdict's
evidence.

Each rule is indexed by the trigger set of one of its non-regex ``when`` conditions
(every ``when`` condition must hold, so any one of them is necessary): a post only
evaluates the rules whose triggers occurred in it, and a post with no occurrences
evaluates none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import regex

from qinglang import errors
from qinglang.detect.matcher import TermMatcher, _spans
from qinglang.entities.types import expand_entity_ref
from qinglang.errors import QLError
from qinglang.model import Entity
from qinglang.policy.loader import Pack
from qinglang.policy.schema import Condition
from qinglang.text.normalize import Normalizer

#: Requirement.spans's term part in C, where qinglang.detect._spans is built (setup.py)
_term_spans = getattr(_spans, "term_spans", None) if _spans is not None else None

#: evidence span: (field index, normalized start, normalized end, label)
Span = tuple[int, int, int, str]

#: how many evidence spans one condition reports at most
MAX_SPANS = 4


class RegexTimedOut(Exception):
    """A regex condition ran past its time budget on one field."""


@dataclass(slots=True)
class PostContext:
    """What one post offers to the rules, gathered once per post."""

    texts: list[str]  # normalized text per field index
    occ: dict[int, list[tuple[int, int, int, bool]]]  # term id -> (field, start, end, bounded)
    ents: dict[str, list[tuple[int, Entity]]]  # entity type -> (field index, entity)
    regex_timeout: float
    timed_out: list[str] = field(default_factory=list)
    #: the term ids of ``occ`` as a set (the engine has it already, for its rule screen)
    keys: frozenset[int] = frozenset()
    #: term id -> rank of its first occurrence (built on first need; see ``Requirement._present``)
    order: dict[int, int] | None = None

    def __post_init__(self) -> None:
        if self.occ and not self.keys:
            self.keys = frozenset(self.occ)

    def rank(self) -> dict[int, int]:
        order = self.order
        if order is None:
            order = self.order = {tid: i for i, tid in enumerate(self.occ)}
        return order


@dataclass(frozen=True, slots=True)
class Requirement:
    terms: frozenset[int]
    entities: frozenset[str]
    #: entity types in a fixed order: iterating a set of strings would follow the
    #: per-process hash seed and make evidence order differ between runs
    entity_order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "entity_order", tuple(sorted(self.entities)))

    def _present(self, ctx: PostContext) -> list[int]:
        """Term ids of this requirement that occur in the post, in order of appearance.

        The intersection runs in C over the smaller of the two sets (a word list of
        hundreds, or a flagged post's few dozen term ids); only when more than one
        term is present are they put back in the order a reader meets them.
        """
        found = self.terms & ctx.keys
        if len(found) < 2:
            return list(found)
        return sorted(found, key=ctx.rank().__getitem__)

    def spans(self, ctx: PostContext, word: bool, fields: frozenset[int] | None, limit: int) -> list[Span]:
        """Evidence: the requirement's term occurrences in the order a reader meets the
        terms, then its entities; with ``word`` only occurrences on word boundaries,
        with ``fields`` only in those fields; at most ``limit``."""
        out: list[Span] = []
        if _term_spans is not None:
            if self.terms and _term_spans(self.terms, ctx.occ, word, fields, limit, out) >= limit:
                return out
        elif self.terms and ctx.occ:
            for tid in self._present(ctx):
                for fi, s, e, bounded in ctx.occ[tid]:
                    if word and not bounded:
                        continue
                    if fields is not None and fi not in fields:
                        continue
                    out.append((fi, s, e, ""))
                    if len(out) >= limit:
                        return out
        if self.entities and ctx.ents:
            for etype in self.entity_order:
                for fi, ent in ctx.ents.get(etype, ()):
                    if fields is not None and fi not in fields:
                        continue
                    out.append((fi, ent.nstart, ent.nend, ent.value))
                    if len(out) >= limit:
                        return out
        return out

    def met(self, ctx: PostContext, word: bool, fields: frozenset[int] | None) -> bool:
        """Whether :meth:`spans` would find anything: a test, not evidence (for ``unless``)."""
        if _term_spans is not None:
            if self.terms and _term_spans(self.terms, ctx.occ, word, fields, 1, None):
                return True
        elif self.terms and ctx.keys:
            if not word and fields is None:
                if not self.terms.isdisjoint(ctx.keys):
                    return True
            else:
                occ = ctx.occ
                for tid in self.terms & ctx.keys:
                    for fi, _s, _e, bounded in occ[tid]:
                        if (not word or bounded) and (fields is None or fi in fields):
                            return True
        if self.entities and ctx.ents:
            if fields is None:
                return not self.entities.isdisjoint(ctx.ents)
            for etype in self.entity_order:
                for fi, _ent in ctx.ents.get(etype, ()):
                    if fi in fields:
                        return True
        return False

    def distinct(self, ctx: PostContext, word: bool, fields: frozenset[int] | None) -> set[object]:
        seen: set[object] = set()
        if self.terms and ctx.occ:
            for tid in self._present(ctx):
                for fi, _s, _e, bounded in ctx.occ[tid]:
                    if (not word or bounded) and (fields is None or fi in fields):
                        seen.add(tid)
                        break
        if self.entities and ctx.ents:
            for etype in self.entity_order:
                for fi, ent in ctx.ents.get(etype, ()):
                    if fields is None or fi in fields:
                        seen.add(ent.value)
        return seen


class CompiledCondition:
    """One ``when``/``unless`` condition, ready to evaluate."""

    __slots__ = ("kind", "min", "ordered", "pattern", "reqs", "source", "within")

    def __init__(self, kind: str, reqs: list[Requirement], source: str, *, within: int = 0,
                 ordered: bool = False, minimum: int = 0, pattern: regex.Pattern[str] | None = None) -> None:
        self.kind = kind
        self.reqs = reqs
        self.within = within
        self.ordered = ordered
        self.min = minimum
        self.pattern = pattern
        self.source = source

    def necessary(self) -> list[Requirement]:
        """Requirements each of which must meet the post for this condition to hold."""
        if self.kind == "regex":
            return []
        if self.kind in ("all", "near"):
            return list(self.reqs)
        return [self.triggers_req()]

    def triggers_req(self) -> Requirement:
        terms: set[int] = set()
        ents: set[str] = set()
        for r in self.reqs:
            terms |= r.terms
            ents |= r.entities
        return Requirement(frozenset(terms), frozenset(ents))

    def triggers(self) -> tuple[frozenset[int], frozenset[str]] | None:
        """Terms/entities of which at least one must occur for this to hold (None: any post)."""
        if self.kind == "regex":
            return None
        if self.kind == "all" or self.kind == "near":
            # the rarest requirement would be best; the first is necessary too
            r = self.reqs[0]
            return r.terms, r.entities
        terms: set[int] = set()
        ents: set[str] = set()
        for r in self.reqs:
            terms |= r.terms
            ents |= r.entities
        return frozenset(terms), frozenset(ents)

    def holds(self, ctx: PostContext, word: bool, fields: frozenset[int] | None) -> bool:
        """Whether the condition holds, without collecting its evidence (``unless``
        conditions need no evidence, and most of them are ``any`` of a word list)."""
        if self.kind == "any" or self.kind == "entity":
            return self.reqs[0].met(ctx, word, fields)
        return self.evaluate(ctx, word, fields) is not None

    def evaluate(self, ctx: PostContext, word: bool, fields: frozenset[int] | None) -> list[Span] | None:
        """Evidence spans when the condition holds, else None."""
        kind = self.kind
        if kind == "any" or kind == "entity":
            spans = self.reqs[0].spans(ctx, word, fields, MAX_SPANS)
            return spans or None
        if kind == "all":
            out: list[Span] = []
            for r in self.reqs:
                spans = r.spans(ctx, word, fields, 1)
                if not spans:
                    return None
                out.extend(spans)
            return out
        if kind == "count":
            r = self.reqs[0]
            if len(r.distinct(ctx, word, fields)) < self.min:
                return None
            return r.spans(ctx, word, fields, max(self.min, MAX_SPANS))
        if kind == "near":
            a = self.reqs[0].spans(ctx, word, fields, 64)
            if not a:
                return None
            b = self.reqs[1].spans(ctx, word, fields, 64)
            for sa in a:
                for sb in b:
                    if sa[0] != sb[0]:
                        continue
                    if self.ordered:
                        gap = sb[1] - sa[2]
                        if gap < -(sa[2] - sa[1]):
                            continue
                    else:
                        gap = max(sb[1] - sa[2], sa[1] - sb[2])
                    if gap <= self.within:
                        return [sa, sb]
            return None
        if kind == "regex":
            assert self.pattern is not None
            for fi, text in enumerate(ctx.texts):
                if fields is not None and fi not in fields:
                    continue
                try:
                    m = self.pattern.search(text, timeout=ctx.regex_timeout)
                except TimeoutError:
                    ctx.timed_out.append(self.source)
                    continue
                if m is not None and m.end() > m.start():
                    return [(fi, m.start(), m.end(), "")]
            return None
        raise AssertionError(kind)


@dataclass(slots=True)
class CompiledRule:
    id: str
    category: str
    score: float
    description: str
    pack: str
    pack_version: str
    word: bool
    langs: frozenset[str]
    when: list[CompiledCondition]
    unless: list[CompiledCondition]
    fields: frozenset[str] | None
    per_field: bool
    suppress: frozenset[str] = frozenset()
    is_allow: bool = False
    #: (terms, entity types) pairs, each of which the post must meet (see ``may_fire``)
    needs: list[tuple[frozenset[int], frozenset[str]]] = field(default_factory=list)

    #: the ``detail`` every hit of this rule carries; one dict shared by all of them (read-only)
    hit_detail: dict[str, str] | None = None

    def __post_init__(self) -> None:
        self.needs = [(r.terms, r.entities) for c in self.when for r in c.necessary()]
        self.hit_detail = {"description": self.description} if self.description else None

    def may_fire(self, occ: dict[int, object], ents: dict[str, object]) -> bool:
        """Cheap necessary check: every ``when`` condition's requirements occur somewhere.

        Set operations in C, run before any span is collected; most candidate rules
        of a benign finance post stop here.
        """
        for terms, etypes in self.needs:
            if terms.isdisjoint(occ) and etypes.isdisjoint(ents):
                return False
        return True

    def applies_to(self, lang: str | None) -> bool:
        return not self.langs or lang is None or lang in self.langs

    def evaluate(self, ctx: PostContext, field_names: list[str]) -> list[Span] | None:
        """Evidence of a firing rule (``when`` all hold, no ``unless`` holds), else None."""
        allowed: frozenset[int] | None = None
        if self.fields is not None:
            allowed = frozenset(i for i, n in enumerate(field_names) if n in self.fields)
            if not allowed:
                return None
        if not self.per_field:
            return self._evaluate_in(ctx, allowed)
        for fi in range(len(field_names)):
            if allowed is not None and fi not in allowed:
                continue
            spans = self._evaluate_in(ctx, frozenset((fi,)))
            if spans:
                return spans
        return None

    def _evaluate_in(self, ctx: PostContext, fields: frozenset[int] | None) -> list[Span] | None:
        evidence: list[Span] = []
        for cond in self.when:
            spans = cond.evaluate(ctx, self.word, fields)
            if spans is None:
                return None
            evidence.extend(spans)
        for cond in self.unless:
            if cond.holds(ctx, self.word, fields):
                return None
        return evidence


class RuleCompiler:
    """Turns packs into compiled rules sharing one :class:`TermMatcher`."""

    def __init__(self, normalizer: Normalizer, matcher: TermMatcher) -> None:
        self.normalizer = normalizer
        self.matcher = matcher
        self._term_cache: dict[str, int] = {}

    def compile_pack(self, pack: Pack) -> list[CompiledRule]:
        doc = pack.doc
        word = doc.boundary == "word"
        langs = frozenset(doc.langs)
        out: list[CompiledRule] = []
        for r in doc.rules:
            out.append(
                CompiledRule(
                    id=r.id, category=r.category, score=r.score, description=r.description,
                    pack=doc.pack, pack_version=doc.version, word=word, langs=langs,
                    when=[self._condition(pack, c, r.id) for c in r.when],
                    unless=[self._condition(pack, c, r.id) for c in r.unless],
                    fields=frozenset(r.fields) if r.fields else None,
                    per_field=r.scope == "field",
                )
            )
        for a in doc.allow:
            out.append(
                CompiledRule(
                    id=a.id, category="", score=0.0, description=a.description,
                    pack=doc.pack, pack_version=doc.version, word=word, langs=langs,
                    when=[self._condition(pack, c, a.id) for c in a.when], unless=[],
                    fields=None, per_field=False, suppress=frozenset(a.suppress), is_allow=True,
                )
            )
        return out

    def _term_id(self, term: str, pack: Pack, rule_id: str) -> int:
        tid = self._term_cache.get(term)
        if tid is None:
            norm = self.normalizer.normalize_term(term)
            if not norm:
                raise QLError(errors.PACK_EMPTY_TERM,
                              f"{pack.path}: rule {rule_id}: term {term!r} is empty once normalized")
            tid = self.matcher.add(norm)
            self._term_cache[term] = tid
        return tid

    def _requirement(self, pack: Pack, refs: Iterable[str], rule_id: str) -> Requirement:
        terms: set[int] = set()
        ents: set[str] = set()
        for ref in refs:
            if ref.startswith("@"):
                for t in pack.doc.lists[ref[1:]]:
                    terms.add(self._term_id(t, pack, rule_id))
            elif ref.startswith("$"):
                ents |= expand_entity_ref(ref[1:])
            else:
                terms.add(self._term_id(ref, pack, rule_id))
        return Requirement(frozenset(terms), frozenset(ents))

    def _condition(self, pack: Pack, c: Condition, rule_id: str) -> CompiledCondition:
        src = f"{rule_id}:{c.kind}"
        if c.any is not None:
            return CompiledCondition("any", [self._requirement(pack, c.any, rule_id)], src)
        if c.entity is not None:
            refs = [n if n.startswith("$") else "$" + n for n in c.entity]
            return CompiledCondition("entity", [self._requirement(pack, refs, rule_id)], src)
        if c.all is not None:
            return CompiledCondition("all", [self._requirement(pack, [x], rule_id) for x in c.all], src)
        if c.near is not None:
            return CompiledCondition(
                "near",
                [self._requirement(pack, c.near.a, rule_id), self._requirement(pack, c.near.b, rule_id)],
                src, within=c.near.within, ordered=c.near.ordered,
            )
        if c.count is not None:
            return CompiledCondition("count", [self._requirement(pack, c.count.of, rule_id)], src,
                                     minimum=c.count.min)
        assert c.regex is not None
        return CompiledCondition("regex", [], src, pattern=regex.compile(c.regex))
