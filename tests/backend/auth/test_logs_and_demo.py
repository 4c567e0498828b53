"""No password, token, key or code reaches the logs of a full sign-in flow; demo accounts are dev-only."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pyotp
import pytest
from auth_support import PASSWORD, bearer
from tests_support import ROOT, assert_problem, make_settings

from server_fastapi.auth.demo import DEMO_ACCOUNTS, ensure_demo_accounts, render
from server_fastapi.core.db import connect
from server_fastapi.core.logging import JsonFormatter
from server_fastapi.core.settings import Environment, Settings


class _Everything(logging.Handler):
    """Keeps each record both raw (its message with arguments) and as the JSON line we would ship."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.shipped = io.StringIO()
        self.raw: list[str] = []
        self.formatter_ = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.raw.append(record.getMessage())
        self.shipped.write(self.formatter_.format(record) + "\n")


@pytest.fixture
def all_logs() -> Iterator[_Everything]:
    handler = _Everything()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore", "asyncio")}
    root.addHandler(handler)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_a_full_sign_in_flow_logs_no_secret(client: httpx.AsyncClient, all_logs: _Everything) -> None:
    email = "logcheck@example.test"
    secrets: list[str] = [PASSWORD]
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Log"}
    )
    assert registered.status_code == 201
    weak = await client.post(
        "/api/v1/auth/register",
        json={"email": "weak@example.test", "password": "password1234", "display_name": "W"},
    )
    assert weak.status_code == 422
    secrets.append("password1234")
    wrong = await client.post("/api/v1/auth/login", json={"email": email, "password": "Wrong-Password-77"})
    assert wrong.status_code == 401
    secrets.append("Wrong-Password-77")

    tokens = (await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})).json()
    secrets += [tokens["access_token"], tokens["refresh_token"], client.cookies["tessera_csrf"]]
    client.cookies.clear()
    auth = bearer(tokens["access_token"])
    enrolment = (await client.post("/api/v1/auth/2fa/enroll", headers=auth)).json()
    totp = pyotp.TOTP(enrolment["secret"])
    first_code = totp.now()
    codes = (await client.post("/api/v1/auth/2fa/verify", json={"code": first_code}, headers=auth)).json()
    secrets += [enrolment["secret"], first_code, *codes["recovery_codes"]]

    second_code = totp.at(time.time() + 30)
    again = await client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD, "totp": second_code}
    )
    assert again.status_code == 200
    secrets += [second_code, again.json()["access_token"], again.json()["refresh_token"]]
    client.cookies.clear()

    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    secrets += [refreshed.json()["access_token"], refreshed.json()["refresh_token"]]
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(replay, 401)

    fresh = again.json()["access_token"]
    key = await client.post(
        "/api/v1/api-keys",
        json={"name": "bot", "scopes": ["read"], "totp": codes["recovery_codes"][0]},
        headers=bearer(fresh),
    )
    assert key.status_code == 201, key.text
    secrets.append(key.json()["key"])
    assert (await client.get("/api/v1/me", headers={"X-API-Key": key.json()["key"]})).status_code == 200
    assert (
        await client.get("/api/v1/me", headers={"X-API-Key": "tsk_wrong-key-wrong-key"})
    ).status_code == 401
    assert (await client.post("/api/v1/auth/logout", headers=bearer(fresh))).status_code == 204

    shipped = all_logs.shipped.getvalue()
    raw = "\n".join(all_logs.raw)
    assert all_logs.raw, "the flow logged nothing; the check would prove nothing"
    assert "refresh token reused" in raw
    for secret in secrets:
        assert secret not in shipped, f"a secret reached the logs: {secret[:6]}..."
        assert secret not in raw, f"a secret reached a log message: {secret[:6]}..."


async def test_demo_accounts_are_created_in_dev_and_sign_in(database_url: str, redis_url: str) -> None:
    settings = make_settings(
        database_url,
        redis_url,
        env=Environment.DEV,
        argon2_time_cost=2,
        argon2_memory_kib=19456,
        argon2_parallelism=1,
    )
    conn = await connect(database_url)
    try:
        assert await ensure_demo_accounts(conn, settings) == 4
        assert await ensure_demo_accounts(conn, settings) == 0  # idempotent
        roles = sorted(r["role"] for r in await conn.fetch("SELECT role FROM users"))
    finally:
        await conn.close()
    assert roles == ["admin", "compliance", "trader", "trader"]
    text = render()
    for account in DEMO_ACCOUNTS:
        assert account.email in text
        assert account.password in text

    from auth_support import client_from

    from server_fastapi.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app), client_from(app) as client:
        for account in DEMO_ACCOUNTS:
            response = await client.post(
                "/api/v1/auth/login", json={"email": account.email, "password": account.password}
            )
            assert response.status_code == 200, response.text


async def test_demo_accounts_are_refused_outside_dev(settings: Settings, database_url: str) -> None:
    conn = await connect(database_url)
    try:
        with pytest.raises(RuntimeError):
            await ensure_demo_accounts(conn, settings)  # the test environment
        production = settings.model_copy(update={"env": Environment.PRODUCTION})
        with pytest.raises(RuntimeError):
            await ensure_demo_accounts(conn, production)
        assert await conn.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await conn.close()


def test_the_demo_command_refuses_outside_dev() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server_fastapi.auth.demo"],
        cwd=ROOT,
        env={"TESSERA_ENV": "test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "only in dev" in result.stderr
    assert "Tessera-demo" not in result.stdout


async def test_registration_assigns_the_trader_role_whatever_is_sent(
    client: httpx.AsyncClient, database_url: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "sneaky@example.test", "password": PASSWORD, "display_name": "S", "role": "admin"},
    )
    assert_problem(response, 422, "validation")  # unknown fields are refused
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM users WHERE role <> 'trader'") == 0
    finally:
        await conn.close()
