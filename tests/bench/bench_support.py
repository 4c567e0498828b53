"""What the benchmarks share: a throwaway migrated database, free ports, the CPU time of a server's
processes, of a database's backends and of Redis, and ticks generated fast with Polars. (The benchmarks run
as plain scripts, outside pytest.)"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import polars as pl
from redis.asyncio import Redis

from server_fastapi.markets.analytics import PRICE_DTYPE, QUANTITY_DTYPE
from server_fastapi.migrations import upgrade

ADMIN_DSN = os.environ.get(
    "TESSERA_BENCH_DATABASE_URL", "postgresql://tessera:tessera@127.0.0.1:55432/postgres"
)
START = datetime(2025, 1, 1, tzinfo=UTC)


def dsn(name: str) -> str:
    return f"{ADMIN_DSN.rpartition('/')[0]}/{name}"


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A fresh database migrated to head, dropped afterwards."""
    name = f"tessera_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        await asyncio.to_thread(upgrade, dsn(name))
        yield dsn(name)
    finally:
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _process_table() -> dict[int, tuple[int, float]]:
    """Every process's (parent pid, user + system CPU seconds), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    return table


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of process `root` and its live descendants (Granian runs its workers as
    children): what bounds a server's throughput however busy the machine is."""
    table = _process_table()
    tree = {root}
    while grown := {pid for pid, (parent, _) in table.items() if parent in tree and pid not in tree}:
        tree |= grown
    return sum(table[pid][1] for pid in tree if pid in table)


async def database_cpu_seconds(database_dsn: str) -> float | None:
    """CPU time of the PostgreSQL backends connected to that database now (the API's pooled connections and
    its engine lease), or None when the server is not on this machine. Cluster-wide processes (WAL writer,
    checkpointer) are left out, so this is a floor of what the database spends."""
    conn = await asyncpg.connect(database_dsn)
    try:
        pids = [
            row["pid"]
            for row in await conn.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
    finally:
        await conn.close()
    table = _process_table()
    if any(pid not in table for pid in pids):
        return None
    return sum(table[pid][1] for pid in pids)


async def redis_cpu_seconds(redis_url: str) -> float:
    """CPU time the Redis server has used since it started (its own `INFO cpu`)."""
    client = Redis.from_url(redis_url)
    try:
        info = await client.info("cpu")
    finally:
        await client.aclose()
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def generated_ticks(count: int, *, symbol: str = "BTC-USDT", offset: int = 0, seed: int = 1) -> pl.DataFrame:
    """`count` ticks of one symbol, one every 50 ms, a bounded random walk on the 0.01 grid (vectorised;
    the simulated feed is exact but far slower for millions of rows)."""
    n = pl.int_range(offset, offset + count, dtype=pl.Int64, eager=True)
    steps = (pl.Series(n).hash(seed) % 201).cast(pl.Int64) - 100  # -1.00 .. +1.00 per trade
    cents = 6_500_000 + steps.cum_sum().abs() % 1_000_000
    lots = (pl.Series(n).hash(seed + 1) % 500).cast(pl.Int64) + 1
    return pl.DataFrame(
        {
            "time": pl.from_epoch(
                pl.Series(n) * 50_000 + int(START.timestamp() * 1e6), time_unit="us"
            ).dt.replace_time_zone("UTC"),
            "symbol": pl.Series([symbol]).gather([0] * count) if count else pl.Series([], dtype=pl.String),
            "trade_id": n + 1,
            "price": (cents.cast(pl.Int128).cast(PRICE_DTYPE) / 100).cast(PRICE_DTYPE),
            "quantity": (lots.cast(pl.Int128).cast(QUANTITY_DTYPE) / 100_000).cast(QUANTITY_DTYPE),
            "taker_side": pl.Series(["buy", "sell"]).gather((n % 2).to_list()),
        }
    )
