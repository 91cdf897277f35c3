"""Registry entries: licensed institutions and registered professionals, held in memory.

:class:`Registry` is storage-free on purpose: a database store can persist its
entries (every field is a plain value) and rebuild one with :meth:`Registry.add`.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from qinglang import errors
from qinglang.errors import QLError
from qinglang.text.normalize import default_normalizer


class EntityKind(StrEnum):
    PERSON = "person"
    INSTITUTION = "institution"


class LicenceType(StrEnum):
    """The fixed set of licence types the registry knows."""

    SECURITIES_ADVISORY = "securities_advisory"
    BROKER = "broker"
    BANK = "bank"
    LENDER = "lender"
    INSURER = "insurer"
    PAYMENT = "payment"


#: Other spellings accepted for each licence type (compared after :func:`_word_key`).
_LICENCE_SYNONYMS: dict[str, LicenceType] = {
    "securities advisory": LicenceType.SECURITIES_ADVISORY,
    "securities adviser": LicenceType.SECURITIES_ADVISORY,
    "securities advisor": LicenceType.SECURITIES_ADVISORY,
    "investment advisory": LicenceType.SECURITIES_ADVISORY,
    "证券投资咨询": LicenceType.SECURITIES_ADVISORY,
    "投资顾问": LicenceType.SECURITIES_ADVISORY,
    "投顾": LicenceType.SECURITIES_ADVISORY,
    "brokerage": LicenceType.BROKER,
    "securities broker": LicenceType.BROKER,
    "证券公司": LicenceType.BROKER,
    "券商": LicenceType.BROKER,
    "证券经纪": LicenceType.BROKER,
    "银行": LicenceType.BANK,
    "loan": LicenceType.LENDER,
    "lending": LicenceType.LENDER,
    "贷款": LicenceType.LENDER,
    "小额贷款": LicenceType.LENDER,
    "消费金融": LicenceType.LENDER,
    "insurance": LicenceType.INSURER,
    "保险": LicenceType.INSURER,
    "payments": LicenceType.PAYMENT,
    "支付": LicenceType.PAYMENT,
}

_KIND_SYNONYMS: dict[str, EntityKind] = {
    "person": EntityKind.PERSON,
    "individual": EntityKind.PERSON,
    "professional": EntityKind.PERSON,
    "个人": EntityKind.PERSON,
    "institution": EntityKind.INSTITUTION,
    "organisation": EntityKind.INSTITUTION,
    "organization": EntityKind.INSTITUTION,
    "company": EntityKind.INSTITUTION,
    "机构": EntityKind.INSTITUTION,
}


def _word_key(value: str) -> str:
    """Lowercase, width-folded, with ``_``/``-`` read as spaces and spaces collapsed."""
    text = unicodedata.normalize("NFKC", value).lower().replace("_", " ").replace("-", " ")
    return " ".join(text.split())


def parse_licence_type(value: str) -> LicenceType:
    """``"Securities Advisory"``, ``"securities-advisory"``, ``"券商"`` -> a :class:`LicenceType`.

    Raises :class:`QLError` ``QL-8002`` with a did-you-mean hint for anything else.
    """
    key = _word_key(value)
    for member in LicenceType:
        if key == member.value.replace("_", " "):
            return member
    if key in _LICENCE_SYNONYMS:
        return _LICENCE_SYNONYMS[key]
    choices = [m.value for m in LicenceType]
    close = difflib.get_close_matches(key.replace(" ", "_"), choices, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "one of " + ", ".join(choices)
    raise QLError(errors.REGISTRY_UNKNOWN_LICENCE_TYPE, f"unknown licence type {value!r}", hint=hint)


def parse_kind(value: str) -> EntityKind:
    """``"person"``/``"institution"`` (and a few synonyms); empty means institution."""
    key = _word_key(value)
    if not key:
        return EntityKind.INSTITUTION
    if key in _KIND_SYNONYMS:
        return _KIND_SYNONYMS[key]
    raise QLError(errors.REGISTRY_UNKNOWN_KIND, f"unknown kind {value!r}", hint="person or institution")


def licence_key(number: str) -> str:
    """The form licence numbers are compared in: normalized, uppercase, letters and digits only.

    ``"s0100-5200 7000１"`` and ``"S010052007000１"`` meet; traditional characters fold too.
    """
    text = default_normalizer().normalize(number).text.upper()
    return "".join(ch for ch in text if ch.isalnum())


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One licensed institution or registered professional.

    ``valid_from``/``valid_to`` are inclusive; ``None`` means open on that side.
    ``affiliation`` is the institution a professional is registered with (free text).
    """

    id: str
    name: str
    kind: EntityKind
    licence_type: LicenceType
    licence_number: str
    aliases: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    source: str = ""
    affiliation: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def valid_on(self, day: date) -> bool:
        """Whether the licence is in force on ``day`` (both ends inclusive)."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to

    def validity_on(self, day: date) -> str:
        """``"valid"``, ``"expired"`` or ``"not_yet_valid"`` on ``day``."""
        if self.valid_from is not None and day < self.valid_from:
            return "not_yet_valid"
        if self.valid_to is not None and day > self.valid_to:
            return "expired"
        return "valid"

    @property
    def names(self) -> tuple[str, ...]:
        """The full name, then the aliases."""
        return (self.name, *self.aliases)

    def to_dict(self) -> dict[str, object]:
        """Plain values, for a store or JSON (dates as ISO strings)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind.value,
            "licence_type": self.licence_type.value,
            "licence_number": self.licence_number,
            "aliases": list(self.aliases),
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "source": self.source,
            "affiliation": self.affiliation,
        }


class Registry:
    """Entries by id and by licence number (each unique), in insertion order.

    ``version`` grows on every change, so derived indexes (name matching) know when
    to rebuild.
    """

    def __init__(self, entries: Iterable[RegistryEntry] = ()) -> None:
        self._by_id: dict[str, RegistryEntry] = {}
        self._by_licence: dict[str, RegistryEntry] = {}
        self.version = 0
        for entry in entries:
            self.add(entry)

    def add(self, entry: RegistryEntry) -> None:
        """Add ``entry``; a taken id (QL-8010) or licence number (QL-8006) raises."""
        if entry.id in self._by_id:
            raise QLError(errors.REGISTRY_DUPLICATE_ID, f"entry id {entry.id!r} is already in the registry")
        key = licence_key(entry.licence_number)
        if not key:
            raise QLError(errors.REGISTRY_MISSING_FIELD, f"entry {entry.id!r} has no licence number")
        held = self._by_licence.get(key)
        if held is not None:
            raise QLError(
                errors.REGISTRY_DUPLICATE_LICENCE,
                f"licence number {entry.licence_number!r} is already held by {held.name!r} ({held.id})",
            )
        self._by_id[entry.id] = entry
        self._by_licence[key] = entry
        self.version += 1

    def get(self, entry_id: str) -> RegistryEntry | None:
        return self._by_id.get(entry_id)

    def by_licence(self, number: str) -> RegistryEntry | None:
        """The entry holding licence ``number`` (compared by :func:`licence_key`)."""
        return self._by_licence.get(licence_key(number))

    def has_licence_key(self, key: str) -> bool:
        """Whether a number already in :func:`licence_key` form is held."""
        return key in self._by_licence

    def valid_on(self, day: date) -> list[RegistryEntry]:
        """Entries whose licence is in force on ``day``."""
        return [e for e in self._by_id.values() if e.valid_on(day)]

    def __iter__(self) -> Iterator[RegistryEntry]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id
