"""Requirement evidence: the C term walk (``_spans.term_spans``) gives what the Python
walk gives, and ``met`` (for ``unless``) says whether ``spans`` finds anything."""

from __future__ import annotations

import random

import pytest

from qinglang.detect import rules as rules_mod
from qinglang.detect.engine import Engine
from qinglang.detect.rules import PostContext, Requirement
from qinglang.model import Entity, Post

needs_c = pytest.mark.skipif(rules_mod._term_spans is None,
                             reason="qinglang.detect._spans is not built (no C compiler)")


def _context(rnd: random.Random, nterms: int) -> PostContext:
    occ: dict[int, list[tuple[int, int, int, bool]]] = {}
    for _ in range(rnd.randrange(0, 12)):
        tid = rnd.randrange(nterms)
        fi = rnd.randrange(3)
        s = rnd.randrange(50)
        occ.setdefault(tid, []).append((fi, s, s + rnd.randrange(1, 4), rnd.random() < 0.7))
    ents: dict[str, list[tuple[int, Entity]]] = {}
    for _ in range(rnd.randrange(0, 3)):
        etype = rnd.choice(["phone", "wechat", "qq"])
        fi = rnd.randrange(3)
        ent = Entity(etype, f"{etype}:{rnd.randrange(99)}", "text", 0, 1, "x", None, 0, 1)
        ents.setdefault(etype, []).append((fi, ent))
    return PostContext(["x" * 60] * 3, occ, ents, 0.05)


def _pure(fn, *args):
    saved = rules_mod._term_spans
    rules_mod._term_spans = None
    try:
        return fn(*args)
    finally:
        rules_mod._term_spans = saved


@needs_c
def test_c_and_python_term_walks_agree():
    rnd = random.Random(7)
    nterms = 20
    for _ in range(5000):
        ctx = _context(rnd, nterms)
        req = Requirement(frozenset(rnd.sample(range(nterms), rnd.choice((1, 2, 3, 4, 5, 12)))),
                          frozenset(rnd.sample(["phone", "wechat", "qq"], rnd.randrange(0, 2))))
        word = rnd.random() < 0.5
        fields = rnd.choice([None, frozenset({0}), frozenset({1, 2})])
        limit = rnd.choice((1, 2, 4, 64))
        assert req.spans(ctx, word, fields, limit) == _pure(req.spans, ctx, word, fields, limit)
        assert req.met(ctx, word, fields) == _pure(req.met, ctx, word, fields)


def test_met_is_whether_spans_finds_anything():
    rnd = random.Random(11)
    for _ in range(3000):
        ctx = _context(rnd, 10)
        req = Requirement(frozenset(rnd.sample(range(10), rnd.randrange(0, 4))),
                          frozenset(rnd.sample(["phone", "wechat"], rnd.randrange(0, 2))))
        word = rnd.random() < 0.5
        fields = rnd.choice([None, frozenset({2})])
        assert req.met(ctx, word, fields) == bool(req.spans(ctx, word, fields, 1))


@needs_c
def test_term_spans_rejects_bad_input():
    ts = rules_mod._term_spans
    with pytest.raises(TypeError):
        ts({1}, {}, False, None, 4, [])  # a set, not a frozenset
    with pytest.raises(TypeError):
        ts(frozenset({1}), {1: [(0, 1)]}, False, None, 4, [])  # occurrences are 4-tuples
    assert ts(frozenset({1}), {1: [(0, 0, 2, True)], 2: [(0, 3, 4, True)]}, False, None, 4, None) == 1


@needs_c
def test_engine_verdicts_equal_with_and_without_the_c_walk():
    engine = Engine()
    texts = [
        "老师带单，今日牛股600519必涨，进VIP群加薇❤信：a b c 1 2 3",
        "黑户可贷，征信花也能贷，包下款！联系扣扣 12345678",
        "信用卡套现、代还、提额，手续费低，电话138 0013 8000",
        "Send 1 ETH and get 2 ETH back! Giveaway live, claim at abc-eth.com",
        "Rendimento garantito del 5% al mese, contattami su WhatsApp +39 347 123 4567",
        "投资有风险，入市需谨慎。本文不构成任何投资建议。",
    ]
    posts = [Post(id=str(i), text=t, title="荐股群" if i % 2 else None) for i, t in enumerate(texts)]
    with_c = [v.to_dict() for v in engine.detect(posts)]
    pure = _pure(lambda: [v.to_dict() for v in engine.detect(posts)])
    assert with_c == pure
    assert sum(bool(v["categories"]) for v in with_c) >= 4
