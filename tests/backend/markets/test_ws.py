"""The WebSocket gateway under a real uvicorn server with real `websockets` clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from server_fastapi.app import create_app
from server_fastapi.core.settings import Settings
from server_fastapi.core.ws import Hub, HubLimits
from server_fastapi.markets.analytics import candles
from server_fastapi.markets.events import TradeTick
from server_fastapi.markets.runtime import MarketsRuntime


@dataclass
class Server:
    app: FastAPI
    url: str

    @property
    def markets(self) -> MarketsRuntime:
        runtime: MarketsRuntime = self.app.state.markets
        return runtime

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.ws_hub
        return hub


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit a small, fixed send buffer: a client that stops reading backs up after a
    # few hundred messages instead of the megabytes that Linux's buffer auto-tuning would absorb.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws_ping_interval=None)
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    for _ in range(200):
        if uv.started:
            break
        await asyncio.sleep(0.02)
    await asyncio.wait_for(app.state.markets.ready.wait(), 20)
    yield Server(app, f"ws://127.0.0.1:{port}/ws")
    uv.should_exit = True
    await asyncio.wait_for(task, 20)
    sock.close()


START = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)


def tick(n: int, symbol: str = "BTC-USDT") -> TradeTick:
    return TradeTick(
        symbol=symbol,
        trade_id=n,
        time=START + timedelta(seconds=7 * n),
        price=Decimal("65000.00") + Decimal(n % 17) - Decimal("0.01") * (n % 5),
        quantity=Decimal("0.00120") + Decimal("0.00001") * n,
        taker_side="buy" if n % 3 else "sell",
    )


async def send(ws: ClientConnection, message: Any) -> None:
    await ws.send(message if isinstance(message, str) else json.dumps(message))


async def receive(ws: ClientConnection, wait: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), wait))
    return message


async def expect(ws: ClientConnection, op: str, wait: float = 5) -> dict[str, Any]:
    """The next frame with this op, skipping heartbeats."""
    while True:
        message = await receive(ws, wait)
        if message.get("op") != "heartbeat":
            assert message.get("op") == op, message
            return message


async def test_trades_and_candles_arrive_in_order(server: Server) -> None:
    async with connect(server.url) as ws:
        await send(ws, {"op": "subscribe", "channels": ["trades:BTC-USDT", "candles:BTC-USDT:5m"]})
        subscribed = await expect(ws, "subscribed")
        assert subscribed["channels"] == ["trades:BTC-USDT", "candles:BTC-USDT:5m"]
        ticks = [tick(n) for n in range(1, 101)]
        for t in ticks:
            await server.markets.publish(t)
        trades: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        while len(trades) < 100 or len(updates) < 100:
            message = await receive(ws)
            if message["channel"] == "trades:BTC-USDT":
                trades.append(message)
            else:
                assert message["channel"] == "candles:BTC-USDT:5m"
                updates.append(message)
    assert [m["data"]["trade_id"] for m in trades] == list(range(1, 101))
    assert all(m["type"] == "update" for m in trades)
    seqs = [m["seq"] for m in trades]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 100
    assert trades[0]["data"] == {
        "symbol": "BTC-USDT",
        "trade_id": 1,
        "time": ticks[0].time.isoformat(),
        "price": "65000.99",
        "quantity": "0.00121",
        "taker_side": "buy",
    }
    # The last update of each bucket is the candle Polars computes from the same ticks.
    frame = pl.DataFrame(
        [(t.time, t.trade_id, t.price, t.quantity) for t in ticks],
        schema={
            "time": pl.Datetime("us", "UTC"),
            "trade_id": pl.Int64,
            "price": pl.Decimal(38, 8),
            "quantity": pl.Decimal(38, 8),
        },
        orient="row",
    )
    final: dict[datetime, dict[str, Any]] = {}
    for update in updates:
        final[datetime.fromisoformat(update["data"]["time"])] = update["data"]
    expected = candles(frame, "5m")
    assert len(final) == expected.height
    for row in expected.iter_rows(named=True):
        got = final[row["time"]]
        for key in ("open", "high", "low", "close", "volume", "vwap"):
            assert Decimal(got[key]) == row[key], key
        assert got["trades"] == row["trades"]
    # The writer stores what was published.
    await server.markets.writer.flush()
    assert server.markets.writer.stats.written == 100


async def test_ticker_and_candles_send_a_snapshot_first(server: Server) -> None:
    for n in range(1, 4):
        await server.markets.publish(tick(n))
    async with connect(server.url) as ws:
        await send(ws, {"op": "subscribe", "channels": ["candles:BTC-USDT:1h"]})
        await expect(ws, "subscribed")
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["data"]["trades"] == 3
        await send(ws, {"op": "subscribe", "channels": ["ticker:BTC-USDT"]})
        await expect(ws, "subscribed")
        ticker = await receive(ws)
        assert ticker["type"] == "snapshot"
        assert ticker["data"]["last"] == str(tick(3).price)
        assert ticker["data"]["best_bid"] is None
        await server.markets.publish(tick(4))
        seen = {(await receive(ws))["channel"] for _ in range(2)}
        assert seen == {"candles:BTC-USDT:1h", "ticker:BTC-USDT"}


async def test_malformed_frames_get_errors_and_the_connection_stays_usable(server: Server) -> None:
    async with connect(server.url) as ws:
        cases: list[tuple[Any, int, str]] = [
            ("this is not json", 400, "not valid JSON"),
            ([1, 2], 400, "JSON object"),
            ({"op": "dance"}, 400, "unknown op"),
            ({"op": "subscribe"}, 400, "channels"),
            ({"op": "subscribe", "channels": "trades:BTC-USDT"}, 400, "channels"),
            ({"op": "subscribe", "channels": ["weather:BTC-USDT"]}, 404, "unknown channel"),
            ({"op": "subscribe", "channels": ["trades:DOGE-USDT"]}, 404, "no market"),
            ({"op": "subscribe", "channels": ["candles:BTC-USDT:2m"]}, 400, "unknown interval"),
            ({"op": "subscribe", "channels": ["candles:BTC-USDT"]}, 400, "bad channel name"),
            ({"op": "unsubscribe", "channels": ["trades:BTC-USDT"]}, 404, "not subscribed"),
            ({"op": "auth"}, 400, "token"),
        ]
        for frame, status, detail in cases:
            await send(ws, frame)
            error = await expect(ws, "error")
            assert error["status"] == status, (frame, error)
            assert detail in error["detail"], (frame, error)
        await send(ws, {"op": "ping"})
        await expect(ws, "pong")
        await send(ws, {"op": "subscribe", "channels": ["trades:BTC-USDT"]})
        await expect(ws, "subscribed")
        await server.markets.publish(tick(1))
        assert (await receive(ws))["data"]["trade_id"] == 1
        await send(ws, {"op": "unsubscribe", "channels": ["trades:BTC-USDT"]})
        await expect(ws, "unsubscribed")


async def test_subscriptions_per_connection_are_capped(server: Server) -> None:
    server.hub.limits = HubLimits(max_subscriptions=3)
    async with connect(server.url) as ws:
        channels = ["trades:BTC-USDT", "trades:ETH-USDT", "ticker:BTC-USDT", "trades:SOL-USDT"]
        await send(ws, {"op": "subscribe", "channels": channels})
        error = await expect(ws, "error")
        assert error["status"] == 429
        assert error["channel"] == "trades:SOL-USDT"
        subscribed = await expect(ws, "subscribed")
        assert subscribed["channels"] == channels[:3]


def small_buffer_socket(url: str) -> socket.socket:
    """A client socket with a tiny receive buffer, so a client that stops reading backs up quickly."""
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock


async def test_a_slow_client_does_not_delay_a_fast_one(server: Server) -> None:
    server.hub.limits = HubLimits(queue_size=64, max_gaps=1_000, send_timeout_seconds=60)
    count = 3_000
    slow_socket = small_buffer_socket(server.url)
    async with connect(server.url) as fast, connect(server.url, sock=slow_socket, max_queue=1) as slow:
        for ws in (fast, slow):
            await send(ws, {"op": "subscribe", "channels": ["trades:ETH-USDT"]})
            await expect(ws, "subscribed")
        # From here the slow client reads nothing: its socket fills and its server-side queue drops.
        received: list[dict[str, Any]] = []

        async def read_fast() -> None:
            while len(received) < count:
                message = await receive(fast)
                if message.get("op") != "heartbeat":
                    received.append(message)

        reader = asyncio.create_task(read_fast())
        for n in range(1, count + 1):
            await server.markets.publish(tick(n, "ETH-USDT"))
            if n % 10 == 0:  # a steady 1,000 trades/s, not one burst
                await asyncio.sleep(0.01)
        await asyncio.wait_for(reader, 30)
        assert [m.get("data", m)["trade_id"] for m in received] == list(range(1, count + 1))
        # Now the slow client reads: it missed messages and was told so, the rest in order.
        frames = []
        with contextlib.suppress(TimeoutError):
            while True:
                frames.append(await receive(slow, wait=1))
        gaps = [f for f in frames if f.get("op") == "gap"]
        trade_ids = [f["data"]["trade_id"] for f in frames if "data" in f]
        assert gaps, "the slow client was never told it missed messages"
        assert gaps[0]["channel"] == "trades:ETH-USDT"
        assert gaps[0]["missed"] > 0
        assert trade_ids == sorted(trade_ids)
        assert len(trade_ids) < count
        assert len(trade_ids) + sum(g["missed"] for g in gaps) == count


async def test_a_client_that_keeps_falling_behind_is_disconnected(server: Server) -> None:
    server.hub.limits = HubLimits(queue_size=4, max_gaps=2, send_timeout_seconds=0.5)
    async with connect(server.url, sock=small_buffer_socket(server.url), max_queue=1) as slow:
        await send(slow, {"op": "subscribe", "channels": ["trades:SOL-USDT"]})
        await expect(slow, "subscribed")
        for n in range(1, 5_001):
            await server.markets.publish(tick(n, "SOL-USDT"))
            if n % 100 == 0:
                await asyncio.sleep(0.01)
        for _ in range(100):
            if server.hub.stats.disconnected_slow:
                break
            await asyncio.sleep(0.05)
        assert server.hub.stats.disconnected_slow == 1


async def test_a_client_whose_socket_stays_full_is_dropped_after_the_send_timeout(server: Server) -> None:
    # Room for every message on the server (no drops, so no gaps): only the stuck send can end it.
    server.hub.limits = HubLimits(queue_size=10_000, max_gaps=1_000, send_timeout_seconds=0.5)
    async with connect(server.url, sock=small_buffer_socket(server.url), max_queue=1) as slow:
        await send(slow, {"op": "subscribe", "channels": ["trades:SOL-USDT"]})
        await expect(slow, "subscribed")
        for n in range(1, 5_001):
            await server.markets.publish(tick(n, "SOL-USDT"))
            if n % 100 == 0:
                await asyncio.sleep(0.01)
        for _ in range(100):
            if server.hub.stats.disconnected_slow:
                break
            await asyncio.sleep(0.05)
        assert server.hub.stats.disconnected_slow == 1
        assert server.hub.stats.gaps == 0


async def test_auth_without_a_valid_token_is_refused(server: Server) -> None:
    async with connect(server.url) as ws:
        await send(ws, {"op": "auth", "token": "not-a-token"})
        error = await expect(ws, "error")
        assert error["status"] in (401, 501)
        await send(ws, {"op": "ping"})
        await expect(ws, "pong")


async def test_ticks_published_in_another_api_process_reach_this_ones_clients(
    server: Server, settings: Settings
) -> None:
    other = create_app(settings)  # a second API process: its own bus, bridged through Redis
    async with other.router.lifespan_context(other):
        await asyncio.wait_for(other.state.markets.ready.wait(), 20)
        async with connect(server.url) as ws:
            await send(ws, {"op": "subscribe", "channels": ["trades:ETH-BTC"]})
            await expect(ws, "subscribed")
            for n in range(1, 6):
                await other.state.markets.publish(tick(n, "ETH-BTC"))
            received = [(await receive(ws))["data"]["trade_id"] for _ in range(5)]
        assert received == [1, 2, 3, 4, 5]
        await other.state.markets.writer.flush()
        await server.markets.writer.flush()
    # Only the publishing process writes them.
    assert other.state.markets.writer.stats.written == 5
    assert server.markets.writer.stats.written == 0
