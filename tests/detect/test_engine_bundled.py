"""The engine with the bundled packs: evidence maps back, samples match their golden verdicts."""

from __future__ import annotations

from importlib import resources

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden_util import assert_golden
from qinglang.detect.engine import Engine
from qinglang.io.records import post_from_mapping
from qinglang.model import Post

_ENGINE: Engine | None = None


def engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE


# fragments a scammer (or an honest poster) writes, and the noise evasion inserts
FRAGMENTS = [
    "老师带单", "牛股", "600519", "必涨", "VIP群", "加", "薇", "❤", "信", "：", "a b c 1 2 3",
    "黑户可贷", "包下款", "征信花", "保证金", "贷款", "年化利率7.2%", "日收益3%", "拉人头",
    "U商", "承兑", "USDT", "扣扣", "1 3 8 0 0 1 3 8 0 0 0", "①②③④⑤⑥", "壹贰叁", "vx",
    "t.me/pump_vip", "www.example.cn", "DM me", "guaranteed", "100x", "presale", "airdrop",
    "\u200b", "\u202e", "\ufe0f", " ", "\n", "ＶＸ", "銀行", "貸款", "央行", "涨停", "，", "!",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=14),
    st.lists(st.sampled_from(FRAGMENTS), max_size=6),
    st.text(max_size=12),
)
def test_every_evidence_span_maps_back(text_parts, bio_parts, noise):
    text = "".join(text_parts) + noise
    bio = "".join(bio_parts) or None
    post = Post(id="p", text=text, bio=bio)
    v = engine().detect([post])[0]
    fields = dict(post.fields())
    for h in v.hits:
        assert h.field in fields
        original = fields[h.field]
        assert 0 <= h.start <= h.end <= len(original)
        assert original[h.start:h.end] == h.text
    for e in v.entities:
        original = fields[e.field]
        assert 0 <= e.start <= e.end <= len(original)
        assert original[e.start:e.end] == e.text


def _sample_posts() -> list[Post]:
    raw = resources.files("qinglang.samples").joinpath("posts.jsonl").read_bytes()
    return [post_from_mapping(orjson.loads(line), i) for i, line in enumerate(raw.splitlines(), 1) if line.strip()]


def test_bundled_samples_golden():
    """The verdicts on the bundled sample posts; a pack change shows up here as a diff."""
    posts = _sample_posts()
    lines = []
    for v in engine().detect(posts):
        d = v.to_dict()
        d.pop("versions")
        lines.append(orjson.dumps(d, option=orjson.OPT_SORT_KEYS).decode())
    assert_golden("sample_verdicts.jsonl", "\n".join(lines) + "\n")


def test_samples_cover_every_category_and_benign():
    verdicts = engine().detect(_sample_posts())
    seen = {c for v in verdicts for c in v.codes()}
    assert seen >= set(engine().taxonomy)
    assert sum(1 for v in verdicts if not v.categories) >= 15


def test_evasion_forms_reach_the_same_verdict():
    plain = engine().detect_text("老师带单，今日牛股，进群加微信：abc123")
    for evasive in [
        "老師帶單，今日牛股，進群加薇❤信：a b c 1 2 3",
        "老\u200b师\u200b带\u200b单，今日牛股，进群加VX：abc123",
        "老师带单，今日牛股，进群加ｗｘ：ａｂｃ１２３",
        "lao shi dai dan，今日牛股，进群jia wei xin：abc123",
    ]:
        v = engine().detect_text(evasive)
        assert "stock_tipping" in v.codes(), evasive
        assert {e.value for e in v.entities if e.type == "wechat"} == {"wechat:abc123"}, evasive
    assert "stock_tipping" in plain.codes()


def test_benign_finance_passes():
    for text in [
        "央行宣布下调存款准备金率0.5个百分点，释放长期资金约1万亿元。",
        "沪指收涨1.2%，两市超百股涨停，券商板块领涨。",
        "某持牌消费金融公司：年化利率7.2%起，贷款有风险，借款需谨慎。",
        "Bitcoin fell 5% today after the Fed decision; I still hodl my ETH.",
        "La Borsa di Milano chiude in rialzo, bene i titoli bancari.",
        "警惕！自称老师带单荐股、要求加微信进群的都是诈骗。",
    ]:
        assert engine().detect_text(text).codes() == [], text
