"""URLs and registrable domains, including bare and obfuscated hosts."""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities

URL_CASES = [
    ("访问https://example.com/abc?x=1 了解", ["url:https://example.com/abc?x=1"]),
    ("http://example.com", ["url:http://example.com/"]),
    ("see https://example.com.", ["url:https://example.com/"]),
    ("(https://example.com/a_(b))", ["url:https://example.com/a_(b)"]),
    ("https://example.com/path),", ["url:https://example.com/path"]),
    ("http://abc.com:80/x", ["url:http://abc.com/x"]),  # default port dropped
    ("https://abc.com:8443/x", ["url:https://abc.com:8443/x"]),
    ("hxxps://evil.top/login", ["url:https://evil.top/login"]),  # defanged
    ("http://1.2.3.4:8080/a", ["url:http://1.2.3.4:8080/a"]),
    ("abc123.cn/xyz", ["url:http://abc123.cn/xyz"]),  # bare host with a path
    ("t.me/abc_def", ["url:http://t.me/abc_def"]),
    ("链接:https://abc.com/p，点击进入", ["url:https://abc.com/p"]),
    # not URLs
    ("http://localhost/x", []),
    ("www.abc.com", []),  # a bare host without a path is a domain only
    ("version 3.14", []),
]

DOMAIN_CASES = [
    ("https://www.example.co.uk/x", ["domain:example.co.uk"]),
    ("https://sub.example.com", ["domain:example.com"]),
    ("www.abc.com", ["domain:abc.com"]),
    ("abc123.cn/xyz", ["domain:abc123.cn"]),
    ("官网abc123.cn欢迎", ["domain:abc123.cn"]),
    ("bbc.co.uk", ["domain:bbc.co.uk"]),
    ("下载 abc-app.top", ["domain:abc-app.top"]),
    ("abc.online", ["domain:abc.online"]),
    ("www.hello.world", ["domain:hello.world"]),  # a word suffix counts with www.
    ("readme.md/x", ["domain:readme.md"]),  # ... or with a path
    # obfuscated dots
    ("abc点com", ["domain:abc.com"]),
    ("abc 点 com", ["domain:abc.com"]),
    ("abc dot com", ["domain:abc.com"]),
    ("abc(.)com", ["domain:abc.com"]),
    ("abc[.]com", ["domain:abc.com"]),
    ("abc。com", ["domain:abc.com"]),
    ("www点abc点com点cn", ["domain:abc.com.cn"]),
    # not domains
    ("report.pdf", []),
    ("3.14", []),
    ("v1.2.3", []),
    ("readme.md", []),  # file extension
    ("install.sh", []),
    ("photo.zip", []),
    ("600519.sh", []),  # a stock code
    ("00700.hk", []),
    ("hello.world", []),  # a word glued to a sentence end
    ("i did it.so what", []),
    ("e.g. this", []),
    ("zhang.san@example.com", []),  # a mail domain
    ("http://localhost:8080", []),
    ("http://1.2.3.4/a", []),  # an IP has no registrable domain
    ("一点com", []),  # obfuscation needs an ASCII label
    ("the dotcom bubble", []),
    ("abc点xyzzy", []),  # not an accepted suffix for obfuscation
    ("2024年3.5万元", []),
]


@pytest.mark.parametrize(("text", "expected"), URL_CASES)
def test_url(values, text: str, expected: list[str]) -> None:
    assert values(text, "url") == expected


@pytest.mark.parametrize(("text", "expected"), DOMAIN_CASES)
def test_domain(values, text: str, expected: list[str]) -> None:
    assert values(text, "domain") == expected


def test_url_path_keeps_author_case(lowered) -> None:
    es = extract_entities(lowered("短链 https://Bit.ly/AbC123 速领"), "text")
    assert [e.value for e in es if e.type == "url"] == ["url:https://bit.ly/AbC123"]
    (d,) = [e for e in es if e.type == "domain"]
    assert (d.value, d.text) == ("domain:bit.ly", "Bit.ly")


def test_domain_detail() -> None:
    from qinglang.text.offsets import NormalizedText

    es = extract_entities(NormalizedText.identity("www.shop.abc.co.uk 和 abc点com"), "text")
    details = {e.value: e.detail for e in es if e.type == "domain"}
    assert details == {
        "domain:abc.co.uk": {"host": "www.shop.abc.co.uk"},
        "domain:abc.com": {"obfuscated": True},
    }
