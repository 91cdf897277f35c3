"""One test per pack-validation error kind; the diagnostics are golden files."""

from __future__ import annotations

import pytest

from golden_util import assert_golden
from qinglang import errors
from qinglang.errors import QLError
from qinglang.policy.loader import load_pack, load_pack_text

BASE = """\
pack: demo
version: "1"
lists:
  tip_words: [荐股, 牛股]
rules:
  - id: demo.stock.tip
    category: stock_tipping
    score: 0.5
    when:
      - any: ["@tip_words"]
"""

CASES = {
    "yaml_syntax": (errors.PACK_YAML, BASE.replace("any: [\"@tip_words\"]", "any: [\"@tip_words\"")),
    "unknown_field": (errors.PACK_SCHEMA, BASE.replace("    when:", "    wehn:\n      - any: [x]\n    when:")),
    "wrong_type": (errors.PACK_SCHEMA, BASE.replace("score: 0.5", "score: high")),
    "score_range": (errors.PACK_SCHEMA, BASE.replace("score: 0.5", "score: 1.5")),
    "two_condition_kinds": (errors.PACK_SCHEMA, BASE.replace('- any: ["@tip_words"]',
                                                           '- any: ["@tip_words"]\n        regex: "x"')),
    "unknown_list": (errors.PACK_UNKNOWN_LIST, BASE.replace('"@tip_words"', '"@tip_word"')),
    "unknown_category": (errors.PACK_UNKNOWN_CATEGORY, BASE.replace("stock_tipping", "stock_tiping")),
    "bad_regex": (errors.PACK_BAD_REGEX, BASE.replace('- any: ["@tip_words"]', '- regex: "(unclosed"')),
    "duplicate_id": (errors.PACK_DUPLICATE_ID, BASE + (
        "  - id: demo.stock.tip\n"
        "    category: stock_tipping\n"
        "    score: 0.5\n"
        "    when: [{any: [牛股]}]\n"
    )),
    "unknown_entity": (errors.PACK_UNKNOWN_ENTITY, BASE.replace('"@tip_words"', '"$wechta"')),
    "empty_term": (errors.PACK_EMPTY_TERM, BASE.replace("[荐股, 牛股]", "[荐股, '  ']")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_pack_error(name):
    code, text = CASES[name]
    with pytest.raises(QLError) as info:
        load_pack_text(text, "packs/demo.yaml")
    assert info.value.code == code
    assert_golden(f"pack_errors/{name}.txt", f"{info.value.code.code} {info.value.message}\n")


def test_base_is_valid():
    pack = load_pack_text(BASE, "packs/demo.yaml")
    assert pack.name == "demo" and len(pack.doc.rules) == 1


def test_did_you_mean_hints():
    with pytest.raises(QLError) as info:
        load_pack_text(CASES["unknown_list"][1])
    assert info.value.hint == "@tip_words"
    with pytest.raises(QLError) as info:
        load_pack_text(CASES["unknown_field"][1])
    assert info.value.hint == "when"
    with pytest.raises(QLError) as info:
        load_pack_text(CASES["unknown_category"][1])
    assert info.value.hint == "stock_tipping"


def test_error_names_line():
    with pytest.raises(QLError) as info:
        load_pack_text(CASES["unknown_list"][1], "p.yaml")
    assert info.value.context["line"] == 10


def test_missing_file(tmp_path):
    with pytest.raises(QLError) as info:
        load_pack(tmp_path / "nope.yaml")
    assert info.value.code == errors.PACK_NOT_FOUND
