"""The market-maker bot against the real API: it signs up and funds itself (test mode), keeps a two-sided
book on every market's grid, prints trades, and on SIGTERM cancels its orders and exits 0."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from tests_support import ROOT, ApiServer

from server_fastapi.trading.market_maker import (
    Account,
    Instrument,
    MarketMaker,
    MarketMakerSettings,
    ReferencePrice,
    SymbolState,
)

BOT_EMAIL = "bot@mm.tessera.test"
BOT_PASSWORD = "Market-maker-test-pass-1"
RUN_SECONDS = 30.0


@pytest.fixture
async def api_url(database_url: str, redis_url: str) -> AsyncIterator[str]:
    """The real app under Granian, in test mode (the faucet exists), once it is ready."""
    env = {
        **os.environ,
        "TESSERA_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MARKET_SIMULATOR": "off",
        # Cheaper password hashing: the machine is small and the test signs in a few times.
        "ARGON2_TIME_COST": "2",
        "ARGON2_MEMORY_KIB": "19456",
        "ARGON2_PARALLELISM": "1",
    }
    server = ApiServer(env)
    try:
        await server.start(ready_path="/readyz")
        yield server.url
    finally:
        server.stop(timeout=20)


@pytest.fixture
async def http(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{api_url}/api/v1", timeout=10) as client:
        yield client


def on_grid(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


async def market_alive(http: httpx.AsyncClient, market: dict[str, Any]) -> bool:
    symbol = market["symbol"]
    book = (await http.get(f"/markets/{symbol}/book", params={"depth": 50})).json()
    trades = (await http.get(f"/markets/{symbol}/trades")).json()
    return bool(book["bids"] and book["asks"] and trades["items"])


def check_book(market: dict[str, Any], book: dict[str, Any]) -> None:
    tick, lot = Decimal(market["tick_size"]), Decimal(market["lot_size"])
    assert book["bids"], (market["symbol"], book)
    assert book["asks"], (market["symbol"], book)
    for level in book["bids"] + book["asks"]:
        price, quantity = Decimal(level["price"]), Decimal(level["quantity"])
        assert on_grid(price, tick), (market["symbol"], level)
        assert on_grid(quantity, lot), (market["symbol"], level)
    best_bid, best_ask = Decimal(book["bids"][0]["price"]), Decimal(book["asks"][0]["price"])
    assert best_bid < best_ask, (market["symbol"], book)
    assert [Decimal(b["price"]) for b in book["bids"]] == sorted(
        (Decimal(b["price"]) for b in book["bids"]), reverse=True
    )


@pytest.mark.slow
async def test_market_maker_keeps_markets_alive(
    api_url: str, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    markets = (await http.get("/markets")).json()["items"]
    assert len(markets) >= 2
    log_path = tmp_path / "market-maker.log"
    bot_env = {
        **os.environ,
        "TESSERA_ENV": "test",
        "TESSERA_API_URL": api_url,
        "MARKET_MAKER_EMAIL": BOT_EMAIL,
        "MARKET_MAKER_PASSWORD": BOT_PASSWORD,
        "MARKET_MAKER_SEED": "11",
        "MARKET_MAKER_INTERVAL_SECONDS": "1",
        "MARKET_MAKER_TAKE_PROBABILITY": "0.5",
    }
    with log_path.open("wb") as log:
        bot = subprocess.Popen(  # noqa: ASYNC220 (returns at once; the bot runs on)
            [sys.executable, "-m", "server_fastapi", "market-maker"],
            env=bot_env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + RUN_SECONDS
        alive: dict[str, bool] = {}
        while time.monotonic() < deadline:
            assert bot.poll() is None, log_path.read_text()[-4000:]
            alive = {m["symbol"]: await market_alive(http, m) for m in markets}
            if all(alive.values()):
                break
            await asyncio.sleep(1)
        assert all(alive.values()), (alive, log_path.read_text()[-4000:])

        # Every market: a two-sided book on the instrument's grid, and trades. (A level's quantity is what
        # rests, which after a partial fill may be worth less than the minimum notional.)
        for market in markets:
            book = (await http.get(f"/markets/{market['symbol']}/book")).json()
            check_book(market, book)
            trades = (await http.get(f"/markets/{market['symbol']}/trades")).json()["items"]
            assert trades, market["symbol"]
            for trade in trades:
                assert on_grid(Decimal(trade["price"]), Decimal(market["tick_size"])), trade
            ticker = (await http.get(f"/markets/{market['symbol']}/ticker")).json()
            assert ticker["last"] is not None, ticker

        # Each of the bot's quotes was placed on the grid and worth at least the minimum notional.
        login = await http.post("/auth/login", json={"email": BOT_EMAIL, "password": BOT_PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        mine = await http.get("/orders", params={"status": ["open", "partially_filled"]}, headers=headers)
        by_symbol = {m["symbol"]: m for m in markets}
        assert mine.json()["items"]
        for order in mine.json()["items"]:
            market = by_symbol[order["symbol"]]
            price, quantity = Decimal(order["price"]), Decimal(order["quantity"])
            assert order["type"] == "limit", order
            assert on_grid(price, Decimal(market["tick_size"])), order
            assert on_grid(quantity, Decimal(market["lot_size"])), order
            assert price * quantity >= Decimal(market["min_notional"]), order

        bot.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(bot.wait, 30) == 0, log_path.read_text()[-4000:]
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()

    log_text = log_path.read_text()
    assert "open orders canceled" in log_text, log_text[-4000:]
    # Its orders are gone: the books are empty (nobody else trades here) and the bot has no open order.
    for market in markets:
        book = (await http.get(f"/markets/{market['symbol']}/book")).json()
        assert book["bids"] == [], (market["symbol"], book)
        assert book["asks"] == [], (market["symbol"], book)
    open_orders = await http.get("/orders", params={"status": ["open", "partially_filled"]}, headers=headers)
    assert open_orders.status_code == 200, open_orders.text
    assert open_orders.json()["items"] == []
    fills = await http.get("/fills", headers=headers)
    assert fills.json()["items"], "the bot's quotes were never hit"


# --- The bot's HTTP handling, against a scripted transport (no server) ---------------------------------


def scripted(answers: list[httpx.Response], seen: list[httpx.Request]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://mm.test")


def account(http: httpx.AsyncClient) -> Account:
    return Account(
        http,
        asyncio.Event(),
        name="maker",
        email=BOT_EMAIL,
        password=SecretStr(BOT_PASSWORD),
        may_register=False,
    )


def tokens(access: str, expires_in: int = 900) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": access, "refresh_token": f"r-{access}", "expires_in": expires_in}
    )


async def test_retries_5xx_and_429_then_answers() -> None:
    seen: list[httpx.Request] = []
    answers = [
        tokens("a1"),
        httpx.Response(503, json={"type": "x/unavailable", "detail": "down"}),
        httpx.Response(429, headers={"Retry-After": "0.1"}, json={"type": "x/rate-limited"}),
        httpx.Response(201, json={"id": 1}),
    ]
    async with scripted(answers, seen) as http:
        response = await account(http).request("POST", "/api/v1/orders", json={}, idempotency_key="k1")
    assert response is not None
    assert response.status_code == 201
    posts = [r for r in seen if r.url.path == "/api/v1/orders"]
    assert len(posts) == 3
    assert {r.headers["Idempotency-Key"] for r in posts} == {"k1"}  # a retry is never a second order
    assert all(r.headers["Authorization"] == "Bearer a1" for r in posts)


async def test_refreshes_before_expiry_and_signs_in_again_on_401() -> None:
    seen: list[httpx.Request] = []
    answers = [
        tokens("a1", expires_in=60),
        httpx.Response(200, json=[]),
        tokens("a2"),  # the refresh
        httpx.Response(401, json={"type": "x/unauthorized"}),
        tokens("a3"),  # sign-in again
        httpx.Response(200, json=[]),
    ]
    async with scripted(answers, seen) as http:
        bot = account(http)
        assert (await bot.request("GET", "/api/v1/balances")) is not None
        bot.refresh_at = 0.0  # as if 75% of the token's lifetime had passed
        response = await bot.request("GET", "/api/v1/balances")
    assert response is not None
    assert response.status_code == 200
    paths = [r.url.path for r in seen]
    assert paths == [
        "/api/v1/auth/login",
        "/api/v1/balances",
        "/api/v1/auth/refresh",
        "/api/v1/balances",
        "/api/v1/auth/login",
        "/api/v1/balances",
    ]
    assert seen[2].content == b'{"refresh_token":"r-a1"}'
    assert seen[-1].headers["Authorization"] == "Bearer a3"


async def test_gives_up_on_persistent_errors_without_raising() -> None:
    seen: list[httpx.Request] = []
    answers = [tokens("a1")] + [httpx.Response(500, text="boom") for _ in range(3)]
    async with scripted(answers, seen) as http:
        bot = account(http)
        bot.stopping = True  # no waiting on the stop event; short sleeps
        assert await bot.request("DELETE", "/api/v1/orders", retries=2) is None
    assert len(seen) == 4


async def test_conflicts_pause_the_symbol() -> None:
    instrument = Instrument(
        symbol="BTC-USDT",
        base="BTC",
        quote="USDT",
        tick=Decimal("0.01"),
        lot=Decimal("0.00001"),
        min_notional=Decimal(5),
        band_pct=Decimal(10),
    )
    async with httpx.AsyncClient(base_url="http://mm.test") as http:
        bot = MarketMaker(MarketMakerSettings(env="test"), http, asyncio.Event())
        state = SymbolState(
            instrument=instrument,
            reference=ReferencePrice(instrument, Decimal(65000), seed=1, volatility=0.8),
            rng=random.Random(1),
            last_price=None,
        )
        for slug in ("market-halted", "insufficient-funds"):
            state.paused_until = 0.0
            refused = httpx.Response(409, json={"type": f"https://tessera.test/problems/{slug}"})
            assert not bot._ok(refused, state, "quote")
            assert state.paused_until > time.monotonic()
        bids, asks = bot.ladder(state, Decimal("65000.004"))
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert max(bids) < Decimal("65000.004") < min(asks)
    assert all(p % instrument.tick == 0 for p in bids + asks)
