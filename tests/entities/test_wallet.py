"""Crypto wallet addresses, validated by checksum on the author's original case."""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities
from qinglang.entities.wallet import eip55_valid, segwit_valid

P2PKH = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
P2WPKH = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
P2WSH = "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"
P2TR = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"

CASES = [
    (f"btc: {P2PKH}", [f"wallet:btc:{P2PKH}"]),
    (f"收款地址{P2SH}", [f"wallet:btc:{P2SH}"]),
    (P2WPKH, [f"wallet:btc:{P2WPKH}"]),
    (P2WPKH.upper(), [f"wallet:btc:{P2WPKH}"]),  # all-caps bech32 is valid
    (P2WSH, [f"wallet:btc:{P2WSH}"]),
    (P2TR, [f"wallet:btc:{P2TR}"]),  # bech32m
    (f"usdt erc20: {ETH}", [f"wallet:eth:{ETH.lower()}"]),
    (ETH.lower(), [f"wallet:eth:{ETH.lower()}"]),  # no checksum to check
    ("0x" + ETH[2:].upper(), [f"wallet:eth:{ETH.lower()}"]),
    (f"u商收款 trc20 {TRON} 秒到", [f"wallet:tron:{TRON}"]),
    # invalid
    (P2PKH[:-1] + "b", []),  # base58 checksum
    (P2PKH.lower(), []),  # case lost: base58 cannot be checked
    (P2PKH[:-1], []),
    (P2WPKH[:-1] + "z", []),  # bech32 checksum
    (P2WPKH[:10] + P2WPKH[10:].upper(), []),  # mixed-case bech32
    ("bc1p" + P2WPKH[4:], []),  # v1 with a bech32 (not bech32m) checksum
    (ETH[:-1] + "D", []),  # EIP-55 checksum
    (ETH + "00", []),  # 42 hex digits: a hash, not an address
    ("0x" + "ab" * 32, []),  # a transaction hash
    (TRON[:-1] + "u", []),
    (TRON.lower(), []),
    ("abcdefghijkmnopqrstuvwxyz123456789", []),
    ("这是一段没有地址的普通文本 1234567890 abcdefghijklmnopqrstuvwxyz", []),
]


@pytest.mark.parametrize(("original", "expected"), CASES)
def test_wallet(lowered, original: str, expected: list[str]) -> None:
    es = extract_entities(lowered(original), "text")
    assert sorted(e.value for e in es if e.type == "wallet") == expected


def test_wallet_span_is_original(lowered) -> None:
    (e,) = [e for e in extract_entities(lowered(f"转到 {TRON}。"), "text") if e.type == "wallet"]
    assert e.text == TRON
    assert e.detail == {"chain": "tron"}


def test_checksum_helpers() -> None:
    assert eip55_valid(ETH[2:])
    assert not eip55_valid(ETH[2:].swapcase())
    assert segwit_valid(P2WPKH) and segwit_valid(P2TR)
    assert not segwit_valid("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx")  # testnet hrp


def test_bech32_with_fancy_digits_keeps_its_address() -> None:
    """Digits written as ❺/➀/⓪ fold to digits; the address check must read them back too."""
    from qinglang.entities import extract_entities
    from qinglang.text.normalize import default_normalizer

    addr = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    fancy = addr.replace("5", "❺").replace("0", "⓪").replace("1", "➀")
    nt = default_normalizer().normalize(f"send to {fancy} now")
    assert f"wallet:btc:{addr}" in {e.value for e in extract_entities(nt, "text")}
