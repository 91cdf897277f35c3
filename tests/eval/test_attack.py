"""``qinglang eval --attack``: the evasion transforms, their inverse, and the attack report.

The transforms are the normalizer run backwards, so the central check is a property:
for the exact ones, ``normalize(attack(x)) == normalize(x)`` on any text built from
the pieces evasive posts are made of. The case tables show what each transform
writes; the engine tests check that attacked scam posts keep their categories; the
report tests run the real engine over a small fixture written for the project.
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from qinglang import cli
from qinglang.detect.engine import Engine
from qinglang.errors import QLError
from qinglang.eval.attack import (
    EXACT,
    SEPARATORS_BETWEEN_HAN,
    SYMBOLS_ANYWHERE,
    TRANSFORMS,
    AttackReport,
    evaluate_attacks,
    parse_attack_names,
    render_attack_markdown,
    render_attack_text,
)
from qinglang.text.fold import read_data
from qinglang.text.normalize import default_normalizer

FIXTURE = Path(__file__).parent / "fixtures" / "attack_small.jsonl"
ZW = "\u200b\u200c\ufeff"


def _norm(s: str) -> str:
    return default_normalizer().normalize(s).text


def _all_outputs(name: str, text: str, seeds: int = 200) -> set[str]:
    return {TRANSFORMS[name](text, random.Random(s)) for s in range(seeds)}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


# --- the registry ---------------------------------------------------------------------


def test_registry() -> None:
    assert list(TRANSFORMS) == [
        "traditional",
        "fullwidth",
        "zero_width",
        "symbols",
        "homophones",
        "pinyin",
        "spaced_digits",
        "fancy_digits",
        "numerals",
        "case",
        "combined",
    ]
    assert EXACT == {"traditional", "fullwidth", "zero_width", "symbols", "spaced_digits", "fancy_digits", "case"}


def test_parse_attack_names() -> None:
    assert parse_attack_names("all") == list(TRANSFORMS)
    # report order, whatever the order asked in
    assert parse_attack_names("pinyin, traditional") == ["traditional", "pinyin"]
    with pytest.raises(QLError) as exc:
        parse_attack_names("tradtional")
    assert exc.value.code.code == "QL-4003"
    assert exc.value.hint == "did you mean 'traditional'?"
    with pytest.raises(QLError):
        parse_attack_names(" , ")


# --- case tables: what each transform writes --------------------------------------------

#: transforms that use no randomness (or none on these inputs): exact outputs
DETERMINISTIC = [
    ("traditional", "老师带单，进群加微信", "老師帶單，進羣加微信"),
    ("traditional", "发财", "發財"),  # 發 and 髮 both fold to 发: the lower code point is written
    ("traditional", "abc 123", "abc 123"),
    ("fullwidth", "加vx: abc123", "加ｖｘ： ａｂｃ１２３"),  # spaces stay (see _fullwidth_table)
    ("fullwidth", "Join Telegram!", "Ｊｏｉｎ Ｔｅｌｅｇｒａｍ！"),
    ("spaced_digits", "电话13800138000", "电话1 3 8 0 0 1 3 8 0 0 0"),
    ("spaced_digits", "年利率36%，2024年", "年利率36%，2 0 2 4年"),
    ("spaced_digits", "138 0013 8000", "138 0013 8000"),  # groups would merge: left alone
    ("spaced_digits", "3.14159", "3.14159"),
    ("spaced_digits", "12❤1380", "12❤1380"),  # ❤ goes, so 121380 is one run
    ("pinyin", "贷款", "dai kuan"),
    ("pinyin", "加微信：abc123", "jia wei xin：abc123"),  # longest word first
    ("pinyin", "进群加微信", "jin qun jia wei xin"),  # adjacent words: a space between
    ("pinyin", "信用卡代还", "xin yong ka dai huan"),  # 代还 spelled as the word list says
    ("pinyin", "贷款abc", "贷款abc"),  # "dai kuanabc" would not read back
    ("pinyin", "5贷款", "5贷款"),  # nor "5dai kuan"
    ("homophones", "DM me on Telegram", "DM me on tg"),  # no Han: an ASCII form
    ("homophones", "wx.qq.com", "wx.qq.com"),  # a domain, not a contact word
    ("case", "Zhang Ting", "Zhang Ting"),  # a Title-Cased name stays (not 涨停)
    ("case", "bc1q0rw4x9 t.me/abc", "bc1q0rw4x9 t.me/abc"),  # identifiers keep their case
]


@pytest.mark.parametrize(("name", "src", "want"), DETERMINISTIC)
def test_transform_writes(name: str, src: str, want: str) -> None:
    assert _all_outputs(name, src, seeds=20) == {want}


#: transforms with choices: every output over many seeds is one of these
CHOICES = [
    (
        "homophones",
        "联系qq 12345678",
        {"联系q q 12345678", "联系扣扣 12345678", "联系抠抠 12345678"},
    ),
    ("homophones", "Telegram群", {"tg群", "电报群", "纸飞机群", "飞机群"}),  # 飞机 only before 号/群/频道
    (
        "homophones",
        "加微信好友",  # 加v / 加薇 only before a non-letter, non-Han character
        {
            "加v 信好友", "加vx好友", "加v好友", "加w 信好友", "加wei xin好友", "加wei 信好友", "加wx好友",
            "加危信好友", "加威 xin好友", "加威 x好友", "加威信好友", "加嶶信好友", "加微 xin好友", "加微 x好友",
            "加徽信好友", "加维信好友", "加薇 xin好友", "加薇 x好友", "加薇信好友",
        },
    ),
    ("fancy_digits", "qq 12", {"qq ①②", "qq ⑴⑵", "qq ⒈⒉", "qq ❶❷", "qq ➀➁", "qq 壹贰", "qq １２", "qq 𝟏𝟐"}),
    ("fancy_digits", "10", {"①⓪", "⑴０", "⒈🄀", "❶⓿", "➀０", "壹０", "１０", "𝟏𝟎"}),  # no ⑴-style zero
    ("numerals", "1380", {"一三八〇", "一三八零", "幺三八〇", "幺三八零"}),
    ("symbols", "加vx", {f"加v{s}x" for s in SYMBOLS_ANYWHERE}),  # only symbols inside ASCII
]


@pytest.mark.parametrize(("name", "src", "allowed"), CHOICES)
def test_transform_chooses_among(name: str, src: str, allowed: set[str]) -> None:
    outputs = _all_outputs(name, src, seeds=400)
    assert outputs <= allowed
    assert len(outputs) > 1


def test_zero_width_between_every_two_visible_characters() -> None:
    out = TRANSFORMS["zero_width"]("加微信 vx", random.Random(0))
    assert "".join(c for c in out if c not in ZW) == "加微信 vx"
    assert [c in ZW for c in out] == [False, True, False, True, False, False, False, True, False]


def test_symbols_between_han_and_inside_contact_words() -> None:
    pieces = set("".join(SYMBOLS_ANYWHERE + SEPARATORS_BETWEEN_HAN))
    for seed in range(50):
        out = TRANSFORMS["symbols"]("加微信qq", random.Random(seed))
        assert "".join(c for c in out if c not in pieces) == "加微信qq"
        assert out[0] == "加" and out[-1] == "q" and "信q" in out  # no gap between Han and ASCII
        assert len(out.replace("\ufe0f", "")) == 8  # one in each of 加|微, 微|信, q|q
        assert _norm(out) == "加微信qq"


def test_case_never_makes_title_case() -> None:
    for seed in range(100):
        out = TRANSFORMS["case"]("dai kuan telegram vx", random.Random(seed))
        assert out.lower() == "dai kuan telegram vx"
        assert not any(len(w) > 1 and w[0].isupper() and w[1:].islower() for w in out.split())


def test_combined_undone_on_a_scam_post() -> None:
    src = "老师带单，今日牛股，进群加微信：abc123"
    out = TRANSFORMS["combined"](src, random.Random(0))
    assert out != src and not any(w in out for w in ("老师", "微信", "abc", "123"))
    assert _norm(out) == _norm(src)


def test_transforms_are_deterministic() -> None:
    src = "黑户可贷，包下款，联系qq 12345678，加飞机号 abc_123"
    for name, fn in TRANSFORMS.items():
        assert fn(src, random.Random(7)) == fn(src, random.Random(7)), name


def test_transforms_leave_empty_and_plain_text() -> None:
    for name, fn in TRANSFORMS.items():
        assert fn("", random.Random(0)) == "", name
        assert _norm(fn("hello world", random.Random(0))) == "hello world", name


# --- property: the exact transforms are undone by the normalizer -------------------------

_KEYWORDS = [row[0].strip() for row in read_data("pinyin_keywords.txt")]
#: pieces of evasive and ordinary posts: key words, contact words, digits, ASCII, punctuation
_PIECES = [
    *_KEYWORDS,
    *["微信", "qq", "QQ", "telegram", "Telegram", "飞机", "号", "群", "频道", "加", "老师", "今日", "的", "元"],
    *["第一", "五", "两", "發", "後", "稳稳稳", "薇信", "加v", "v:", "q:12345", ":abc123"],
    *["abc", "Hello", "Zhang Ting", "dai kuan", "wei xin", "vx", "tg", "x2", "ETH", "bc1q0rw4x9"],
    *["https://t.me/abc", "a@b.com", "wx.qq.com"],
    *[" ", "，", ":", "：", ".", "-", "\n", "!", "(", "12", "7", "0.5", "1380", "2024", "13800138000"],
    *["❤", "\u200b", "①", "壹贰", "ＶＸ", "１２３４", "Ｚｈａｎｇ Ｔｉｎｇ"],
]
_texts = st.lists(st.sampled_from(_PIECES), max_size=25).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts, st.integers(0, 2**32 - 1), st.sampled_from(sorted(EXACT)))
def test_exact_transforms_are_undone(text: str, seed: int, name: str) -> None:
    attacked = TRANSFORMS[name](text, random.Random(seed))
    assert _norm(attacked) == _norm(text)


#: plain posts: key words, contact words, Chinese punctuation, ASCII words, handles, links
_PLAIN = [
    *_KEYWORDS,
    *["微信", "qq", "QQ", "telegram", "Telegram", "飞机", "号", "群", "频道", "加", "老师", "今日", "的", "元"],
    *[" ", "，", "：", "。", "!", "abc123", "13800138000", "https://t.me/abc", "Join now", "ETH"],
]


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PLAIN), max_size=20).map("".join), st.integers(0, 2**32 - 1),
       st.sampled_from(["homophones", "pinyin", "combined"]))
def test_word_transforms_are_undone_on_plain_posts(text: str, seed: int, name: str) -> None:
    """Not promised in general (module docstring), but on posts without symbols or
    numerals next to the words they are undone too."""
    attacked = TRANSFORMS[name](text, random.Random(seed))
    assert _norm(attacked) == _norm(text)


@pytest.mark.parametrize(
    ("name", "src", "why"),
    [
        ("homophones", "加微信 加微信", "加薇 加…: the strip pass joins 薇加, and 加薇 needs no Han after it"),
        ("numerals", "1380一", "幺三八零一 is one run of numerals: 13801"),
        ("numerals", "电话 1234 元", "一二三四 元: the space between two Han goes"),
    ],
)
def test_known_inexact_cases(name: str, src: str, why: str) -> None:
    """Where the non-exact transforms are not undone (documented in their docstrings)."""
    outputs = _all_outputs(name, src, seeds=100)
    assert any(_norm(o) != _norm(src) for o in outputs), why


def test_fullwidth_space_in_a_name() -> None:
    assert _norm("Ｚｈａｎｇ\u3000Ｔｉｎｇ") == _norm("Zhang Ting")


# --- the engine keeps its categories under attack ---------------------------------------

SCAM_POSTS = [
    "老师带单，今日牛股，进群加微信：abc123",
    "黑户可贷，包下款，联系qq 12345678",
    "信用卡代还，提额套现，秒批到账，电话13800138000",
    "内幕消息，明天涨停的股票，加Telegram群免费领取",
    "网贷逾期？专业反催收、停息挂账、债务优化，加V：debt888",
    "虚拟币承兑，USDT高价收，加飞机号 usdt_otc",
    "Join our Telegram for guaranteed 100x signals, DM @pumpking now",
]


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_engine_categories_survive(engine: Engine, name: str) -> None:
    for i, post in enumerate(SCAM_POSTS):
        clean = sorted(engine.detect_text(post).codes())
        assert clean, post
        for seed in range(3):
            attacked = TRANSFORMS[name](post, random.Random(seed * 100 + i))
            assert sorted(engine.detect_text(attacked).codes()) == clean, (name, post, attacked)


# --- the report ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(engine: Engine) -> AttackReport:
    return evaluate_attacks(engine, FIXTURE)


def test_report_rows(report: AttackReport) -> None:
    assert report.rows_in_file == report.rows_read == 16
    assert report.positives == 12  # 11 exact labels + 1 is_positive
    assert report.not_positive == 3  # two negatives, one ambiguous
    assert list(report.skipped) == ["QL-5001"]  # the row without a label
    assert report.rows_read == report.positives + report.not_positive + 1


def test_report_clean_recall(report: AttackReport) -> None:
    clean = report.clean.post
    assert (clean.tp, clean.fn, clean.gold_hits) == (11, 1, 10)  # a10 missed; a11 flagged for another reason


def test_report_per_transform(report: AttackReport) -> None:
    assert [r.name for r in report.results] == list(TRANSFORMS)
    by = {r.name: r for r in report.results}
    for r in report.results:
        assert r.attacked == 12
        assert r.post.recall == report.clean.post.recall, r.name
        assert r.post.category_recall == report.clean.post.category_recall, r.name
        assert r.drop(report.clean.post) == 0.0 and r.lost == 0 and r.errors == 0
        assert r.same_normalized == 12, r.name
    assert by["zero_width"].changed == by["symbols"].changed == by["combined"].changed == 12
    assert by["traditional"].changed == 10  # the two English posts have no Han
    assert by["spaced_digits"].changed == 2  # a02 and a03; a12's number is grouped
    assert 0 < by["homophones"].changed < 12


def test_report_dict(report: AttackReport) -> None:
    d = report.to_dict()
    assert list(d) == sorted(d)
    assert d["rows"] == {"in_file": 16, "limit": None, "not_positive": 3, "positives": 12, "read": 16, "skipped": 1}
    assert d["clean"]["recall"] == round(11 / 12, 6)
    assert set(d["attacks"]) == set(TRANSFORMS)
    tr = d["attacks"]["traditional"]
    assert tr["exact"] is True and tr["within_limit"] is True and tr["drop_points"] == 0.0
    assert d["max_drop_points"] == 5.0 and d["seed"] == 0
    orjson.dumps(d)


def test_report_renders(report: AttackReport) -> None:
    text = render_attack_text(report)
    assert "file: attack_small.jsonl (16 rows)" in text
    lines = text.splitlines()
    assert any(line.split()[:2] == ["clean", "12"] for line in lines)
    assert any(line.split()[0] == "combined" and line.split()[-1] == "yes" for line in lines[7:])
    md = render_attack_markdown(report)
    assert md.startswith("### Attacks: `attack_small.jsonl` (16 rows)")
    assert "| transform | exact |" in md and "| pinyin | no |" in md
    assert "a0" not in md  # no ids in the docs


def test_report_subset_and_limit(engine: Engine) -> None:
    rep = evaluate_attacks(engine, FIXTURE, ["pinyin", "traditional"], limit=3)
    assert [r.name for r in rep.results] == ["pinyin", "traditional"]
    assert rep.rows_read == 3 and rep.rows_in_file == 16 and rep.positives == 3


def test_report_reproducible(engine: Engine) -> None:
    a = evaluate_attacks(engine, FIXTURE, ["combined"], seed=3, batch_size=2).to_dict()
    b = evaluate_attacks(engine, FIXTURE, ["combined"], seed=3).to_dict()
    assert a == b


def test_lost_positive_is_listed(engine: Engine, tmp_path: Path) -> None:
    """A transform the engine does not undo shows as a drop, with the id to look at."""
    from qinglang.eval import attack

    def strip_han(text: str, rng: random.Random) -> str:
        return "".join(c for c in text if c.isascii())

    attack.TRANSFORMS["_test_strip_han"] = strip_han
    try:
        rep = evaluate_attacks(engine, FIXTURE, ["_test_strip_han"])
    finally:
        del attack.TRANSFORMS["_test_strip_han"]
    res = rep.results[0]
    assert res.lost > 0 and res.lost_examples and res.lost_examples[0].startswith("a0")
    drop = res.drop(rep.clean.post)
    assert drop is not None and drop > 5
    assert res.to_dict(rep.clean.post)["within_limit"] is False
    assert "NO" in render_attack_text(rep)


# --- the command ------------------------------------------------------------------------

runner = CliRunner()


def test_cli_attack_text() -> None:
    result = runner.invoke(cli.app, ["eval", str(FIXTURE), "--attack", "traditional,pinyin"])
    assert result.exit_code == 0, result.output
    assert "qinglang eval --attack" in result.stdout
    assert "traditional" in result.stdout and "fullwidth" not in result.stdout


def test_cli_attack_json() -> None:
    result = runner.invoke(cli.app, ["eval", str(FIXTURE), "--attack", "all", "--json", "--limit", "5"])
    assert result.exit_code == 0, result.output
    d = orjson.loads(result.stdout)
    assert set(d["attacks"]) == set(TRANSFORMS) and d["rows"]["read"] == 5


def test_cli_attack_unknown_name() -> None:
    result = runner.invoke(cli.app, ["eval", str(FIXTURE), "--attack", "pinyn"])
    assert result.exit_code == 2
    assert "QL-4003" in result.output and "did you mean 'pinyin'?" in result.output
