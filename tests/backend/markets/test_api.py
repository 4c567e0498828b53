"""The market data HTTP API: markets, ticker, candles, trades, indicators and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
import polars as pl
import pytest

from server_fastapi.markets import repository
from server_fastapi.markets.analytics import INTERVALS, candles
from server_fastapi.markets.feed import FeedInstrument, simulate_frame

BTC = FeedInstrument(
    symbol="BTC-USDT",
    start_price=Decimal("65000"),
    tick_size=Decimal("0.01"),
    lot_size=Decimal("0.00001"),
    trades_per_second=0.2,
)


async def store(db: asyncpg.Connection, frame: pl.DataFrame) -> None:
    async with db.transaction():
        await repository.copy_ticks_frame(db, frame)


def recent_ticks(count: int, hours: float) -> pl.DataFrame:
    """`count` BTC-USDT ticks spread over the last `hours` hours (shifted so the last is a second ago)."""
    frame = simulate_frame([BTC], seed=3, start=datetime(2025, 1, 1, tzinfo=UTC), count=count)
    first, last = frame["time"].min(), frame["time"].max()
    assert isinstance(first, datetime)
    assert isinstance(last, datetime)
    scale = timedelta(hours=hours) / (last - first)
    now = datetime.now(UTC) - timedelta(seconds=1)
    return frame.with_columns(
        (pl.lit(now) - (pl.lit(last) - pl.col("time")) * scale).dt.cast_time_unit("us").alias("time")
    )


def assert_problem(response: httpx.Response, status: int, pointer: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["status"] == status
    if pointer is not None:
        errors = body["errors"]
        assert isinstance(errors, list)
        assert {"location": "query", "pointer": pointer} in [
            {"location": e["location"], "pointer": e["pointer"]} for e in errors
        ], errors
    return body


async def test_markets_list_the_seeded_instruments_with_decimal_strings(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/markets")
    assert response.status_code == 200
    items = {m["symbol"]: m for m in response.json()["items"]}
    assert {"BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC"} <= set(items)
    btc = items["BTC-USDT"]
    assert btc["tick_size"] == "0.01"
    assert btc["lot_size"] == "0.00001"
    assert btc["taker_fee_rate"] == "0.001"
    assert btc["last"] is None
    assert btc["volume_24h"] == "0"
    one = await client.get("/api/v1/markets/ETH-BTC")
    assert one.json()["tick_size"] == "0.00001"


async def test_market_and_ticker_show_the_last_24_hours(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    ticks = recent_ticks(2_000, hours=30)
    await store(db, ticks)
    now = datetime.now(UTC)
    since = now.replace(second=0, microsecond=0) - timedelta(hours=24)
    window = ticks.filter(pl.col("time") >= since).sort("time", "trade_id")
    last = ticks.sort("time", "trade_id")["price"][-1]
    open_ = window["price"][0]

    ticker = (await client.get("/api/v1/markets/BTC-USDT/ticker")).json()
    assert ticker["symbol"] == "BTC-USDT"
    assert Decimal(ticker["last"]) == last
    assert Decimal(ticker["open_24h"]) == open_
    assert Decimal(ticker["high_24h"]) == window["price"].max()
    assert Decimal(ticker["low_24h"]) == window["price"].min()
    assert Decimal(ticker["volume_24h"]) == window["quantity"].sum()
    assert Decimal(ticker["change_24h"]) == ((last - open_) / open_).quantize(Decimal("0.00000001"))
    assert ticker["best_bid"] is None
    assert ticker["best_ask"] is None
    assert isinstance(ticker["last"], str)

    market = (await client.get("/api/v1/markets/BTC-USDT")).json()
    assert market["last"] == ticker["last"]
    assert market["change_24h"] == ticker["change_24h"]
    listed = {m["symbol"]: m for m in (await client.get("/api/v1/markets")).json()["items"]}
    assert listed["BTC-USDT"]["volume_24h"] == ticker["volume_24h"]


@pytest.mark.parametrize("interval", INTERVALS)
async def test_candles_endpoint_equals_polars(
    client: httpx.AsyncClient, db: asyncpg.Connection, interval: str
) -> None:
    ticks = simulate_frame([BTC], seed=5, start=datetime(2025, 2, 1, tzinfo=UTC), count=3_000)
    await store(db, ticks)
    expected = candles(ticks.drop("symbol"), interval)
    response = await client.get(
        "/api/v1/markets/BTC-USDT/candles",
        params={"interval": interval, "start": "2025-02-01T00:00:00Z", "limit": 1000},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    got = [
        (
            datetime.fromisoformat(c["time"]),
            *(Decimal(c[k]) for k in ("open", "high", "low", "close", "volume")),
            c["trades"],
            Decimal(c["vwap"]),
        )
        for c in body["items"]
    ]
    assert got == [tuple(row) for row in expected.head(1000).iter_rows()]
    assert all(isinstance(c["open"], str) for c in body["items"])


async def test_candles_default_to_the_latest_buckets(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await store(db, recent_ticks(500, hours=3))
    body = (
        await client.get("/api/v1/markets/BTC-USDT/candles", params={"interval": "1h", "limit": 2})
    ).json()
    assert len(body["items"]) == 2
    assert datetime.fromisoformat(body["items"][-1]["time"]) == datetime.now(UTC).replace(
        minute=0, second=0, microsecond=0
    )


async def test_trades_are_newest_first_with_a_cursor(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    ticks = simulate_frame([BTC], seed=9, start=datetime(2025, 2, 1, tzinfo=UTC), count=250)
    await store(db, ticks)
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/api/v1/markets/BTC-USDT/trades", params=params)).json()
        seen.extend(t["trade_id"] for t in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ticks["trade_id"].to_list(), reverse=True)
    first = (await client.get("/api/v1/markets/BTC-USDT/trades", params={"limit": 1})).json()["items"][0]
    assert set(first) == {"trade_id", "time", "price", "quantity", "taker_side"}
    assert isinstance(first["price"], str)


async def test_indicators(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    ticks = simulate_frame([BTC], seed=5, start=datetime(2025, 2, 1, tzinfo=UTC), count=3_000)
    await store(db, ticks)
    response = await client.get(
        "/api/v1/markets/BTC-USDT/indicators",
        params={
            "interval": "5m",
            "indicators": "sma:5,ema:5,rsi:14,bb:20:2,rv:10,vwap",
            "start": "2025-02-01T02:00:00Z",
            "end": "2025-02-01T03:00:00Z",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["columns"] == [
        "sma_5",
        "ema_5",
        "rsi_14",
        "bb_mid_20",
        "bb_upper_20_2",
        "bb_lower_20_2",
        "rv_10",
        "vwap_cum",
    ]
    assert len(body["items"]) == 12
    # Earlier candles warm the windows up: the first requested candle already has every value.
    assert all(value is not None for value in body["items"][0]["values"].values())


@pytest.mark.parametrize(
    "path",
    ["", "/ticker", "/candles", "/trades", "/indicators"],
)
async def test_unknown_symbol_is_a_404_problem(client: httpx.AsyncClient, path: str) -> None:
    body = assert_problem(await client.get(f"/api/v1/markets/DOGE-USDT{path}"), 404)
    assert "DOGE-USDT" in str(body["detail"])


async def test_bad_interval_is_a_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/markets/BTC-USDT/candles", params={"interval": "2m"})
    assert_problem(response, 422, "/interval")


async def test_inverted_range_is_a_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/markets/BTC-USDT/candles",
        params={"interval": "1m", "start": "2025-02-02T00:00:00Z", "end": "2025-02-01T00:00:00Z"},
    )
    assert_problem(response, 422, "/start")


@pytest.mark.parametrize(
    ("path", "params", "pointer"),
    [
        ("/candles", {"limit": 0}, "/limit"),
        ("/candles", {"start": "yesterday"}, "/start"),
        ("/trades", {"cursor": "not-a-cursor"}, "/cursor"),
        ("/indicators", {"indicators": "macd:12"}, "/indicators"),
        ("/indicators", {"indicators": "sma:0"}, "/indicators"),
    ],
)
async def test_other_bad_input(
    client: httpx.AsyncClient, path: str, params: dict[str, str | int], pointer: str
) -> None:
    assert_problem(await client.get(f"/api/v1/markets/BTC-USDT{path}", params=params), 422, pointer)


async def test_instrument_administration_needs_credentials(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/admin/instruments/BTC-USDT/halt")
    assert response.status_code == 401
