"""Crypto wallet addresses: Bitcoin, Ethereum (and EVM chains), TRON.

Canonical values:

* ``wallet:btc:<address>``: legacy base58check addresses (``1...`` version 0x00,
  ``3...`` version 0x05) in the author's case, and segwit addresses (``bc1...``,
  bech32 for witness v0, bech32m for v1+, BIP-173/350) in lowercase.
* ``wallet:eth:<0x + 40 hex, lowercase>``: mixed-case addresses must pass the EIP-55
  checksum; all-lower and all-upper ones carry none and are accepted.
* ``wallet:tron:<address>``: ``T...`` base58check with version byte 0x41, in the
  author's case (USDT-TRC20 is what OTC "U商" ask to be paid in).

The normalized text is lowercase, so the case-sensitive checks run on the
original characters (:func:`~qinglang.entities.base.original_ascii`); an address
whose case cannot be recovered is not reported.
"""

from __future__ import annotations

import re

import base58
from bech32 import bech32_hrp_expand, bech32_polymod, convertbits
from Crypto.Hash import keccak

from qinglang.entities.base import Found, TextFacts, has_alnum_run, original_ascii, prescanned, text_facts
from qinglang.text.offsets import NormalizedText

_WALLET_RE = re.compile(
    r"(?<![0-9a-z])(?:"
    r"(?P<eth>0x[0-9a-f]{40})"
    r"|(?P<bech>bc1[02-9ac-hj-np-z]{11,71})"
    r"|(?P<tron>t[1-9a-z]{33})"
    r"|(?P<b58>[13][1-9a-z]{25,34})"
    r")(?![0-9a-z])"
)
_BASE58_CHARS = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32M_CONST = 0x2BC830A3


def _base58check(addr: str, versions: tuple[int, ...]) -> bool:
    if not set(addr) <= _BASE58_CHARS:
        return False
    try:
        raw = base58.b58decode_check(addr)
    except ValueError:
        return False
    return len(raw) == 21 and raw[0] in versions


def segwit_valid(addr: str, hrp: str = "bc") -> bool:
    """BIP-173 (bech32, witness v0) / BIP-350 (bech32m, v1+) check of a lowercase address."""
    pos = addr.rfind("1")
    if addr[:pos] != hrp or len(addr) > 90 or len(addr) - pos - 1 < 7:
        return False
    data = [_BECH32_CHARSET.find(c) for c in addr[pos + 1:]]
    if -1 in data:
        return False
    const = bech32_polymod(bech32_hrp_expand(hrp) + data)
    version = data[0]
    if version > 16:
        return False
    if (version == 0 and const != 1) or (version > 0 and const != _BECH32M_CONST):
        return False
    prog = convertbits(data[1:-6], 5, 8, False)
    if prog is None or not 2 <= len(prog) <= 40:
        return False
    return version != 0 or len(prog) in (20, 32)


def eip55_valid(hex40: str) -> bool:
    """EIP-55 mixed-case checksum of the 40 hex digits (no ``0x``)."""
    digest = keccak.new(digest_bits=256, data=hex40.lower().encode("ascii")).hexdigest()
    for ch, nibble in zip(hex40, digest[:40], strict=True):
        if ch.isalpha() and (int(nibble, 16) >= 8) != ch.isupper():
            return False
    return True


def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for :func:`extract` to find anything.

    An address is 26+ ASCII letters and digits in a row; every format but TRON starts
    with a digit and a TRON address starts with "t".
    """
    prof = facts.profile
    return prof.ascii >= 26 and (prof.total > 0 or "t" in facts.ascii) and has_alnum_run(text, 26)


def extract(nt: NormalizedText) -> list[Found]:
    text = nt.text
    if not prescanned(text) and not may_find(text, text_facts(text)):
        return []
    out: list[Found] = []
    for m in _WALLET_RE.finditer(text):
        s, e = m.span()
        kind = m.lastgroup
        if kind == "bech":
            orig = original_ascii(nt, s, e)
            if orig is None or (orig != orig.lower() and orig != orig.upper()):
                continue
            if segwit_valid(m.group()):
                fmt = "bech32" if m.group()[3] == "q" else "bech32m"
                out.append(Found("wallet", "wallet:btc:" + m.group(), s, e,
                                 {"chain": "btc", "format": fmt}))
            continue
        orig = original_ascii(nt, s, e)
        if orig is None:
            continue
        if kind == "eth":
            hex40 = orig[2:]
            mixed = hex40 != hex40.lower() and hex40 != hex40.upper()
            if mixed and not eip55_valid(hex40):
                continue
            out.append(Found("wallet", "wallet:eth:" + m.group(), s, e,
                             {"chain": "eth", "checksummed": mixed}))
        elif kind == "tron":
            if orig[0] == "T" and _base58check(orig, (0x41,)):
                out.append(Found("wallet", "wallet:tron:" + orig, s, e, {"chain": "tron"}))
        elif _base58check(orig, (0x00, 0x05)):
            fmt = "p2pkh" if orig[0] == "1" else "p2sh"
            out.append(Found("wallet", "wallet:btc:" + orig, s, e, {"chain": "btc", "format": fmt}))
    return out
