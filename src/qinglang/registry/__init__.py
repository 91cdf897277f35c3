"""Licence registry: licensed institutions and registered professionals.

Storage-free core: :class:`Registry` holds :class:`RegistryEntry` objects in memory
(a store persists and reloads them), :func:`import_csv` reads them from CSV and
reports each bad row, :func:`match_name` matches a name tolerant of short names,
legal-form suffixes, traditional characters, width and spacing, and
:func:`bind_account` binds an account to an entry (or says it claims a licence it
does not hold). See ``docs/registry.md``.
"""

from __future__ import annotations

from qinglang.registry.entries import (
    EntityKind,
    LicenceType,
    Registry,
    RegistryEntry,
    licence_key,
    parse_kind,
    parse_licence_type,
)
from qinglang.registry.importer import ImportResult, RowProblem, import_csv, parse_date
from qinglang.registry.matching import (
    BIND_THRESHOLD,
    Binding,
    BindingStatus,
    ClaimProblem,
    LicenceClaim,
    Match,
    MatchReason,
    bind_account,
    find_licence_claims,
    match_name,
    strip_suffixes,
)

__all__ = [
    "BIND_THRESHOLD",
    "Binding",
    "BindingStatus",
    "ClaimProblem",
    "EntityKind",
    "ImportResult",
    "LicenceClaim",
    "LicenceType",
    "Match",
    "MatchReason",
    "Registry",
    "RegistryEntry",
    "RowProblem",
    "bind_account",
    "find_licence_claims",
    "import_csv",
    "licence_key",
    "match_name",
    "parse_date",
    "parse_kind",
    "parse_licence_type",
    "strip_suffixes",
]
