"""Orders from a threshold (per quote asset) get an audit entry in the order-acceptance transaction; smaller
ones, and orders in a quote asset without a threshold, get none; the chain still verifies."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from compliance_support import FAST_ARGON2, Trader, make_account
from fastapi import FastAPI
from tests_support import make_settings

from server_fastapi.compliance.service import audit_large_order, verify_audit_chain
from server_fastapi.core.db import Connection, connect
from server_fastapi.core.settings import Settings


@pytest.fixture
def settings(database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("COMPLIANCE_LARGE_ORDER_THRESHOLDS", '{"USDT": "100000", "btc": "2"}')
    return make_settings(database_url, redis_url, **FAST_ARGON2)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[Connection]:
    """A connection as the app's pool makes them (JSON codecs included)."""
    connection = await connect(database_url)
    yield connection
    await connection.close()


async def test_only_orders_from_the_threshold_are_audited_and_the_chain_holds(
    settings: Settings, conn: Connection
) -> None:
    assert settings.large_order_thresholds == {"USDT": Decimal(100_000), "BTC": Decimal(2)}
    user = uuid.uuid4()

    async def accept(order_id: int, quote_asset: str, notional: str | None) -> int | None:
        async with conn.transaction():
            return await audit_large_order(
                conn,
                settings,
                user_id=user,
                order_id=order_id,
                symbol=f"ETH-{quote_asset}",
                quote_asset=quote_asset,
                side="buy",
                order_type="limit",
                notional=Decimal(notional) if notional is not None else None,
            )

    assert await accept(1, "USDT", "99999.99999999") is None
    above = await accept(2, "USDT", "100000")
    assert above is not None
    assert await accept(3, "BTC", "1.99") is None
    assert await accept(4, "BTC", "2.5") is not None
    assert await accept(5, "EUR", "1000000000") is None  # no threshold for EUR
    assert await accept(6, "USDT", None) is None  # a market sell before the first trade: notional unknown

    # An order that is rolled back takes its entry with it.
    async def failing_order() -> None:
        async with conn.transaction():
            await audit_large_order(
                conn,
                settings,
                user_id=user,
                order_id=7,
                symbol="BTC-USDT",
                quote_asset="USDT",
                side="sell",
                order_type="limit",
                notional=Decimal(500_000),
            )
            raise RuntimeError("the order failed after the entry was written")

    with pytest.raises(RuntimeError):
        await failing_order()

    entries = await conn.fetch(
        "SELECT id, actor_id, subject, details::text AS details FROM audit_log "
        "WHERE action = 'compliance.order.large' ORDER BY id"
    )
    assert [entry["subject"] for entry in entries] == ["order:2", "order:4"]
    assert entries[0]["id"] == above
    assert entries[0]["actor_id"] == user
    assert json.loads(entries[0]["details"]) == {
        "symbol": "ETH-USDT",
        "side": "buy",
        "type": "limit",
        "notional": "100000",
        "quote_asset": "USDT",
        "threshold": "100000",
    }
    verification = await verify_audit_chain(conn)
    assert verification.intact
    assert verification.entries >= 2


def test_thresholds_must_be_positive(database_url: str, redis_url: str) -> None:
    with pytest.raises(ValueError, match="positive"):
        make_settings(database_url, redis_url, large_order_thresholds={"USDT": "0"})


async def test_the_order_path_audits_large_orders_in_its_transaction(
    app: FastAPI, settings: Settings, conn: Connection
) -> None:
    trader = await Trader(app, await make_account(settings), "198.51.100.20").start(USDT="300000")
    small = await trader.order("buy", quantity="1.6", price="60000")  # 96,000 USDT
    large = await trader.order("buy", quantity="2", price="50000")  # 100,000 USDT: the threshold
    entries = await conn.fetch(
        "SELECT actor_id, subject, details::text AS details FROM audit_log "
        "WHERE action = 'compliance.order.large' ORDER BY id"
    )
    assert [entry["subject"] for entry in entries] == [f"order:{large}"]
    assert small != large
    assert entries[0]["actor_id"] == trader.account.id
    assert json.loads(entries[0]["details"])["notional"] == "100000"
    assert (await verify_audit_chain(conn)).intact
