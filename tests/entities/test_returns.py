"""Promised returns (return_promise) and money amounts and disclosed rates (amount)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qinglang.entities import extract_entities
from qinglang.entities.returns import parse_number
from qinglang.text.offsets import NormalizedText

PROMISES = [
    # Chinese
    ("日收益3%", ["return_promise:day:3%"]),
    ("每日收益1.5%,稳定收益", ["return_promise:day:1.5%"]),
    ("日赚500", ["return_promise:day:500cny"]),
    ("日赚300-500元", ["return_promise:day:300cny"]),
    ("每天在家轻松赚500", ["return_promise:day:500cny"]),
    ("宝妈兼职日入过千", ["return_promise:day:1000cny"]),
    ("月入过万不是梦", ["return_promise:month:10000cny"]),
    ("月入3万", ["return_promise:month:30000cny"]),
    ("月入3w+", ["return_promise:month:30000cny"]),
    ("月入十万", ["return_promise:month:100000cny"]),
    ("每月分红5%-8%", ["return_promise:month:5%"]),
    ("周收益20%", ["return_promise:week:20%"]),
    ("年入百万", ["return_promise:year:1000000cny"]),
    ("年化30%", ["return_promise:year:30%"]),
    ("年化收益率12%,保本保息", ["return_promise:year:12%"]),
    ("存款年息18%", ["return_promise:year:18%"]),
    ("收益高达500%", ["return_promise:total:500%"]),
    ("回报率保底200%", ["return_promise:total:200%"]),
    ("一个月翻倍", ["return_promise:month:2x"]),
    ("资金翻番", ["return_promise:total:2x"]),
    ("翻了十倍", ["return_promise:total:10x"]),
    ("下一只十倍股", ["return_promise:total:10x"]),
    ("百倍币马上起飞", ["return_promise:total:100x"]),
    ("日赚$500", ["return_promise:day:500usd"]),
    ("日收益百分之三", ["return_promise:day:3%"]),  # a percentage in words
    ("保证每月10%", ["return_promise:month:10%"]),
    ("稳定增长5%", []),
    ("年化百分之零点五", ["return_promise:year:0.5%"]),
    # English, Italian, Spanish
    ("500% gains", ["return_promise:total:500%"]),
    ("500% gains in a month", ["return_promise:month:500%"]),
    ("10x returns guaranteed", ["return_promise:total:10x"]),
    ("next 100x gem", ["return_promise:total:100x"]),
    ("guaranteed 20% weekly", ["return_promise:week:20%"]),
    ("earn $500 daily from home", ["return_promise:day:500usd"]),
    ("make $1,000 a day", ["return_promise:day:1000usd"]),
    ("daily profit of 3%", ["return_promise:day:3%"]),
    ("returns of 2% per day", ["return_promise:day:2%"]),
    ("20% daily returns", ["return_promise:day:20%"]),
    ("5% monthly profit", ["return_promise:month:5%"]),
    ("rendimento garantito del 5% al mese", ["return_promise:month:5%"]),
    ("guadagna 100 euro al giorno", ["return_promise:day:100eur"]),
    ("rentabilidad garantizada del 10% mensual", ["return_promise:month:10%"]),
    ("gift $500 and receive $4,000", ["return_promise:total:4000usd"]),
    # not promises
    ("人均年收入3万元", []),
    ("今日收入3万", []),
    ("去年公司净利润同比增长20%", []),
    ("沪指收跌0.5%, 创业板指下跌1.2%", []),
    ("每天赚钱的方法3个", []),
    ("三天翻倍", ["return_promise:total:2x"]),  # "in three days" is not per day
    ("3倍杠杆", []),
    ("profit rose 20% in q3", []),
    ("average annual return of 10%", []),
    ("revenue grew 5% year-on-year", []),
    ("20% off today", []),
    ("the s&p 500 gained 0.4% on friday", []),
    ("年化利率7.2%", []),  # a disclosed rate is an amount, not a promise
    ("贷款年化7.2%起", []),
    ("千万不要错过", []),
    ("2024年10月份全国居民消费价格同比上涨0.3%", []),
]

AMOUNTS = [
    ("起售价3999元", ["amount:cny:3999"]),
    ("一碗面15块", ["amount:cny:15"]),
    ("价格1,299元", ["amount:cny:1299"]),
    ("¥1299", ["amount:cny:1299"]),
    ("rmb 500", ["amount:cny:500"]),
    ("投资3万", ["amount:cny:30000"]),
    ("3.5万元", ["amount:cny:35000"]),
    ("成交额8000亿元", ["amount:cny:800000000000"]),
    ("1.5亿", ["amount:cny:150000000"]),
    ("5千万", ["amount:cny:50000000"]),
    ("共计十万元", ["amount:cny:100000"]),
    ("五百块", ["amount:cny:500"]),
    ("$500", ["amount:usd:500"]),
    ("500 usd", ["amount:usd:500"]),
    ("$5k", ["amount:usd:5000"]),
    ("$2.5m", ["amount:usd:2500000"]),
    ("100 dollars", ["amount:usd:100"]),
    ("100美元", ["amount:usd:100"]),
    ("€100", ["amount:eur:100"]),
    ("100 euro", ["amount:eur:100"]),
    ("£20", ["amount:gbp:20"]),
    ("500港币", ["amount:hkd:500"]),
    ("1000 usdt", ["amount:usdt:1000"]),
    ("300-500元", ["amount:cny:300"]),
    # disclosed annualised rates
    ("年化利率7.2%", ["amount:apr:7.2%"]),
    ("借款年化利率7.2%-24%", ["amount:apr:7.2%"]),
    ("年利率 3.65%", ["amount:apr:3.65%"]),
    ("综合年化成本最低5.6%", ["amount:apr:5.6%"]),
    ("贷款年化7.2%起", ["amount:apr:7.2%"]),
    ("apr 29.9%", ["amount:apr:29.9%"]),
    ("representative 29.9% apr", ["amount:apr:29.9%"]),
    ("taeg 7,25%", ["amount:apr:7.25%"]),
    ("tan 5,90% taeg 7,25%", ["amount:apr:5.9%", "amount:apr:7.25%"]),
    ("换算成年化利率其实是百分之十八", ["amount:apr:18%"]),
    # not amounts
    ("3万人参加", []),
    ("10万粉丝", []),
    ("2024年10月15日", []),
    ("上涨3.5%", []),
    ("5km", []),
    ("千万不要", []),
    ("看了5000遍", []),
    ("v2.0版本", []),
    ("april 5", []),
    ("standard deviation", []),
]


@pytest.mark.parametrize(("text", "expected"), PROMISES)
def test_return_promise(values, text: str, expected: list[str]) -> None:
    assert values(text, "return_promise") == expected


@pytest.mark.parametrize(("text", "expected"), AMOUNTS)
def test_amount(values, text: str, expected: list[str]) -> None:
    assert values(text, "amount") == expected


def _one(text: str, type_: str):
    (e,) = [e for e in extract_entities(NormalizedText.identity(text), "text") if e.type == type_]
    return e


def test_promise_details() -> None:
    e = _one("稳赚不赔,日赚300-500元", "return_promise")
    assert e.text == "日赚300-500元"
    assert e.detail == {"period": "day", "amount": 300, "currency": "cny", "max": 500,
                        "guaranteed": True}
    e = _one("月入过万", "return_promise")
    assert e.detail == {"period": "month", "amount": 10000, "currency": "cny", "at_least": True}
    e = _one("guaranteed 20% weekly", "return_promise")
    assert e.text == "guaranteed 20% weekly"
    assert e.detail == {"period": "week", "rate": 20, "guaranteed": True}
    assert _one("10x returns", "return_promise").detail == {"period": "total", "multiple": 10}


def test_amount_details() -> None:
    assert _one("借款年化利率7.2%-24%", "amount").detail == {"kind": "apr", "rate": 7.2, "max": 24}
    assert _one("3.5万元", "amount").detail == {"currency": "cny", "value": 35000}


@pytest.mark.parametrize(
    ("raw", "percent", "expected"),
    [("1,299", False, "1299"), ("1,299.50", False, "1299.50"), ("1.000,50", False, "1000.50"),
     ("7,2", True, "7.2"), ("7,25", True, "7.25"), ("1.5", False, "1.5"),
     ("1,000,000", False, "1000000"), ("12", False, "12")],
)
def test_parse_number(raw: str, percent: bool, expected: str) -> None:
    assert parse_number(raw, percent=percent) == Decimal(expected)
