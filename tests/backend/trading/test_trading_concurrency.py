"""Many accounts trade at once through the HTTP API; afterwards money is conserved and the books
agree with the database. 20 accounts; `TESSERA_LOAD_REQUESTS` sets the number of requests: 1,000 by
default to keep `just test` short on a small shared machine, 5,000 for the issue's full acceptance run."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from trading_support import (
    as_user,
    book_matches_database,
    check_invariants,
    fund,
    make_user,
    random_order,
    replay_matches_trades,
    wait_idle,
)

ACCOUNTS = 20
REQUESTS = int(os.environ.get("TESSERA_LOAD_REQUESTS", "1000"))
SYMBOLS = ("BTC-USDT", "ETH-USDT")


async def trade_randomly(client: httpx.AsyncClient, user: UUID, rng: random.Random, count: int) -> list[int]:
    """Send `count` random requests (orders, cancels, cancel-alls); return the status codes seen."""
    statuses: list[int] = []
    mine: list[int] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.2 and mine:
            response = await client.delete(
                f"/api/v1/orders/{mine.pop(rng.randrange(len(mine)))}", headers=as_user(user)
            )
        elif roll < 0.22:
            response = await client.delete(
                "/api/v1/orders", params={"symbol": rng.choice(SYMBOLS)}, headers=as_user(user)
            )
        else:
            response = await client.post(
                "/api/v1/orders", json=random_order(rng, rng.choice(SYMBOLS)), headers=as_user(user)
            )
            if response.status_code == 201:
                mine.append(response.json()["id"])
        statuses.append(response.status_code)
    return statuses


@pytest.mark.slow
async def test_concurrent_trading_keeps_every_invariant(
    api: FastAPI, client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    users = [await make_user(conn) for _ in range(ACCOUNTS)]
    for user in users:
        await fund(client, user, "USDT", "2000")
        await fund(client, user, "BTC", "5")
        await fund(client, user, "ETH", "5")
    per_account = REQUESTS // ACCOUNTS
    results = await asyncio.gather(
        *(trade_randomly(client, user, random.Random(i), per_account) for i, user in enumerate(users))
    )
    statuses = [status for result in results for status in result]
    assert not [status for status in statuses if status >= 500]
    assert statuses.count(201) > REQUESTS // 2
    await wait_idle(conn)
    await check_invariants(conn)
    assert await conn.fetchval("SELECT count(*) FROM trades") > 0

    runtime = api.state.trading
    for symbol in SYMBOLS:
        engine = runtime.engine(symbol)
        assert engine is not None
        await book_matches_database(conn, engine.open_orders(), symbol)
        await replay_matches_trades(conn, symbol)
