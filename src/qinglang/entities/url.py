"""URLs and domains, including bare and obfuscated ones.

Canonical values:

* ``url:<scheme>://<host>[:port]<path>``: the host lowercased, the default port
  dropped, an empty path written ``/``, the path, query and fragment kept in the
  author's case (short links are case-sensitive) when the original text can be
  read back, and trailing sentence punctuation removed. Defanged ``hxxp(s)`` is read
  as ``http(s)``. A bare host followed by a path (``abc123.cn/xyz``) gives
  ``url:http://abc123.cn/xyz`` with ``detail.bare`` true.
* ``domain:<registrable domain>`` (``domain:example.co.uk`` for
  ``www.example.co.uk``) via the bundled public suffix list; ``detail.host`` holds
  the full host when it differs. Sources: every URL host, bare hosts
  (``www.abc.com``, ``abc123.cn``), and obfuscated dots (``abc点com``, ``abc dot com``,
  ``abc(.)com``, ``abc[.]com``, ``abc。com``) with ``detail.obfuscated`` true.

Bare hosts need a real public suffix and are further restricted because normalized
text is lowercase and sentences often lack a space after the period: suffixes that
are file extensions or English words (``report.zip``, ``it.is``, ``readme.md``) and
long suffixes outside a short list (``hello.world``) count only with ``www.`` or a
path. Digits-only names with an exchange suffix (``600519.sh``, ``00700.hk``) are
stock codes. Hosts right after ``@`` are mail domains and are left to the email
extractor. Obfuscated domains accept only a short list of suffixes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from qinglang.entities.base import Found, TextFacts, data_set, original_cased, text_features
from qinglang.entities.psl import split_host
from qinglang.text.offsets import NormalizedText

_STOP_CHARS = r"\s<>\"'`\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_LBL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"

# The look-behinds that keep a match from starting inside a word sit after the first
# character, so that the pattern starts with a literal or a class and ``re`` skips
# non-candidates in C (a leading look-behind is tried at every position of the text).
_SCHEME_RE = re.compile(
    r"(?P<scheme>h(?<![a-z0-9]h)(?:tt|xx)ps?|f(?<![a-z0-9]f)tp)://"
    rf"(?P<host>{_LBL}(?:\.{_LBL})*|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
    rf"(?P<rest>[/?#][^{_STOP_CHARS}]*)?"
)
_BARE_RE = re.compile(
    # (?:{_LBL}\.)+ with its first label's first character written out
    rf"(?P<host>[a-z0-9](?<![a-z0-9\-_.@/:%].)(?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.(?:{_LBL}\.)*[a-z]{{2,24}})"
    r"(?::(?P<port>[0-9]{2,5}))?"
    rf"(?P<rest>/[^{_STOP_CHARS}]*)?"
    r"(?![a-z0-9\-_@])"
)
_ODOT = (
    r"(?:\s*(?:点|。|\(\.\)|\[\.\]|\{\.\}|<\.>|\(点\)|\[点\]|\(dot\)|\[dot\]|\{dot\})\s*"
    r"|\s+dot\s+|\s+\.\s+)"
)
_ODOT_RE = re.compile(_ODOT)
_OBF_RE = re.compile(
    rf"(?<![a-z0-9\-_.@])(?P<host>{_LBL}(?:(?:{_ODOT}|\.){_LBL}){{1,4}})(?![a-z0-9\-_])"
)
_DOT_LETTER = re.compile(r"\.[a-z]")
_IPV4_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_TRAILING = ".,;:!?'\")]}>*"
_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21"}
#: builds a NamedTuple from a tuple in C (the generated ``__new__`` costs twice as much)
_tuple_new = tuple.__new__

_DENY = data_set("bare_tld_deny.txt")
_LONG_OK = data_set("bare_tld_long_ok.txt")
_OBF_TLDS = data_set("obf_tlds.txt")
_STOCK_SUFFIXES = data_set("stock_suffixes.txt")


def _trim_rest(rest: str) -> str:
    """Drop sentence punctuation glued to the end of a URL; keep balanced brackets."""
    while rest and rest[-1] in _TRAILING:
        if rest[-1] == ")" and rest.count("(") >= rest.count(")"):
            break
        rest = rest[:-1]
    return rest


def _domain(host: str, s: int, e: int, extra: dict[str, object] | None = None) -> Found | None:
    parts = split_host(host)
    if parts is None:
        return None
    registrable = parts.registrable
    if extra is None and host == registrable:
        return _tuple_new(Found, ("domain", "domain:" + registrable, s, e, None))
    detail: dict[str, object] = dict(extra or {})
    if host != registrable:
        detail["host"] = host
    return _tuple_new(Found, ("domain", "domain:" + registrable, s, e, detail or None))


def _bare_ok(host: str, has_path: bool) -> bool:
    parts = split_host(host)
    if parts is None:
        return False
    name = parts.registrable[: -len(parts.suffix) - 1]
    if name.isdigit() and parts.suffix in _STOCK_SUFFIXES:
        return False
    if has_path or host.startswith("www."):
        return True
    suffix = parts.suffix
    if "." in suffix:  # com.cn, co.uk: never an accident
        return True
    if suffix in _DENY:
        return False
    return len(suffix) <= 3 or suffix in _LONG_OK


def _url_value(nt: NormalizedText, scheme: str, host: str, port: str | None,
               rs: int, rend: int) -> str:
    rest = nt.text[rs:rend]
    if rest:
        rest = original_cased(nt, rs, rend) or rest
        if rest[0] in "?#":
            rest = "/" + rest
    else:
        rest = "/"
    netloc = host if not port or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    return f"url:{scheme}://{netloc}{rest}"


#: the schemes _SCHEME_RE reads, by length
_SCHEMES = ((5, ("https", "hxxps")), (4, ("http", "hxxp")), (3, ("ftp",)))


def scheme_matches(text: str) -> Iterator[re.Match[str]]:
    """The matches of ``_SCHEME_RE.finditer(text)``, found from each "://".

    A literal search skips to the candidates at C speed, where the pattern's scan
    tries every "h" and "f" of the text. A match's "://" follows its scheme, so only
    the three to five characters before each "://" can start one, and no two of the
    schemes end the same way; matches after the first start at or after its end, as
    in ``finditer``.
    """
    pos = 0
    i = text.find("://")
    while i >= 0:
        m = None
        for k, schemes in _SCHEMES:
            if i - k >= pos and text[i - k:i] in schemes:
                m = _SCHEME_RE.match(text, i - k)
                break
        if m is None:
            i = text.find("://", i + 1)
        else:
            yield m
            pos = m.end()
            i = text.find("://", pos)


def _scheme_urls(nt: NormalizedText, out: list[Found]) -> list[tuple[int, int]]:
    text = nt.text
    spans: list[tuple[int, int]] = []
    for m in scheme_matches(text):
        scheme, host, port, rest = m.group("scheme", "host", "port", "rest")
        if "x" in scheme:
            scheme = scheme.replace("xx", "tt")
        host = host.strip(".")
        if rest is not None:
            rs = m.start("rest")
            rest = _trim_rest(rest)
        else:
            rs, rest = m.end(), ""
        end = rs + len(rest)
        detail: dict[str, object] | None = None
        if host[:1].isdigit() and _IPV4_RE.fullmatch(host):  # an IPv4 address starts with a digit
            detail = {"ip": True}
        elif "." not in host and not host.startswith("["):
            continue  # "http://localhost" style: not an internet address
        start = m.start()
        out.append(_tuple_new(Found, ("url", _url_value(nt, scheme, host, port, rs, end), start, end, detail)))
        spans.append((start, end))
        if detail is None:
            d = _domain(host, *m.span("host"))
            if d:
                out.append(d)
    return spans


def _dot_letter_outside(text: str, taken: list[tuple[int, int]]) -> bool:
    """True if some dot before a letter lies outside every span of ``taken`` (spans
    in text order, not overlapping: what :func:`_scheme_urls` returns).

    Every bare host holds one (before its suffix). When all of them sit inside URLs
    already read (``http://t.cn/...`` in most posts that have any), every bare match
    would overlap one of those and be dropped, so the bare scan can be skipped. Only
    the gaps between the spans are searched (a dot just before a span may be followed
    by the span's first character).
    """
    pos = 0
    for ts, te in taken:
        if ts > pos and _DOT_LETTER.search(text, pos, ts + 1) is not None:
            return True
        pos = te
    return _DOT_LETTER.search(text, pos) is not None


def _bare(nt: NormalizedText, out: list[Found], taken: list[tuple[int, int]]) -> None:
    text = nt.text
    for m in _BARE_RE.finditer(text):
        s, e = m.span()
        if any(s < te and ts < e for ts, te in taken):
            continue
        host = m.group("host")
        rest = _trim_rest(m.group("rest") or "")
        has_path = len(rest) > 1
        if not _bare_ok(host, has_path):
            continue
        d = _domain(host, *m.span("host"))
        if d is None:
            continue
        out.append(d)
        if has_path:
            rs = m.start("rest")
            value = _url_value(nt, "http", host, m.group("port"), rs, rs + len(rest))
            out.append(Found("url", value, s, rs + len(rest), {"bare": True}))


#: Cheap test for an obfuscated dot. 点 and 。 are common in plain Chinese, so they
#: count only after an ASCII letter or digit (one space allowed) and before a letter;
#: the other marks are rare in plain text. Every alternative starts with a literal so
#: the engine can skip ahead.
_OBF_GATE_RE = re.compile(
    r"点(?:(?<=[a-z0-9]点)|(?<=[a-z0-9] 点)) ?[a-z]"
    r"|。(?:(?<=[a-z0-9]。)|(?<=[a-z0-9] 。)) ?[a-z]"
    r"|dot|\(\.\)|\[\.\]|\{\.\}|<\.>| \. "
)
# _OBF_GATE_RE split by its first character: a pattern with one literal prefix scans
# several times faster than an alternation, and each runs only where its character
# occurs (tested with ``in`` first; "." before the ASCII marks but "dot").
_OBF_DIAN_RE = re.compile(r"点(?:(?<=[a-z0-9]点)|(?<=[a-z0-9] 点)) ?[a-z]")
_OBF_JU_RE = re.compile(r"。(?:(?<=[a-z0-9]。)|(?<=[a-z0-9] 。)) ?[a-z]")
_OBF_ASCII_RE = re.compile(r"dot|\(\.\)|\[\.\]|\{\.\}|<\.>| \. ")
#: a dot between the brackets or spaces of an ASCII obfuscated dot
_OBF_DOT_RE = re.compile(r"\.(?<=[(\[{< ]\.)[)\]}> ]")


def has_cjk_obfuscation(text: str) -> bool:
    """The 点 / 。 part of :data:`_OBF_GATE_RE`: ``点`` or ``。`` between an ASCII letter
    or digit and a letter (one space allowed on either side)."""
    return ("点" in text and _OBF_DIAN_RE.search(text) is not None) or (
        "。" in text and _OBF_JU_RE.search(text) is not None
    )


def _has_obfuscation(text: str) -> bool:
    """``_OBF_GATE_RE.search(text) is not None``, faster."""
    if has_cjk_obfuscation(text):
        return True
    if "dot" in text or ("." in text and _OBF_DOT_RE.search(text) is not None):
        return _OBF_ASCII_RE.search(text) is not None
    return False


def _obfuscated(nt: NormalizedText, out: list[Found], taken: list[tuple[int, int]]) -> None:
    text = nt.text
    for m in _OBF_RE.finditer(text):
        s, e = m.span()
        raw = m.group("host")
        if not _ODOT_RE.search(raw):  # plain dots only: a bare domain, handled above
            continue
        if any(s < te and ts < e for ts, te in taken):
            continue
        labels = [label for part in _ODOT_RE.split(raw) for label in part.split(".")]
        if labels[-1] not in _OBF_TLDS:
            continue
        host = ".".join(labels)
        d = _domain(host, s, e, {"obfuscated": True})
        if d:
            out.append(d)


def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for :func:`extract` to find anything.

    A scheme URL has "://"; a bare host a dot; an obfuscated one a dot, "dot", 点 or 。
    (the ASCII marks are looked for among the few ASCII characters of the text).
    """
    asc = facts.ascii
    return "." in asc or "://" in asc or "dot" in asc or "点" in text or "。" in text


# Bits of the registry's prescan (see returns.F_ZH; patterns in gate._PATTERNS):
#: "://"
F_SCHEME = 1 << 16
#: a dot before a letter
F_DOT = 1 << 17
#: an obfuscated dot as _OBF_GATE_RE finds it
F_OBFUSCATED = 1 << 18


def extract(nt: NormalizedText) -> list[Found]:
    text = nt.text
    feats = text_features(text)
    out: list[Found] = []
    taken: list[tuple[int, int]] = []
    if feats & F_SCHEME and "://" in text:
        taken = _scheme_urls(nt, out)
    if feats & F_DOT and "." in text and _dot_letter_outside(text, taken):
        _bare(nt, out, taken)
    if feats & F_OBFUSCATED and _has_obfuscation(text):
        _obfuscated(nt, out, taken + [(f.nstart, f.nend) for f in out])
    return out
