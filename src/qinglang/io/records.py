"""Input records -> :class:`~qinglang.model.Post`, validated once, at the edge.

Every reader (JSONL, CSV, Parquet, stdin, and later the HTTP API and the stream
worker) hands plain mappings to :func:`post_from_mapping`, so one function decides
what a valid post is and every front reports the same coded error for the same
mistake. Nothing downstream re-checks: the engine may assume clean strings.

This runs once per record on the hot path of a sweep over hundreds of millions of
posts, so it is plain Python with a budget of about two microseconds per record:
no pydantic, one precompiled regex for control characters, and ``type(x) is str``
checks instead of ``isinstance`` where a subclass makes no sense in parsed input.

Only the documented field names are read (docs/verdict-schema.md, "Input"); unknown
keys are ignored so that platform exports with extra columns scan unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from qinglang import errors
from qinglang.errors import QLError
from qinglang.model import Post

#: The field names an input record may carry; everything else is ignored.
KNOWN_FIELDS: tuple[str, ...] = (
    "id",
    "text",
    "account_id",
    "platform",
    "timestamp",
    "title",
    "transcript",
    "ocr",
    "links",
    "bio",
    "lang",
)

#: Default cap on the length of one text field, in characters. A post is a few
#: hundred characters; a transcript of a long live stream a few hundred thousand.
#: Anything larger is a broken export, and would stall a worker for seconds.
DEFAULT_MAX_TEXT_CHARS = 1_000_000

# Unicode category Cc (C0, DEL and C1) minus tab, newline and carriage return.
# Control characters are never part of a real post; they come from broken encodings
# or from attempts to break downstream tools, and they would corrupt offsets shown
# to reviewers. Zero-width and bidi characters (category Cf) are *not* rejected:
# they are evasion that normalization must see.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_OPTIONAL_TEXT = ("title", "transcript", "ocr", "bio")
_OPTIONAL_META = ("platform", "lang")


def post_from_mapping(
    d: Mapping[str, Any],
    record_no: int,
    *,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
) -> Post:
    """Validate one input record and build its :class:`Post`.

    ``record_no`` is the 1-based record number in the input, carried by every error
    so a user can find the record even when it has no usable id. Raises
    :class:`QLError` with a QL-100x code; the message names the field at fault.
    """
    get = d.get
    pid = _id(get("id"), record_no)

    text = get("text")
    if type(text) is not str:
        if text is not None:
            raise _bad_type("text", "a string", text, record_no, pid)
        text = ""
    elif text:
        _check_text("text", text, record_no, pid, max_text_chars)

    # Optional fields: most records have none, so look them up only when the
    # mapping holds more than id and text (or when text is missing and a title,
    # transcript, ... may stand in for it).
    extra: dict[str, Any] = {}
    if len(d) > 2 or not text:
        for name in _OPTIONAL_TEXT:
            value = get(name)
            if value is None:
                continue
            if type(value) is not str:
                raise _bad_type(name, "a string", value, record_no, pid)
            if value:
                _check_text(name, value, record_no, pid, max_text_chars)
                extra[name] = value
        for name in _OPTIONAL_META:
            value = get(name)
            if value is None:
                continue
            if type(value) is not str:
                raise _bad_type(name, "a string", value, record_no, pid)
            extra[name] = value
        account = get("account_id")
        if account is not None:
            extra["account_id"] = _account(account, record_no, pid)
        ts = get("timestamp")
        if ts is not None:
            extra["timestamp"] = _timestamp(ts, record_no, pid)
        links = get("links")
        if links is not None:
            extra["links"] = _links(links, record_no, pid, max_text_chars)

    if not text and not any(name in extra for name in _OPTIONAL_TEXT):
        raise QLError(
            errors.MISSING_TEXT,
            "record has no text (none of text, title, transcript, ocr, bio is a non-empty string)",
            record=record_no,
            post_id=pid,
        )
    return Post(pid, text, **extra) if extra else Post(pid, text)


def _id(value: Any, record_no: int) -> str:
    """Ids arrive as strings or integers (platform exports differ); output is a string."""
    if type(value) is str:
        if value and not value.isspace():
            return value
        raise QLError(errors.MISSING_ID, "record has an empty id", record=record_no)
    if value is None:
        raise QLError(errors.MISSING_ID, "record has no id", record=record_no)
    if type(value) is int:
        return str(value)
    raise QLError(
        errors.BAD_FIELD_TYPE,
        f"field 'id' must be a string or an integer, not {json_type_name(value)}",
        record=record_no,
        field="id",
    )


def _account(value: Any, record_no: int, pid: str) -> str:
    """Account ids follow the same rule as post ids: string or integer."""
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise _bad_type("account_id", "a string or an integer", value, record_no, pid)


def _timestamp(value: Any, record_no: int, pid: str) -> str:
    """Timestamps are kept as given; Parquet hands us datetimes, written as ISO 8601."""
    if type(value) is str:
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise _bad_type("timestamp", "a string (ISO 8601)", value, record_no, pid)


def _links(value: Any, record_no: int, pid: str, max_text_chars: int) -> list[str] | None:
    if not isinstance(value, list | tuple):
        raise _bad_type("links", "a list of strings", value, record_no, pid)
    for i, link in enumerate(value):
        if type(link) is not str:
            raise QLError(
                errors.BAD_FIELD_TYPE,
                f"field 'links' must be a list of strings; item {i} is {json_type_name(link)}",
                record=record_no,
                post_id=pid,
                field="links",
            )
    links = [link for link in value if link]
    if not links:
        return None
    # Detection reads the links as one field, one link a line; check that field.
    _check_text("links", "\n".join(links), record_no, pid, max_text_chars)
    return links


def _check_text(name: str, value: str, record_no: int, pid: str, max_text_chars: int) -> None:
    if len(value) > max_text_chars:
        raise QLError(
            errors.TEXT_TOO_LARGE,
            f"field '{name}' has {len(value):,} characters, over the limit of {max_text_chars:,}",
            record=record_no,
            post_id=pid,
            field=name,
        )
    # isprintable is one C loop and false for every control character (and for
    # newlines, tabs and format characters too, which the regex then clears)
    m = None if value.isprintable() else _CONTROL.search(value)
    if m is not None:
        raise QLError(
            errors.CONTROL_CHARACTER,
            f"field '{name}' holds control character U+{ord(m.group()):04X} at position {m.start()}",
            record=record_no,
            post_id=pid,
            field=name,
            position=m.start(),
        )


def _bad_type(name: str, expected: str, value: Any, record_no: int, pid: str) -> QLError:
    return QLError(
        errors.BAD_FIELD_TYPE,
        f"field '{name}' must be {expected}, not {json_type_name(value)}",
        record=record_no,
        post_id=pid,
        field=name,
    )


def json_type_name(value: Any) -> str:
    """JSON's names for JSON values, Python's for the rest (Parquet, CSV)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__
