"""Market-abuse alerts: the bus subscriber feeds the sentinel and stores each alert once, and compliance
officers list, read, acknowledge and resolve them (audited); traders cannot."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg
import pytest
from compliance_support import FAST_ARGON2, client_for, make_account, sign_in
from fastapi import FastAPI
from tests_support import assert_problem, make_settings

from server_fastapi.compliance.events import AlertRaised, alerts_channel, observations_channel
from server_fastapi.compliance.sentinel import AlertKind, ObservedTrade, Sentinel
from server_fastapi.compliance.service import SentinelSubscriber, account_number, has_open_alert, store_alert
from server_fastapi.core.bus import Delivery, Gap
from server_fastapi.core.db import connect
from server_fastapi.core.principal import Role
from server_fastapi.core.settings import Settings
from server_fastapi.trading.engine import Side
from server_fastapi.trading.events import FillCreated, fills_channel
from server_fastapi.trading.schemas import Fill

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url, **FAST_ARGON2)


def self_trade(user: UUID, *, trade_id: int, seconds: float, symbol: str = "BTC-USDT") -> ObservedTrade:
    account = account_number(user)
    return ObservedTrade(
        time=T0 + timedelta(seconds=seconds),
        symbol=symbol,
        trade_id=trade_id,
        price=Decimal(100),
        quantity=Decimal(1),
        taker_side=Side.BUY,
        buyer_account_id=account,
        seller_account_id=account,
        buyer_owner_id=str(user),
        seller_owner_id=str(user),
    )


async def wait_for_alerts(database_url: str, count: int) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(100):
            rows = await conn.fetch(
                "SELECT id, kind, symbol, accounts, status FROM compliance_alerts ORDER BY id"
            )
            if len(rows) >= count:
                return rows
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} alerts, found {len(rows)}")
    finally:
        await conn.close()


async def test_the_subscriber_stores_and_publishes_each_alert_once(app: FastAPI, database_url: str) -> None:
    bus = app.state.tessera.bus
    published: list[AlertRaised] = []

    def collect(delivery: Delivery[AlertRaised]) -> None:
        if not isinstance(delivery, Gap):
            published.append(delivery.event)

    alerts_channel(bus).subscribe_handler("test", collect)
    user = uuid.uuid4()
    observations = observations_channel(bus)
    await observations.publish(self_trade(user, trade_id=1, seconds=0))
    (row,) = await wait_for_alerts(database_url, 1)
    assert row["kind"] == "wash_trade"
    assert row["accounts"] == [user]
    assert row["status"] == "open"
    for _ in range(50):
        if published:
            break
        await asyncio.sleep(0.02)
    assert [event.id for event in published] == [row["id"]]
    assert published[0].alert.kind is AlertKind.WASH_TRADE

    # A replay of the same observation (a restart) stores nothing new.
    replayed = Sentinel().process_batch([self_trade(user, trade_id=1, seconds=0)])
    conn = await connect(database_url)
    try:
        assert await store_alert(conn, replayed[0], [user]) is None
        assert await conn.fetchval("SELECT count(*) FROM compliance_alerts") == 1
        raised = await conn.fetch(
            "SELECT subject, details FROM audit_log WHERE action = 'compliance.alert.raised'"
        )
    finally:
        await conn.close()
    assert [entry["subject"] for entry in raised] == [f"alert:{row['id']}"]
    assert raised[0]["details"]["accounts"] == [str(user)]


async def test_the_two_fills_of_a_trade_become_one_observed_trade(app: FastAPI, database_url: str) -> None:
    """Trading publishes a trade as two fills (maker, then taker); the subscriber pairs them."""
    user = uuid.uuid4()
    fills = fills_channel(app.state.tessera.bus)
    for side, liquidity, order_id in (("sell", "maker", 10), ("buy", "taker", 11)):
        fill = Fill(
            trade_id=77,
            symbol="ETH-USDT",
            order_id=order_id,
            side=side,  # type: ignore[arg-type]
            price=Decimal("2500"),
            quantity=Decimal("0.5"),
            quote_amount=Decimal("1250"),
            fee=Decimal(0),
            fee_asset="USDT",
            liquidity=liquidity,  # type: ignore[arg-type]
            time=T0,
        )
        await fills.publish(FillCreated(user_id=user, fill=fill))
    (row,) = await wait_for_alerts(database_url, 1)
    assert (row["kind"], row["symbol"], row["accounts"]) == ("wash_trade", "ETH-USDT", [user])
    subscriber: SentinelSubscriber = app.state.sentinel
    # The row is visible once its transaction commits; the counter moves after the connection returns to
    # the pool, a moment later.
    for _ in range(100):
        if subscriber.stored:
            break
        await asyncio.sleep(0.02)
    assert subscriber.stored == 1


async def _seed_alerts(database_url: str, users: list[UUID]) -> list[int]:
    sentinel = Sentinel()
    ids = []
    conn = await connect(database_url)
    try:
        for index, user in enumerate(users):
            symbol = "BTC-USDT" if index % 2 == 0 else "ETH-USDT"
            (alert,) = sentinel.process_batch(
                [self_trade(user, trade_id=100 + index, seconds=index, symbol=symbol)]
            )
            alert_id = await store_alert(conn, alert, [user])
            assert alert_id is not None
            ids.append(alert_id)
    finally:
        await conn.close()
    return ids


async def test_officers_review_alerts_and_traders_cannot(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    officer = await make_account(settings, role=Role.COMPLIANCE)
    trader = await make_account(settings)
    users = [trader.id, uuid.uuid4(), uuid.uuid4()]
    ids = await _seed_alerts(database_url, users)

    async with client_for(app) as client:
        assert_problem(await client.get("/api/v1/compliance/alerts"), 401)
        trader_headers = await sign_in(client, trader.email)
        for method, path, body in (
            ("GET", "/api/v1/compliance/alerts", None),
            ("GET", f"/api/v1/compliance/alerts/{ids[0]}", None),
            ("POST", f"/api/v1/compliance/alerts/{ids[0]}/acknowledge", None),
            ("POST", f"/api/v1/compliance/alerts/{ids[0]}/resolve", {"comment": "mine"}),
        ):
            assert_problem(await client.request(method, path, json=body, headers=trader_headers), 403)

        headers = await sign_in(client, officer.email)
        first = (await client.get("/api/v1/compliance/alerts", params={"limit": 2}, headers=headers)).json()
        assert [item["id"] for item in first["items"]] == [ids[2], ids[1]]
        assert "evidence" not in first["items"][0]
        rest = await client.get(
            "/api/v1/compliance/alerts", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        )
        assert [item["id"] for item in rest.json()["items"]] == [ids[0]]
        assert rest.json()["next_cursor"] is None
        by_symbol = await client.get(
            "/api/v1/compliance/alerts", params={"symbol": "ETH-USDT"}, headers=headers
        )
        assert [item["id"] for item in by_symbol.json()["items"]] == [ids[1]]
        by_kind = await client.get("/api/v1/compliance/alerts", params={"kind": "layering"}, headers=headers)
        assert by_kind.json()["items"] == []
        assert_problem(
            await client.get("/api/v1/compliance/alerts", params={"cursor": "garbage"}, headers=headers), 422
        )
        assert_problem(
            await client.get("/api/v1/compliance/alerts", params={"status": "bogus"}, headers=headers), 422
        )

        detail = (await client.get(f"/api/v1/compliance/alerts/{ids[0]}", headers=headers)).json()
        assert detail["evidence"]["kind"] == "wash_trade"
        assert detail["evidence"]["trade_ids"] == [100]
        assert detail["accounts"] == [str(trader.id)]
        assert_problem(await client.get("/api/v1/compliance/alerts/999999", headers=headers), 404)

        assert await _open_alert(database_url, trader.id)
        acknowledged = await client.post(f"/api/v1/compliance/alerts/{ids[0]}/acknowledge", headers=headers)
        assert acknowledged.status_code == 200, acknowledged.text
        assert acknowledged.json()["status"] == "acknowledged"
        assert acknowledged.json()["acknowledged_by"] == str(officer.id)
        assert await _open_alert(database_url, trader.id)  # still under review

        assert_problem(
            await client.post(
                f"/api/v1/compliance/alerts/{ids[0]}/resolve", json={"comment": ""}, headers=headers
            ),
            422,
        )
        resolved = await client.post(
            f"/api/v1/compliance/alerts/{ids[0]}/resolve",
            json={"comment": "Market-making test account; no abuse."},
            headers=headers,
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["status"] == "resolved"
        assert resolved.json()["resolution_comment"] == "Market-making test account; no abuse."
        assert not await _open_alert(database_url, trader.id)
        again = await client.post(
            f"/api/v1/compliance/alerts/{ids[0]}/resolve", json={"comment": "x"}, headers=headers
        )
        assert_problem(again, 409, "alert-resolved")
        assert_problem(
            await client.post(f"/api/v1/compliance/alerts/{ids[0]}/acknowledge", headers=headers), 409
        )

        open_only = await client.get("/api/v1/compliance/alerts", params={"status": "open"}, headers=headers)
        assert [item["id"] for item in open_only.json()["items"]] == [ids[2], ids[1]]

    conn = await asyncpg.connect(database_url)
    try:
        actions = await conn.fetch(
            """
            SELECT action, actor_id, subject FROM audit_log
             WHERE action LIKE 'compliance.alert.%' ORDER BY id
            """
        )
    finally:
        await conn.close()
    reviewed = [(row["action"], row["actor_id"], row["subject"]) for row in actions[3:]]
    assert reviewed == [
        ("compliance.alert.acknowledged", officer.id, f"alert:{ids[0]}"),
        ("compliance.alert.resolved", officer.id, f"alert:{ids[0]}"),
    ]


async def _open_alert(database_url: str, user: UUID) -> bool:
    conn = await connect(database_url)
    try:
        return await has_open_alert(conn, user)
    finally:
        await conn.close()
