"""A batch gives each post what it gets alone, whatever the chunking of the stages."""

from __future__ import annotations

from qinglang.detect import engine as engine_module
from qinglang.detect.engine import Engine
from qinglang.model import Post

TEXTS = [
    "老师带单，今日牛股600519必涨，进VIP群加薇❤信：a b c 1 2 3",
    "央行今日开展逆回购操作，市场流动性保持合理充裕。",
    "黑户可贷，征信花也能贷，包下款！联系扣扣 12345678",
    "Our quarterly report is out: revenue grew 12% year over year.",
    "100x gem presale now, DM me for signals, join t.me/abcde123",
    "推荐一家小店，牛肉面18元一碗，味道很正宗。",
    "",
]


def _posts(n: int) -> list[Post]:
    posts = []
    for i in range(n):
        text = TEXTS[i % len(TEXTS)]
        if i % 5 == 0:  # multi-field posts among one-field ones
            posts.append(Post(f"p{i}", text, title="日收益3%，稳赚不赔", bio="VX:abc123", links=["https://t.me/x1234"]))
        elif not text:
            posts.append(Post(f"p{i}", "", ocr="信用卡套现，电话13800138000"))
        else:
            posts.append(Post(f"p{i}", text, lang="en" if text.isascii() else None))
    return posts


def test_batch_is_each_post_alone(monkeypatch) -> None:
    engine = Engine.from_options(None)
    posts = _posts(3 * engine_module.STAGE_CHUNK + 5)
    alone = [engine.detect([p])[0].to_dict() for p in posts]
    assert [v.to_dict() for v in engine.detect(posts)] == alone
    assert sum(1 for v in alone if v["flagged"]) > len(posts) // 3
    monkeypatch.setattr(engine_module, "STAGE_CHUNK", 7)  # chunks that split the multi-field posts' rhythm
    assert [v.to_dict() for v in engine.detect(posts)] == alone


def test_prescan_inside_the_term_scan_changes_no_verdict(monkeypatch):
    """The engine's single pass (terms and entity prescan together) gives the verdicts
    of separate passes."""
    from qinglang.detect.matcher import TermMatcher
    from qinglang.io.writers import dumps

    merged = Engine.from_options(None)
    monkeypatch.setattr(TermMatcher, "attach_prescan", lambda self, items: False)
    separate = Engine.from_options(None)
    assert not separate._merged_prescan
    posts = _posts(2 * engine_module.STAGE_CHUNK)
    assert [dumps(v) for v in merged.detect(posts)] == [dumps(v) for v in separate.detect(posts)]
