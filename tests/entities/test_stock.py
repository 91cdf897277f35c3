"""Stock codes: A-shares by exchange prefix, Hong Kong codes in context, US tickers."""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities
from qinglang.text.offsets import NormalizedText

CASES = [
    # A-shares
    ("600519", ["stock_code:600519.SH"]),
    ("贵州茅台(600519)明天涨停", ["stock_code:600519.SH"]),
    ("买入601318和000001", ["stock_code:000001.SZ", "stock_code:601318.SH"]),
    ("300750宁德时代", ["stock_code:300750.SZ"]),
    ("688981中芯国际", ["stock_code:688981.SH"]),
    ("002594比亚迪", ["stock_code:002594.SZ"]),
    ("430047", ["stock_code:430047.BJ"]),
    ("920118", ["stock_code:920118.BJ"]),
    ("900901", ["stock_code:900901.SH"]),  # B-share
    ("sh600519", ["stock_code:600519.SH"]),
    ("sz.000001", ["stock_code:000001.SZ"]),
    ("600519.sh", ["stock_code:600519.SH"]),
    ("600519.ss", ["stock_code:600519.SH"]),
    ("代码:300750 日线", ["stock_code:300750.SZ"]),
    ("600519年线", ["stock_code:600519.SH"]),
    # Hong Kong, only with context
    ("港股00700", ["stock_code:00700.HK"]),
    ("港股 腾讯(0700)", ["stock_code:00700.HK"]),
    ("腾讯(0700.hk)", ["stock_code:00700.HK"]),
    ("hk09988", ["stock_code:09988.HK"]),
    ("港交所上市的9988", ["stock_code:09988.HK"]),
    # US tickers
    ("$tsla to the moon", ["stock_code:TSLA.US"]),
    ("buy $aapl and $brk.b", ["stock_code:AAPL.US", "stock_code:BRK.B.US"]),
    ("(nasdaq: nvda)", ["stock_code:NVDA.US"]),
    ("nyse:ko", ["stock_code:KO.US"]),
    ("$coin earnings beat", ["stock_code:COIN.US"]),
    ("$spy index fund", ["stock_code:SPY.US"]),
    # not stock codes
    ("600519.sz", []),  # marker contradicts the prefix table
    ("123456", []),  # no such prefix
    ("700000", []),
    ("6005190", []),  # longer run
    ("16005190", []),
    ("600519.5", []),  # a decimal
    ("1.600519", []),
    ("1,600,519", []),  # a grouped number
    ("300,000", []),
    ("100000元", []),
    ("600000元", []),  # an amount
    ("300000股", []),  # a quantity
    ("600000万", []),
    ("¥600519", []),
    ("邮编:300000", []),  # a postal code
    ("验证码:600123", []),
    ("订单号600519", []),
    ("qq:600123", []),
    ("qq群600123", []),
    ("手机尾号600519", []),
    ("abc600519", []),
    ("13860051900", []),  # inside a phone number
    ("00700", []),  # HK code without context
    ("2024年港股", []),  # a year
    ("港股2023年", []),
    ("香港0700", []),  # 香港 alone is not market context
    ("$100", []),
    ("$btc pump", []),  # crypto, not a stock
    ("$usdt", []),
    ("$moonx presale is live", []),  # a token, by its context
    ("$doge2 to the moon", []),
    ("nasdaq rose today", []),
    ("2024年10月15日收盘价1800.50元", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_stock(values, text: str, expected: list[str]) -> None:
    assert values(text, "stock_code") == expected


def test_stock_detail_and_span() -> None:
    (e,) = extract_entities(NormalizedText.identity("关注sh600519"), "text")
    assert e.text == "sh600519"
    assert e.detail == {"exchange": "SH", "board": "main"}
