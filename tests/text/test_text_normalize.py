"""Case tables for every normalization pass, with offsets back to the original."""

from __future__ import annotations

import pytest

from qinglang.text.normalize import Normalizer, default_normalizer
from qinglang.text.offsets import NormalizedText


@pytest.fixture(scope="module")
def norm() -> Normalizer:
    return default_normalizer()


def _n(norm: Normalizer, s: str) -> str:
    return norm.normalize(s).text


# -- pass 1: deletions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ("加\u200b微\u200c信", "加微信"),  # zero-width
        ("加\u200d微\ufeff信", "加微信"),  # ZWJ, BOM
        ("稳\u00ad赚", "稳赚"),  # soft hyphen
        ("加\u202e微\u2066信", "加微信"),  # bidi controls
        ("加\ufe0f微\U000e0101信", "加微信"),  # variation selectors
        ("威❤信", "微信"),
        ("加😊微👍🏻信", "加微信"),  # emoji and skin tone
        ("稳★赚", "稳赚"),
        ("1️⃣3️⃣8️⃣0️⃣", "1380"),  # keycaps
        ("加 微 信", "加微信"),
        ("加  微\t信", "加微信"),
        ("稳.赚", "稳赚"),
        ("稳-赚·不•赔", "稳赚不赔"),
        ("加*微|信/号", "加微信号"),
        ("荐\\股~老^师", "荐股老师"),
        ("加 ❤ 微 ❤ 信", "加微信"),
        ("今天\n明天", "今天明天"),
        ("⑩⑪⒇", "101120"),
    ],
)
def test_strip_deletes(norm: Normalizer, src: str, want: str) -> None:
    assert _n(norm, src) == want


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ("你好，世界。再见！", "你好,世界。再见!"),  # sentence punctuation stays
        ("第一、第二；第三：完", "第一、第二;第三:完"),
        ("a b c", "a b c"),  # ASCII words stay separated
        ("中 a 国", "中 a 国"),  # only between two Han characters
        ("Hello World, this is English.", "hello world, this is english."),
        ("Il mercato è aperto oggi.", "il mercato è aperto oggi."),
        ("价格 100 元", "价格 100 元"),
        ("中+国", "中+国"),  # + is not a separator
        ("https://www.example.com/a-b_c", "https://www.example.com/a-b_c"),
    ],
)
def test_strip_keeps(norm: Normalizer, src: str, want: str) -> None:
    assert _n(norm, src) == want


# -- pass 2: spaced digits ----------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ("1 3 8 0 0 1 3 8 0 0 0", "13800138000"),
        ("1-3-8-0", "1380"),
        ("1.3.8.0.0", "13800"),
        ("1_3_8_0", "1380"),
        ("1·3·8·0", "1380"),
        ("电话 1 3 8 0 0 1 3 8 0 0 0 联系", "电话 13800138000 联系"),
        ("① ③ ⑧ ⓪", "1380"),
        ("1\n3\n8\n0", "1380"),
    ],
)
def test_spaced_digits_joined(norm: Normalizer, src: str, want: str) -> None:
    assert _n(norm, src) == want


@pytest.mark.parametrize(
    "src",
    [
        "138 0013 8000",
        "2024-12-11",
        "1 2 3",
        "1.2.3.4",
        "version 1.2.3",
        "10 20 30 40",
        "3.14",
        "涨幅 1.5 2.3 4.1",
        "1.5 2.0",
    ],
)
def test_spaced_digits_untouched(norm: Normalizer, src: str) -> None:
    assert _n(norm, src) == src


# -- pass 3: Chinese numerals ---------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ("一三八零零一三八零零零", "13800138000"),
        ("幺三八两", "1382"),
        ("二〇二四年", "2024年"),
        ("壹叁捌陆陆陆陆", "1386666"),
        ("138零0138000", "13800138000"),
        ("一 三 八 零", "1380"),
        ("壹參捌", "1参8"),  # 參 is 参 (to join), not the numeral 叁
    ],
)
def test_chinese_numerals(norm: Normalizer, src: str, want: str) -> None:
    assert _n(norm, src) == want


@pytest.mark.parametrize(
    "src",
    ["一个人", "三四天", "一二三", "大陆2024年", "登陆", "队伍", "放肆", "统一2024", "陆陆续续"],
)
def test_chinese_numerals_untouched(norm: Normalizer, src: str) -> None:
    assert _n(norm, src) == src


# -- pass 4: repeats ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ("稳稳稳赚", "稳赚"),
        ("稳稳稳稳稳赚", "稳赚"),
        ("哈哈哈", "哈"),
        ("稳 稳 稳赚", "稳赚"),
        ("薇薇薇信", "微信"),
    ],
)
def test_repeats_collapse(norm: Normalizer, src: str, want: str) -> None:
    assert _n(norm, src) == want


@pytest.mark.parametrize("src", ["哈哈", "www.example.com", "888", "66666", "0xaaa111", "一一一", "aaa", "!!!"])
def test_repeats_untouched(norm: Normalizer, src: str) -> None:
    assert _n(norm, src) == src


# -- pass 5: contact words ------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "want"),
    [
        # WeChat
        ("薇信", "微信"),
        ("威信", "微信"),
        ("徽信", "微信"),
        ("维信", "微信"),
        ("危信", "微信"),
        ("威❤信", "微信"),
        ("V信", "微信"),
        ("v 信", "微信"),
        ("wei信", "微信"),
        ("微x", "微信"),
        ("微 x", "微信"),
        ("vx", "微信"),
        ("VX", "微信"),
        ("ＶＸ", "微信"),
        ("wx", "微信"),
        ("weixin", "微信"),
        ("wei xin", "微信"),
        ("Wei-Xin", "微信"),
        ("vx123456", "微信123456"),
        ("加v", "加微信"),
        ("加V 13800138000", "加微信 13800138000"),
        ("加我v", "加我微信"),
        ("+v", "+微信"),
        ("+ v:abc", "+ 微信:abc"),
        ("加薇", "加微信"),
        ("加威,谢谢", "加微信,谢谢"),
        ("加微 abc123", "加微信 abc123"),
        ("薇:abc123", "微信:abc123"),
        ("v:abc123", "微信:abc123"),
        ("V：abc", "微信:abc"),
        ("薇❤: a b c 1 2 3", "微信: a b c 1 2 3"),
        ("VX号", "微信号"),
        ("加v信", "加微信"),
        # QQ
        ("扣扣", "qq"),
        ("抠抠123456", "qq123456"),
        ("企鹅号", "qq号"),
        ("q q", "qq"),
        ("Q Q:12345", "qq:12345"),
        ("q:12345678", "qq:12345678"),
        ("扣:12345678", "qq:12345678"),
        ("加q", "加qq"),
        ("加Q 12345678", "加qq 12345678"),
        ("q群", "qq群"),
        # Telegram
        ("飞机号", "telegram号"),
        ("纸飞机", "telegram"),
        ("tg", "telegram"),
        ("TG群", "telegram群"),
        ("join our TG group", "join our telegram group"),
        ("电报群", "telegram群"),
        ("电报号", "telegram号"),
        ("加电报", "加telegram"),
        ("加飞机", "加telegram"),
        ("加飞机号", "加telegram号"),
        ("Telegram", "telegram"),
    ],
)
def test_contact_words(norm: Normalizer, src: str, want: str) -> None:
    assert _n(norm, src) == want


@pytest.mark.parametrize(
    "src",
    [
        "卫星",  # satellite
        "飞机延误",  # aeroplane
        "坐飞机",
        "电报",  # the historical telegraph
        "wxyz",
        "stgeorge",
        "vip",
        "加vip",
        "加威力",
        "稍加微调",
        "小薇:你好",
        "小薇: hi there",
        "www.weixin.qq.com",
        "https://wx.qq.com/",
        "t.me/tg_bot",
        "tg://resolve?domain=abc",
        "weixin://dl/chat",
        "vx123@qq.com",
        "tg.example.org",
        "@tg_channel",
        "xyz_vx",
        "tv: news",
        "chapter v: the results",
        "faq q: 123456 users",
        "扣款",
        "扣分:3",
        "qq",
        "微信",
        "telegram",
    ],
)
def test_contact_words_untouched(norm: Normalizer, src: str) -> None:
    assert _n(norm, src) == src.lower()


# -- pass 5: pinyin -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ("jia wei xin", "加微信"),
        ("jiaweixin", "加微信"),
        ("JIA.WEI.XIN", "加微信"),
        ("dai-kuan", "贷款"),
        ("daikuan", "贷款"),
        ("dai kuan 秒批", "贷款秒批"),
        ("gupiao", "股票"),
        ("zhang ting", "涨停"),
        ("xin yong ka tao xian", "信用卡套现"),
        ("dai huan", "代还"),
        ("bi te bi", "比特币"),
        ("xu ni bi", "虚拟币"),
        ("fanli", "返利"),
        ("请jia wei xin", "请加微信"),
        ("shuadan123", "刷单123"),
        ("DAI KUAN", "贷款"),
        ("Daikuan", "贷款"),
    ],
)
def test_pinyin(norm: Normalizer, src: str, want: str) -> None:
    assert _n(norm, src) == want


@pytest.mark.parametrize(
    "src",
    [
        "tie your shoes",  # 提额 joined is an English word
        "ti e",
        "fan li",  # both syllables are Latin-script words
        "dai",  # one syllable
        "tao",
        "daikuan.com",  # a domain
        "mydaikuan",  # inside a longer word
        "gupiaos",
        "the fan club",
        "la mia casa",
        "Dai Kuan met Zhang Ting",  # Title-Cased pinyin is a person's name
        "Li Cai and He-Yue",
    ],
)
def test_pinyin_untouched(norm: Normalizer, src: str) -> None:
    assert _n(norm, src) == src.lower()


# -- whole pipeline and offsets ---------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "term", "original"),
    [
        ("請加薇❤信：abc", "微信", "薇❤信"),
        ("請加薇❤信：abc", "abc", "abc"),
        ("加 微 信 号", "微信", "微 信"),
        ("VX：abc123", "微信", "VX"),
        ("加V", "微信", "V"),
        ("join our TG group", "telegram", "TG"),
        ("call 1 3 8 0 0 1 3 8 0 0 0 now", "13800138000", "1 3 8 0 0 1 3 8 0 0 0"),
        ("一三八零零一三八零零零", "13800138000", "一三八零零一三八零零零"),
        ("穩穩穩賺", "稳赚", "穩穩穩賺"),
        ("请 jia wei xin 哦", "加微信", "jia wei xin"),
        ("扣扣：12345678", "qq", "扣扣"),
        ("😊加\u200b薇\u200b信😊", "加微信", "加\u200b薇\u200b信"),
        ("⑩⑪", "1011", "⑩⑪"),
    ],
)
def test_offsets_point_at_the_obfuscated_original(norm: Normalizer, src: str, term: str, original: str) -> None:
    nt = norm.normalize(src)
    i = nt.text.index(term)
    assert nt.original_text(i, i + len(term)) == original


def test_normalize_returns_normalized_text(norm: Normalizer) -> None:
    nt = norm.normalize("Hello")
    assert isinstance(nt, NormalizedText)
    assert nt.original == "Hello"
    assert nt.text == "hello"
    assert nt.layers == []  # 1:1 folds need no layer


def test_empty_and_all_deleted(norm: Normalizer) -> None:
    assert norm.normalize("").text == ""
    nt = norm.normalize("😊\u200b❤")
    assert nt.text == ""
    assert nt.to_original(0, 0) == (3, 3)


def test_default_normalizer_is_cached() -> None:
    assert default_normalizer() is default_normalizer()


# -- normalize_term ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "want"),
    [
        ("薇信", "微信"),
        ("加ＶＸ", "加微信"),
        ("內幕消息", "内幕消息"),
        ("穩賺", "稳赚"),
        ("ＶＩＰ群", "vip群"),
        ("扣扣群", "qq群"),
        ("Guaranteed Returns", "guaranteed returns"),
        ("jia wei xin", "加微信"),
        ("荐 股", "荐股"),
    ],
)
def test_normalize_term(norm: Normalizer, term: str, want: str) -> None:
    assert norm.normalize_term(term) == want


@pytest.mark.parametrize(
    ("post", "term"),
    [
        ("老師帶你賺，加威❤信：abc123", "加微信"),
        ("内幕消息，稳稳稳赚", "內幕消息"),
        ("ＶＩＰ群 限時", "vip群"),
        ("找我代 还 信用卡", "代還"),
    ],
)
def test_terms_meet_posts(norm: Normalizer, post: str, term: str) -> None:
    """A term written traditional or full width is found in the post's normalized text."""
    assert norm.normalize_term(term) in norm.normalize(post).text


@pytest.mark.parametrize(
    "src",
    [
        "请 jia wei xin 哦",
        "vx-vx",
        "加v*加v",
        "請加薇❤信：abc123，稳稳稳赚",
        "1 3 8 0 0 1 3 8 0 0 0 扣扣:12345678 tg群",
        "ＶＸ：niugu_8899 每日盘前分享",
        "DM me on TG, weixin: abc123",
    ],
)
def test_normalizing_twice_changes_nothing(norm: Normalizer, src: str) -> None:
    """Terms are normalized once and posts once; both must land on the same fixed point."""
    once = norm.normalize(src).text
    assert norm.normalize(once).text == once


def test_rewrite_then_han_separator_cleanup(norm: Normalizer) -> None:
    nt = norm.normalize("请 jia wei xin 哦")
    assert nt.text == "请加微信哦"
    i = nt.text.index("加微信")
    assert nt.original_text(i, i + 3) == "jia wei xin"
