"""SIGKILL the API process in the middle of trading, restart it: nothing committed is lost or redone,
the invariants hold, and the book the engine rebuilds equals the open orders in the database."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from tests_support import ROOT, ApiServer, make_settings
from trading_support import (
    as_user,
    book_matches_database,
    check_invariants,
    make_user,
    random_order,
    wait_idle,
)

from server_fastapi.core.bus import EventBus
from server_fastapi.core.db import create_pool
from server_fastapi.trading.runner import Runtime, SymbolRunner

HERE = Path(__file__).resolve().parent
SYMBOLS = ("BTC-USDT", "ETH-USDT")


@pytest.fixture
def server(database_url: str, redis_url: str) -> Iterator[ApiServer]:
    """The API under Granian in its own process group, so SIGKILL takes all of it."""
    env = {
        **os.environ,
        "TESSERA_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT / "tests"), str(ROOT)]),
    }
    running = ApiServer(env, factory="header_auth_app:create_app")
    yield running
    running.stop(signal.SIGKILL)


async def trade_until_stopped(url: str, user: UUID, rng: random.Random, sent: list[Any]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        mine: list[int] = []
        while True:
            try:
                if mine and rng.random() < 0.2:
                    response = await client.delete(f"/api/v1/orders/{mine.pop()}", headers=as_user(user))
                else:
                    response = await client.post(
                        "/api/v1/orders", json=random_order(rng, rng.choice(SYMBOLS)), headers=as_user(user)
                    )
                    if response.status_code == 201:
                        mine.append(response.json()["id"])
                sent.append(response.status_code)
            except httpx.TransportError as error:
                sent.append(repr(error))
                return


async def load(server: ApiServer, users: list[UUID], responses: int, *, kill: bool) -> None:
    """Trade from every account until `responses` answers came back, then SIGKILL the server (or stop)."""
    sent: list[Any] = []
    tasks = [
        asyncio.create_task(trade_until_stopped(server.url, user, random.Random(f"{i}{kill}"), sent))
        for i, user in enumerate(users)
    ]
    for _ in range(1200):
        if len(sent) >= responses:
            break
        await asyncio.sleep(0.05)
    if kill:
        server.stop(signal.SIGKILL)
    else:
        for task in tasks:
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert sent.count(201) > 0, sent
    assert not [status for status in sent if isinstance(status, int) and status >= 500], sent


@pytest.mark.slow
async def test_sigkill_mid_load_loses_nothing(server: ApiServer, database_url: str, redis_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        users = [await make_user(conn) for _ in range(8)]
        await server.start()
        async with httpx.AsyncClient(base_url=server.url) as client:
            for user in users:
                for asset, amount in (("USDT", "2000"), ("BTC", "5"), ("ETH", "5")):
                    response = await client.post(
                        "/api/v1/dev/faucet", json={"asset": asset, "amount": amount}, headers=as_user(user)
                    )
                    assert response.status_code == 200, response.text

        await load(server, users, 150, kill=True)
        # Whatever committed before the kill is consistent, processed or not.
        await check_invariants(conn)

        await server.start()
        await wait_idle(conn)
        await check_invariants(conn)
        await load(server, users, 100, kill=False)
        await wait_idle(conn)
        server.stop()
        await check_invariants(conn)
        assert await conn.fetchval("SELECT count(*) FROM trades") > 0

        # The book a new process rebuilds from the database is exactly the open orders.
        settings = make_settings(database_url, redis_url)
        pool = await create_pool(settings)
        try:
            runtime = Runtime(pool, EventBus(process_id="crash-test"), database_url)
            for symbol in SYMBOLS:
                runner = SymbolRunner(runtime, symbol)
                await runner.rebuild(pool)
                assert runner.engine is not None
                await book_matches_database(conn, runner.engine.open_orders(), symbol)
        finally:
            await pool.close()
    finally:
        await conn.close()
