"""Helpers of the trading and ledger tests: accounts, funding, waiting for the engine, invariants."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from fastapi import FastAPI, Request

from server_fastapi.core.principal import SESSION_SCOPES, Principal, Role
from server_fastapi.core.problems import Unauthorized
from server_fastapi.core.security import authenticated_principal
from server_fastapi.trading.engine import MatchingEngine, TradeExecuted, command_from_dict


def use_header_auth(app: FastAPI) -> None:
    """Sign requests in by `X-Test-User` (and `X-Test-Role`), so tests need no password hashing."""

    async def principal(request: Request) -> Principal:
        user = request.headers.get("x-test-user")
        if not user:
            raise Unauthorized("no test user")
        return Principal(
            user_id=UUID(user),
            role=Role(request.headers.get("x-test-role", "trader")),
            scopes=SESSION_SCOPES,
            auth_method="bearer",
        )

    app.dependency_overrides[authenticated_principal] = principal


async def make_user(conn: asyncpg.Connection[Any], role: str = "trader") -> UUID:
    user_id: UUID = await conn.fetchval(
        "INSERT INTO users (email, display_name, role) VALUES ($1, 'Test', $2) RETURNING id",
        f"{uuid.uuid4().hex[:12]}@example.test",
        role,
    )
    return user_id


def as_user(user_id: UUID, role: str = "trader") -> dict[str, str]:
    return {"x-test-user": str(user_id), "x-test-role": role}


async def fund(client: httpx.AsyncClient, user_id: UUID, asset: str, amount: str) -> None:
    response = await client.post(
        "/api/v1/dev/faucet", json={"asset": asset, "amount": amount}, headers=as_user(user_id)
    )
    assert response.status_code == 200, response.text


async def balances(client: httpx.AsyncClient, user_id: UUID) -> dict[str, tuple[Decimal, Decimal]]:
    """Non-zero balances by asset: (available, held)."""
    response = await client.get("/api/v1/balances", headers=as_user(user_id))
    assert response.status_code == 200, response.text
    found = {b["asset"]: (Decimal(b["available"]), Decimal(b["held"])) for b in response.json()}
    return {asset: amounts for asset, amounts in found.items() if any(amounts)}


async def wait_idle(conn: asyncpg.Connection[Any], seconds: float = 30.0) -> None:
    """Until every symbol's runner has processed every command in the log."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        behind = await conn.fetchval("SELECT count(*) FROM engine_commands WHERE seq IS NULL")
        if behind == 0:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the engine runners did not catch up")
        await asyncio.sleep(0.05)


async def check_invariants(conn: asyncpg.Connection[Any]) -> None:
    """Money is conserved and every order and trade is consistent."""
    # Every entry balances per asset, and balances equal the sum of their postings.
    assert not await conn.fetch(
        "SELECT entry_id, asset FROM ledger_postings GROUP BY entry_id, asset HAVING sum(amount) <> 0"
    )
    assert not await conn.fetch(
        """
        SELECT a.id FROM ledger_accounts a
          LEFT JOIN ledger_postings p ON p.account_id = a.id
         GROUP BY a.id
        HAVING a.available <> coalesce(sum(p.amount) FILTER (WHERE p.bucket = 'available'), 0)
            OR a.held <> coalesce(sum(p.amount) FILTER (WHERE p.bucket = 'held'), 0)
        """
    )
    # For every asset: users + fees == what came in from outside; nobody is negative.
    rows = await conn.fetch(
        """
        SELECT asset,
               sum(available + held) FILTER (WHERE kind IN ('user', 'fees')) AS inside,
               coalesce(-sum(available) FILTER (WHERE kind = 'external'), 0) AS deposited,
               min(least(available, held)) FILTER (WHERE kind IN ('user', 'fees')) AS lowest
          FROM ledger_accounts GROUP BY asset
        """
    )
    for row in rows:
        assert row["inside"] == row["deposited"], dict(row)
        assert row["lowest"] >= 0, dict(row)
    # What users hold is exactly what their unfinished orders reserve.
    assert not await conn.fetch(
        """
        WITH reserved AS (
            SELECT user_id, hold_asset AS asset,
                   sum(hold_amount - CASE WHEN side = 'buy' THEN filled_quote ELSE filled_quantity END)
                       AS amount
              FROM orders WHERE status IN ('new', 'open', 'partially_filled') GROUP BY 1, 2
        )
        SELECT a.owner_id, a.asset, a.held, r.amount FROM ledger_accounts a
          LEFT JOIN reserved r ON r.user_id = a.owner_id AND r.asset = a.asset
         WHERE a.kind = 'user' AND a.held <> coalesce(r.amount, 0)
        """
    )
    # No order is both filled and canceled; filled orders filled completely; every trade has two sides.
    assert not await conn.fetch(
        "SELECT id FROM orders WHERE status = 'filled' AND cancel_reason IS NOT NULL"
        " OR status = 'canceled' AND cancel_reason IS NULL"
        " OR status = 'filled' AND qty_lots IS NOT NULL AND filled_lots <> qty_lots"
        " OR filled_lots > coalesce(qty_lots, filled_lots)"
    )
    assert not await conn.fetch(
        """
        SELECT t.trade_id FROM trades t
          JOIN orders m ON m.id = t.maker_order_id
          JOIN orders k ON k.id = t.taker_order_id
         WHERE m.side = k.side OR m.user_id = k.user_id OR m.symbol <> t.symbol OR k.symbol <> t.symbol
            OR m.user_id <> t.maker_user_id OR k.user_id <> t.taker_user_id
        """
    )
    # Each order's fills add up to what the order says it filled.
    assert not await conn.fetch(
        """
        SELECT o.id FROM orders o LEFT JOIN trades t ON o.id IN (t.maker_order_id, t.taker_order_id)
         GROUP BY o.id HAVING o.filled_quantity <> coalesce(sum(t.quantity), 0)
            OR o.filled_quote <> coalesce(sum(t.quote_amount), 0)
        """
    )


async def settled(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any], user_id: UUID, response: httpx.Response
) -> dict[str, Any]:
    """The order of a POST or DELETE response once the engine has processed everything: the API waits
    up to a second for the engine, which a loaded test machine may exceed."""
    assert response.status_code in (200, 201), response.text
    await wait_idle(conn)
    current = await client.get(f"/api/v1/orders/{response.json()['id']}", headers=as_user(user_id))
    assert current.status_code == 200, current.text
    order: dict[str, Any] = current.json()
    return order


async def book_matches_database(conn: asyncpg.Connection[Any], engine_orders: list[Any], symbol: str) -> None:
    """The engine's open orders are exactly the open orders in the database, in time priority."""
    rows = await conn.fetch(
        """
        SELECT id, account_no, side, price_ticks, qty_lots - filled_lots AS remaining, filled_lots,
               filled_units
          FROM orders WHERE symbol = $1 AND status IN ('open', 'partially_filled') ORDER BY seq
        """,
        symbol,
    )
    expected = [tuple(row.values()) for row in rows]
    actual = [
        (
            o.order_id,
            o.account_id,
            o.side.value,
            o.price_ticks,
            o.remaining_lots,
            o.filled_lots,
            o.filled_quote,
        )
        for o in engine_orders
    ]
    assert actual == expected


def random_order(rng: random.Random, symbol: str) -> dict[str, Any]:
    """A random order around a price of 100 (BTC-USDT grid: tick 0.01, lot 0.00001)."""
    side = rng.choice(("buy", "sell"))
    kind = rng.random()
    quantity = f"{rng.randint(1, 200) / 1000:.3f}"
    if kind < 0.15:
        if side == "buy":
            return {"symbol": symbol, "side": side, "type": "market", "quote_budget": f"{rng.randint(1, 20)}"}
        return {"symbol": symbol, "side": side, "type": "market", "quantity": quantity}
    price = f"{100 + rng.randint(-300, 300) / 100:.2f}"
    tif = rng.choices(("GTC", "IOC", "FOK"), weights=(8, 1, 1))[0]
    order = {
        "symbol": symbol,
        "side": side,
        "type": "limit",
        "price": price,
        "quantity": quantity,
        "time_in_force": tif,
    }
    if tif == "GTC" and rng.random() < 0.1:
        order["post_only"] = True
    return order


async def replay_matches_trades(conn: asyncpg.Connection[Any], symbol: str) -> int:
    """Replaying the symbol's numbered command log through a fresh engine gives exactly the trades the
    database recorded (determinism: the log is the truth). Returns the number of trades."""
    commands = await conn.fetch(
        "SELECT payload FROM engine_commands WHERE symbol = $1 AND seq IS NOT NULL ORDER BY seq", symbol
    )
    engine = MatchingEngine(symbol)
    replayed = [
        (e.trade_id, e.price_ticks, e.qty_lots, e.maker_order_id, e.taker_order_id)
        for e in engine.run(command_from_dict(json.loads(row["payload"])) for row in commands)
        if isinstance(e, TradeExecuted)
    ]
    rows = await conn.fetch(
        """
        SELECT t.trade_id, m.price_ticks, t.quantity, t.maker_order_id, t.taker_order_id, i.lot_size
          FROM trades t JOIN orders m ON m.id = t.maker_order_id JOIN instruments i ON i.symbol = t.symbol
         WHERE t.symbol = $1 ORDER BY t.trade_id
        """,
        symbol,
    )
    recorded = [
        (
            r["trade_id"],
            r["price_ticks"],
            int(r["quantity"] / r["lot_size"]),
            r["maker_order_id"],
            r["taker_order_id"],
        )
        for r in rows
    ]
    assert replayed == recorded
    return len(recorded)
