"""Telegram usernames, channels and invite links.

The normalizer rewrites 飞机号, 纸飞机, tg, 电报 and similar to ``telegram``.

Canonical values:

* ``telegram:<handle>``: from ``t.me/<handle>``, ``telegram.me/<handle>``,
  ``telegram.dog/<handle>``, ``t.me/s/<handle>`` (channel preview),
  ``tg://resolve?domain=<handle>``, or ``@handle`` / ``handle`` right after the word
  telegram (with an optional 号/id/群/频道/``:``). Handles are 5-32 characters of
  ``[a-z0-9_]`` and lowercased (Telegram usernames are case-insensitive).
* ``telegram:+<invite>`` with ``detail.invite`` true: from ``t.me/joinchat/<code>``
  and ``t.me/+<code>``. Invite codes are case-sensitive, so the value keeps the
  author's case (read from the original text); when that case cannot be recovered
  the lowercase code is used and ``detail.case_lost`` is true.
"""

from __future__ import annotations

import re

from qinglang.entities.base import Found, TextFacts, data_set, original_ascii, prescanned, text_facts
from qinglang.entities.wechat import followed_by_address, parse_handle
from qinglang.text.offsets import NormalizedText

_LINK_RE = re.compile(
    r"(?<![a-z0-9\-_.])(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/"
    r"(?:(?P<join>joinchat/|\+)(?P<inv>[a-z0-9_\-]{6,64})"
    r"|s/(?P<sh>[a-z0-9_]{5,32})"
    r"|(?P<h>[a-z0-9_]{1,32}))"
    r"(?![a-z0-9_\-])"
)
_RESOLVE_RE = re.compile(r"tg://resolve\?domain=(?P<h>[a-z0-9_]{5,32})(?![a-z0-9_])")
_KW_RE = re.compile(
    r"(?<![a-z0-9.])telegram"
    r"(?P<conn>(?:号码|号|id|账号|帐号|群|频道|是|搜索|搜|添加|加|[\s:=])*)@?"
)
_HANDLE_RE = re.compile(r"[a-z0-9_]{5,32}")
_RESERVED = data_set("telegram_reserved.txt")
_STOP = data_set("handle_stopwords.txt")


def _invite(nt: NormalizedText, s: int, e: int) -> Found | None:
    code = nt.text[s:e]
    orig = original_ascii(nt, s, e)
    detail: dict[str, bool] = {"invite": True}
    if orig is not None and len(orig) == len(code.replace("-", "").replace("_", "")):
        # original_ascii drops "-" and "_"; put them back at their places
        it = iter(orig)
        code = "".join(ch if ch in "-_" else next(it) for ch in code)
    else:
        detail["case_lost"] = True
    return Found("telegram", "telegram:+" + code, s, e, detail)


def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for :func:`extract` to find anything: a link, the word
    or a resolve URL among the ASCII characters (a few in a Chinese post)."""
    asc = facts.ascii
    return ".me/" in asc or ".dog/" in asc or "telegram" in asc or "tg://" in asc


def extract(nt: NormalizedText) -> list[Found]:
    text = nt.text
    # Each test is a literal its pattern needs: a cheap necessary condition. They read
    # the few ASCII characters of the text, unless the registry's prescan has already
    # looked (a short literal search in the text itself is then cheaper than the facts).
    asc = text if prescanned(text) else text_facts(text).ascii
    has_link = ".me/" in asc or ".dog/" in asc
    has_word = "telegram" in asc
    has_resolve = "tg://" in asc
    if not (has_link or has_word or has_resolve):
        return []
    out: list[Found] = []
    if has_link:
        for m in _LINK_RE.finditer(text):
            if m.group("inv"):
                f = _invite(nt, *m.span("inv"))
                if f:
                    out.append(f)
                continue
            key = "sh" if m.group("sh") else "h"
            handle = m.group(key)
            if len(handle) < 5 or handle in _RESERVED:
                continue
            out.append(Found("telegram", "telegram:" + handle, *m.span(key)))
    if has_resolve:
        for m in _RESOLVE_RE.finditer(text):
            out.append(Found("telegram", "telegram:" + m.group("h"), *m.span("h")))
    if has_word:
        for m in _KW_RE.finditer(text):
            parsed = parse_handle(text, m.end(), max_len=32)
            if not parsed:
                continue
            handle, end, split = parsed
            if not _HANDLE_RE.fullmatch(handle) or not handle[0].isalpha() or handle in _STOP:
                continue
            if followed_by_address(text, end):
                continue
            out.append(
                Found("telegram", "telegram:" + handle, m.end(), end,
                      {"split": True} if split else None)
            )
    return out
