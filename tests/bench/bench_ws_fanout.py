"""WebSocket fan-out: trades published on the bus reach 500 clients of a real API server; p50/p99 latency.

The API (uvicorn, `create_app`, a throwaway database) runs in its own process. This process publishes
`TradeTick`s on `ticks.BTC-USDT` through the Redis bridge, as a trading engine in another replica would, and
holds 500 `websockets` clients subscribed to `trades:BTC-USDT`. Latency is publish time (the tick's `time`)
to the moment a client has the frame, so it includes the Redis hop and the clients' own event loop.

Prints one JSON object; the target is p99 < 50 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
from markets_bench_db import scratch_database
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from server_fastapi.core.bus import EventBus
from server_fastapi.core.bus_redis import RedisStreamBridge
from server_fastapi.markets.events import TradeTick, ticks_channel

CLIENTS = int(os.environ.get("BENCH_WS_CLIENTS", "500"))
TRADES = int(os.environ.get("BENCH_WS_TRADES", "100"))
RATE = float(os.environ.get("BENCH_WS_RATE", "5"))  # trades per second
REDIS_URL = os.environ.get("TESSERA_BENCH_REDIS_URL", "redis://127.0.0.1:56379/2")
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API did not become ready")


async def client(url: str, latencies: list[float], ready: asyncio.Event, counter: list[int]) -> None:
    async with connect(url, max_size=2**20) as ws:
        await ws.send(json.dumps({"op": "subscribe", "channels": ["trades:BTC-USDT"]}))
        while json.loads(await ws.recv()).get("op") != "subscribed":
            pass
        counter[0] += 1
        if counter[0] == CLIENTS:
            ready.set()
        await receive(ws, latencies)


GAPS: list[int] = []


async def receive(ws: ClientConnection, latencies: list[float]) -> None:
    seen = 0
    while seen < TRADES:
        try:
            message = orjson.loads(await asyncio.wait_for(ws.recv(), 15))
        except TimeoutError:
            return  # counted as missing deliveries
        if message.get("op") == "gap":
            GAPS.append(message["missed"])
            seen += message["missed"]
            continue
        if "data" not in message:
            continue
        now = time.time()
        sent = datetime.fromisoformat(message["data"]["time"]).timestamp()
        latencies.append(now - sent)
        seen += 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    port = free_port()
    async with scratch_database() as database_url:
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "TESSERA_ENV": "test"}
        server = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measurement)
            [
                sys.executable,
                "-m",
                "uvicorn",
                "server_fastapi.app:create_app",
                "--factory",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--ws-ping-interval",
                "0",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            await wait_ready(f"http://127.0.0.1:{port}")
            await asyncio.sleep(1.0)  # the markets runtime boots in the background
            bus = EventBus(process_id="bench-publisher")
            channel = ticks_channel(bus, "BTC-USDT")
            bridge = RedisStreamBridge(bus, redis, [channel], read_block_ms=200)
            await bridge.start()
            latencies: list[float] = []
            ready = asyncio.Event()
            counter = [0]
            url = f"ws://127.0.0.1:{port}/ws"
            tasks = []
            for _ in range(CLIENTS):
                tasks.append(asyncio.create_task(client(url, latencies, ready, counter)))
                await asyncio.sleep(0.002)
            await asyncio.wait_for(ready.wait(), 120)
            started = time.perf_counter()
            for n in range(1, TRADES + 1):
                await channel.publish(
                    TradeTick(
                        symbol="BTC-USDT",
                        trade_id=n,
                        time=datetime.now(UTC),
                        price=Decimal("65000.00") + n,
                        quantity=Decimal("0.01"),
                        taker_side="buy",
                    )
                )
                await asyncio.sleep(max(0.0, started + n / RATE - time.perf_counter()))
            await asyncio.wait_for(asyncio.gather(*tasks), 120)
            await bridge.close()
            await bus.close()
        finally:
            server.terminate()
            server.wait(30)
    await redis.aclose()
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(
        json.dumps(
            {
                "benchmark": "ws_fanout",
                "server": "uvicorn (one worker)",
                "clients": CLIENTS,
                "trades": TRADES,
                "trades_per_s": RATE,
                "deliveries": len(latencies),
                "missed": CLIENTS * TRADES - len(latencies),
                "gap_frames": len(GAPS),
                "loadavg_1m": os.getloadavg()[0],
                "p50_ms": round(p50 * 1000, 2),
                "p99_ms": round(p99 * 1000, 2),
                "max_ms": round(max(latencies) * 1000, 2),
                "targets": {"p99_ms_below": 50, "met": p99 < 0.05},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
