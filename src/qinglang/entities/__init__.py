"""Entity extraction: identifiers and claims in a post, in canonical form.

Each extractor is a module with ``extract(nt) -> list[Found]`` that reads the
normalized text (simplified, half-width, lowercase, contact words canonicalized)
and follows "match, then validate, then invalidate": a candidate regex, a check
(checksum, prefix table, public-suffix list), then context that can veto. Every
extractor starts with a cheap test (a substring, a short digit run) so a post
without candidates costs a few microseconds: its module's ``may_find(text, facts)``,
which reads :func:`~qinglang.entities.base.text_facts` (digit runs, ASCII
characters, computed once per text with byte operations). The registry calls
``may_find`` before ``extract``, so most extractors cost one call per text.

:func:`extract_entities` runs the registry, maps spans back to the field's original
text, drops duplicates (same type, value and span) and sorts by position. The
canonical ``value`` strings are the contract that rules (``$wechat``) and account
clustering rely on; each module's docstring documents its forms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from qinglang.entities import (
    bankcard,
    email,
    phone,
    qq,
    returns,
    stock,
    telegram,
    url,
    wallet,
    wechat,
    whatsapp,
)
from qinglang.entities.base import Found, TextFacts, text_facts
from qinglang.model import Entity
from qinglang.text.offsets import NormalizedText

__all__ = ["EXTRACTORS", "Extractor", "Found", "extract_entities", "extractor_versions"]


def _always(text: str, facts: TextFacts) -> bool:
    return True


class Extractor(NamedTuple):
    """A registered extractor: a stable versioned name and its function.

    Bump the version when a change alters which values an extractor emits, so that
    stored verdicts say which extractor produced their entities.

    ``may_find(text, facts)`` is a cheap necessary condition for ``extract`` to find
    anything in ``text`` (``facts`` is :func:`~qinglang.entities.base.text_facts` of
    it). Most texts fail most of them, so :func:`extract_entities` calls it first and
    skips the extractor's own call, gates and list; ``extract`` checks it too, so it
    is exact when called alone.
    """

    name: str
    types: tuple[str, ...]
    extract: Callable[[NormalizedText], list[Found]]
    may_find: Callable[[str, TextFacts], bool] = _always


EXTRACTORS: tuple[Extractor, ...] = (
    Extractor("fin.phone.v1", ("phone",), phone.extract, phone.may_find),
    Extractor("fin.wechat.v1", ("wechat",), wechat.extract, wechat.may_find),
    Extractor("fin.qq.v1", ("qq",), qq.extract, qq.may_find),
    Extractor("fin.telegram.v1", ("telegram",), telegram.extract, telegram.may_find),
    Extractor("fin.whatsapp.v1", ("whatsapp",), whatsapp.extract, whatsapp.may_find),
    Extractor("fin.email.v1", ("email",), email.extract, email.may_find),
    Extractor("fin.url.v1", ("url", "domain"), url.extract, url.may_find),
    Extractor("fin.stock.v1", ("stock_code",), stock.extract, stock.may_find),
    Extractor("fin.wallet.v1", ("wallet",), wallet.extract, wallet.may_find),
    Extractor("fin.bankcard.v1", ("bank_card",), bankcard.extract, bankcard.may_find),
    Extractor("fin.returns.v1", ("return_promise", "amount"), returns.extract, returns.may_find),
)


def extractor_versions() -> list[str]:
    """Names of the registered extractors, for a verdict's ``versions``."""
    return [x.name for x in EXTRACTORS]


def _sort_key(e: Entity) -> tuple[int, int, str, str]:
    return (e.start, e.end, e.type, e.value)


def extract_entities(nt: NormalizedText, field: str) -> list[Entity]:
    """All entities of one text field, sorted by start in the original text."""
    text = nt.text
    if not text:
        return []
    facts = text_facts(text)
    found: list[Found] = []
    for x in EXTRACTORS:
        if x.may_find(text, facts):
            found.extend(x.extract(nt))
    if not found:
        return []
    seen: set[tuple[str, str, int, int]] = set()
    out: list[Entity] = []
    original = nt.original
    for f in found:
        key = (f.type, f.value, f.nstart, f.nend)
        if key in seen:
            continue
        seen.add(key)
        s, e = nt.to_original(f.nstart, f.nend)
        out.append(Entity(f.type, f.value, field, s, e, original[s:e], f.detail, f.nstart, f.nend))
    out.sort(key=_sort_key)
    return out
