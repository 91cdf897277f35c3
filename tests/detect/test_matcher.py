import pytest

from qinglang.detect.matcher import TermMatcher


def _matcher(*terms: str) -> TermMatcher:
    m = TermMatcher()
    for t in terms:
        m.add(t)
    m.build()
    return m


@pytest.mark.parametrize(
    ("terms", "text", "expected"),
    [
        (("贷款",), "小额贷款快速放款", [("贷款", 2, 4, True)]),
        (("荐股", "股"), "荐股", [("荐股", 0, 2, True), ("股", 1, 2, True)]),
        (("pump",), "pump it", [("pump", 0, 4, True)]),
        (("pump",), "pumpkin pie", [("pump", 0, 4, False)]),
        (("pump",), "a pump.", [("pump", 2, 6, True)]),
        (("pump",), "xpump", [("pump", 1, 5, False)]),
        (("vip群",), "进vip群", [("vip群", 1, 5, True)]),
        (("vip群",), "xvip群", [("vip群", 1, 5, False)]),
        (("贷款",), "", []),
        (("贷款",), "股票", []),
    ],
)
def test_find(terms, text, expected):
    m = _matcher(*terms)
    got = [(m.terms[tid].text, s, e, b) for tid, s, e, b in m.find(text)]
    assert sorted(got) == sorted(expected)


def test_add_is_idempotent():
    m = TermMatcher()
    assert m.add("贷款") == m.add("贷款")
    assert len(m.terms) == 1


def test_empty_matcher_finds_nothing():
    m = TermMatcher()
    m.build()
    assert m.find("anything") == []
