"""The engine's bit-mask rule screen picks exactly the rules the set-based definition picks.

Definition (``Engine._screen``'s docstring): the rules one of whose trigger sets met
the post (or that have none), that apply to the post's language, and whose every
``when`` requirement met the post (``CompiledRule.may_fire``), in rule order.
"""

from __future__ import annotations

import random

import pytest

from qinglang.detect.engine import Engine
from qinglang.detect.rules import CompiledRule

ENTITY_TYPES = ["phone", "wechat", "qq", "telegram", "whatsapp", "email", "url", "domain", "stock_code",
                "wallet", "bank_card", "amount", "promise"]
LANGS = [None, "zh", "en", "it", "fr"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def _trigger(rule: CompiledRule) -> tuple[frozenset[int], frozenset[str]] | None:
    """The trigger set the engine indexes a rule by: its smallest non-empty one."""
    best = None
    for cond in rule.when:
        t = cond.triggers()
        if t is not None and (t[0] or t[1]) and (best is None or len(t[0]) + len(t[1]) < len(best[0]) + len(best[1])):
            best = t
    return best


def _reference(engine: Engine, occ: dict, ents: dict, lang: str | None) -> tuple[CompiledRule, ...]:
    out = []
    for rule in engine.rules:
        trig = _trigger(rule)
        triggered = trig is None or not trig[0].isdisjoint(occ) or not trig[1].isdisjoint(ents)
        if triggered and rule.applies_to(lang) and rule.may_fire(occ, ents):
            out.append(rule)
    return tuple(out)


def test_screen_matches_the_set_definition_on_random_posts(engine):
    rnd = random.Random(20261121)
    # terms the rules are triggered by, so that posts reach many rules, plus any term
    hot = sorted({tid for r in engine.rules for c in r.when for q in c.reqs for tid in q.terms})
    every = range(len(engine.matcher.terms))
    fired_some = 0
    for _ in range(3000):
        terms = rnd.sample(hot, rnd.randrange(0, 14)) + rnd.sample(every, rnd.randrange(0, 4))
        occ = {t: [(0, 0, 1, True)] for t in terms}
        ents = {t: [] for t in rnd.sample(ENTITY_TYPES, rnd.randrange(0, 4))}
        lang = rnd.choice(LANGS)
        got = engine._screen(occ, ents, lang)
        assert got == _reference(engine, occ, ents, lang), (sorted(occ), sorted(ents), lang)
        fired_some += bool(got)
    assert fired_some > 500  # the sample reaches rules, not only empty screens


def test_unknown_language_gets_only_rules_for_any_language(engine):
    got = engine._screen({t: [] for t in range(len(engine.matcher.terms))}, {}, "xx")
    assert all(not r.langs for r in got)
    assert "xx" not in engine._by_lang  # no entry is made per language seen
