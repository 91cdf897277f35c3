"""Entity extraction: identifiers and claims in a post, in canonical form.

Each extractor is a module with ``extract(nt) -> list[Found]`` that reads the
normalized text (simplified, half-width, lowercase, contact words canonicalized)
and follows "match, then validate, then invalidate": a candidate regex, a check
(checksum, prefix table, public-suffix list), then context that can veto. Every
extractor starts with a cheap test (a substring, a short digit run): its module's
``may_find(text, facts)``, which reads :func:`~qinglang.entities.base.text_facts`
(digit runs, ASCII characters, computed once per text with byte operations).

The registry does not call eleven ``may_find`` functions: one prescan
(:mod:`qinglang.entities.gate`, a single Hyperscan pass where it is installed)
decides for all extractors at once and also records bits that some extractors read
to skip passes over the text (returns, url, stock); without Hyperscan, one function
reads the per-text facts. Most posts then run no extractor at all. Called alone, an
extractor sees no prescan and runs every pass behind its own tests, with the same
result.

:func:`extract_entities` runs the registry, maps spans back to the field's original
text, drops duplicates (same type, value and span) and sorts by position. The
canonical ``value`` strings are the contract that rules (``$wechat``) and account
clustering rely on; each module's docstring documents its forms.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import reduce
from operator import attrgetter, or_
from typing import NamedTuple

from qinglang.entities import (
    bankcard,
    email,
    gate,
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
from qinglang.entities.base import Found, TextFacts, remember_features, text_facts
from qinglang.model import Entity
from qinglang.text.offsets import NormalizedText

__all__ = ["EXTRACTORS", "Extractor", "Found", "extract_entities", "extract_entities_many", "extractor_versions"]


def _always(text: str, facts: TextFacts) -> bool:
    return True


class Extractor(NamedTuple):
    """A registered extractor: a stable versioned name and its function.

    Bump the version when a change alters which values an extractor emits, so that
    stored verdicts say which extractor produced their entities.

    ``may_find(text, facts)`` is a cheap necessary condition for ``extract`` to find
    anything in ``text`` (``facts`` is :func:`~qinglang.entities.base.text_facts` of
    it); ``extract`` checks it (or the prescan's bit) itself, so it is exact when
    called alone. :func:`extract_entities` decides for all extractors at once
    (:mod:`qinglang.entities.gate`); its bits for an extractor are ``gate.BITS[name]``.
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


#: (start, end, type, value) of an entity, in C
_sort_key = attrgetter("start", "end", "type", "value")


class _Plans(dict[int, tuple[Callable[[NormalizedText], list[Found]], ...]]):
    """Gate bits -> the ``extract`` functions to run, in registry order (built on first use)."""

    def __missing__(self, mask: int) -> tuple[Callable[[NormalizedText], list[Found]], ...]:
        plan = self[mask] = tuple(x.extract for x in EXTRACTORS if gate.BITS[x.name] & mask)
        return plan


_PLANS = _Plans()
#: the bits that choose extractors (the prescan sets others for returns to read)
_PLAN_BITS = reduce(or_, gate.BITS.values())


def extract_entities(nt: NormalizedText, field: str) -> list[Entity]:
    """All entities of one text field, sorted by start in the original text.

    :func:`~qinglang.entities.gate.scan` (or :func:`~qinglang.entities.gate.candidates`
    without Hyperscan) picks the extractors that may find something, one call instead
    of every ``may_find``.
    """
    if not nt.text:
        return []
    return _extract(nt, field, gate.scan(nt.text))  # the bits are remembered for the extractors


def extract_entities_many(texts: Sequence[NormalizedText], fields: Sequence[str],
                          masks: Sequence[int | None] | None = None) -> list[list[Entity]]:
    """:func:`extract_entities` of each text (``fields[i]`` names ``texts[i]``), in two
    passes: the prescan of every text, then the extractors of the texts that need
    them. Most texts need none, so the second pass runs extractor code back to back
    instead of between prescans (see ``Engine._analyze`` on working by stages).

    ``masks[i]``, where not None, is the prescan's mask of ``texts[i]`` from a pass
    that already ran it (the engine's term scan, ``TermMatcher.attach_prescan``,
    with :func:`~qinglang.entities.gate.hyperscan_items`); the others are scanned here.
    """
    scan = gate.scan
    if masks is None:
        masks = [scan(nt.text) if nt.text else 0 for nt in texts]
    else:
        masks = [(scan(nt.text) if nt.text else 0) if m is None else m for nt, m in zip(texts, masks, strict=True)]
    out: list[list[Entity]] = []
    for nt, field, mask in zip(texts, fields, masks, strict=True):
        if mask == 0:
            out.append([])
            continue
        if mask is not None:
            remember_features(nt.text, mask)  # as the prescan did, for this text's extractors
        out.append(_extract(nt, field, mask))
    return out


def _extract(nt: NormalizedText, field: str, mask: int | None) -> list[Entity]:
    """Run the extractors ``mask`` selects (None: no prescan, decide from the facts)."""
    text = nt.text
    if mask is None:
        mask = gate.candidates(text, text_facts(text))
    plan = _PLANS[mask & _PLAN_BITS]
    if not plan:
        return []
    found: list[Found] = []
    for extract in plan:
        found += extract(nt)
    if not found:
        return []
    original = nt.original
    to_original = nt.to_original
    if len(found) == 1:
        typ, value, ns, ne, detail = found[0]
        s, e = to_original(ns, ne)
        return [Entity(typ, value, field, s, e, original[s:e], detail, ns, ne)]
    seen: set[tuple[str, str, int, int]] = set()
    out: list[Entity] = []
    for typ, value, ns, ne, detail in found:
        key = (typ, value, ns, ne)
        if key in seen:
            continue
        seen.add(key)
        s, e = to_original(ns, ne)
        out.append(Entity(typ, value, field, s, e, original[s:e], detail, ns, ne))
    out.sort(key=_sort_key)
    return out
