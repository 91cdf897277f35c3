import pytest

from qinglang.detect.matcher import BACKENDS, TermMatcher, default_backend

AVAILABLE = [b for b in BACKENDS if b == "pyahocorasick" or default_backend() == "hyperscan"]


@pytest.fixture(params=AVAILABLE)
def backend(request) -> str:
    return request.param


def _matcher(*terms: str, backend: str | None = None) -> TermMatcher:
    m = TermMatcher(backend)
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
        (("微信", "加微信"), "请加微信abc", [("微信", 2, 4, True), ("加微信", 1, 4, True)]),
        (("dm me",), "pls dm me now", [("dm me", 4, 9, True)]),
        (("€",), "100€ x €", [("€", 3, 4, True), ("€", 7, 8, True)]),
    ],
)
def test_find(terms, text, expected, backend):
    m = _matcher(*terms, backend=backend)
    got = [(m.terms[tid].text, s, e, b) for tid, s, e, b in m.find(text)]
    assert sorted(got) == sorted(expected)


def test_add_is_idempotent(backend):
    m = TermMatcher(backend)
    assert m.add("贷款") == m.add("贷款")
    assert len(m.terms) == 1


def test_empty_matcher_finds_nothing(backend):
    m = TermMatcher(backend)
    m.build()
    assert m.find("anything") == []


def test_backends_agree_on_mixed_text():
    if len(AVAILABLE) < 2:
        pytest.skip("hyperscan is not installed on this platform")
    terms = ("贷款", "款", "vip群", "dm", "加微信", "微信", "é")
    text = "dm 我: VIP群 加微信 小额贷款 café dm"
    got = [sorted(_matcher(*terms, backend=b).find(text.lower())) for b in AVAILABLE]
    assert got[0] == got[1]


def test_unknown_backend():
    with pytest.raises(ValueError):
        TermMatcher("nope")


def test_find_into_groups_by_term(backend):
    m = _matcher("微信", "贷款", backend=backend)
    occ: dict = {}
    m.find_into("加微信，贷款，微信", 0, occ)
    m.find_into("贷款", 1, occ)
    by_text = {m.terms[tid].text: v for tid, v in occ.items()}
    assert by_text == {"微信": [(0, 1, 3, True), (0, 7, 9, True)], "贷款": [(0, 4, 6, True), (1, 0, 2, True)]}
