"""The detection engine: from a batch of posts to explained verdicts.

Every front (CLI, HTTP API, stream worker, batch sweep) calls :meth:`Engine.detect`
on batches; none re-implements it. Per post the engine normalizes each text field
once, extracts entities, scans all packs' terms with one automaton, evaluates only
the rules whose trigger terms occurred, combines rule scores per category by
noisy-or, applies allow-list exemptions and thresholds, and maps every piece of
evidence back to the exact span of the original field.
"""

from __future__ import annotations

import difflib
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qinglang import ENGINE_VERSION, errors
from qinglang.detect.matcher import TermMatcher
from qinglang.detect.rules import CompiledRule, PostContext, RuleCompiler, Span
from qinglang.entities import extract_entities_many, gate
from qinglang.errors import QLError
from qinglang.model import SEVERITY_RANK, CategoryScore, Entity, Hit, Post, Verdict
from qinglang.policy.loader import CategoryInfo, Pack, load_packs, taxonomy
from qinglang.text.normalize import Normalizer, default_normalizer
from qinglang.text.offsets import NormalizedText

if TYPE_CHECKING:
    from qinglang.learn import TextClassifier

#: at most this many evidence hits per rule in a verdict
MAX_HITS_PER_RULE = 4
#: n-grams shown as a model's evidence per flagged category
MODEL_FEATURES = 5

#: keys of the rule screen kept before the cache starts again (a few MB at most)
SCREEN_CACHE_SIZE = 50_000

#: posts analyzed stage by stage at a time (Engine._analyze). Enough for each stage's
#: code to stay warm across posts; few enough that a chunk's intermediate objects die
#: young: with whole batches of 1,024 they outlived the collector's young generations
#: and, where a process had not tuned its GC (qinglang.scan.tune_gc_for_batch), full
#: collections cost more than staging saved (21 µs a post against 8; 10 at 64).
STAGE_CHUNK = 64

#: how an engine scores: rules alone, the learned model alone, or both combined
MODES = ("rules", "model", "combined")

log = logging.getLogger(__name__)


class _PostState:
    """What the engine learned about one post before scoring it.

    A plain slotted class: one is made per post, and most posts fire nothing, so the
    rule results start as shared empty values and are replaced only when a rule ran.
    """

    __slots__ = ("entities", "fired", "names", "norms", "post", "suppressed", "timed_out")

    def __init__(self, post: Post, names: list[str], norms: list[NormalizedText], entities: list[Entity]) -> None:
        self.post = post
        self.names = names
        self.norms = norms
        self.entities = entities
        self.fired: list[tuple[CompiledRule, list[Span]]] = _NO_FIRED
        self.suppressed: frozenset[str] = frozenset()
        self.timed_out: list[str] = _NO_TIMEOUTS


#: shared "nothing" values of a _PostState (never mutated: _analyze assigns new ones)
_NO_FIRED: list[tuple[CompiledRule, list[Span]]] = []
_NO_TIMEOUTS: list[str] = []


def _noisy_or(items: list[tuple[CompiledRule, list[Span]]]) -> float:
    miss = 1.0
    for rule, _ in items:
        miss *= 1.0 - rule.score
    return 1.0 - miss


class Engine:
    """Scans batches of posts with policy packs and returns one Verdict per post."""

    def __init__(
        self,
        packs: list[Pack] | None = None,
        *,
        normalizer: Normalizer | None = None,
        regex_timeout: float = 0.05,
        model: TextClassifier | None = None,
        mode: str | None = None,
        thresholds: dict[str, float] | None = None,
    ) -> None:
        """``model``: a learned classifier to combine with the rules (None: rules only).

        ``mode``: "rules", "model" (the classifier alone, for comparison) or
        "combined" (default when a model is given).

        ``thresholds``: category code → the threshold its final score must reach,
        replacing whichever one would decide it (the packs' rule threshold, the
        model's, or the combined one). It exists so a candidate setting can be tried
        (``qinglang eval --compare``) without editing packs or retraining; the
        overrides are stamped in ``versions`` so such verdicts are never mistaken
        for the shipped configuration's.
        """
        self.model = model
        self.mode = mode or ("combined" if model is not None else "rules")
        if self.mode not in MODES:
            raise QLError(errors.BAD_OPTION, f"unknown engine mode '{self.mode}'", hint=", ".join(MODES))
        if self.mode != "rules" and model is None:
            raise QLError(errors.BAD_OPTION, f"mode '{self.mode}' needs a model")
        self._threshold_override = self._check_thresholds(thresholds)
        if model is not None and not model.normalizer_matches():
            log.warning("model %s %s was trained with a different normalizer; retrain it (docs/model.md)",
                        model.name, model.version)
        self.packs = packs if packs is not None else load_packs()
        self.normalizer = normalizer or default_normalizer()
        self.regex_timeout = regex_timeout
        self.matcher = TermMatcher()
        compiler = RuleCompiler(self.normalizer, self.matcher)
        self.rules: list[CompiledRule] = []
        for pack in self.packs:
            self.rules.extend(compiler.compile_pack(pack))
        #: the entity prescan runs inside the term scan (one Hyperscan pass a text)
        self._merged_prescan = gate.hyperscan is not None and self.matcher.attach_prescan(gate.hyperscan_items)
        self.matcher.build()
        self._index_rules()
        #: (term ids, entity types, lang) -> the rules worth evaluating (see ``_screen``)
        self._screen_cache: dict[tuple[frozenset[int], frozenset[str], str | None], tuple[CompiledRule, ...]] = {}
        self._category_settings()
        self._versions: dict[str, Any] = {
            "engine": ENGINE_VERSION,
            "packs": {p.name: p.version for p in self.packs},
        }
        if model is not None:
            self._versions["model"] = {"name": model.name, "version": model.version, "mode": self.mode}
            self._model_index = {c: j for j, c in enumerate(model.labels)}
        if self._threshold_override:
            self._versions["thresholds"] = dict(sorted(self._threshold_override.items()))

    @classmethod
    def from_options(cls, packs: list[str] | None = None, model: str | None = None,
                     mode: str | None = None, thresholds: dict[str, float] | None = None) -> Engine:
        """Build from command-line style options.

        ``model``: a model directory, "default" for the bundled model, or None for
        rules only. ``thresholds``: per-category overrides (see ``__init__``).
        """
        clf = None
        if model is not None:
            from qinglang.learn import TextClassifier, default_model

            clf = default_model() if model == "default" else TextClassifier.load(model)
        return cls(load_packs(packs) if packs else None, model=clf, mode=mode, thresholds=thresholds)

    @staticmethod
    def _check_thresholds(thresholds: dict[str, float] | None) -> dict[str, float]:
        """Known codes and values in [0, 1]: a typo would otherwise silently change nothing."""
        if not thresholds:
            return {}
        known = taxonomy()
        out: dict[str, float] = {}
        for code, value in thresholds.items():
            if code not in known:
                near = difflib.get_close_matches(code, list(known), n=1)
                raise QLError(errors.BAD_OPTION, f"threshold for unknown category '{code}'",
                              hint=f"did you mean '{near[0]}'?" if near else None)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise QLError(errors.BAD_OPTION, f"threshold for '{code}' must be a number in [0, 1], not {value!r}")
            out[code] = float(value)
        return out

    # --- set-up -------------------------------------------------------------------

    def _index_rules(self) -> None:
        """Index each rule by the terms/entities one of its conditions needs, as bit masks.

        Rule ``i`` is bit ``i`` of a rule mask; every distinct requirement a rule's
        ``when`` conditions need (``CompiledRule.needs``) is one bit of a need mask.
        A post's occurring terms and entity types then give, by OR-ing a few ints,
        the rules they trigger and the needs they meet (see :meth:`_screen`).
        """
        by_term: dict[int, int] = defaultdict(int)
        by_entity: dict[str, int] = defaultdict(int)
        need_ids: dict[tuple[frozenset[int], frozenset[str]], int] = {}
        need_by_term: dict[int, int] = defaultdict(int)
        need_by_entity: dict[str, int] = defaultdict(int)
        self._rule_needs: list[int] = []
        self._always = 0
        for ri, rule in enumerate(self.rules):
            bit = 1 << ri
            trig = None
            for cond in rule.when:
                t = cond.triggers()
                if t is not None and (t[0] or t[1]):
                    if trig is None or len(t[0]) + len(t[1]) < len(trig[0]) + len(trig[1]):
                        trig = t
            if trig is None:
                self._always |= bit
            else:
                for tid in trig[0]:
                    by_term[tid] |= bit
                for etype in trig[1]:
                    by_entity[etype] |= bit
            needs = 0
            for need in rule.needs:
                j = need_ids.get(need)
                if j is None:
                    j = need_ids[need] = len(need_ids)
                    for tid in need[0]:
                        need_by_term[tid] |= 1 << j
                    for etype in need[1]:
                        need_by_entity[etype] |= 1 << j
                needs |= 1 << j
            self._rule_needs.append(needs)
        self._by_term = dict(by_term)
        self._by_entity = dict(by_entity)
        self._need_by_term = dict(need_by_term)
        self._need_by_entity = dict(need_by_entity)
        #: rules for any language (no ``langs`` in their pack), and per language those plus its own
        self._any_lang = sum(1 << ri for ri, r in enumerate(self.rules) if not r.langs)
        self._by_lang: dict[str, int] = {}
        for ri, rule in enumerate(self.rules):
            for lang in rule.langs:
                self._by_lang[lang] = self._by_lang.get(lang, self._any_lang) | 1 << ri

    def _category_settings(self) -> None:
        tax = taxonomy()
        self._severity = {c: info.severity for c, info in tax.items()}
        self._review_only = {c: info.review_only for c, info in tax.items()}
        self._threshold: dict[tuple[str, str], float] = {}
        self._escalate: dict[str, str] = {}
        for pack in self.packs:
            for code, cdef in pack.doc.categories.items():
                self._threshold[(pack.name, code)] = cdef.threshold
                if cdef.severity:
                    self._severity[code] = cdef.severity
                if cdef.review_only is not None:
                    self._review_only[code] = cdef.review_only
                if cdef.escalate_with_other:
                    self._escalate[code] = cdef.escalate_with_other

    # --- public API ---------------------------------------------------------------

    @property
    def taxonomy(self) -> dict[str, CategoryInfo]:
        return taxonomy()

    @property
    def versions(self) -> dict[str, Any]:
        return self._versions

    def detect_text(self, text: str, *, post_id: str = "-", lang: str | None = None) -> Verdict:
        return self.detect([Post(id=post_id, text=text, lang=lang)])[0]

    def detect(self, posts: Sequence[Post]) -> list[Verdict]:
        """One verdict per post, in order.

        The batch is analyzed in chunks of :data:`STAGE_CHUNK` posts, each stage by
        stage (see :meth:`_analyze`); with a model, the classifier then runs once on
        the whole batch (its cost is per batch, not per post).
        """
        analyze, k = self._analyze, STAGE_CHUNK
        if self.model is None:
            finish = self._finish
            return [finish(st) for i in range(0, len(posts), k) for st in analyze(posts[i:i + k])]
        states = [st for i in range(0, len(posts), k) for st in analyze(posts[i:i + k])]
        probs = self.model.predict_proba(["\n".join(nt.text for nt in st.norms) for st in states])
        return [self._finish(st, probs[i]) for i, st in enumerate(states)]

    def category_scores(self, posts: Sequence[Post]) -> list[dict[str, float]]:
        """Per post, the rules' noisy-or score per category before thresholds.

        Allow-list exemptions are applied. This is what a learned model is combined
        with, and what training uses to fit the combination.
        """
        out: list[dict[str, float]] = []
        for state in self._analyze(posts):
            scores: dict[str, float] = {}
            for code, items in self._by_category(state).items():
                scores[code] = _noisy_or(items)
            out.append(scores)
        return out

    # --- per post -----------------------------------------------------------------

    def _analyze(self, posts: Sequence[Post]) -> list[_PostState]:
        """Normalize, match, extract and evaluate candidate rules for a chunk of posts.

        Stage by stage over the chunk (every text normalized, then every text
        matched against the terms, then entities, then rules), not post by post: each
        stage's code and tables (the fold and rewrite, the term automaton, the
        extractors' patterns, the rules) then stay in the CPU caches for the whole
        chunk instead of evicting one another at every post. The same work in this
        order measured 13.4 -> 11.5 µs a post on the generated stream of
        ``benchmarks/scan_throughput.py``; what each post gets is unchanged.
        """
        normalize = self.normalizer.normalize
        names_of: list[list[str]] = []
        norms_of: list[list[NormalizedText]] = []
        for post in posts:
            fields = post.fields()
            if len(fields) == 1:  # most posts are one text
                names_of.append([fields[0][0]])
                norms_of.append([normalize(fields[0][1])])
            else:
                names_of.append([name for name, _ in fields])
                norms_of.append([normalize(raw) for _, raw in fields])
        find_into = self.matcher.find_into
        occs: list[dict[int, list[tuple[int, int, int, bool]]]] = []
        # the entity prescan's mask of each text, where the term scan ran it (else None)
        masks: list[int | None] = []
        for norms in norms_of:
            occ: dict[int, list[tuple[int, int, int, bool]]] = {}
            if len(norms) == 1:
                masks.append(find_into(norms[0].text, 0, occ))
            else:
                for fi, nt in enumerate(norms):
                    masks.append(find_into(nt.text, fi, occ))
            occs.append(occ)
        # per post: its entities, per field (more than one only in multi-field posts)
        if all(len(norms) == 1 for norms in norms_of):
            flat = extract_entities_many([norms[0] for norms in norms_of], [names[0] for names in names_of], masks)
            found_of: list[list[list[Entity]]] = [[found] for found in flat]
        else:
            flat = extract_entities_many([nt for norms in norms_of for nt in norms],
                                         [name for names in names_of for name in names], masks)
            found_of = []
            i = 0
            for norms in norms_of:
                found_of.append(flat[i:i + len(norms)])
                i += len(norms)
        states: list[_PostState] = []
        for post, names, norms, occ, found in zip(posts, names_of, norms_of, occs, found_of, strict=True):
            ents_by_type: dict[str, list[tuple[int, Entity]]] = {}
            if len(found) == 1:
                entities = found[0]
                for ent in entities:
                    ents_by_type.setdefault(ent.type, []).append((0, ent))
            else:
                entities = []
                for fi, field_found in enumerate(found):
                    entities.extend(field_found)
                    for ent in field_found:
                        ents_by_type.setdefault(ent.type, []).append((fi, ent))
            state = _PostState(post, names, norms, entities)
            if occ or ents_by_type or self._always:
                self._evaluate(state, occ, ents_by_type)
            states.append(state)
        return states

    def _evaluate(self, state: _PostState, occ: dict[int, list[tuple[int, int, int, bool]]],
                  ents_by_type: dict[str, list[tuple[int, Entity]]]) -> None:
        """Screen the rules for one post and record those that fire (or exempt it)."""
        lang = state.post.lang
        keys = frozenset(occ)
        key = (keys, frozenset(ents_by_type), lang)
        rules = self._screen_cache.get(key)
        if rules is None:
            rules = self._screen(occ, ents_by_type, lang)
            if len(self._screen_cache) >= SCREEN_CACHE_SIZE:
                self._screen_cache.clear()
            self._screen_cache[key] = rules
        if not rules:
            return
        names = state.names
        ctx = PostContext([nt.text for nt in state.norms], occ, ents_by_type, self.regex_timeout, keys=keys)
        fired: list[tuple[CompiledRule, list[Span]]] = []
        for rule in rules:
            spans = rule.evaluate(ctx, names)
            if spans is None:
                continue
            if rule.is_allow:
                state.suppressed |= rule.suppress
            else:
                fired.append((rule, spans))
        if fired:
            state.fired = fired
        if ctx.timed_out:
            state.timed_out = ctx.timed_out

    def _screen(self, occ: dict[int, Any], ents: dict[str, Any], lang: str | None) -> tuple[CompiledRule, ...]:
        """The rules worth evaluating on a post, in rule order.

        Those whose trigger terms or entity types occurred, that apply to the post's
        language and whose every ``when`` condition can still be met (what
        ``CompiledRule.may_fire`` says, here as one AND of bit masks per candidate
        rule: a post with many terms, flagged ones above all, misses the cache
        below more often than others and paid ~27 µs for the set-based screen).
        The answer depends only on which term ids and entity types occurred and on
        the language, so :meth:`_analyze` keeps it per such key: a stream repeats a
        few thousand keys (``{股票}``, ``{贷款, phone}``) far more often than it meets
        new ones, and the screen is most of the rule work on a benign post.
        """
        cands = self._always
        met = 0
        by_term, need_by_term = self._by_term, self._need_by_term
        for tid in occ:
            cands |= by_term.get(tid, 0)
            met |= need_by_term.get(tid, 0)
        for etype in ents:
            cands |= self._by_entity.get(etype, 0)
            met |= self._need_by_entity.get(etype, 0)
        if lang is not None:
            cands &= self._by_lang.get(lang, self._any_lang)
        rules, rule_needs = self.rules, self._rule_needs
        out: list[CompiledRule] = []
        while cands:  # lowest bit first: rule order
            low = cands & -cands
            ri = low.bit_length() - 1
            cands ^= low
            needs = rule_needs[ri]
            if needs & met == needs:  # may_fire: every need of its `when` conditions is met
                out.append(rules[ri])
        return tuple(out)

    def _by_category(self, state: _PostState) -> dict[str, list[tuple[CompiledRule, list[Span]]]]:
        by_cat: dict[str, list[tuple[CompiledRule, list[Span]]]] = {}
        suppressed = state.suppressed
        for rule, spans in state.fired:
            if "all" in suppressed or rule.category in suppressed:
                continue
            by_cat.setdefault(rule.category, []).append((rule, spans))
        return by_cat

    def _finish(self, state: _PostState, probs: Any = None) -> Verdict:
        if not state.fired and probs is None and not state.timed_out:
            # the common case, a post no rule fired on: what _verdict would return, without its work
            post = state.post
            return Verdict(post.id, [], "none", False, [], state.entities, self._versions,
                           post.account_id, post.platform)
        verdict = self._verdict(state, probs)
        if state.timed_out:
            verdict.degraded = [f"regex timeout: {s}" for s in state.timed_out]
        return verdict

    def _verdict(self, state: _PostState, probs: Any = None) -> Verdict:
        post, names, norms, entities = state.post, state.names, state.norms, state.entities
        by_cat = self._by_category(state) if self.mode != "model" else {}
        categories: list[CategoryScore] = []
        hits: list[Hit] = []
        mapped: dict[tuple[int, int, int], tuple[str, str, int, int, str]] = {}
        model_scored: set[str] = set()
        rules_decide: dict[str, float] = {}
        override = self._threshold_override
        if probs is not None:
            from qinglang.learn.combination import LazyLang, decide  # here: numpy/scipy load only with a model

            # combinations are validated per language: the post's lang, else a guess from its text (when needed)
            lang = LazyLang(post)
            for code, j in self._model_index.items():
                if self.mode != "model" and (code in state.suppressed or "all" in state.suppressed):
                    continue
                p = float(probs[j])
                items = by_cat.get(code, [])
                r = _noisy_or(items)
                if self.mode == "model":
                    score, threshold = p, override.get(code, self.model.thresholds[code])
                else:
                    decided = decide(self.model, code, lang, r, p, override.get(code))
                    if decided is None:
                        # no validated model path for this category and language: the rules decide
                        # (below); the model only adds its probability as evidence when they flag
                        if items:
                            rules_decide[code] = p
                        continue
                    score, threshold = decided
                model_scored.add(code)
                if score + 1e-9 < threshold:
                    continue
                categories.append(CategoryScore(code, score, self._severity[code], self._review_only[code],
                                                [r_.id for r_, _ in items]))
                for rule, spans in items:
                    hits.extend(self._hits(rule, spans, names, norms, mapped))
                hits.append(self._model_hit(code, p, r, score, norms))
        for code, items in by_cat.items():
            if code in model_scored:
                continue
            if code in override:
                threshold = override[code]
            else:
                threshold = min(self._threshold.get((rule.pack, code), 0.5) for rule, _ in items)
            score = _noisy_or(items)
            if score + 1e-9 < threshold:
                continue
            categories.append(CategoryScore(code, score, self._severity[code], self._review_only[code],
                                            [r.id for r, _ in items]))
            for rule, spans in items:
                hits.extend(self._hits(rule, spans, names, norms, mapped))
            if code in rules_decide:
                # the model did not decide here: its probability is shown, its n-grams are not
                # worth their cost (~0.1 ms a category)
                hits.append(self._model_hit(code, rules_decide[code], score, score, norms, explain=False))
        if not categories:
            return Verdict(post.id, [], "none", False, [], entities, self._versions,
                           post.account_id, post.platform)
        if len(categories) > 1:
            for c in categories:
                esc = self._escalate.get(c.code)
                if esc and SEVERITY_RANK[esc] > SEVERITY_RANK[c.severity]:
                    c.severity = esc
        categories.sort(key=lambda c: (-c.score, c.code))
        severity = max((c.severity for c in categories), key=SEVERITY_RANK.__getitem__)
        review_only = any(c.review_only for c in categories)
        return Verdict(post.id, categories, severity, review_only, hits, entities, self._versions,
                       post.account_id, post.platform)

    def _model_hit(self, code: str, p: float, rule_score: float, score: float,
                   norms: list[NormalizedText], explain: bool = True) -> Hit:
        """The model's evidence for one category: its probability and the n-grams that weighed most."""
        model = self.model
        assert model is not None
        feats: list[tuple[str, float]] = []
        if explain and p >= 0.05:
            feats = model.top_features("\n".join(nt.text for nt in norms), code, k=MODEL_FEATURES)
        return Hit(code, f"model:{model.name}", model.name, model.version, None,
                   " | ".join(g for g, _ in feats), None, None, None, p, kind="model",
                   detail={"probability": round(p, 4), "rule_score": round(rule_score, 4),
                           "combined": round(score, 4), "mode": self.mode,
                           "features": [{"ngram": g, "weight": round(w, 4)} for g, w in feats]})

    @staticmethod
    def _hits(rule: CompiledRule, spans: list[Span], names: list[str], norms: list[NormalizedText],
              mapped: dict[tuple[int, int, int], tuple[str, str, int, int, str]]) -> list[Hit]:
        """At most MAX_HITS_PER_RULE hits of one rule, each mapped to its original span.

        ``mapped`` is the post's span cache, shared by all its rules: a flagged post's
        rules often point at the same handle or phrase (half the spans of a generated
        suspicious stream repeat), and mapping back through the offset layers is
        the dearest part of a hit.
        """
        out: list[Hit] = []
        seen: set[tuple[int, int, int]] = set()
        category, rid, pack, pack_version, score, detail = (
            rule.category, rule.id, rule.pack, rule.pack_version, rule.score, rule.hit_detail)
        for fi, s, e, _label in spans:
            key = (fi, s, e)
            if key in seen:
                continue
            seen.add(key)
            m = mapped.get(key)
            if m is None:
                nt = norms[fi]
                os_, oe = nt.to_original(s, e) if nt.layers else (s, e)
                m = mapped[key] = (names[fi], nt.text[s:e], os_, oe, nt.original[os_:oe])
            out.append(Hit(category, rid, pack, pack_version, m[0], m[1], m[2], m[3], m[4], score, "rule", detail))
            if len(out) >= MAX_HITS_PER_RULE:
                break
        return out
