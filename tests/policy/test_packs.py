"""The bundled policy packs: they load, ids are unique, zh covers the taxonomy, and
word lists hold no duplicates. Also sanity checks on the project's own examples and
sample posts, which the packs and the shipped model are judged by."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

import pytest

from qinglang.detect.engine import Engine
from qinglang.entities.types import ENTITY_GROUPS, ENTITY_TYPES
from qinglang.model import Post
from qinglang.policy.loader import Pack, bundled_pack_paths, load_packs, taxonomy
from qinglang.policy.schema import Condition

EXPECTED_PACKS = {"zh", "en", "it"}


@pytest.fixture(scope="module")
def packs() -> dict[str, Pack]:
    return {p.name: p for p in load_packs()}


def _refs(cond: Condition) -> list[str]:
    out: list[str] = []
    for refs in (cond.any, cond.all, cond.entity):
        out.extend(refs or [])
    if cond.near is not None:
        out.extend(cond.near.a)
        out.extend(cond.near.b)
    if cond.count is not None:
        out.extend(cond.count.of)
    return out


def _conditions(pack: Pack) -> list[Condition]:
    conds: list[Condition] = []
    for r in pack.doc.rules:
        conds.extend(r.when)
        conds.extend(r.unless)
    for a in pack.doc.allow:
        conds.extend(a.when)
    return conds


def test_every_bundled_pack_loads(packs: dict[str, Pack]) -> None:
    assert {p.stem for p in bundled_pack_paths()} >= EXPECTED_PACKS
    assert set(packs) >= EXPECTED_PACKS
    for p in packs.values():
        assert p.doc.rules, f"{p.name} has no rules"
        assert p.version


def test_pack_languages(packs: dict[str, Pack]) -> None:
    assert packs["zh"].doc.langs == ["zh"]
    assert packs["zh"].doc.boundary == "none"
    for name in ("en", "it"):
        assert packs[name].doc.langs == [name]
        assert packs[name].doc.boundary == "word"


def test_rule_ids_unique_across_packs(packs: dict[str, Pack]) -> None:
    ids = [r.id for p in packs.values() for r in p.doc.rules]
    ids += [a.id for p in packs.values() for a in p.doc.allow]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_rule_ids_follow_convention(packs: dict[str, Pack]) -> None:
    for p in packs.values():
        for r in p.doc.rules:
            assert r.id.startswith(f"{p.name}.{r.category}."), r.id
            assert r.description.strip(), f"{r.id} has no description"
        for a in p.doc.allow:
            assert a.id.startswith(f"{p.name}.allow."), a.id
            assert a.description.strip(), f"{a.id} has no description"


def test_zh_covers_every_category(packs: dict[str, Pack]) -> None:
    covered = {r.category for r in packs["zh"].doc.rules}
    missing = set(taxonomy()) - covered
    assert not missing, f"zh has no rule for {sorted(missing)}"


def test_en_and_it_cover_core_categories(packs: dict[str, Pack]) -> None:
    core = {"stock_tipping", "illegal_intermediary", "crypto_promotion", "disguised_pyramid",
            "impersonation", "traffic_diversion", "rights_agency"}
    for name in ("en", "it"):
        covered = {r.category for r in packs[name].doc.rules}
        assert core <= covered, f"{name} lacks {sorted(core - covered)}"


def test_word_lists_have_no_duplicates(packs: dict[str, Pack]) -> None:
    for p in packs.values():
        for name, terms in p.doc.lists.items():
            norm = [t.strip().lower() for t in terms]
            dupes = sorted(t for t, n in Counter(norm).items() if n > 1)
            assert not dupes, f"{p.name}: list {name} repeats {dupes}"


def test_every_word_list_is_used(packs: dict[str, Pack]) -> None:
    for p in packs.values():
        used = {ref[1:] for c in _conditions(p) for ref in _refs(c) if ref.startswith("@")}
        unused = set(p.doc.lists) - used
        assert not unused, f"{p.name}: unused word lists {sorted(unused)}"


def test_entity_references_are_known(packs: dict[str, Pack]) -> None:
    known = set(ENTITY_TYPES) | set(ENTITY_GROUPS)
    for p in packs.values():
        for c in _conditions(p):
            for ref in _refs(c):
                if ref.startswith("$"):
                    assert ref[1:] in known, f"{p.name}: {ref}"
            for name in c.entity or []:
                assert name.lstrip("$") in known, f"{p.name}: {name}"


def test_scores_separate_weak_and_strong(packs: dict[str, Pack]) -> None:
    """A weak rule (< 0.5) must not flag alone at the default threshold."""
    for p in packs.values():
        thresholds = {code: c.threshold for code, c in p.doc.categories.items()}
        for r in p.doc.rules:
            assert 0 < r.score <= 0.9, r.id
            assert r.score >= 0.3, f"{r.id}: score below 0.3 can never matter"
            if r.score < 0.5:
                assert r.score < thresholds.get(r.category, 0.5), r.id


def test_review_only_categories_are_conservative(packs: dict[str, Pack]) -> None:
    tax = taxonomy()
    review = {c for c, info in tax.items() if info.review_only}
    for p in packs.values():
        for code in review:
            if any(r.category == code for r in p.doc.rules):
                assert p.doc.categories[code].threshold >= 0.6, (p.name, code)


def test_traffic_diversion_escalates(packs: dict[str, Pack]) -> None:
    for p in packs.values():
        assert p.doc.categories["traffic_diversion"].escalate_with_other == "high", p.name


def test_single_topic_words_are_never_a_whole_rule(packs: dict[str, Pack]) -> None:
    """Generic finance words used all day by news must not fire a rule on their own."""
    generic = {"股票", "贷款", "银行", "涨停", "基金", "理财", "比特币", "bitcoin", "btc", "eth",
               "crypto", "stock", "stocks", "loan", "loans", "azioni", "prestito"}
    for p in packs.values():
        for r in p.doc.rules:
            if len(r.when) != 1 or r.when[0].kind not in ("any", "count"):
                continue
            if r.when[0].count is not None and r.when[0].count.min > 1:
                continue
            terms: set[str] = set()
            for ref in _refs(r.when[0]):
                if ref.startswith("@"):
                    terms |= {t.strip().lower() for t in p.doc.lists[ref[1:]]}
                elif not ref.startswith("$"):
                    terms.add(ref.strip().lower())
            clash = terms & generic
            assert not clash or r.score < 0.5, f"{r.id} fires alone on {sorted(clash)}"


# --- the project's own labeled examples and sample posts -----------------------------


def _jsonl(package: str, name: str) -> list[dict]:
    text = resources.files(package).joinpath(name).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(("name", "lang", "at_least"), [
    ("labeled_zh.jsonl", "zh", 140), ("labeled_zh_more.jsonl", "zh", 1200), ("labeled_en.jsonl", "en", 75),
    ("labeled_it.jsonl", "it", 35),
])
def test_labeled_examples_shape(name: str, lang: str, at_least: int) -> None:
    rows = _jsonl("qinglang.examples", name)
    assert len(rows) >= at_least
    tax = set(taxonomy())
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    texts = [r["text"] for r in rows]
    assert len(texts) == len(set(texts)), "duplicate example texts"
    for r in rows:
        assert set(r) == {"id", "text", "lang", "labels"}, r["id"]
        assert r["lang"] == lang
        assert r["text"].strip()
        assert set(r["labels"]) <= tax, r["id"]
        assert len(r["labels"]) == len(set(r["labels"])), r["id"]
    benign = sum(1 for r in rows if not r["labels"])
    assert 0.3 <= benign / len(rows) <= 0.6, f"{name}: benign share {benign / len(rows):.2f}"


@pytest.mark.parametrize(("name", "at_least"), [("labeled_zh.jsonl", 2), ("labeled_zh_more.jsonl", 20)])
def test_labeled_examples_cover_every_category(name: str, at_least: int) -> None:
    rows = _jsonl("qinglang.examples", name)
    counts = Counter(c for r in rows for c in r["labels"])
    for code in taxonomy():
        assert counts[code] >= at_least, f"{name}: {code} has {counts[code]}"


def test_example_files_share_no_id_or_text() -> None:
    """All example files train one model: an id or a text in two files would be one row counted twice."""
    names = sorted(p.name for p in resources.files("qinglang.examples").iterdir() if p.name.endswith(".jsonl"))
    assert "labeled_zh_more.jsonl" in names
    rows = [r for name in names for r in _jsonl("qinglang.examples", name)]
    ids = Counter(r["id"] for r in rows)
    assert not [i for i, n in ids.items() if n > 1]
    texts = Counter(" ".join(r["text"].split()) for r in rows)
    assert not [t for t, n in texts.items() if n > 1]


def test_sample_posts_shape() -> None:
    rows = _jsonl("qinglang.samples", "posts.jsonl")
    assert len(rows) >= 50
    allowed = {"id", "text", "account_id", "platform", "timestamp", "title", "transcript",
               "ocr", "bio", "links", "lang"}
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for r in rows:
        assert set(r) <= allowed, r["id"]
        assert isinstance(r["text"], str)
        if "links" in r:
            assert isinstance(r["links"], list)
        if "platform" in r:
            assert r["platform"] in {"douyin", "weibo", "kuaishou", "wechat", "x", "telegram"}
    assert {r.get("lang") for r in rows} >= {"zh", "en", "it"}


# --- behaviour with the engine ---------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.mark.parametrize("text", [
    "A股三大指数集体涨停",
    "央行下调存款准备金率",
    "某银行推出低息贷款",
    "沪指涨停家数超百家 券商板块领涨",
    "证监会严厉打击非法荐股活动",
    "XX银行消费贷，年化利率（单利）3.6%起，具体额度以审批为准，贷款有风险，借款需谨慎",
    "今天又被套了，股票跌了3%，我还是拿着吧",
])
def test_zh_benign_finance_passes(engine: Engine, text: str) -> None:
    assert not engine.detect_text(text, lang="zh").flagged


@pytest.mark.parametrize("text", [
    "您好，我是XX贷款专员，无抵押快速放款，需要先交保证金，请加微信详聊",
    "您好，我是XX金融的信贷经理，您有一笔5万元额度待领取，下载APP完成认证即可放款",
    "你的借款已审批，但银行卡号填写错误导致资金被冻结，需缴纳解冻金后放款",
])
def test_zh_loan_agent_scripts_flag(engine: Engine, text: str) -> None:
    assert "illegal_intermediary" in engine.detect_text(text, lang="zh").codes()


@pytest.mark.parametrize("text", ["Bitcoin fell 5% today", "I hodl ETH", "gm, coffee and charts"])
def test_en_benign_crypto_talk_passes(engine: Engine, text: str) -> None:
    assert not engine.detect_text(text, lang="en").flagged


@pytest.mark.parametrize("text", [
    "Send 1 ETH and get 2 ETH back, giveaway ends in 1 hour",
    "Airdrop is live! Claim now before it ends: claim-drop.example.com",
    "Next 100x gem presale is live, don't miss out, link in bio",
    "Connect your wallet to claim your reward",
])
def test_en_crypto_scams_flag(engine: Engine, text: str) -> None:
    assert "crypto_promotion" in engine.detect_text(text, lang="en").codes()


def test_weak_rules_do_not_stack_across_packs(engine: Engine) -> None:
    """A post without lang gets every pack; a bare handle must stay a weak signal."""
    v = engine.detect_text("周末去爬山，有兴趣的同学加微信：shanyou_2025")
    assert not v.flagged, v.codes()


@pytest.mark.parametrize("name", ["labeled_zh.jsonl", "labeled_en.jsonl", "labeled_it.jsonl"])
def test_own_examples_come_out_right(engine: Engine, name: str) -> None:
    """The bundled packs agree with the project's own labels (flagged or not, per post)."""
    rows = _jsonl("qinglang.examples", name)
    verdicts = engine.detect([Post(id=r["id"], text=r["text"], lang=r["lang"]) for r in rows])
    wrong = [(r["id"], r["labels"], v.codes()) for r, v in zip(rows, verdicts, strict=True)
             if bool(r["labels"]) != v.flagged]
    assert len(wrong) <= 0.03 * len(rows), wrong
    benign_flagged = [w for w in wrong if not w[1]]
    assert len(benign_flagged) <= 0.02 * len(rows), benign_flagged
