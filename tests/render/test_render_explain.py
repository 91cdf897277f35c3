"""The explanation of a verdict: deterministic plain text, checked against a golden file.

Regenerate the golden file after an intended change with
``QINGLANG_UPDATE_GOLDEN=1 pytest tests/render``, and review the diff.
"""

from __future__ import annotations

from rich.console import Console

from golden_util import assert_golden
from qinglang.model import CategoryScore, Entity, Hit, Verdict
from qinglang.render.explain import SPAN_STYLE, build_explanation, explain_text

TEXT = "老师带单，今天必漲停！\n加薇❤：abc12345，进VIP群。600519 明天还有"
TITLE = "内部消息"


def golden_verdict() -> Verdict:
    """A hand-built verdict exercising every part of the explanation."""
    return Verdict(
        id="post-42",
        categories=[
            CategoryScore("stock_tipping", 0.9712, "high", False, ["zh.stock.limit_up", "zh.stock.teacher"]),
            CategoryScore("traffic_diversion", 0.8, "high", False, ["zh.divert.add_wechat"]),
            CategoryScore("financial_rumor", 0.55, "low", True, ["zh.rumor.inside"]),
        ],
        severity="high",
        review_only=True,
        hits=[
            Hit("stock_tipping", "zh.stock.limit_up", "zh", "0.3.0", "text", "涨停", 8, 10, "漲停", 0.7),
            Hit("stock_tipping", "zh.stock.teacher", "zh", "0.3.0", "text", "老师带单", 0, 4, "老师带单", 0.9,
                detail={"description": "a 'teacher' leading trades"}),
            Hit("traffic_diversion", "zh.divert.add_wechat", "zh", "0.3.0", "text", "加微", 12, 14, "加薇",
                0.8),
            Hit("financial_rumor", "zh.rumor.inside", "zh", "0.3.0", "title", "内部消息", 0, 4, "内部消息",
                0.55),
            Hit("stock_tipping", "model:fin-clf", "fin-clf", "2024.05", None, "带单 | 涨停", None, None, None, 0.66,
                kind="model",
                detail={"probability": 0.66, "rule_score": 0.55, "combined": 0.81, "mode": "combined",
                        "features": [{"ngram": "带单", "weight": 1.2}, {"ngram": "涨停", "weight": 0.4}]}),
        ],
        entities=[
            Entity("wechat", "wechat:abc12345", "text", 16, 24, "abc12345"),
            Entity("stock_code", "stock_code:600519.SH", "text", 31, 37, "600519",
                   detail={"exchange": "SSE"}),
        ],
        versions={"engine": "qinglang-0.1.0", "packs": {"zh": "0.3.0"}, "model": "fin-clf@2024.05"},
        account_id="acct-7",
        platform="douyin",
        degraded=["regex timeout: zh.slow.rule"],
    )


TITLES = {
    "stock_tipping": "Illegal stock tipping / unlicensed securities advice",
    "traffic_diversion": "Hidden diversion to private channels",
    "financial_rumor": "Fabricated financial news",
}


def test_spans_point_at_the_original_text() -> None:
    v = golden_verdict()
    fields = {"text": TEXT, "title": TITLE}
    for h in v.hits:
        if h.start is not None:
            assert fields[h.field][h.start:h.end] == h.text  # type: ignore[index]
    for e in v.entities:
        assert fields[e.field][e.start:e.end] == e.text


def test_explain_golden() -> None:
    text = explain_text(golden_verdict(), {"text": TEXT, "title": TITLE}, titles=TITLES)
    assert_golden("explain_flagged.txt", text)


def test_explain_not_flagged_golden() -> None:
    v = Verdict("n1", [], "none", False, [], [], {"engine": "qinglang-0.1.0", "packs": {"zh": "0.3.0"}})
    assert_golden("explain_clean.txt", explain_text(v))


def test_without_fields_the_span_alone_is_shown() -> None:
    text = explain_text(golden_verdict())
    assert "[[漲停]]" in text and "今天必" not in text


def test_long_text_is_cut_around_the_span() -> None:
    long = "前" * 100 + "涨停" + "后" * 100
    v = Verdict("x", [CategoryScore("stock_tipping", 0.9, "high", False, ["r"])], "high", False,
                [Hit("stock_tipping", "r", "zh", "1", "text", "涨停", 100, 102, "涨停", 0.9)], [], {})
    line = next(s for s in explain_text(v, {"text": long}).splitlines() if "[[涨停]]" in s)
    assert line.strip() == "\u2026" + "前" * 30 + "[[涨停]]" + "后" * 30 + "\u2026"


def test_terminal_rendering_styles_the_span() -> None:
    rich_text = build_explanation(golden_verdict(), {"text": TEXT, "title": TITLE}, titles=TITLES)
    assert "[[" not in rich_text.plain
    styled = {rich_text.plain[s.start:s.end] for s in rich_text.spans if str(s.style) == SPAN_STYLE}
    assert styled == {"漲停", "老师带单", "加薇", "内部消息", "带单", "涨停"}  # the last two: model n-grams
    console = Console(record=True, force_terminal=True, width=120, color_system="truecolor")
    console.print(rich_text)
    assert "\x1b[" in console.export_text(styles=True)
