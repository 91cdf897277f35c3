"""Engine behaviour on small inline packs: conditions, scoring, evidence, allow-lists."""

from __future__ import annotations

import textwrap

import pytest

from qinglang.detect.engine import Engine
from qinglang.model import Post
from qinglang.policy.loader import load_pack_text

PACK = textwrap.dedent(
    """
    pack: t
    version: "1"
    langs: [zh]
    categories:
      traffic_diversion: {escalate_with_other: high}
      loan_marketing: {threshold: 0.5}
    lists:
      tip: [荐股, 牛股]
      buy: [买入, 建仓]
      loan_ad: [秒批, 低息]
      apr: [年化利率, 年化]
      fee: [保证金, 手续费]
      loan: [贷款, 放款]
      warn: [警惕, 谨防]
    rules:
      - id: t.stock.tip
        category: stock_tipping
        score: 0.3
        description: tipping word
        when: [{any: ["@tip"]}]
      - id: t.stock.tip_contact
        category: stock_tipping
        score: 0.6
        description: tipping word with a private contact
        when: [{any: ["@tip"]}, {any: ["微信", "qq"]}]
      - id: t.stock.code_buy
        category: stock_tipping
        score: 0.7
        when: [{near: {a: ["$stock_code", "600519"], b: ["@buy"], within: 4}}]
      - id: t.loan.no_apr
        category: loan_marketing
        score: 0.6
        when: [{any: ["@loan_ad"]}]
        unless: [{any: ["@apr"]}]
      - id: t.inter.fee_first
        category: illegal_intermediary
        score: 0.8
        when: [{all: ["@loan", "@fee"]}]
      - id: t.div.contact
        category: traffic_diversion
        score: 0.6
        when: [{count: {of: ["微信", "qq", "私信"], min: 2}}]
      - id: t.inter.title_only
        category: illegal_intermediary
        score: 0.9
        fields: [title]
        when: [{any: ["黑户可贷"]}]
      - id: t.inter.same_field
        category: illegal_intermediary
        score: 0.9
        scope: field
        when: [{any: ["包下款"]}, {any: ["征信"]}]
      - id: t.rumor.regex
        category: financial_rumor
        score: 0.9
        when: [{regex: "银行.{0,6}倒闭"}]
    allow:
      - id: t.allow.warning
        description: anti-fraud warnings quote scam words
        when: [{any: ["@warn"]}]
        suppress: [stock_tipping]
    """
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine([load_pack_text(PACK, "t.yaml")])


def codes(engine: Engine, text: str, **kw) -> list[str]:
    return engine.detect([Post(id="p", text=text, **kw)])[0].codes()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今日荐股", []),  # one weak signal stays under the threshold
        ("今日荐股 牛股", []),  # the same rule twice is still one rule
        ("今日荐股，加微信", ["stock_tipping"]),  # 1-(0.7*0.4)=0.72
        ("600519 买入", ["stock_tipping"]),
        ("600519 今天不建议任何操作 买入", []),  # too far apart for near
        ("秒批低息", ["loan_marketing"]),
        ("秒批低息，年化利率7.2%", []),  # absence rule: disclosure present
        ("贷款前先交保证金", ["illegal_intermediary"]),
        ("贷款利率下调", []),
        ("微信或qq联系", ["traffic_diversion"]),
        ("微信联系", []),
        ("警惕荐股加微信的骗局", []),  # allow-list suppresses
        ("某银行要倒闭了", ["financial_rumor"]),
    ],
)
def test_rules(engine, text, expected):
    assert codes(engine, text) == expected


def test_fields_restriction(engine):
    assert codes(engine, "黑户可贷") == []
    assert codes(engine, "看看", title="黑户可贷") == ["illegal_intermediary"]


def test_scope_field_needs_one_field(engine):
    assert codes(engine, "包下款", title="征信") == []
    assert codes(engine, "包下款 征信花") == ["illegal_intermediary"]


def test_lang_gates_pack(engine):
    assert codes(engine, "贷款前先交保证金", lang="en") == []
    assert codes(engine, "贷款前先交保证金", lang="zh") == ["illegal_intermediary"]


def test_escalation_and_review_only(engine):
    v = engine.detect([Post(id="p", text="荐股加微信或qq")])[0]
    cats = {c.code: c for c in v.categories}
    assert set(cats) == {"stock_tipping", "traffic_diversion"}
    assert cats["traffic_diversion"].severity == "high"
    assert v.severity == "high"
    v2 = engine.detect([Post(id="p", text="某银行要倒闭了")])[0]
    assert v2.review_only is True


def test_evidence_points_at_original_field(engine):
    post = Post(id="p", text="无关", bio="今日荐股，加微信")
    v = engine.detect([post])[0]
    assert v.codes() == ["stock_tipping"]
    for h in v.hits:
        assert h.field == "bio"
        assert post.bio[h.start:h.end] == h.text
        assert h.pack == "t" and h.pack_version == "1"


def test_verdict_dict_shape(engine):
    d = engine.detect([Post(id="42", text="今日荐股，加微信")])[0].to_dict()
    assert d["id"] == "42"
    assert d["categories"][0]["code"] == "stock_tipping"
    assert {"code", "score", "severity", "review_only", "rules"} <= set(d["categories"][0])
    assert d["versions"]["packs"] == {"t": "1"}
    empty = engine.detect([Post(id="43", text="天气很好")])[0].to_dict()
    assert empty["categories"] == [] and empty["flagged"] is False


def test_regex_timeout_marks_degraded():
    pack = load_pack_text(
        textwrap.dedent(
            """
            pack: slow
            version: "1"
            rules:
              - id: slow.rumor.backtrack
                category: financial_rumor
                score: 0.9
                when: [{regex: "(a+)+b"}]
            """
        )
    )
    eng = Engine([pack], regex_timeout=0.001)
    v = eng.detect([Post(id="p", text="a" * 5000)])[0]
    assert v.codes() == []
    assert v.degraded and "slow.rumor.backtrack" in v.degraded[0]


def test_batch_keeps_order(engine):
    posts = [Post(id=str(i), text="荐股加微信" if i % 2 else "你好") for i in range(10)]
    out = engine.detect(posts)
    assert [v.id for v in out] == [str(i) for i in range(10)]
    assert [bool(v.categories) for v in out] == [bool(i % 2) for i in range(10)]


def test_category_scores_are_pre_threshold(engine):
    scores = engine.category_scores([Post(id="a", text="今日荐股"), Post(id="b", text="你好")])
    assert scores[0] == {"stock_tipping": pytest.approx(0.3)}
    assert scores[1] == {}
