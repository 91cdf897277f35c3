"""WeChat ids announced after the word 微信.

The normalizer rewrites every variant (薇信, 威❤信, vx, wx, v信, 加v, "薇:") to
``微信``, so this extractor only looks for that word (and the English "wechat").

Canonical value: ``wechat:<id>``.

* After 微信 and an optional connector (号, 号码, id, 账号, 是, 搜, 加, 添加, ``:``, ``=``,
  spaces), a WeChat id: 6-20 characters, starting with a letter, of ``[a-z0-9_-]``.
  ``-`` and ``_`` are legal id characters and are kept (``微信:abc-123`` ->
  ``wechat:abc-123``); a trailing ``-`` is punctuation and dropped.
* Handles split by single separators are joined: a space may separate fragments of
  at most three characters ("微信: a b c 1 2 3", "微信: abc 123" -> ``abc123``), a dot
  or ``·`` only single characters ("a.b.c.1.2.3"), so "微信 abc123 thanks" and
  "abc.com" are not glued together. ``detail.split`` is true when this happened.
* A mainland mobile right after 微信, or next to 微信同号 / 同微信, gives
  ``wechat:<11 digits>`` with ``detail.phone`` true (the phone extractor reports the
  same number as ``phone:+86...``).
* ``wxid_...`` system ids are reported as ``wechat:wxid_...``.

Words that often follow 微信 but are not ids ("official", "group") are skipped
(``data/handle_stopwords.txt``), as are handles that turn out to start an email
address or a domain.
"""

from __future__ import annotations

import re

from qinglang.entities.base import Found, TextFacts, data_set, prescanned, text_facts
from qinglang.entities.phone import MOBILE_RE, find_mobiles, mobile_at
from qinglang.text.offsets import NormalizedText

_KW_RE = re.compile(
    r"(?:微信|wechat|weixin)"
    r"(?P<conn>(?:号码|号|id(?=[\s:=]|是)|账号|帐号|名|是|为|搜索|搜|添加|加|同号|[\s:=])*)"
)
_SAME_RE = re.compile(r"同微信|微信同(?:手机|电话)号?")
_WXID_RE = re.compile(r"(?<![a-z0-9_])(?:wxid|微信id)_(?P<h>[a-z0-9]{4,30})(?![a-z0-9_])")
_TOKEN_RE = re.compile(r"[a-z0-9_\-]+")
_ID_RE = re.compile(r"[a-z][a-z0-9_\-]{5,19}")
_SPACE_SEPS = frozenset(" \t")
_DOT_SEPS = frozenset(".·•*|/")
_STOP = data_set("handle_stopwords.txt")


def parse_handle(text: str, pos: int, max_len: int = 20) -> tuple[str, int, bool] | None:
    """Read a handle that may be split by single separators, starting at ``pos``.

    Returns ``(handle, end, split)``; the handle is not validated here.
    """
    m = _TOKEN_RE.match(text, pos)
    if not m:
        return None
    parts = [m.group()]
    end = m.end()
    n = len(text)
    while end + 1 < n:
        sep = text[end]
        nxt = _TOKEN_RE.match(text, end + 1)
        if not nxt:
            break
        last, token = parts[-1], nxt.group()
        if sep in _SPACE_SEPS:
            if len(last) > 3:
                break
        elif sep in _DOT_SEPS:
            if len(last) != 1 and len(token) != 1:
                break
        else:
            break
        if sum(map(len, parts)) + len(token) > max_len:
            break
        parts.append(token)
        end = nxt.end()
    handle = "".join(parts)
    while handle.endswith("-"):
        handle = handle[:-1]
        end -= 1
    return handle, end, len(parts) > 1


def followed_by_address(text: str, end: int) -> bool:
    """True if a handle ending at ``end`` is really the start of an email or a domain."""
    if end >= len(text):
        return False
    ch = text[end]
    return ch == "@" or (ch == "." and end + 1 < len(text) and text[end + 1].isalpha())


def _near_phone(text: str, s: int, e: int, window: int = 14) -> tuple[int, int, str] | None:
    """The mobile closest to ``[s, e)``: after it first, then before it."""
    after = find_mobiles(text, e, min(len(text), e + window + 16))
    if after and after[0][0] - e <= window:
        return after[0]
    before = find_mobiles(text, max(0, s - window - 16), s)
    if before and s - before[-1][1] <= window:
        return before[-1]
    return None


def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for :func:`extract` to find anything: one of its words
    (the ASCII ones looked for among the few ASCII characters of the text)."""
    asc = facts.ascii
    return "微信" in text or "wechat" in asc or "weixin" in asc or "wxid" in asc


def extract(nt: NormalizedText) -> list[Found]:
    text = nt.text
    if not prescanned(text) and not may_find(text, text_facts(text)):
        return []
    out: list[Found] = []
    for m in _KW_RE.finditer(text):
        p = m.end()
        conn = m.group("conn")
        pm = MOBILE_RE.match(text, p)
        if pm and (digits := mobile_at(text, pm)):
            out.append(Found("wechat", "wechat:" + digits, pm.start(), pm.end(), {"phone": True}))
            continue
        if "同号" in conn:
            near = _near_phone(text, m.start(), m.end())
            if near:
                out.append(Found("wechat", "wechat:" + near[2], near[0], near[1], {"phone": True}))
            continue
        if text.startswith("id_", p):  # 微信id_... is a wxid, handled below
            continue
        parsed = parse_handle(text, p)
        if not parsed:
            continue
        handle, end, split = parsed
        if not _ID_RE.fullmatch(handle) or handle in _STOP or handle.startswith(("http", "www")):
            continue
        if followed_by_address(text, end):
            continue
        out.append(Found("wechat", "wechat:" + handle, p, end, {"split": True} if split else None))
    for m in _SAME_RE.finditer(text):
        near = _near_phone(text, m.start(), m.end())
        if near:
            out.append(Found("wechat", "wechat:" + near[2], near[0], near[1], {"phone": True}))
    for m in _WXID_RE.finditer(text):
        out.append(Found("wechat", "wechat:wxid_" + m.group("h"), m.start(), m.end(), None))
    return out
