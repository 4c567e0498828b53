"""WebSocket fan-out: trades published on the bus reach 500 clients of a real API server; p50/p99 latency.

Three kinds of OS process, so that the clients' receive work never stalls the publisher or the server on a
shared event loop (as it did when all of them ran in one process): the API (Granian with its production
default of two workers, each following the bus through Redis, on a throwaway database); client processes
holding 500 aiohttp WebSocket clients subscribed to `trades:BTC-USDT`; and this process, which publishes
`TradeTick`s on `ticks.BTC-USDT` through the Redis bridge, as the trading engine of another replica would.
Latency is the tick's `time` (set when published) to the moment a client has parsed the frame, on the
machine's one clock: it includes the Redis hop, the server's fan-out and the client's own receive path. A
few warm-up trades go first and a few cool-down trades last, neither counted. Server and client CPU per
delivered frame are reported too: unlike latency, machine load from other work barely moves them.

The clients share the server's two cores, so the lighter they are the less they inflate what they measure:
aiohttp's compiled frame reader costs about half of `websockets`' per frame here, one deadline per client
replaces a `wait_for` task per frame, the client processes run on uvloop, and their garbage collector leaves
the long-lived connection objects alone (it paused them ~90 ms at a time).

Prints one JSON object; the target is p99 < 50 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
import uvloop
from aiohttp import ClientSession, ClientWebSocketResponse, TCPConnector
from bench_support import free_port, scratch_database, tree_cpu_seconds
from redis.asyncio import Redis

from server_fastapi.core.bus import EventBus
from server_fastapi.core.bus_redis import RedisStreamBridge
from server_fastapi.markets.events import TradeTick, bridge_channels, ticks_channel

CLIENTS = int(os.environ.get("BENCH_WS_CLIENTS", "500"))
CLIENT_PROCESSES = int(os.environ.get("BENCH_WS_CLIENT_PROCESSES", "2"))
WORKERS = int(os.environ.get("BENCH_WS_WORKERS", "2"))  # as `python -m server_fastapi serve` runs by default
TRADES = int(os.environ.get("BENCH_WS_TRADES", "100"))
WARMUP = 5
COOLDOWN = 5
"""Trades after the measured ones, so clients leaving at the end do not weigh on the last measured trade."""
RATE = float(os.environ.get("BENCH_WS_RATE", "5"))  # trades per second
REDIS_URL = os.environ.get("TESSERA_BENCH_REDIS_URL", "redis://127.0.0.1:56379/2")
ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "trades:BTC-USDT"


# --- client processes -----------------------------------------------------------------------------


async def receive(ws: ClientWebSocketResponse, latencies: list[float], gaps: list[int]) -> None:
    """Frames until every trade is accounted for; what has not come by a generous deadline counts as missed.
    One deadline for the whole run, not one per frame: on Python 3.11 `wait_for` makes a task per call,
    which cost the clients more CPU than the frames did."""
    seen = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout((WARMUP + TRADES + COOLDOWN) / RATE + 30):
            while seen < WARMUP + TRADES + COOLDOWN:
                seen += await receive_one(ws, latencies, gaps)


async def receive_one(ws: ClientWebSocketResponse, latencies: list[float], gaps: list[int]) -> int:
    """One frame; how many trades it accounts for."""
    raw = (await ws.receive()).data
    received = time.time()
    message = orjson.loads(raw)
    if message.get("op") == "gap":
        gaps.append(message["missed"])
        missed: int = message["missed"]
        return missed
    if message.get("channel") != CHANNEL or message.get("type") != "update":
        return 0
    data = message["data"]
    if WARMUP < data["trade_id"] <= WARMUP + TRADES:
        latencies.append(received - datetime.fromisoformat(data["time"]).timestamp())
    return 1


async def client(
    session: ClientSession, url: str, latencies: list[float], gaps: list[int], subscribed: asyncio.Semaphore
) -> None:
    async with session.ws_connect(url, max_msg_size=2**20, autoping=False) as ws:
        while True:  # a worker that is still booting answers 503: ask again
            await ws.send_str(json.dumps({"op": "subscribe", "channels": [CHANNEL]}))
            while (op := orjson.loads((await ws.receive()).data).get("op")) not in ("subscribed", "error"):
                pass
            if op == "subscribed":
                break
            await asyncio.sleep(0.2)
        subscribed.release()
        await receive(ws, latencies, gaps)


async def run_clients(url: str, count: int) -> None:
    """One client process: `count` clients; prints "ready" once all are subscribed, then their results."""
    latencies: list[float] = []
    gaps: list[int] = []
    subscribed = asyncio.Semaphore(0)
    async with ClientSession(connector=TCPConnector(limit=0)) as session:
        tasks = []
        for _ in range(count):
            tasks.append(asyncio.create_task(client(session, url, latencies, gaps, subscribed)))
            await asyncio.sleep(0.005)
        for _ in range(count):
            await subscribed.acquire()
        # The clients' own garbage collector, walking 250 connections' objects, paused this process for
        # ~90 ms at a time mid-run: that is the measuring instrument, not the server. Set what exists aside.
        gc.freeze()
        print("ready", flush=True)
        cpu = time.process_time()
        await asyncio.gather(*tasks)
        cpu = time.process_time() - cpu
    print(json.dumps({"latencies": latencies, "gaps": gaps, "cpu_seconds": cpu}), flush=True)


# --- the publisher and the report -----------------------------------------------------------------


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            try:
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API did not become ready")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_server(port: int, database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "TESSERA_ENV": "test",
        "MARKET_SIMULATOR": "off",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--factory",
            "--workers",
            str(WORKERS),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-log",
            "server_fastapi.app:create_app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


async def start_clients(url: str) -> list[subprocess.Popen[str]]:
    shares = [CLIENTS // CLIENT_PROCESSES + (i < CLIENTS % CLIENT_PROCESSES) for i in range(CLIENT_PROCESSES)]
    processes = [
        subprocess.Popen(  # noqa: ASYNC220 (started before the measurement)
            [sys.executable, __file__, "clients", url, str(share)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for share in shares
    ]
    for process in processes:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 180)
        if line.strip() != "ready":
            raise RuntimeError(f"a client process failed: {line!r}")
    return processes


async def main() -> None:
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    port = free_port()
    loadavg_before = os.getloadavg()[0]
    async with scratch_database() as database_url:
        server = start_server(port, database_url)
        try:
            await wait_ready(f"http://127.0.0.1:{port}")
            clients = await start_clients(f"ws://127.0.0.1:{port}/ws")
            bus = EventBus(process_id="bench-publisher")
            bridge = RedisStreamBridge(bus, redis, read_block_ms=200)
            bridge_channels(bridge)
            await bridge.start()
            channel = ticks_channel(bus, "BTC-USDT")
            server_cpu = tree_cpu_seconds(server.pid)
            started = time.perf_counter()
            for n in range(1, WARMUP + TRADES + COOLDOWN + 1):
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
            latencies: list[float] = []
            gaps: list[int] = []
            client_cpu = 0.0
            for process in clients:
                out, _ = await asyncio.wait_for(asyncio.to_thread(process.communicate), 120)
                result = json.loads(out.strip().splitlines()[-1])
                latencies.extend(result["latencies"])
                gaps.extend(result["gaps"])
                client_cpu += result["cpu_seconds"]
            server_cpu = tree_cpu_seconds(server.pid) - server_cpu
            loadavg_after = os.getloadavg()[0]
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
                "server": f"granian ({WORKERS} workers, bridged through Redis)",
                "client_processes": CLIENT_PROCESSES,
                "clients": CLIENTS,
                "trades": TRADES,
                "warmup_trades": WARMUP,
                "cooldown_trades": COOLDOWN,
                "trades_per_s": RATE,
                "deliveries": len(latencies),
                "missed": CLIENTS * TRADES - len(latencies),
                "gap_frames": len(gaps),
                "loadavg_1m_before": loadavg_before,
                "loadavg_1m_after": loadavg_after,
                # CPU per delivered frame, which machine load does not inflate the way it does latency.
                "server_cpu_us_per_delivery": round(server_cpu / max(1, len(latencies)) * 1e6, 1),
                "client_cpu_us_per_delivery": round(client_cpu / max(1, len(latencies)) * 1e6, 1),
                "p50_ms": round(p50 * 1000, 2),
                "p99_ms": round(p99 * 1000, 2),
                "max_ms": round(max(latencies) * 1000, 2),
                "targets": {"p99_ms_below": 50, "met": p99 < 0.05},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "clients":
        uvloop.run(run_clients(sys.argv[2], int(sys.argv[3])))
    else:
        uvloop.run(main())
