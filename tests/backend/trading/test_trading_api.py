"""Order entry through the HTTP API against the real database and the engine runner."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from trading_support import as_user, balances, check_invariants, fund, make_user, settled, wait_idle

pytestmark = pytest.mark.usefixtures("api")


def limit(side: str, price: str, quantity: str, **extra: Any) -> dict[str, Any]:
    return {
        "symbol": "BTC-USDT",
        "side": side,
        "type": "limit",
        "price": price,
        "quantity": quantity,
        **extra,
    }


async def test_a_crossing_order_trades_books_fees_and_releases_holds_exactly(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    seller, buyer = await make_user(conn), await make_user(conn)
    await fund(client, seller, "BTC", "1")
    await fund(client, buyer, "USDT", "100000")

    ask = await client.post("/api/v1/orders", json=limit("sell", "60000", "0.5"), headers=as_user(seller))
    assert (await settled(client, conn, seller, ask))["status"] == "open"
    assert await balances(client, seller) == {"BTC": (Decimal("0.5"), Decimal("0.5"))}

    # The buyer bids higher than the ask: trades at the maker's price, the price improvement is released.
    bid = await client.post("/api/v1/orders", json=limit("buy", "61000", "0.2"), headers=as_user(buyer))
    order = await settled(client, conn, buyer, bid)
    assert order["status"] == "filled"
    assert order["filled_quantity"] == "0.2"
    assert order["average_price"] == "60000"

    quote = Decimal("60000") * Decimal("0.2")  # 12000
    taker_fee = Decimal("0.2") * Decimal("0.001")  # buyer pays in base
    maker_fee = quote * Decimal("0.0008")  # seller pays in quote
    assert await balances(client, buyer) == {
        "BTC": (Decimal("0.2") - taker_fee, Decimal(0)),
        "USDT": (Decimal("100000") - quote, Decimal(0)),
    }
    assert await balances(client, seller) == {
        "BTC": (Decimal("0.5"), Decimal("0.3")),
        "USDT": (quote - maker_fee, Decimal(0)),
    }
    fees = dict(await conn.fetch("SELECT asset, available FROM ledger_accounts WHERE kind = 'fees'"))
    assert fees == {"BTC": taker_fee, "USDT": maker_fee}

    fills = (await client.get("/api/v1/fills", headers=as_user(seller))).json()["items"]
    assert [(f["side"], f["liquidity"], f["price"], f["quantity"], f["fee"]) for f in fills] == [
        ("sell", "maker", "60000", "0.2", f"{maker_fee.normalize():f}")
    ]
    book = (await client.get("/api/v1/markets/BTC-USDT/book")).json()
    assert book["asks"] == [{"price": "60000", "quantity": "0.3"}]
    assert book["bids"] == []
    assert book["seq"] >= 2

    # Cancel the rest of the ask: the remaining base is released exactly.
    canceled = await client.delete(f"/api/v1/orders/{ask.json()['id']}", headers=as_user(seller))
    order = await settled(client, conn, seller, canceled)
    assert (order["status"], order["cancel_reason"]) == ("canceled", "user")
    assert await balances(client, seller) == {
        "BTC": (Decimal("0.8"), Decimal(0)),
        "USDT": (quote - maker_fee, Decimal(0)),
    }
    again = await client.delete(f"/api/v1/orders/{ask.json()['id']}", headers=as_user(seller))
    assert again.status_code == 409
    await wait_idle(conn)
    await check_invariants(conn)


async def test_market_buy_spends_at_most_its_budget_and_gets_the_rest_back(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    seller, buyer = await make_user(conn), await make_user(conn)
    await fund(client, seller, "BTC", "2")
    await fund(client, buyer, "USDT", "1000")
    for price in ("100", "110"):
        response = await client.post(
            "/api/v1/orders",
            json=limit("sell", price, "1" if price == "110" else "0.5"),
            headers=as_user(seller),
        )
        assert response.status_code == 201, response.text
    market = await client.post(
        "/api/v1/orders",
        json={
            "symbol": "BTC-USDT",
            "side": "buy",
            "type": "market",
            "quote_budget": "100",
            "time_in_force": "IOC",
        },
        headers=as_user(buyer),
    )
    body = await settled(client, conn, buyer, market)
    # 0.5 at 100 = 50, then 50 / 110 = 0.45454 lots of 0.00001 → 0.45454 BTC for 49.9994
    assert body["status"] == "canceled"
    assert body["filled_quantity"] == "0.95454"
    spent = Decimal("50") + Decimal("0.45454") * 110
    assert Decimal(body["filled_quote"]) == spent
    usdt = (await balances(client, buyer))["USDT"]
    assert usdt == (Decimal("1000") - spent, Decimal(0))
    await wait_idle(conn)
    await check_invariants(conn)


async def test_time_in_force_and_post_only(client: httpx.AsyncClient, conn: asyncpg.Connection[Any]) -> None:
    maker, taker = await make_user(conn), await make_user(conn)
    await fund(client, maker, "BTC", "1")
    await fund(client, taker, "USDT", "10000")
    await client.post("/api/v1/orders", json=limit("sell", "100", "0.1"), headers=as_user(maker))

    fok = await client.post(
        "/api/v1/orders", json=limit("buy", "100", "0.2", time_in_force="FOK"), headers=as_user(taker)
    )
    fok_order = await settled(client, conn, taker, fok)
    assert tuple(
        fok_order[key]
        for key in (
            "status",
            "cancel_reason",
            "filled_quantity",
        )
    ) == ("canceled", "fok", "0")
    ioc = await client.post(
        "/api/v1/orders", json=limit("buy", "100", "0.3", time_in_force="IOC"), headers=as_user(taker)
    )
    ioc_order = await settled(client, conn, taker, ioc)
    assert tuple(
        ioc_order[key]
        for key in (
            "status",
            "cancel_reason",
            "filled_quantity",
        )
    ) == ("canceled", "ioc", "0.1")
    await client.post("/api/v1/orders", json=limit("sell", "101", "0.1"), headers=as_user(maker))
    post_only = await client.post(
        "/api/v1/orders", json=limit("buy", "101", "0.1", post_only=True), headers=as_user(taker)
    )
    post_only_order = await settled(client, conn, taker, post_only)
    assert tuple(
        post_only_order[key]
        for key in (
            "status",
            "reject_reason",
        )
    ) == ("rejected", "post_only_would_take")
    assert await balances(client, taker) == {
        "BTC": (Decimal("0.1") - Decimal("0.0001"), Decimal(0)),
        "USDT": (Decimal("10000") - Decimal("10"), Decimal(0)),
    }
    await wait_idle(conn)
    await check_invariants(conn)


async def test_self_trade_prevention_and_cancel_all(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    trader = await make_user(conn)
    await fund(client, trader, "BTC", "1")
    await fund(client, trader, "USDT", "1000")
    resting = await client.post("/api/v1/orders", json=limit("sell", "100", "0.1"), headers=as_user(trader))
    incoming = await client.post(
        "/api/v1/orders", json=limit("buy", "100", "0.1", stp="cancel_incoming"), headers=as_user(trader)
    )
    incoming_order = await settled(client, conn, trader, incoming)
    assert tuple(
        incoming_order[key]
        for key in (
            "status",
            "cancel_reason",
        )
    ) == ("canceled", "stp")
    other = await client.post("/api/v1/orders", json=limit("buy", "90", "0.1"), headers=as_user(trader))
    assert (await settled(client, conn, trader, other))["status"] == "open"
    canceled = await client.delete("/api/v1/orders", params={"symbol": "BTC-USDT"}, headers=as_user(trader))
    assert canceled.status_code == 200, canceled.text
    assert sorted(o["id"] for o in canceled.json()["items"]) == sorted(
        [resting.json()["id"], other.json()["id"]]
    )
    assert {o["status"] for o in canceled.json()["items"]} == {"canceled"}
    assert await balances(client, trader) == {
        "BTC": (Decimal(1), Decimal(0)),
        "USDT": (Decimal(1000), Decimal(0)),
    }
    listed = await client.get("/api/v1/orders", params={"limit": 2}, headers=as_user(trader))
    page = listed.json()
    assert len(page["items"]) == 2
    assert page["next_cursor"] is not None
    rest = await client.get("/api/v1/orders", params={"cursor": page["next_cursor"]}, headers=as_user(trader))
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None
    await check_invariants(conn)


async def test_idempotency_key_makes_a_retry_return_the_first_order(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    trader = await make_user(conn)
    await fund(client, trader, "USDT", "1000")
    headers = {**as_user(trader), "Idempotency-Key": "k-1"}
    first = await client.post("/api/v1/orders", json=limit("buy", "100", "1"), headers=headers)
    second = await client.post("/api/v1/orders", json=limit("buy", "100", "1"), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert await conn.fetchval("SELECT count(*) FROM orders") == 1
    assert await balances(client, trader) == {"USDT": (Decimal(900), Decimal(100))}
    reused = await client.post("/api/v1/orders", json=limit("buy", "100", "2"), headers=headers)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert await conn.fetchval("SELECT count(*) FROM orders") == 1


@pytest.mark.parametrize(
    ("body", "status", "pointer", "code"),
    [
        (limit("buy", "100.001", "1"), 422, "/price", "off_grid"),
        (limit("buy", "100", "0.000001"), 422, "/quantity", "off_grid"),
        (limit("buy", "100", "0"), 422, "/quantity", "not_positive"),
        (limit("buy", "100", "-1"), 422, "/quantity", "not_positive"),
        (limit("buy", "1", "0.001"), 422, "/quantity", "below_min_notional"),
        ({**limit("buy", "100", "1"), "symbol": "DOGE-USDT"}, 404, None, None),
        (limit("buy", "100", "100"), 409, None, None),  # insufficient funds
        (
            {"symbol": "BTC-USDT", "side": "buy", "type": "market", "quantity": "1"},
            422,
            "/quote_budget",
            "missing",
        ),
    ],
)
async def test_bad_orders_are_problems_that_change_no_balance(
    client: httpx.AsyncClient,
    conn: asyncpg.Connection[Any],
    body: dict[str, Any],
    status: int,
    pointer: str | None,
    code: str | None,
) -> None:
    trader = await make_user(conn)
    await fund(client, trader, "USDT", "1000")
    response = await client.post("/api/v1/orders", json=body, headers=as_user(trader))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if pointer is not None:
        assert [(e["pointer"], e["code"]) for e in response.json()["errors"]] == [(pointer, code)]
    assert await balances(client, trader) == {"USDT": (Decimal(1000), Decimal(0))}
    assert await conn.fetchval("SELECT count(*) FROM orders") == 0


@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/fills", "/api/v1/withdrawals"])
@pytest.mark.parametrize("cursor", ["garbage", "12abc", "BTC-USDT:"])
async def test_a_cursor_no_list_gave_out_is_a_problem_at_its_parameter(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any], path: str, cursor: str
) -> None:
    response = await client.get(path, params={"cursor": cursor}, headers=as_user(await make_user(conn)))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [(e["location"], e["pointer"], e["code"]) for e in response.json()["errors"]] == [
        ("query", "/cursor", "invalid_cursor")
    ]


async def test_kill_switch_halts_a_market_and_is_audited(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    admin, trader = await make_user(conn, "admin"), await make_user(conn)
    await fund(client, trader, "USDT", "1000")
    refused = await client.post(
        "/api/v1/admin/trading/halts", json={"symbol": "BTC-USDT", "halted": True}, headers=as_user(trader)
    )
    assert refused.status_code == 403
    halt = await client.post(
        "/api/v1/admin/trading/halts",
        json={"symbol": "BTC-USDT", "halted": True, "reason": "drill"},
        headers=as_user(admin, "admin"),
    )
    assert halt.status_code == 200, halt.text
    response = await client.post("/api/v1/orders", json=limit("buy", "100", "1"), headers=as_user(trader))
    assert response.status_code == 409
    assert response.json()["type"].endswith("market-halted")
    assert await balances(client, trader) == {"USDT": (Decimal(1000), Decimal(0))}
    other = await client.post(
        "/api/v1/orders", json={**limit("buy", "100", "1"), "symbol": "ETH-USDT"}, headers=as_user(trader)
    )
    assert other.status_code == 201
    await wait_idle(conn)
    assert await conn.fetchval("SELECT halted FROM engine_cursor WHERE symbol = 'BTC-USDT'") is True
    assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'trading.halt'") == 1
    resume = await client.post(
        "/api/v1/admin/trading/halts",
        json={"symbol": "BTC-USDT", "halted": False},
        headers=as_user(admin, "admin"),
    )
    assert resume.status_code == 200
    again = await client.post("/api/v1/orders", json=limit("buy", "100", "1"), headers=as_user(trader))
    assert (await settled(client, conn, trader, again))["status"] == "open"


async def test_kill_switch_cancels_resting_orders_and_releases_their_holds(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    admin, maker, other = await make_user(conn, "admin"), await make_user(conn), await make_user(conn)
    await fund(client, maker, "USDT", "1000")
    await fund(client, maker, "BTC", "1")
    await fund(client, other, "USDT", "1000")
    bid = await client.post("/api/v1/orders", json=limit("buy", "100", "1"), headers=as_user(maker))
    ask = await client.post("/api/v1/orders", json=limit("sell", "200", "0.5"), headers=as_user(maker))
    eth = await client.post(
        "/api/v1/orders", json={**limit("buy", "50", "2"), "symbol": "ETH-USDT"}, headers=as_user(other)
    )
    for response, user in ((bid, maker), (ask, maker), (eth, other)):
        assert (await settled(client, conn, user, response))["status"] == "open"

    halt = await client.post(
        "/api/v1/admin/trading/halts",
        json={"symbol": "BTC-USDT", "halted": True},
        headers=as_user(admin, "admin"),
    )
    assert halt.status_code == 200, halt.text
    for response in (bid, ask):
        order = await settled(client, conn, maker, response)
        assert (order["status"], order["cancel_reason"]) == ("canceled", "admin")
    assert await balances(client, maker) == {
        "USDT": (Decimal(1000), Decimal(0)),
        "BTC": (Decimal(1), Decimal(0)),
    }
    book = (await client.get("/api/v1/markets/BTC-USDT/book")).json()
    assert (book["bids"], book["asks"]) == ([], [])
    # The other markets keep trading and keep their books.
    assert (await settled(client, conn, other, eth))["status"] == "open"

    halt_all = await client.post(
        "/api/v1/admin/trading/halts", json={"symbol": None, "halted": True}, headers=as_user(admin, "admin")
    )
    assert halt_all.status_code == 200, halt_all.text
    order = await settled(client, conn, other, eth)
    assert (order["status"], order["cancel_reason"]) == ("canceled", "admin")
    assert await balances(client, other) == {"USDT": (Decimal(1000), Decimal(0))}
    refused = await client.post(
        "/api/v1/orders", json={**limit("buy", "50", "2"), "symbol": "ETH-USDT"}, headers=as_user(other)
    )
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("market-halted")
    assert set(await conn.fetchval("SELECT array_agg(DISTINCT halted) FROM engine_cursor")) == {True}
    await check_invariants(conn)


async def test_a_market_listed_while_running_trades_without_a_restart(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any], api: Any
) -> None:
    admin, seller, buyer = await make_user(conn, "admin"), await make_user(conn), await make_user(conn)
    listed = await client.post(
        "/api/v1/admin/instruments",
        json={
            "base_asset": "SOL",
            "quote_asset": "BTC",
            "tick_size": "0.000001",
            "lot_size": "0.01",
            "min_notional": "0.0001",
            "price_band_pct": "10",
            "maker_fee_rate": "0",
            "taker_fee_rate": "0.001",
        },
        headers=as_user(admin, "admin"),
    )
    assert listed.status_code == 201, listed.text
    assert "SOL-BTC" not in api.state.trading.runners
    await fund(client, seller, "SOL", "10")
    await fund(client, buyer, "BTC", "1")
    sol = {"symbol": "SOL-BTC", "type": "limit", "price": "0.002", "quantity": "5"}
    ask = await client.post("/api/v1/orders", json={**sol, "side": "sell"}, headers=as_user(seller))
    assert (await settled(client, conn, seller, ask))["status"] == "open"
    bid = await client.post("/api/v1/orders", json={**sol, "side": "buy"}, headers=as_user(buyer))
    order = await settled(client, conn, buyer, bid)
    assert (order["status"], order["filled_quantity"]) == ("filled", "5")
    assert await balances(client, buyer) == {
        "BTC": (Decimal("0.99"), Decimal(0)),
        "SOL": (Decimal("4.995"), Decimal(0)),
    }
    assert api.state.trading.runs("SOL-BTC")
    await check_invariants(conn)


async def test_a_large_order_is_audited_in_the_transaction_that_accepts_it(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    trader = await make_user(conn)
    await fund(client, trader, "USDT", "200000")
    small = await client.post("/api/v1/orders", json=limit("buy", "60000", "1"), headers=as_user(trader))
    large = await client.post("/api/v1/orders", json=limit("buy", "60000", "2"), headers=as_user(trader))
    unfunded = await client.post("/api/v1/orders", json=limit("buy", "60000", "3"), headers=as_user(trader))
    assert (small.status_code, large.status_code, unfunded.status_code) == (201, 201, 409)
    audited = await conn.fetch(
        "SELECT subject, details FROM audit_log WHERE action = 'compliance.order.large' ORDER BY id"
    )
    assert [(row["subject"], json.loads(row["details"])["notional"]) for row in audited] == [
        (f"order:{large.json()['id']}", "120000")
    ]
