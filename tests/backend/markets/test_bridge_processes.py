"""Two OS processes, one Redis: trades and book deltas published in one API process reach WebSocket clients
of another (the real app under Granian), and so do the trades of an instrument listed while both run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from tests_support import ROOT, ApiServer
from websockets.asyncio.client import ClientConnection, connect

PEER = Path(__file__).with_name("bridge_peer.py")


@pytest.fixture
def api(database_url: str, redis_url: str) -> Iterator[ApiServer]:
    """The app under Granian, started at once; each test waits for it to be ready."""
    env = {
        **os.environ,
        "TESSERA_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MARKET_SIMULATOR": "off",
    }
    server = ApiServer(env)
    server.spawn()
    try:
        yield server
    finally:
        server.stop()


class Peer:
    """The other API process (`bridge_peer.py`), driven one command at a time."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    async def line(self) -> str:
        assert self.process.stdout is not None
        return (await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), 30)).strip()

    async def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        assert await self.line() == "sent"


@pytest.fixture
async def peer(database_url: str, redis_url: str) -> AsyncIterator[Peer]:
    process = subprocess.Popen(  # noqa: ASYNC220 (started once, before the test)
        [sys.executable, str(PEER), redis_url, database_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    peer = Peer(process)
    try:
        assert await peer.line() == "ready"
        yield peer
    finally:
        assert process.stdin is not None
        process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(20)
        if process.returncode is None:
            process.kill()
            process.wait(10)


async def frame(ws: ClientConnection, **match: Any) -> dict[str, Any]:
    """The next frame whose fields include `match` (skipping heartbeats and the like)."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if all(message.get(key) == value for key, value in match.items()):
            return message


async def subscribe(ws: ClientConnection, channel: str) -> None:
    """Subscribe, retrying while the API still boots (503) or has not heard of the market yet (404)."""
    for _ in range(100):
        await ws.send(json.dumps({"op": "subscribe", "channels": [channel]}))
        while (answer := json.loads(await asyncio.wait_for(ws.recv(), 15)))["op"] not in (
            "subscribed",
            "error",
        ):
            pass
        if answer["op"] == "subscribed":
            return
        assert answer["status"] in (404, 503), answer
        await asyncio.sleep(0.1)
    raise AssertionError(f"could not subscribe to {channel}")


async def test_trades_and_book_deltas_from_another_process_reach_this_ones_websocket_clients(
    api: ApiServer, peer: Peer
) -> None:
    await api.wait_until_ok("/readyz")
    async with connect(f"ws://127.0.0.1:{api.port}/ws") as ws:
        await subscribe(ws, "trades:BTC-USDT")
        await subscribe(ws, "book:BTC-USDT")
        await frame(ws, channel="book:BTC-USDT", type="snapshot")
        for trade_id in (7001, 7002):
            await peer.send(op="trade", symbol="BTC-USDT", trade_id=trade_id)
        await peer.send(op="book", symbol="BTC-USDT", seq=1, price="64000.5")
        trades = [(await frame(ws, channel="trades:BTC-USDT"))["data"] for _ in range(2)]
        assert [trade["trade_id"] for trade in trades] == [7001, 7002]
        assert {trade["price"] for trade in trades} == {"101.5"}
        delta = await frame(ws, channel="book:BTC-USDT", type="delta")
        assert (delta["data"]["seq"], delta["data"]["price"], delta["data"]["quantity"]) == (
            1,
            "64000.5",
            "2",
        )


async def test_an_instrument_listed_in_another_process_streams_here_without_a_restart(
    api: ApiServer, peer: Peer, database_url: str
) -> None:
    await api.wait_until_ok("/readyz")
    async with connect(f"ws://127.0.0.1:{api.port}/ws") as ws:
        await subscribe(ws, "trades:BTC-USDT")  # markets finished booting without the new instrument
        await ws.send(json.dumps({"op": "subscribe", "channels": ["trades:SOL-BTC"]}))
        assert (await frame(ws, op="error"))["status"] == 404
        # What an administrator's request to the other process commits, then announces.
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(
                """
                INSERT INTO instruments (symbol, base_asset, quote_asset, tick_size, lot_size, min_notional,
                                         price_band_pct, maker_fee_rate, taker_fee_rate, status)
                VALUES ('SOL-BTC', 'SOL', 'BTC', 0.000001, 0.01, 0.0001, 10, 0.0008, 0.001, 'trading')
                """
            )
        finally:
            await conn.close()
        await peer.send(op="instrument", symbol="SOL-BTC")
        await subscribe(ws, "trades:SOL-BTC")
        await peer.send(op="trade", symbol="SOL-BTC", trade_id=1)
        trade = await frame(ws, channel="trades:SOL-BTC")
        assert (trade["data"]["symbol"], trade["data"]["trade_id"]) == ("SOL-BTC", 1)
