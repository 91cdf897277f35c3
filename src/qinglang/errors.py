"""Every error qinglang reports, with a stable code.

Codes are part of the output contract: an error record in a scan's output, an HTTP
error body and a CLI message all carry one of these, so users can filter and count
them. Never raise a bare ``Exception``; raise :class:`QLError` with a code from here.

Ranges: QL-1xxx input records, QL-2xxx policy packs, QL-3xxx engine and models,
QL-4xxx command line and files, QL-5xxx evaluation, QL-6xxx store,
QL-7xxx sanctions ladder, QL-8xxx licence registry, QL-9xxx clusters (QL-9001..9099),
QL-95xx HTTP service.
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

# --- set-based ingest writes (qinglang.store.batch, qinglang.ingest; QL-6301..6349) ---
BATCH_CONFLICTS = ErrorCode("QL-6301", "ingest batch kept conflicting with other writers")

# --- HTTP service (qinglang.service; QL-95xx: every error body is {"code", "message"}) ---
SERVICE_SETTINGS_INVALID = ErrorCode("QL-9501", "service settings are invalid")
SERVICE_INSECURE_SECRET = ErrorCode("QL-9502", "default or empty secret outside development")
AUTH_REQUIRED = ErrorCode("QL-9503", "API key missing, unknown or revoked")
AUTH_FORBIDDEN = ErrorCode("QL-9504", "API key's role may not do this")
HTTP_NOT_FOUND = ErrorCode("QL-9505", "not found")
HTTP_METHOD_NOT_ALLOWED = ErrorCode("QL-9506", "method not allowed")
HTTP_MALFORMED_JSON = ErrorCode("QL-9507", "request body is not valid JSON")
HTTP_BODY_NOT_UTF8 = ErrorCode("QL-9508", "request body is not valid UTF-8")
HTTP_VALIDATION = ErrorCode("QL-9509", "request does not match the schema")
HTTP_BODY_TOO_LARGE = ErrorCode("QL-9510", "request body too large")
HTTP_BATCH_TOO_LARGE = ErrorCode("QL-9511", "batch holds too many posts")
HTTP_RATE_LIMITED = ErrorCode("QL-9512", "rate limit exceeded")
DETECTION_TIMEOUT = ErrorCode("QL-9513", "detection did not finish within its time budget")
SERVICE_NOT_READY = ErrorCode("QL-9514", "service is not ready")
HTTP_UNSUPPORTED_MEDIA = ErrorCode("QL-9515", "unsupported media type")
HTTP_INTERNAL = ErrorCode("QL-9516", "internal error")

# --- review queue and appeals (qinglang.store.reviews, qinglang.store.appeals; QL-61xx) ---
CASE_NOT_FOUND = ErrorCode("QL-6101", "case not found")
CASE_CLOSED = ErrorCode("QL-6102", "case is already decided")
CASE_CLAIMED = ErrorCode("QL-6103", "case is claimed by another reviewer")
CASE_NOT_CLAIMED = ErrorCode("QL-6104", "case is not claimed by this reviewer")
REVIEW_INVALID = ErrorCode("QL-6105", "review decision is invalid")
ACCOUNT_NOT_FOUND = ErrorCode("QL-6106", "account not found")
APPEAL_ACTION_NOT_FOUND = ErrorCode("QL-6107", "appealed action not found")
APPEAL_NOT_ALLOWED = ErrorCode("QL-6108", "action cannot be appealed")
APPEAL_ALREADY_OPEN = ErrorCode("QL-6109", "an appeal against this action is already open")
APPEAL_NOT_FOUND = ErrorCode("QL-6110", "appeal not found")
APPEAL_DECIDED = ErrorCode("QL-6111", "appeal is already decided")
APPEAL_CONFLICT = ErrorCode("QL-6112", "decider may not decide this appeal")
IDENTITY_REQUIRED = ErrorCode("QL-6113", "reviewer or appellant identity is missing")

# --- registry persistence and accounts (store.registry_store, store.accounts_view; QL-62xx) ---
ACCOUNT_AMBIGUOUS = ErrorCode("QL-6201", "account id is ambiguous")
REGISTRY_ENTRY_NOT_FOUND = ErrorCode("QL-6202", "registry entry not found")
REGISTRY_ENTRY_RETIRED = ErrorCode("QL-6203", "registry entry is retired")
REGISTRY_REPLACE_SKIPPED = ErrorCode("QL-6204", "replace skipped: the snapshot has bad rows")

# --- gang clusters (qinglang.cluster; QL-90xx: a bad account row is reported, the rest imported) ---
CLUSTER_BAD_ROW = ErrorCode("QL-9001", "account row is malformed")
CLUSTER_BAD_PHONE = ErrorCode("QL-9002", "invalid phone number in account data")
CLUSTER_BAD_IP = ErrorCode("QL-9003", "invalid IP address in account data")
CLUSTER_BAD_DEVICE = ErrorCode("QL-9004", "invalid device id in account data")
CLUSTER_BAD_PAYMENT = ErrorCode("QL-9005", "invalid payment account in account data")
CLUSTER_NOT_FOUND = ErrorCode("QL-9006", "cluster not found")
CLUSTER_ACCOUNT_NOT_FOUND = ErrorCode("QL-9007", "account is in no cluster")
CLUSTER_NO_PATH = ErrorCode("QL-9008", "accounts are not linked")
CLUSTER_SETTINGS = ErrorCode("QL-9009", "cluster settings are invalid")
CLUSTER_NOT_BUILT = ErrorCode("QL-9010", "no cluster run yet")
