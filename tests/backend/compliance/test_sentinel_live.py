"""The sentinel in the running app: real sign-ins and real orders through the API, the engine's fills on the
bus, sign-in addresses read through auth, designated market makers, and the sentinel's metrics."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest
from compliance_support import FAST_ARGON2, Trader, client_for, make_account
from fastapi import FastAPI
from tests_support import make_settings

from server_fastapi.compliance.service import SentinelSubscriber, account_number
from server_fastapi.core.settings import Settings

SHARED_IP = "203.0.113.7"


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(
        database_url, redis_url, sentinel_market_maker_emails="maker@mm.example.test", **FAST_ARGON2
    )


async def trader(app: FastAPI, settings: Settings, ip: str, *, email: str | None = None) -> Trader:
    account = await make_account(settings, email=email)
    return await Trader(app, account, ip).start(BTC="1", USDT="200000")


async def trade(seller: Trader, buyer: Trader, subscriber: SentinelSubscriber) -> None:
    """One trade of 0.1 BTC from seller to buyer, then wait until the sentinel has read it."""
    before = subscriber.sentinel.stats().trades
    await seller.order("sell")
    await buyer.order("buy")
    for _ in range(300):
        if subscriber.sentinel.stats().trades > before:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the sentinel never saw the trade")


async def alerts(database_url: str) -> list[asyncpg.Record]:
    """Stored alerts once the subscriber is done with what it has read (alerts are stored after)."""
    await asyncio.sleep(0.2)
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch("SELECT kind, accounts, evidence FROM compliance_alerts ORDER BY id")
    finally:
        await conn.close()


async def test_accounts_signed_in_from_one_address_trading_together_raise_a_wash_trade(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    subscriber: SentinelSubscriber = app.state.sentinel
    # Different owners from different addresses: ordinary trading.
    alice = await trader(app, settings, "198.51.100.1")
    bob = await trader(app, settings, "198.51.100.2")
    await trade(alice, bob, subscriber)
    # Loopback is the venue's own machine (a local proxy, development): it links no one.
    local_one = await trader(app, settings, "127.0.0.1")
    local_two = await trader(app, settings, "127.0.0.1")
    await trade(local_one, local_two, subscriber)
    assert await alerts(database_url) == []

    # Two owners who signed in from one address.
    carol = await trader(app, settings, SHARED_IP)
    dave = await trader(app, settings, SHARED_IP)
    await trade(carol, dave, subscriber)
    (alert,) = await alerts(database_url)
    assert alert["kind"] == "wash_trade"
    assert sorted(alert["accounts"]) == sorted([carol.account.id, dave.account.id])
    evidence: dict[str, Any] = json.loads(alert["evidence"])
    assert evidence["links"] == ["shared_ip"]
    assert evidence["shared_ip"] == SHARED_IP
    assert {link["account_id"] for link in evidence["sign_ins"]} == {
        account_number(carol.account.id),
        account_number(dave.account.id),
    }
    assert all(link["ip"] == SHARED_IP for link in evidence["sign_ins"])


async def test_designated_market_makers_are_exempt_from_round_trips_not_from_wash_trades(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    subscriber: SentinelSubscriber = app.state.sentinel
    maker = await trader(app, settings, "198.51.100.10", email="maker@mm.example.test")
    client = await trader(app, settings, "198.51.100.11")
    # The market maker sells to a client and buys it back: a round trip, but the maker's trade.
    await trade(maker, client, subscriber)
    await trade(client, maker, subscriber)
    assert await alerts(database_url) == []

    # The same pattern between two ordinary traders alerts.
    erin = await trader(app, settings, "198.51.100.12")
    frank = await trader(app, settings, "198.51.100.13")
    await trade(erin, frank, subscriber)
    await trade(frank, erin, subscriber)
    (round_trip,) = await alerts(database_url)
    assert round_trip["kind"] == "round_trip"
    assert sorted(round_trip["accounts"]) == sorted([erin.account.id, frank.account.id])

    # A second account signed in from the market maker's address is still a wash trade.
    sibling = await trader(app, settings, "198.51.100.10")
    await trade(maker, sibling, subscriber)
    kinds = [row["kind"] for row in await alerts(database_url)]
    assert kinds == ["round_trip", "wash_trade"]


async def test_the_sentinel_reports_its_work_as_prometheus_metrics(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    subscriber: SentinelSubscriber = app.state.sentinel
    seller = await trader(app, settings, SHARED_IP)
    buyer = await trader(app, settings, SHARED_IP)
    await trade(seller, buyer, subscriber)
    await alerts(database_url)
    async with client_for(app) as http:
        text = (await http.get("/metrics")).text
    assert "tessera_sentinel_trades_total 1.0" in text
    assert 'tessera_sentinel_observations_total{kind="sign_in"} 2.0' in text
    assert 'tessera_sentinel_alerts_total{kind="wash_trade"} 1.0' in text
    assert 'tessera_sentinel_alerts_total{kind="round_trip"} 0.0' in text
    assert "tessera_sentinel_alerts_stored_total 1.0" in text
    assert "tessera_sentinel_sign_in_lookups_total 1.0" in text  # one question for both new traders
    lag = next(line for line in text.splitlines() if line.startswith("tessera_sentinel_lag_seconds "))
    assert 0 <= float(lag.split()[1]) < 60


async def test_a_trade_whose_sign_ins_cannot_be_read_is_still_observed_and_they_are_read_later(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    """Auth's records unreadable (here a column renamed for a moment, a real error from PostgreSQL): the
    trade still reaches the detectors instead of the dead letters, the failure is counted, and the next
    trade of the same users brings their sign-ins, so the wash trade is caught then."""
    subscriber: SentinelSubscriber = app.state.sentinel
    carol = await trader(app, settings, SHARED_IP)
    dave = await trader(app, settings, SHARED_IP)
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute("ALTER TABLE auth_sessions RENAME COLUMN user_agent TO user_agent_moved")
        try:
            await trade(carol, dave, subscriber)
        finally:
            await admin.execute("ALTER TABLE auth_sessions RENAME COLUMN user_agent_moved TO user_agent")
    finally:
        await admin.close()
    assert subscriber.stats.sign_in_lookup_failures == 1
    assert subscriber.sentinel.stats().trades == 1
    assert await alerts(database_url) == []

    await trade(dave, carol, subscriber)
    kinds = sorted(row["kind"] for row in await alerts(database_url))
    assert "wash_trade" in kinds
    async with client_for(app) as http:
        text = (await http.get("/metrics")).text
    assert "tessera_sentinel_sign_in_lookup_failures_total 1.0" in text
