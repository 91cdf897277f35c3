"""WhatsApp numbers and group invites.

Canonical values:

* ``whatsapp:+<E.164>``: from ``wa.me/<digits>``, ``api.whatsapp.com/send?phone=<digits>``
  and the word whatsapp (or 瓦次普) followed by a number. A number after the word is
  read as international when written with ``+``/``00``, as a mainland mobile when it
  is one, and otherwise as international digits without the ``+`` (the way wa.me
  links are written). Numbers that ``phonenumbers`` rejects are not reported.
* ``whatsapp:invite:<code>`` with ``detail.invite`` true: from
  ``chat.whatsapp.com/<code>``. Codes are case-sensitive; the author's case is kept
  when it can be recovered from the original text.
"""

from __future__ import annotations

import re

from qinglang.entities.base import Found, TextFacts, original_ascii, prescanned, text_facts
from qinglang.entities.phone import parse_international, trimmed
from qinglang.text.offsets import NormalizedText

_LINK_RE = re.compile(
    r"(?<![a-z0-9\-_.])(?:https?://)?"
    r"(?:wa\.me/|(?:api\.)?whatsapp\.com/send/?\?phone=)\+?(?P<d>[0-9]{6,15})(?![0-9])"
)
_INVITE_RE = re.compile(
    r"(?<![a-z0-9\-_.])(?:https?://)?chat\.whatsapp\.com/(?:invite/)?(?P<c>[a-z0-9]{10,40})"
    r"(?![a-z0-9])"
)
_KW_RE = re.compile(
    r"(?<![a-z0-9])(?:whatsapp|whats app|瓦次普)"
    r"(?:号码|号|账号|[\s:=])*"
    r"(?P<n>(?:\+|00)?[1-9][0-9]*(?:[ \-.()]{0,2}[0-9]){4,16})(?![0-9])"
)
_MAINLAND_RE = re.compile(r"1[3-9][0-9]{9}")


def _number(raw: str) -> tuple[str, str] | None:
    digits = "".join(ch for ch in raw if ch.isdigit())
    if raw.startswith("00"):
        return parse_international(digits[2:])
    if raw.startswith("+"):
        return parse_international(digits)
    if _MAINLAND_RE.fullmatch(digits):
        # eleven digits starting with 1 may also be a +1 number ("14155552671")
        return parse_international("86" + digits) or parse_international(digits)
    return parse_international(digits)


def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for :func:`extract` to find anything (the ASCII words
    looked for among the few ASCII characters of the text)."""
    asc = facts.ascii
    return "wa.me" in asc or "whats" in asc or "瓦次普" in text


def extract(nt: NormalizedText) -> list[Found]:
    text = nt.text
    if not prescanned(text) and not may_find(text, text_facts(text)):
        return []
    out: list[Found] = []
    for m in _LINK_RE.finditer(text):
        parsed = parse_international(m.group("d"))
        if parsed:
            out.append(Found("whatsapp", "whatsapp:" + parsed[0], *m.span("d"),
                             {"region": parsed[1]}))
    for m in _KW_RE.finditer(text):
        s = m.start("n")
        for part in trimmed(m.group("n")):
            parsed = _number(part)
            if parsed:
                out.append(Found("whatsapp", "whatsapp:" + parsed[0], s, s + len(part),
                                 {"region": parsed[1]}))
                break
    if "chat.whatsapp.com" in text:
        for m in _INVITE_RE.finditer(text):
            s, e = m.span("c")
            orig = original_ascii(nt, s, e)
            detail: dict[str, bool] = {"invite": True}
            if orig is None:
                detail["case_lost"] = True
            code = orig if orig is not None else m.group("c")
            out.append(Found("whatsapp", "whatsapp:invite:" + code, s, e, detail))
    return out
