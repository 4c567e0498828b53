"""The rule-based parser on a corpus of phrasings: each gives the expected intent or refusal reason."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from server_fastapi.assistant.parser import Intent, Pair, ParseRefusal, parse
from server_fastapi.markets import service as markets

PAIRS = [
    Pair("BTC-USDT", "BTC", "USDT"),
    Pair("ETH-USDT", "ETH", "USDT"),
    Pair("SOL-USDT", "SOL", "USDT"),
    Pair("ETH-BTC", "ETH", "BTC"),
]


def intent(symbol: str, side: str, type_: str = "market", **fields: Any) -> dict[str, Any]:
    return {"symbol": symbol, "side": side, "type": type_, **fields}


D = Decimal

CORPUS: list[tuple[str, dict[str, Any] | str]] = [
    # the issue's own examples
    (
        "buy 0.25 ETH at 3,100 good till cancelled",
        intent("ETH-USDT", "buy", "limit", quantity=D("0.25"), price=D(3100)),
    ),
    ("sell half my SOL at market", intent("SOL-USDT", "sell", portion=D("0.5"))),
    # quantities with separators
    ("buy 1,250.5 sol at 150", intent("SOL-USDT", "buy", "limit", quantity=D("1250.5"), price=D(150))),
    ("buy 1 250 sol @ 150.5", intent("SOL-USDT", "buy", "limit", quantity=D(1250), price=D("150.5"))),
    ("sell 1\u202f250 SOL at 151", intent("SOL-USDT", "sell", "limit", quantity=D(1250), price=D(151))),
    ("buy 0.25 eth", intent("ETH-USDT", "buy", quantity=D("0.25"))),
    ("buy .5 eth at 3000", intent("ETH-USDT", "buy", "limit", quantity=D("0.5"), price=D(3000))),
    ("sell 1.5k sol at 160", intent("SOL-USDT", "sell", "limit", quantity=D(1500), price=D(160))),
    ("buy 0.01btc", intent("BTC-USDT", "buy", quantity=D("0.01"))),
    ("buy two eth at 3000 usdt", intent("ETH-USDT", "buy", "limit", quantity=D(2), price=D(3000))),
    (
        "Sell 12,000 sol at 149.5 IOC",
        intent("SOL-USDT", "sell", "limit", quantity=D(12000), price=D("149.5"), time_in_force="IOC"),
    ),
    # relative amounts
    ("sell all my ETH", intent("ETH-USDT", "sell", portion=D(1))),
    ("sell all of my eth at 3200", intent("ETH-USDT", "sell", "limit", portion=D(1), price=D(3200))),
    ("buy btc with 25% of my usdt", intent("BTC-USDT", "buy", portion=D("0.25"))),
    ("buy eth with half my btc", intent("ETH-BTC", "buy", portion=D("0.5"))),
    ("sell a quarter of my bitcoin", intent("BTC-USDT", "sell", portion=D("0.25"))),
    (
        "sell 10 percent of my solana at 155",
        intent("SOL-USDT", "sell", "limit", portion=D("0.1"), price=D(155)),
    ),
    ("sell my entire sol balance", intent("SOL-USDT", "sell", portion=D(1))),
    ("sell all my ETH for BTC", intent("ETH-BTC", "sell", portion=D(1))),
    ("buy sol with 100% of my usdt at 150", intent("SOL-USDT", "buy", "limit", portion=D(1), price=D(150))),
    ("sell 10 of my sol", intent("SOL-USDT", "sell", quantity=D(10))),
    # amounts of quote to spend or receive
    ("Buy $500 of BTC", intent("BTC-USDT", "buy", quote_amount=D(500))),
    ("buy 500 usdt worth of eth", intent("ETH-USDT", "buy", quote_amount=D(500))),
    ("buy eth with 0.1 btc", intent("ETH-BTC", "buy", quote_amount=D("0.1"))),
    ("spend 200 usdt on sol", intent("SOL-USDT", "buy", quote_amount=D(200))),
    ("buy btc for $1,000", intent("BTC-USDT", "buy", quote_amount=D(1000))),
    ("sell $200 of sol", intent("SOL-USDT", "sell", quote_amount=D(200))),
    ("buy 500 usdt of eth/usdt", intent("ETH-USDT", "buy", quote_amount=D(500))),
    # symbols by ticker, name or pair
    ("buy 1 bitcoin at 60000", intent("BTC-USDT", "buy", "limit", quantity=D(1), price=D(60000))),
    ("purchase 0.5 ether", intent("ETH-USDT", "buy", quantity=D("0.5"))),
    ("buy 2 ethereum at 2,950.25", intent("ETH-USDT", "buy", "limit", quantity=D(2), price=D("2950.25"))),
    ("sell 3 solana fill or kill", intent("SOL-USDT", "sell", quantity=D(3), time_in_force="FOK")),
    ("buy 1 eth/btc at 0.05", intent("ETH-BTC", "buy", "limit", quantity=D(1), price=D("0.05"))),
    (
        "sell 0.5 eth-btc at 0.052 post only",
        intent("ETH-BTC", "sell", "limit", quantity=D("0.5"), price=D("0.052"), post_only=True),
    ),
    ("buy 0.01 btcusdt", intent("BTC-USDT", "buy", quantity=D("0.01"))),
    ("buy ETH-USDT 0.5 at 3000", intent("ETH-USDT", "buy", "limit", quantity=D("0.5"), price=D(3000))),
    ("buy 1 ETH/USDT limit 3000", intent("ETH-USDT", "buy", "limit", quantity=D(1), price=D(3000))),
    ("sell 0.3 ETH_BTC maker only", intent("ETH-BTC", "sell", quantity=D("0.3"), post_only=True)),
    ("buy 1 eth at 0.05 btc", intent("ETH-BTC", "buy", "limit", quantity=D(1), price=D("0.05"))),
    ("sell 1 eth for btc", intent("ETH-BTC", "sell", quantity=D(1))),
    # prices with currency signs and units
    (
        "buy 0.5 ether at $3,100 IOC",
        intent("ETH-USDT", "buy", "limit", quantity=D("0.5"), price=D(3100), time_in_force="IOC"),
    ),
    ("buy 2 bitcoin @ 3.1k", intent("BTC-USDT", "buy", "limit", quantity=D(2), price=D(3100))),
    ("buy 1 eth @3100usdt", intent("ETH-USDT", "buy", "limit", quantity=D(1), price=D(3100))),
    ("buy 0.1 btc for 60000", intent("BTC-USDT", "buy", "limit", quantity=D("0.1"), price=D(60000))),
    ("sell 1 btc at 65,000 dollars", intent("BTC-USDT", "sell", "limit", quantity=D(1), price=D(65000))),
    ("buy 1 eth at a limit price of 3000", intent("ETH-USDT", "buy", "limit", quantity=D(1), price=D(3000))),
    # market vs limit, time in force
    ("buy 0.5 eth at market", intent("ETH-USDT", "buy", quantity=D("0.5"))),
    ("sell 2 sol market order", intent("SOL-USDT", "sell", quantity=D(2))),
    ("buy 1 eth at 3000 gtc", intent("ETH-USDT", "buy", "limit", quantity=D(1), price=D(3000))),
    ("buy 1 eth at 3000 good til canceled", intent("ETH-USDT", "buy", "limit", quantity=D(1), price=D(3000))),
    (
        "buy 1 eth at 3000 immediate or cancel",
        intent("ETH-USDT", "buy", "limit", quantity=D(1), price=D(3000), time_in_force="IOC"),
    ),
    (
        "sell 1 eth at 3200 FOK",
        intent("ETH-USDT", "sell", "limit", quantity=D(1), price=D(3200), time_in_force="FOK"),
    ),
    (
        "buy 1 eth at 2900, post-only",
        intent("ETH-USDT", "buy", "limit", quantity=D(1), price=D(2900), post_only=True),
    ),
    ("Please buy 0.25 ETH at 3,100!", intent("ETH-USDT", "buy", "limit", quantity=D("0.25"), price=D(3100))),
    # ambiguous
    ("buy 1,5 eth", "ambiguous"),
    ("buy some bitcoin", "ambiguous"),
    ("buy 0.5 at 3000", "ambiguous"),
    ("0.5 eth at 3000", "ambiguous"),
    ("buy 1 btc and 2 eth", "ambiguous"),
    ("buy 1 eth at market at 3000", "ambiguous"),
    ("buy 0.5 eth limit", "ambiguous"),
    ("buy eth at 3000", "ambiguous"),
    ("buy 1 eth at 3000 ioc fok", "ambiguous"),
    ("buy 100 usdt", "unknown_market"),
    ("sell half my btc at 0.05 eth-btc", "ambiguous"),
    # impossible or unsupported
    ("buy 1 doge", "unknown_market"),
    ("buy 1 btc/eth", "unknown_market"),
    ("sell half my doge", "unknown_market"),
    ("sell 0.1 btc for eth", "unsupported"),
    ("sell 1 btc and buy 2 eth", "unsupported"),
    ("set a stop loss on my btc at 50000", "unsupported"),
    ("buy 1 btc with 10x leverage", "unsupported"),
    ("short 2 eth", "unsupported"),
    ("buy eth every week", "unsupported"),
    ("cancel all my orders", "unsupported"),
    ("buy 1 btc if it drops to 50000", "unsupported"),
    ("swap 1 eth to btc", "unsupported"),
    ("buy -1 eth", "invalid_order"),
    ("buy 0 eth", "invalid_order"),
    ("sell 150% of my sol", "invalid_order"),
    ("what's the price of btc", "not_an_order"),
    ("hello", "not_an_order"),
]


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 60


@pytest.mark.parametrize(("text", "expected"), CORPUS, ids=[text for text, _ in CORPUS])
def test_phrasing(text: str, expected: dict[str, Any] | str) -> None:
    result = parse(text, PAIRS)
    if isinstance(expected, str):
        assert isinstance(result, ParseRefusal), result
        assert result.reason == expected, result
        assert result.detail
        return
    assert isinstance(result, Intent), result
    want = {"time_in_force": "GTC", "post_only": False, "quantity": None, "quote_amount": None,
            "portion": None, "price": None, **expected}  # fmt: skip
    got = {name: getattr(result, name) for name in want}
    assert got == want


def test_unknown_assets_are_not_guessed_from_a_smaller_catalog() -> None:
    only_btc = [Pair("BTC-USDT", "BTC", "USDT")]
    refused = parse("buy 1 eth", only_btc)
    assert isinstance(refused, ParseRefusal)
    assert refused.reason == "unknown_market"


async def test_the_corpus_markets_are_the_migrated_instruments(db: asyncpg.Connection[Any]) -> None:
    instruments = await markets.list_instruments(db)
    found = {Pair(i.symbol, i.base_asset, i.quote_asset) for i in instruments}
    assert found == set(PAIRS)
