"""Email addresses.

Canonical value: ``email:<local>@<domain>``, lowercased (providers treat addresses
case-insensitively in practice, and clustering needs one spelling). The domain must
end in a real public suffix. Obfuscated at-signs ``(at)``, ``[at]``, ``{at}`` and
艾特 are read as ``@`` (``detail.obfuscated`` true). QQ mail addresses also give a
``qq:`` entity (see :mod:`qinglang.entities.qq`).
"""

from __future__ import annotations

import re

from qinglang.entities.base import Found, TextFacts, prescanned, text_facts
from qinglang.entities.psl import split_host
from qinglang.text.offsets import NormalizedText

_AT = r"(?P<at>@|\s?(?:\(at\)|\[at\]|\{at\}|艾特)\s?)"
_EMAIL_RE = re.compile(
    r"(?<![a-z0-9._%+\-])"
    r"(?P<local>[a-z0-9_](?:[a-z0-9._%+\-]{0,62}[a-z0-9_])?)"
    + _AT
    + r"(?P<domain>(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})"
    r"(?![a-z0-9\-_])"
)


#: An address needs a local-part character, the at-sign and a domain character in a
#: row. The pattern starts with the literal "@", so ``re`` jumps from one "@" to the
#: next: @-mentions ("@黎启", ":@name") fail here without the full pattern, whose
#: leading look-behind makes it try every position of the text.
_PLAIN_AT_RE = re.compile(r"@(?<=[a-z0-9_]@)[a-z0-9]")


def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for a match of :data:`_EMAIL_RE`.

    The ASCII forms are looked for among the ASCII characters only (a few in a
    Chinese post); a false positive there only costs the full pattern.
    """
    asc = facts.ascii
    if "@" in asc and _PLAIN_AT_RE.search(text) is not None:
        return True
    return "at)" in asc or "at]" in asc or "at}" in asc or "艾特" in text


def extract(nt: NormalizedText) -> list[Found]:
    text = nt.text
    if not prescanned(text) and not may_find(text, text_facts(text)):
        return []
    out: list[Found] = []
    for m in _EMAIL_RE.finditer(text):
        local, domain = m.group("local"), m.group("domain")
        if ".." in local or split_host(domain) is None:
            continue
        detail = None if m.group("at") == "@" else {"obfuscated": True}
        out.append(Found("email", f"email:{local}@{domain}", m.start(), m.end(), detail))
    return out
