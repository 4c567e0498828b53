"""End-to-end `POST /api/v1/orders` under Granian and under Uvicorn, side by side in the same run, and the
route's ceiling on this machine.

Each server runs the production app factory (`TESSERA_BENCH_WORKERS`, default 1) against a fresh migrated
database, and every order is signed in the real way: a bearer access token from `POST /api/v1/auth/login`
(each account logs in from its own loopback address, as distinct clients would, so the per-address login
limit does not get in the way). `CONCURRENCY` clients, one account each, send crossing limit orders around
one price on BTC-USDT, so the engine matches, settles and releases holds for most of them; a
response comes back once the order is committed and (within a second) matched. Prints one JSON object:
orders/s and p50/p99 latency per server and the Granian/Uvicorn throughput ratio.

It also prints the CPU time each party spends per order (`cpu_ms_per_order`): the server's processes, the
PostgreSQL backends serving its database, Redis, and the clients (this process). Every party shares this
machine's cores, so CPU per order, not the wall clock, says what bounds throughput however busy the machine
is: `venue_cpu_bound_orders_per_s` is the most orders/s the machine's cores could serve at that cost if the
load came from elsewhere and nothing else ran.

The ceiling: the same clients against `order_route_ceiling_app.py` under the same Granian settings, the
order route's request and response models and bearer dependency answering at once. What FastAPI, Granian
and the clients cost per request bounds Tessera's orders/s on this machine; `of_ceiling` is the share of
it Tessera reaches. The clients are aiohttp on uvloop (its compiled HTTP parser costs the shared cores
much less per request than httpx).

Environment: TESSERA_BENCH_DATABASE_URL (a role that may create databases), TESSERA_BENCH_REDIS_URL,
TESSERA_BENCH_ORDERS (per server, default 3000), TESSERA_BENCH_CONCURRENCY (default 32),
TESSERA_BENCH_WORKERS (default 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop
from aiohttp import ClientSession, TCPConnector
from bench_support import (
    database_cpu_seconds,
    free_port,
    redis_cpu_seconds,
    scratch_database,
    tree_cpu_seconds,
)

from server_fastapi.auth import service as auth_service
from server_fastapi.core.db import connect
from server_fastapi.core.principal import Role
from server_fastapi.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TESSERA_BENCH_REDIS_URL", "redis://127.0.0.1:56379/2")
ORDERS = int(os.environ.get("TESSERA_BENCH_ORDERS", "3000"))
CONCURRENCY = int(os.environ.get("TESSERA_BENCH_CONCURRENCY", "32"))
WORKERS = int(os.environ.get("TESSERA_BENCH_WORKERS", "1"))
WARMUP = 200
PASSWORD = "Quartz-lantern-Meadow-4817"
TARGET_ORDERS_PER_S = 2_000
TARGET_P99_MS = 50.0


def _command(server: str, port: int, target: str) -> list[str]:
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--workers", str(WORKERS),
            "--host", "127.0.0.1", "--port", str(port), "--no-log", target,
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", "--factory", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(WORKERS), "--no-access-log", "--log-level", "warning", target,
    ]  # fmt: skip


def _order(rng: random.Random, i: int) -> dict[str, Any]:
    side = "buy" if i % 2 == 0 else "sell"
    price = f"{100 + rng.randint(-20, 20) / 100:.2f}"
    return {"symbol": "BTC-USDT", "side": side, "type": "limit", "price": price, "quantity": "0.1"}


async def _accounts(dsn: str, base_url: str) -> list[str]:
    """`CONCURRENCY` traders, each signed in from its own loopback address; their access tokens."""
    settings = Settings(database_url=dsn)
    conn = await connect(dsn)
    try:
        emails = [f"bench{i}@example.test" for i in range(CONCURRENCY)]
        for email in emails:
            async with conn.transaction():
                await auth_service.create_user(
                    conn, settings, email=email, password=PASSWORD, display_name="Bench", role=Role.TRADER
                )
    finally:
        await conn.close()
    tokens = []
    for i, email in enumerate(emails):
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.1.{i + 1}")
        async with httpx.AsyncClient(base_url=base_url, transport=transport) as client:
            response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            response.raise_for_status()
            tokens.append(response.json()["access_token"])
    return tokens


async def _client_loop(
    session: ClientSession,
    token: str,
    rng: random.Random,
    count: int,
    latencies: list[float],
    errors: list[int],
) -> None:
    headers = {"authorization": f"Bearer {token}"}
    for i in range(count):
        started = time.perf_counter()
        async with session.post(
            "/api/v1/orders", json=_order(rng, i + rng.randint(0, 1)), headers=headers
        ) as response:
            await response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 201:
            errors.append(response.status)


async def _drive(
    process: subprocess.Popen[bytes], base_url: str, tokens: list[str], database_dsn: str | None = None
) -> dict[str, Any]:
    """Warm up, then `ORDERS` orders from `CONCURRENCY` clients; throughput, latency and the CPU each party
    spent per order: the server's processes, the database's backends and Redis (when `database_dsn` names
    the app's database) and these clients."""
    async with ClientSession(base_url, connector=TCPConnector(limit=CONCURRENCY)) as session:
        rng = random.Random(7)
        warmup: list[float] = []
        await asyncio.gather(
            *(_client_loop(session, t, rng, WARMUP // CONCURRENCY + 1, warmup, []) for t in tokens)
        )
        latencies: list[float] = []
        errors: list[int] = []
        before = await _cpu_seconds(process, database_dsn)
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _client_loop(session, t, random.Random(i), ORDERS // CONCURRENCY, latencies, errors)
                for i, t in enumerate(tokens)
            )
        )
        elapsed = time.perf_counter() - started
        after = await _cpu_seconds(process, database_dsn)
    cuts = statistics.quantiles(latencies, n=100)
    per_order = {
        party: round((end - start) * 1000 / len(latencies), 2)
        for party, end in after.items()
        if end is not None and (start := before[party]) is not None
    }
    venue = sum(cpu for party, cpu in per_order.items() if party != "clients")
    per_order["total"] = round(sum(per_order.values()), 2)
    return {
        "orders": len(latencies),
        "errors": len(errors),
        "orders_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "server_cpu_utilization": round(per_order["server"] * len(latencies) / 1000 / elapsed, 2),
        "cpu_ms_per_order": per_order,
        # The most orders/s this machine's cores could serve at this cost, the load coming from elsewhere.
        "venue_cpu_bound_orders_per_s": round((os.cpu_count() or 1) * 1000 / venue),
    }


async def _cpu_seconds(process: subprocess.Popen[bytes], database_dsn: str | None) -> dict[str, float | None]:
    parties: dict[str, float | None] = {
        "server": tree_cpu_seconds(process.pid),
        "clients": time.process_time(),
    }
    if database_dsn is not None:
        parties["database"] = await database_cpu_seconds(database_dsn)
        parties["redis"] = await redis_cpu_seconds(REDIS_URL)
    return parties


async def _wait_healthy(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base_url} never became healthy")


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


async def _measure(server: str) -> dict[str, Any]:
    async with scratch_database() as dsn:
        return await _measure_on(server, dsn)


async def _measure_on(server: str, dsn: str) -> dict[str, Any]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TESSERA_ENV": "test",
        "TESSERA_LOG_LEVEL": "WARNING",
        "DATABASE_URL": dsn,
        "REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(  # noqa: ASYNC220 (returns at once; the server runs on)
        _command(server, port, "server_fastapi.app:create_app"),
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        await _wait_healthy(base_url)
        tokens = await _accounts(dsn, base_url)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            for token in tokens:
                for asset, amount in (("USDT", "10000000"), ("BTC", "100000")):
                    response = await client.post(
                        "/api/v1/dev/faucet",
                        json={"asset": asset, "amount": amount},
                        headers={"authorization": f"Bearer {token}"},
                    )
                    response.raise_for_status()
        return await _drive(process, base_url, tokens, dsn)
    finally:
        _stop(process)


async def _measure_ceiling() -> dict[str, Any]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests' / 'bench'}"}
    process = subprocess.Popen(  # noqa: ASYNC220 (returns at once; the server runs on)
        _command("granian", port, "order_route_ceiling_app:create_app"),
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        await _wait_healthy(base_url)
        return await _drive(process, base_url, [f"client-{i}" for i in range(CONCURRENCY)])
    finally:
        _stop(process)


async def main() -> None:
    results = {server: await _measure(server) for server in ("granian", "uvicorn")}
    ceiling = await _measure_ceiling()
    print(
        json.dumps(
            {
                "benchmark": "post_orders_http",
                "concurrency": CONCURRENCY,
                "workers": WORKERS,
                "granian": results["granian"],
                "uvicorn": results["uvicorn"],
                "granian_vs_uvicorn_throughput": round(
                    results["granian"]["orders_per_s"] / results["uvicorn"]["orders_per_s"], 2
                ),
                "route_ceiling_granian": ceiling,
                "of_ceiling": round(results["granian"]["orders_per_s"] / ceiling["orders_per_s"], 3),
                "target": {"orders_per_s": TARGET_ORDERS_PER_S, "p99_ms": TARGET_P99_MS},
                "meets_target": results["granian"]["orders_per_s"] >= TARGET_ORDERS_PER_S
                and results["granian"]["p99_ms"] < TARGET_P99_MS,
                "ceiling_reaches_target": ceiling["orders_per_s"] >= TARGET_ORDERS_PER_S
                and ceiling["p99_ms"] < TARGET_P99_MS,
                "venue_cpu_bound_reaches_target": results["granian"]["venue_cpu_bound_orders_per_s"]
                >= TARGET_ORDERS_PER_S,
                "python": platform.python_version(),
                "loadavg_1m": round(os.getloadavg()[0], 2),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    uvloop.run(main())
