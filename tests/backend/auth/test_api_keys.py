"""API keys: scoped, shown once, stored hashed, revocable, last use recorded, optional IP allowlist."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import httpx
import pyotp
import pytest
from auth_support import bearer, client_from, login, make_account
from fastapi import APIRouter, Depends, FastAPI
from tests_support import assert_problem

from server_fastapi.core.principal import Principal
from server_fastapi.core.security import require_scope
from server_fastapi.core.settings import Settings

probe = APIRouter(prefix="/api/v1/test-probe", tags=["test"])


@probe.post("/trade")
async def trade_probe(principal: Annotated[Principal, Depends(require_scope("trade"))]) -> dict[str, str]:
    return {"by": principal.auth_method}


@pytest.fixture
async def probed_app(app: FastAPI) -> FastAPI:
    """The app plus a route that needs the `trade` scope, as order placement does."""
    app.include_router(probe)
    return app


async def session_token(client: httpx.AsyncClient, settings: Settings) -> str:
    account = await make_account(settings)
    token: str = (await login(client, account))["access_token"]
    client.cookies.clear()
    return token


async def create_key(client: httpx.AsyncClient, token: str, **body: object) -> dict[str, object]:
    response = await client.post("/api/v1/api-keys", json={"name": "bot", **body}, headers=bearer(token))
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created: dict[str, object] = response.json()
    return created


async def test_a_read_key_cannot_place_an_order_but_a_trade_key_can(
    probed_app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await session_token(client, settings)
    read_key = await create_key(client, token, scopes=["read"])
    trade_key = await create_key(client, token, scopes=["read", "trade"])

    refused = await client.post("/api/v1/test-probe/trade", headers={"X-API-Key": str(read_key["key"])})
    assert_problem(refused, 403, "insufficient-scope")
    assert refused.json()["required_scope"] == "trade"
    allowed = await client.post("/api/v1/test-probe/trade", headers={"X-API-Key": str(trade_key["key"])})
    assert allowed.status_code == 200
    assert allowed.json() == {"by": "api_key"}
    assert (await client.post("/api/v1/test-probe/trade", headers=bearer(token))).json() == {"by": "bearer"}


async def test_the_real_order_route_refuses_a_read_key(client: httpx.AsyncClient, settings: Settings) -> None:
    token = await session_token(client, settings)
    read_key = await create_key(client, token, scopes=["read"])
    order = {"symbol": "BTC-USDT", "side": "buy", "type": "limit", "quantity": "0.01", "price": "100",
             "time_in_force": "GTC"}  # fmt: skip
    response = await client.post("/api/v1/orders", json=order, headers={"X-API-Key": str(read_key["key"])})
    if response.status_code == 404 and "Nothing is at" in response.json()["detail"]:
        pytest.skip("no order route in this build")
    assert_problem(response, 403, "insufficient-scope")


async def test_keys_are_shown_once_stored_hashed_listed_and_revocable(
    client: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    token = await session_token(client, settings)
    created = await create_key(client, token, scopes=["trade", "read", "read"])
    raw = str(created["key"])
    assert raw.startswith("tsk_")
    assert created["scopes"] == ["read", "trade"]
    assert raw.startswith(str(created["prefix"]))

    me = await client.get("/api/v1/me", headers={"X-API-Key": raw})
    assert me.status_code == 200
    assert me.json()["auth_method"] == "api_key"
    assert me.json()["scopes"] == ["read", "trade"]

    listed = await client.get("/api/v1/api-keys", headers=bearer(token))
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert "key" not in item
    assert raw not in listed.text
    assert item["last_used_at"] is not None

    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT secret_hash, prefix FROM api_keys")
        actions = [r["action"] for r in await conn.fetch("SELECT action FROM audit_log ORDER BY id")]
    finally:
        await conn.close()
    assert row is not None
    assert raw.encode() not in row["secret_hash"]
    assert len(row["secret_hash"]) == 32

    revoked = await client.delete(f"/api/v1/api-keys/{item['id']}", headers=bearer(token))
    assert revoked.status_code == 204
    assert_problem(await client.get("/api/v1/me", headers={"X-API-Key": raw}), 401, "invalid-token")
    assert_problem(await client.delete(f"/api/v1/api-keys/{item['id']}", headers=bearer(token)), 404)
    conn = await asyncpg.connect(database_url)
    try:
        actions = [r["action"] for r in await conn.fetch("SELECT action FROM audit_log ORDER BY id")]
    finally:
        await conn.close()
    assert "auth.api_key.created" in actions
    assert "auth.api_key.revoked" in actions


async def test_withdrawal_scope_can_never_be_granted(client: httpx.AsyncClient, settings: Settings) -> None:
    token = await session_token(client, settings)
    for scopes in (["withdraw"], ["read", "withdraw"], []):
        response = await client.post(
            "/api/v1/api-keys", json={"name": "bot", "scopes": scopes}, headers=bearer(token)
        )
        assert_problem(response, 422, "validation")


async def test_an_api_key_cannot_manage_api_keys(client: httpx.AsyncClient, settings: Settings) -> None:
    token = await session_token(client, settings)
    key = str((await create_key(client, token, scopes=["read", "trade"]))["key"])
    for method, path in (("GET", "/api/v1/api-keys"), ("POST", "/api/v1/api-keys")):
        response = await client.request(
            method, path, json={"name": "child", "scopes": ["read"]}, headers={"X-API-Key": key}
        )
        assert_problem(response, 403, "session-required")


async def test_ip_allowlist(app: FastAPI, settings: Settings) -> None:
    async with client_from(app, "203.0.113.9") as inside, client_from(app, "198.51.100.20") as outside:
        token = await session_token(inside, settings)
        key = str((await create_key(inside, token, scopes=["read"], ip_allowlist=["203.0.113.0/24"]))["key"])
        assert (await inside.get("/api/v1/me", headers={"X-API-Key": key})).status_code == 200
        assert_problem(await outside.get("/api/v1/me", headers={"X-API-Key": key}), 403, "api-key-address")


async def test_creating_a_key_needs_the_second_factor_once_enabled(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await session_token(client, settings)
    enrolment = (await client.post("/api/v1/auth/2fa/enroll", headers=bearer(token))).json()
    totp = pyotp.TOTP(enrolment["secret"])
    await client.post("/api/v1/auth/2fa/verify", json={"code": totp.now()}, headers=bearer(token))
    missing = await client.post(
        "/api/v1/api-keys", json={"name": "bot", "scopes": ["read"]}, headers=bearer(token)
    )
    assert_problem(missing, 403, "totp-required")
    import time

    await create_key(client, token, scopes=["read"], totp=totp.at(time.time() + 30))


async def test_unknown_and_malformed_keys_are_401(client: httpx.AsyncClient) -> None:
    for key in ("tsk_" + "x" * 43, "nonsense", "tsk_" + "y" * 500):
        assert_problem(await client.get("/api/v1/me", headers={"X-API-Key": key}), 401, "invalid-token")
