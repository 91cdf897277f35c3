"""Account-level identifiers a platform supplies: device id, IP, payment account, registration phone.

A file of rows (JSON Lines or CSV with a header), one account each::

    {"account": "u123", "platform": "weibo", "device_id": "A1B2-C3D4", "ip": "203.0.113.7",
     "payment_account": "6222021234567890128", "registration_phone": "138 0013 8000", "seen_at": "..."}

Each value is normalised to the canonical identifier the entity extractors use, so a
registration phone links to the same phone named in a post:

* ``registration_phone`` -> ``phone:+<E.164>`` (``phonenumbers``, region CN when no
  ``+``/``00`` prefix);
* ``ip`` -> ``ip:<address>`` (``ipaddress``, IPv6 compressed);
* ``device_id`` -> ``device:<lowercased>``, 4–128 of ``[a-z0-9-_:.]``;
* ``payment_account`` -> ``wallet:...`` (an address the wallet extractor accepts),
  ``bank_card:<digits>`` (12–19 digits, Luhn-valid), else ``pay:<lowercased>`` for a
  payment-service account name (3–64 of ``[a-z0-9_.@+-]``).

A bad value is reported with its line and code (``QL-9001``–``QL-9005``) and skipped;
the row's other values and the rest of the file are still imported.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import phonenumbers

from qinglang.entities.base import luhn_valid
from qinglang.errors import (
    CLUSTER_BAD_DEVICE,
    CLUSTER_BAD_IP,
    CLUSTER_BAD_PAYMENT,
    CLUSTER_BAD_PHONE,
    CLUSTER_BAD_ROW,
    FILE_NOT_FOUND,
    UNSUPPORTED_FORMAT,
    ErrorCode,
    QLError,
)

FIELDS = ("device_id", "ip", "payment_account", "registration_phone")
_DEVICE_RE = re.compile(r"^[a-z0-9\-_:.]{4,128}$")
_PAY_RE = re.compile(r"^[a-z0-9_.@+\-]{3,64}$")
_CARD_RE = re.compile(r"^[0-9]{12,19}$")


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    code: ErrorCode
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class AccountRow:
    line: int
    account: str
    platform: str
    identifiers: tuple[tuple[str, str], ...]  # (field, canonical identifier)
    seen_at: datetime | None


def normalize_phone(raw: str) -> str:
    text = raw.strip()
    try:
        num = phonenumbers.parse(text, None if text.startswith(("+", "00")) else "CN")
    except phonenumbers.NumberParseException as exc:
        raise QLError(CLUSTER_BAD_PHONE, f"registration_phone {raw!r}: {exc}") from None
    if not phonenumbers.is_valid_number(num):
        raise QLError(CLUSTER_BAD_PHONE, f"registration_phone {raw!r} is not a valid number")
    return "phone:" + phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def normalize_ip(raw: str) -> str:
    try:
        return f"ip:{ipaddress.ip_address(raw.strip())}"
    except ValueError:
        raise QLError(CLUSTER_BAD_IP, f"ip {raw!r} is not an IPv4 or IPv6 address") from None


def normalize_device(raw: str) -> str:
    value = raw.strip().lower()
    if not _DEVICE_RE.match(value):
        raise QLError(CLUSTER_BAD_DEVICE, f"device_id {raw!r}: want 4-128 letters, digits or -_:.")
    return f"device:{value}"


def _wallet(raw: str) -> str | None:
    from qinglang.entities import wallet

    if re.fullmatch(r"0x[0-9a-fA-F]{40}", raw):
        hex40 = raw[2:]
        if hex40 in (hex40.lower(), hex40.upper()) or wallet.eip55_valid(hex40):
            return f"wallet:eth:0x{hex40.lower()}"
        return None
    if raw.lower().startswith("bc1") and wallet.segwit_valid(raw.lower()):
        return f"wallet:btc:{raw.lower()}"
    if re.fullmatch(r"[13][1-9A-HJ-NP-Za-km-z]{25,34}", raw) and wallet._base58check(raw, (0x00, 0x05)):
        return f"wallet:btc:{raw}"
    if re.fullmatch(r"T[1-9A-HJ-NP-Za-km-z]{33}", raw) and wallet._base58check(raw, (0x41,)):
        return f"wallet:tron:{raw}"
    return None


def normalize_payment(raw: str) -> str:
    value = raw.strip()
    found = _wallet(value)
    if found:
        return found
    digits = re.sub(r"[ \-]", "", value)
    if _CARD_RE.match(digits):
        if not luhn_valid(digits):
            raise QLError(CLUSTER_BAD_PAYMENT, f"payment_account {raw!r}: card number fails the Luhn check")
        return f"bank_card:{digits}"
    if _PAY_RE.match(value.lower()) and not value.isdigit():
        return f"pay:{value.lower()}"
    raise QLError(CLUSTER_BAD_PAYMENT, f"payment_account {raw!r} is not a wallet, a card or an account name")


NORMALIZERS = {"device_id": normalize_device, "ip": normalize_ip, "payment_account": normalize_payment,
               "registration_phone": normalize_phone}


def parse_row(line: int, record: Mapping[str, Any]) -> tuple[AccountRow | None, list[RowProblem]]:
    """One row: the identifiers that normalised, and a problem for each that did not."""
    account = record.get("account", record.get("account_id"))
    if not isinstance(account, str | int) or isinstance(account, bool) or not str(account).strip():
        return None, [RowProblem(line, CLUSTER_BAD_ROW, "row has no 'account'")]
    platform = record.get("platform") or ""
    problems: list[RowProblem] = []
    idents: list[tuple[str, str]] = []
    for name in FIELDS:
        raw = record.get(name)
        if raw is None or raw == "":
            continue
        values = raw if isinstance(raw, list) else [raw]
        for v in values:
            try:
                if not isinstance(v, str | int) or isinstance(v, bool):
                    raise QLError(CLUSTER_BAD_ROW, f"{name} must be a string")
                idents.append((name, NORMALIZERS[name](str(v))))
            except QLError as exc:
                problems.append(RowProblem(line, exc.code, exc.message))
    seen_at = None
    if isinstance(record.get("seen_at"), str):
        try:
            seen_at = datetime.fromisoformat(record["seen_at"].replace("Z", "+00:00"))
            seen_at = seen_at if seen_at.tzinfo else seen_at.replace(tzinfo=UTC)
        except ValueError:
            problems.append(RowProblem(line, CLUSTER_BAD_ROW, f"seen_at {record['seen_at']!r} is not an ISO time"))
    return AccountRow(line, str(account).strip(), str(platform), tuple(idents), seen_at), problems


def read_rows(path: str | Path) -> Iterator[tuple[int, Mapping[str, Any] | RowProblem]]:
    """(line number, mapping or problem) for each row of a ``.jsonl``/``.ndjson`` or ``.csv`` file."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise QLError(UNSUPPORTED_FORMAT, f"{path}: account data must be .jsonl or .csv")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise QLError(FILE_NOT_FOUND, f"{path}: no such file") from None
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""))
        for row in reader:
            yield reader.line_num, row
        return
    for n, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield n, RowProblem(n, CLUSTER_BAD_ROW, f"not JSON: {exc}")
            continue
        if not isinstance(rec, dict):
            yield n, RowProblem(n, CLUSTER_BAD_ROW, "not a JSON object")
            continue
        yield n, rec
