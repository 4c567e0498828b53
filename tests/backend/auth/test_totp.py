"""Two-factor authentication: enrolment with an otpauth URI, recovery codes, login with and without a code."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pyotp
from auth_support import Account, bearer, login, make_account
from tests_support import assert_problem

from server_fastapi.core.settings import Settings


async def enrol(client: httpx.AsyncClient, account: Account) -> tuple[pyotp.TOTP, list[str], dict[str, Any]]:
    tokens = await login(client, account)
    client.cookies.clear()
    enrolment = await client.post("/api/v1/auth/2fa/enroll", headers=bearer(tokens["access_token"]))
    assert enrolment.status_code == 200, enrolment.text
    uri = urlsplit(enrolment.json()["otpauth_uri"])
    assert uri.scheme == "otpauth"
    assert uri.netloc == "totp"
    query = parse_qs(uri.query)
    assert query["issuer"] == ["Tessera"]
    assert query["secret"] == [enrolment.json()["secret"]]
    totp = pyotp.TOTP(enrolment.json()["secret"])
    verified = await client.post(
        "/api/v1/auth/2fa/verify", json={"code": totp.now()}, headers=bearer(tokens["access_token"])
    )
    assert verified.status_code == 200, verified.text
    codes = verified.json()["recovery_codes"]
    return totp, codes, tokens


def next_step_code(totp: pyotp.TOTP) -> str:
    """A valid code that was not used yet (each step's code is accepted once): the next step's."""
    return totp.at(time.time() + 30)


async def test_enrolment_then_login_needs_a_valid_code(
    client: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    account = await make_account(settings)
    totp, codes, tokens = await enrol(client, account)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    me = await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.json()["totp_enabled"] is True

    without = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert_problem(without, 401, "totp-required")
    assert "access_token" not in without.text
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password, "totp": "000000"}
    )
    assert_problem(wrong, 401, "totp-invalid")
    # A valid code with a wrong password reveals nothing about the code.
    bad_password = await client.post(
        "/api/v1/auth/login",
        json={"email": account.email, "password": "wrong-password-1", "totp": totp.now()},
    )
    assert_problem(bad_password, 401, "invalid-credentials")

    code = next_step_code(totp)
    good = await login(client, account, totp=code)
    assert good["access_token"]
    # The same code cannot be used twice (a shoulder-surfed or phished code is spent).
    replay = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password, "totp": code}
    )
    assert_problem(replay, 401, "totp-invalid")

    conn = await asyncpg.connect(database_url)
    try:
        secret_column = await conn.fetchval("SELECT totp_secret FROM users WHERE id = $1", account.id)
        actions = [r["action"] for r in await conn.fetch("SELECT action FROM audit_log ORDER BY id")]
    finally:
        await conn.close()
    assert totp.secret.encode() not in secret_column  # stored encrypted
    assert "auth.2fa.enabled" in actions
    assert actions.count("auth.login.failed") >= 3


async def test_a_recovery_code_signs_in_once(client: httpx.AsyncClient, settings: Settings) -> None:
    account = await make_account(settings)
    _, codes, _ = await enrol(client, account)
    signed_in = await login(client, account, totp=codes[0].upper())
    assert signed_in["access_token"]
    again = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password, "totp": codes[0]}
    )
    assert_problem(again, 401, "totp-invalid")


async def test_enrolment_needs_a_matching_code_and_cannot_repeat(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    account = await make_account(settings)
    tokens = await login(client, account)
    client.cookies.clear()
    auth = bearer(tokens["access_token"])
    assert_problem(await client.post("/api/v1/auth/2fa/verify", json={"code": "123456"}, headers=auth), 409)
    await client.post("/api/v1/auth/2fa/enroll", headers=auth)
    assert_problem(
        await client.post("/api/v1/auth/2fa/verify", json={"code": "123456"}, headers=auth),
        403,
        "totp-invalid",
    )
    # Until verified, sign-in does not ask for a code.
    assert (await login(client, account))["access_token"]


async def test_disabling_needs_a_code_and_is_audited(
    client: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    account = await make_account(settings)
    totp, _, tokens = await enrol(client, account)
    auth = bearer(tokens["access_token"])
    assert_problem(
        await client.post("/api/v1/auth/2fa/disable", json={"code": "000000"}, headers=auth),
        403,
        "totp-invalid",
    )
    off = await client.post("/api/v1/auth/2fa/disable", json={"code": next_step_code(totp)}, headers=auth)
    assert off.status_code == 204, off.text
    assert (await login(client, account))["access_token"]
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'auth.2fa.disabled'") == 1
    finally:
        await conn.close()


async def test_api_keys_cannot_manage_two_factor(client: httpx.AsyncClient, settings: Settings) -> None:
    account = await make_account(settings)
    tokens = await login(client, account)
    client.cookies.clear()
    key = await client.post(
        "/api/v1/api-keys", json={"name": "bot", "scopes": ["read"]}, headers=bearer(tokens["access_token"])
    )
    assert key.status_code == 201
    response = await client.post("/api/v1/auth/2fa/enroll", headers={"X-API-Key": key.json()["key"]})
    assert_problem(response, 403, "session-required")
