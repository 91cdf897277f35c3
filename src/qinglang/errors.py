"""Every error qinglang reports, with a stable code.

Codes are part of the output contract: an error record in a scan's output, an HTTP
error body and a CLI message all carry one of these, so users can filter and count
them. Never raise a bare ``Exception``; raise :class:`QLError` with a code from here.

Ranges: QL-1xxx input records, QL-2xxx policy packs, QL-3xxx engine and models,
QL-4xxx command line and files, QL-5xxx evaluation, QL-6xxx store,
QL-7xxx sanctions ladder, QL-8xxx licence registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    title: str


# --- input records (one bad record never stops a run) ---
MALFORMED_RECORD = ErrorCode("QL-1001", "malformed record")
INVALID_UTF8 = ErrorCode("QL-1002", "invalid UTF-8")
MISSING_TEXT = ErrorCode("QL-1003", "missing text")
BAD_FIELD_TYPE = ErrorCode("QL-1004", "field has the wrong type")
CONTROL_CHARACTER = ErrorCode("QL-1005", "control character in text")
TEXT_TOO_LARGE = ErrorCode("QL-1006", "text too large")
EMPTY_INPUT = ErrorCode("QL-1007", "input is empty")
MISSING_ID = ErrorCode("QL-1008", "missing id")
UNREADABLE_INPUT = ErrorCode("QL-1009", "input could not be read")
RECORD_FAILED = ErrorCode("QL-1010", "record could not be processed")

# --- policy packs ---
PACK_NOT_FOUND = ErrorCode("QL-2001", "policy pack not found")
PACK_YAML = ErrorCode("QL-2002", "policy pack is not valid YAML")
PACK_SCHEMA = ErrorCode("QL-2003", "policy pack does not match the schema")
PACK_UNKNOWN_LIST = ErrorCode("QL-2004", "rule names an unknown word list")
PACK_UNKNOWN_CATEGORY = ErrorCode("QL-2005", "rule names an unknown category")
PACK_BAD_REGEX = ErrorCode("QL-2006", "rule has an invalid regex")
PACK_DUPLICATE_ID = ErrorCode("QL-2007", "duplicate rule id")
PACK_UNKNOWN_ENTITY = ErrorCode("QL-2008", "rule names an unknown entity type")
PACK_EMPTY_TERM = ErrorCode("QL-2009", "word list holds an empty term")

# --- engine and models ---
REGEX_TIMEOUT = ErrorCode("QL-3001", "regex rule timed out")
MODEL_NOT_FOUND = ErrorCode("QL-3002", "model not found")
MODEL_INVALID = ErrorCode("QL-3003", "model artifact is invalid")

# --- command line and files ---
UNSUPPORTED_FORMAT = ErrorCode("QL-4001", "unsupported file format")
FILE_NOT_FOUND = ErrorCode("QL-4002", "file not found")
BAD_OPTION = ErrorCode("QL-4003", "bad option")

# --- evaluation ---
NO_LABELS = ErrorCode("QL-5001", "record has no usable label")
BAD_LABEL_MAP = ErrorCode("QL-5002", "label map is invalid")


class QLError(Exception):
    """An error with a stable code, a human message and optional context.

    ``record`` is the 1-based record number in the input where the error belongs to
    a record; ``hint`` is a suggestion (a "did you mean"), shown after the message.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        record: int | None = None,
        post_id: str | None = None,
        hint: str | None = None,
        **context: Any,
    ) -> None:
        self.code = code
        self.message = message
        self.record = record
        self.post_id = post_id
        self.hint = hint
        self.context = context
        super().__init__(f"{code.code} {message}" + (f" ({hint})" if hint else ""))

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code.code, "message": self.message}
        if self.record is not None:
            body["record"] = self.record
        if self.hint:
            body["hint"] = self.hint
        return body


# --- store (database; QL-6xxx) ---
DB_URL_INVALID = ErrorCode("QL-6001", "database URL is invalid")
DB_UNAVAILABLE = ErrorCode("QL-6002", "database is unavailable")
STORE_MISMATCH = ErrorCode("QL-6003", "verdict does not belong to the post")


# --- licence registry (QL-8xxx: a bad registry row is reported, the rest imported) ---
REGISTRY_BAD_ROW = ErrorCode("QL-8001", "registry row is malformed")
REGISTRY_UNKNOWN_LICENCE_TYPE = ErrorCode("QL-8002", "unknown licence type")
REGISTRY_MISSING_FIELD = ErrorCode("QL-8003", "registry row misses a required field")
REGISTRY_BAD_DATE = ErrorCode("QL-8004", "invalid date")
REGISTRY_REVERSED_DATES = ErrorCode("QL-8005", "licence ends before it starts")
REGISTRY_DUPLICATE_LICENCE = ErrorCode("QL-8006", "duplicate licence number")
REGISTRY_BAD_ENCODING = ErrorCode("QL-8007", "registry row is not valid UTF-8")
REGISTRY_UNKNOWN_KIND = ErrorCode("QL-8008", "unknown entity kind")
REGISTRY_BAD_HEADER = ErrorCode("QL-8009", "registry file has no usable header")
REGISTRY_DUPLICATE_ID = ErrorCode("QL-8010", "duplicate registry entry id")

# --- sanctions ladder and decisions (qinglang.decide) ---
LADDER_NOT_FOUND = ErrorCode("QL-7001", "sanctions ladder not found")
LADDER_YAML = ErrorCode("QL-7002", "sanctions ladder is not valid YAML")
LADDER_SCHEMA = ErrorCode("QL-7003", "sanctions ladder does not match the schema")
LADDER_UNKNOWN_CATEGORY = ErrorCode("QL-7004", "sanctions ladder names an unknown category")
LADDER_STEP_ORDER = ErrorCode("QL-7005", "sanctions ladder steps are out of order")
DECISION_NOT_APPLICABLE = ErrorCode("QL-7006", "decision cannot be applied")
ACTION_NOT_FOUND = ErrorCode("QL-7007", "action not found")
NAIVE_TIME = ErrorCode("QL-7008", "time without a time zone")

# --- audit log (qinglang.store.audit; QL-6xxx, store) ---
AUDIT_INVALID = ErrorCode("QL-6004", "audit entry is invalid")
AUDIT_BAD_ANCHOR = ErrorCode("QL-6005", "audit anchor is invalid")
