"""The language guess behind the per-language combination: a case table, and declared tags."""

from __future__ import annotations

import pytest

from qinglang.learn.lang import detect_lang, lang_of, normalize_tag, post_lang
from qinglang.model import Post

CASES = [
    # Chinese, with the usual Latin noise of a scam post: handles, links, tickers
    ("急用钱的朋友看过来，不看征信当天下款", "zh"),
    ("加微信 dk_6688a 详聊，额度2-20万", "zh"),
    ("您好，我是平安银行客服，您的信用卡额度可以提升，请点击 https://example.cn/abc 办理", "zh"),
    ("內幕消息：明天漲停，進群看老師帶單", "zh"),  # traditional characters
    ("BTC突破10万美元 buy now", "zh"),
    ("@小王 明天一起吃饭吗", "zh"),
    # an English post that quotes a name in characters, or carries pinyin, stays English
    ("Send 0.5 ETH to the address below and get 1 ETH back, the event by 币安 is live", "en"),
    ("DM me on Telegram for the signals group, jia wei xin", "en"),
    ("I will double your crypto in 24h, no joke", "en"),
    # Italian, by its function words and accents
    ("Investimento con rendimento garantito del 10% al mese, zero rischi per te", "it"),
    ("Il mio consulente mi ha fatto guadagnare 5.000 euro, è incredibile", "it"),
    ("Perché non è così facile", "it"),
    # other scripts and languages: named, so no zh / en / it combination applies to them
    ("ビットコインを今すぐ購入", "ja"),
    ("비트코인 지금 구매하세요", "ko"),
    ("Compra bitcoin ahora y gana mucho dinero con este método", "es"),
    ("Achetez du bitcoin avec nous, c'est très simple", "fr"),
    ("Kaufen Sie jetzt und nicht später", "de"),
    # nothing to go on: no guess
    ("$PEPE 100x 🚀🚀", None),
    ("https://t.me/abc @handle", None),
    ("", None),
    ("12345 !!!", None),
]


@pytest.mark.parametrize(("text", "want"), CASES)
def test_detect_lang_case_table(text: str, want: str | None) -> None:
    assert detect_lang(text) == want


@pytest.mark.parametrize(("tag", "want"), [("zh", "zh"), ("zh-CN", "zh"), ("zh_Hant", "zh"), ("ZH", "zh"),
                                           ("cmn", "zh"), ("en-US", "en"), ("it-IT", "it"), ("fr", "fr"),
                                           ("", None), (None, None), ("  ", None)])
def test_declared_tags_are_normalized(tag: str | None, want: str | None) -> None:
    assert normalize_tag(tag) == want


def test_a_declared_language_wins_over_the_guess() -> None:
    assert post_lang("en", "急用钱的朋友看过来") == "en"
    assert post_lang(None, "急用钱的朋友看过来") == "zh"
    assert lang_of(Post(id="1", text="急用钱的朋友看过来", lang="zh-TW")) == "zh"
    assert lang_of(Post(id="1", text="Send ETH now and get it back", lang=None)) == "en"
    # the guess reads text fields, not links
    assert lang_of(Post(id="1", text="看这里", links=["https://example.com/the-best-of-the-web"])) == "zh"
