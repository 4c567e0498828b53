"""The engine runner: one process per symbol (advisory-lock lease, taken over when the holder stops), and
the command log replays to the recorded trades."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from trading_support import as_user, fund, make_user, replay_matches_trades, settled, wait_idle

from server_fastapi.core.bus import EventBus
from server_fastapi.trading.runner import Runtime


async def _waiting_lease_backends(conn: asyncpg.Connection[Any]) -> set[int]:
    """Backends whose latest statement is a try for an engine lease: the runners waiting for one."""
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_try_advisory_lock%' AND state = 'idle'"
    )
    return {row["pid"] for row in rows}


async def test_one_runner_per_symbol_and_takeover(
    api: FastAPI, client: httpx.AsyncClient, conn: asyncpg.Connection[Any], database_url: str
) -> None:
    first: Runtime = api.state.trading
    for _ in range(100):
        if first.engine("BTC-USDT") is not None:
            break
        await asyncio.sleep(0.1)
    assert first.engine("BTC-USDT") is not None
    second = Runtime(first.pool, EventBus(process_id="second"), database_url, retry_seconds=0.1)
    await second.start()
    try:
        await asyncio.sleep(0.5)
        assert second.engine("BTC-USDT") is None  # the lease is held by the app's runtime
        # While it waits, the second runtime keeps asking on one connection per symbol rather than
        # connecting (a SCRAM handshake each) for every try.
        waiting = await _waiting_lease_backends(conn)
        assert len(waiting) == len(first.runners)
        await asyncio.sleep(0.5)  # five more tries
        assert await _waiting_lease_backends(conn) == waiting

        seller, buyer = await make_user(conn), await make_user(conn)
        await fund(client, seller, "BTC", "1")
        await fund(client, buyer, "USDT", "1000")
        order = {"symbol": "BTC-USDT", "type": "limit", "price": "100", "quantity": "0.5"}
        ask = await client.post("/api/v1/orders", json={**order, "side": "sell"}, headers=as_user(seller))
        await settled(client, conn, seller, ask)

        await first.stop()  # the holder goes away: the other process takes over and rebuilds the book
        for _ in range(100):
            if second.engine("BTC-USDT") is not None:
                break
            await asyncio.sleep(0.1)
        engine = second.engine("BTC-USDT")
        assert engine is not None
        assert [o.order_id for o in engine.open_orders()] == [ask.json()["id"]]

        # Orders placed now are matched by the new owner against the rebuilt book.
        bid = await client.post("/api/v1/orders", json={**order, "side": "buy"}, headers=as_user(buyer))
        assert bid.status_code == 201, bid.text
        await wait_idle(conn)
        assert (await settled(client, conn, buyer, bid))["status"] == "filled"
        assert await replay_matches_trades(conn, "BTC-USDT") == 1
    finally:
        await second.stop()
