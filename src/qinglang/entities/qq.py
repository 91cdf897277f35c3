"""QQ numbers and QQ group numbers.

The normalizer rewrites 扣扣, 企鹅号, "q q" and similar to ``qq``.

Canonical value: ``qq:<number>`` (5-11 digits, no leading zero). Sources:

* ``qq`` followed by an optional connector (号, 号码, 群, 群号, 交流群, 账号, 是, ``:``,
  brackets, spaces) and the number; ``detail.group`` is true when the connector
  names a group (群), because group numbers identify a chat, not a person.
* ``<number>@qq.com`` mail addresses: the local part is the QQ number
  (``detail.from_email`` true); the email extractor reports the address itself.
"""

from __future__ import annotations

import re

from qinglang.entities.base import Found, TextFacts, prescanned, text_facts
from qinglang.text.offsets import NormalizedText

_QQ_RE = re.compile(
    r"(?<![a-z0-9])qq"
    r"(?P<conn>(?:群号|群|号码|号|账号|帐号|交流群|粉丝群|是|为|加|[\s:=()\[\]])*)"
    r"(?P<num>[1-9][0-9]{4,10})(?![0-9])"
)
_MAIL_RE = re.compile(r"(?<![0-9a-z._%+\-])(?P<num>[1-9][0-9]{4,10})@qq\.com(?![a-z0-9\-])")


def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for :func:`extract` to find anything ("qq" among the
    ASCII characters: a few in a Chinese post)."""
    return "qq" in facts.ascii


def extract(nt: NormalizedText) -> list[Found]:
    text = nt.text
    if not prescanned(text) and not may_find(text, text_facts(text)):
        return []
    out: list[Found] = []
    for m in _QQ_RE.finditer(text):
        group = "群" in m.group("conn")
        s, e = m.span("num")
        out.append(Found("qq", "qq:" + m.group("num"), s, e, {"group": True} if group else None))
    if "@qq.com" in text:
        for m in _MAIL_RE.finditer(text):
            s, e = m.span("num")
            out.append(Found("qq", "qq:" + m.group("num"), s, e, {"from_email": True}))
    return out
