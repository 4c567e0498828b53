"""Registration, sign-in, access tokens, refresh rotation with reuse detection, cookies and CSRF."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from auth_support import PASSWORD, Account, bearer, login, make_account
from fastapi import FastAPI
from tests_support import assert_problem

from server_fastapi.auth import repository as auth_repository
from server_fastapi.auth.tokens import ALGORITHM, issue_access_token, load_keyring
from server_fastapi.core.security import CSRF_COOKIE, CSRF_HEADER
from server_fastapi.core.settings import Settings


async def audit_actions(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return [row["action"] for row in await conn.fetch("SELECT action FROM audit_log ORDER BY id")]
    finally:
        await conn.close()


async def test_register_normalises_email_hashes_password_and_refuses_duplicates(
    client: httpx.AsyncClient, database_url: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "  Ada.Lovelace@Example.COM ", "password": PASSWORD, "display_name": "Ada"},
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["email"] == "ada.lovelace@example.com"
    assert user["role"] == "trader"
    assert user["totp_enabled"] is False
    assert "password" not in json.dumps(user)

    again = await client.post(
        "/api/v1/auth/register",
        json={"email": "ADA.LOVELACE@example.com", "password": PASSWORD, "display_name": "Copy"},
    )
    assert_problem(again, 409, "email-taken")

    conn = await asyncpg.connect(database_url)
    try:
        stored = await conn.fetchval("SELECT password_hash FROM users WHERE id = $1", uuid.UUID(user["id"]))
    finally:
        await conn.close()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert "auth.user.registered" in await audit_actions(database_url)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-1A", "at least 12"),
        ("aaaaaaaaaaaaaaaa", "different characters"),
        ("password123456", "common"),
        ("Qwerty123456!!", "common"),
        ("dragon2024!!!!!!", "common"),
        ("ada.lovelace-rules", "email"),
        ("x" * 10 + "Yz1-" * 40, "at most 128"),
    ],
)
async def test_weak_passwords_are_refused_with_a_field_error(
    client: httpx.AsyncClient, password: str, reason: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "ada.lovelace@example.com", "password": password, "display_name": "Ada"},
    )
    body = assert_problem(response, 422, "validation")
    assert [error["pointer"] for error in body["errors"]] == ["/password"] * len(body["errors"])
    assert any(reason in error["detail"] for error in body["errors"]), body
    assert password not in response.text


async def test_login_me_and_logout(client: httpx.AsyncClient, settings: Settings, database_url: str) -> None:
    account = await make_account(settings)
    tokens = await login(client, account)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    assert tokens["refresh_token"].startswith("tsr_")

    me = await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["email"] == account.email
    assert me.json()["auth_method"] == "bearer"
    assert set(me.json()["scopes"]) == {"read", "trade", "withdraw"}

    out = await client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert out.status_code == 204
    # Logout ends the session: the (still unexpired) access token and the refresh token stop working.
    assert_problem(
        await client.get("/api/v1/me", headers=bearer(tokens["access_token"])), 401, "invalid-token"
    )
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(refreshed, 401, "invalid-token")
    actions = await audit_actions(database_url)
    assert "auth.login.succeeded" in actions
    assert "auth.logout" in actions


async def test_wrong_password_and_unknown_account_look_the_same_and_are_audited(
    client: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    account = await make_account(settings)
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": "not-it-at-all"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.test", "password": "not-it-at-all"}
    )
    first = assert_problem(wrong, 401, "invalid-credentials")
    second = assert_problem(unknown, 401, "invalid-credentials")
    assert first["detail"] == second["detail"]
    # The refusals were committed although the requests failed.
    assert (await audit_actions(database_url)).count("auth.login.failed") == 2


async def test_refresh_rotates_and_a_replayed_token_revokes_the_whole_family(
    client: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    account = await make_account(settings)
    first = await login(client, account)

    second_response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second_response.status_code == 200, second_response.text
    assert second_response.headers["cache-control"] == "no-store"
    second = second_response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]

    third_response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert third_response.status_code == 200
    third = third_response.json()
    assert (await client.get("/api/v1/me", headers=bearer(third["access_token"]))).status_code == 200

    # An attacker replays the first (already rotated) token: refused, and the family is revoked, so the
    # legitimate holder's newest tokens stop working too.
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_problem(replay, 401, "invalid-token")
    assert "already used" in replay.json()["detail"]
    assert_problem(await client.get("/api/v1/me", headers=bearer(third["access_token"])), 401)
    latest = await client.post("/api/v1/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert_problem(latest, 401, "invalid-token")

    conn = await asyncpg.connect(database_url)
    try:
        reason = await conn.fetchval(
            "SELECT revoked_reason FROM auth_sessions WHERE user_id = $1", account.id
        )
        stored = await conn.fetch("SELECT token_hash FROM refresh_tokens")
    finally:
        await conn.close()
    assert reason == "reuse"
    assert len(stored) == 3
    assert all(first["refresh_token"].encode() not in row["token_hash"] for row in stored)
    assert "auth.refresh.reused" in await audit_actions(database_url)

    # Other sessions of the same person are untouched.
    other = await login(client, account)
    assert (await client.get("/api/v1/me", headers=bearer(other["access_token"]))).status_code == 200


async def test_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "tsr_" + "A" * 43})
    assert_problem(response, 401, "invalid-token")
    assert_problem(await client.post("/api/v1/auth/refresh", json={}), 401, "invalid-token")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(account: Account, session_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "tessera",
        "aud": "tessera-api",
        "sub": str(account.id),
        "sid": session_id,
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return claims


async def test_expired_tampered_wrong_audience_and_alg_none_tokens_are_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    account = await make_account(settings)
    good = (await login(client, account))["access_token"]
    session_id = jwt.decode(good, options={"verify_signature": False})["sid"]
    keyring = load_keyring(settings, generate=True)
    key = keyring.private_keys[keyring.signing_kid]
    headers = {"kid": keyring.signing_kid, "typ": "at+jwt"}

    def signed(**overrides: Any) -> str:
        return jwt.encode(
            _claims(account, session_id, **overrides), key, algorithm=ALGORITHM, headers=headers
        )

    assert (await client.get("/api/v1/me", headers=bearer(signed()))).status_code == 200

    expired = signed(iat=int(time.time()) - 3600, nbf=int(time.time()) - 3600, exp=int(time.time()) - 60)
    header, payload, signature = good.split(".")
    forged_payload = _b64(_claims(account, session_id, exp=int(time.time()) + 86400 * 365))
    tampered = f"{header}.{forged_payload}.{signature}"
    wrong_audience = signed(aud="another-service")
    wrong_issuer = signed(iss="someone-else")
    alg_none = f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': keyring.signing_kid})}.{payload}."
    hs256 = jwt.encode(
        _claims(account, session_id),
        "secret-guess-xxxxxxxxxxxxxxxxxxxxxxx",
        algorithm="HS256",
        headers=headers,
    )
    wrong_type = jwt.encode(
        _claims(account, session_id), key, algorithm=ALGORITHM, headers={"kid": keyring.signing_kid}
    )
    unknown_key = jwt.encode(
        _claims(account, session_id), key, algorithm=ALGORITHM, headers={"kid": "nope", "typ": "at+jwt"}
    )
    other_user = signed(sub=str(uuid.uuid4()))
    for token in (expired, tampered, wrong_audience, wrong_issuer, alg_none, hs256, wrong_type, unknown_key,
                  other_user, "not-a-jwt"):  # fmt: skip
        response = await client.get("/api/v1/me", headers=bearer(token))
        assert_problem(response, 401, "invalid-token")
        assert "invalid_token" in response.headers["www-authenticate"]


async def test_tokens_signed_by_a_retired_key_stop_verifying_but_any_key_in_the_folder_verifies(
    settings: Settings, tmp_path: Any
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from server_fastapi.auth.tokens import TokenRejected, decode_access_token

    for kid in ("2026-01", "2026-02"):
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (tmp_path / f"{kid}.pem").write_bytes(pem)
    rotated = settings.model_copy(update={"jwt_private_keys_dir": tmp_path})
    keyring = load_keyring(rotated, generate=False)
    assert keyring.signing_kid == "2026-02"  # the newest signs
    old = settings.model_copy(update={"jwt_private_keys_dir": tmp_path, "jwt_signing_key_id": "2026-01"})
    old_token, _ = issue_access_token(
        load_keyring(old, generate=False), old, user_id=uuid.uuid4(), session_id=uuid.uuid4()
    )
    assert jwt.get_unverified_header(old_token)["kid"] == "2026-01"
    decode_access_token(keyring, rotated, old_token)  # still in the folder: verifies
    (tmp_path / "2026-01.pem").unlink()
    retired = settings.model_copy(update={"jwt_private_keys_dir": tmp_path, "jwt_signing_key_id": "2026-02"})
    with pytest.raises(TokenRejected):
        decode_access_token(load_keyring(retired, generate=False), retired, old_token)


async def test_a_remembered_token_still_expires_and_only_the_exact_token_is_remembered(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server_fastapi.auth import tokens
    from server_fastapi.auth.tokens import TokenRejected, decode_access_token

    keyring = load_keyring(settings, generate=True)
    token, ttl = issue_access_token(keyring, settings, user_id=uuid.uuid4(), session_id=uuid.uuid4())
    claims = decode_access_token(keyring, settings, token)
    assert decode_access_token(keyring, settings, token) is claims  # remembered, not verified again
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(TokenRejected):
        decode_access_token(keyring, settings, f"{head}.{payload}.{flipped}")
    other_audience = settings.model_copy(update={"jwt_audience": "another-api"})
    with pytest.raises(TokenRejected):
        decode_access_token(keyring, other_audience, token)  # remembered per issuer and audience

    later = time.time() + ttl + tokens.LEEWAY_SECONDS + 1
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    with pytest.raises(TokenRejected, match="Expired"):
        decode_access_token(keyring, settings, token)
    assert not any(key[0] == token for key in keyring.verified)

    monkeypatch.undo()
    monkeypatch.setattr(tokens, "VERIFIED_TOKENS_KEPT", 3)
    keyring.verified.clear()
    issued = [
        issue_access_token(keyring, settings, user_id=uuid.uuid4(), session_id=uuid.uuid4())[0]
        for _ in range(5)
    ]
    for each in issued:
        decode_access_token(keyring, settings, each)
    assert [key[0] for key in keyring.verified] == issued[2:]  # bounded: the oldest go first


async def test_cookie_session_needs_the_csrf_header_for_unsafe_methods(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    account = await make_account(settings)
    response = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200
    set_cookies = response.headers.get_list("set-cookie")
    access = next(c for c in set_cookies if c.startswith("tessera_access="))
    refresh = next(c for c in set_cookies if c.startswith("tessera_refresh="))
    csrf_cookie = next(c for c in set_cookies if c.startswith(f"{CSRF_COOKIE}="))
    for cookie in (access, refresh):
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
    assert "HttpOnly" not in csrf_cookie
    assert "Path=/api/v1/auth" in refresh
    csrf = client.cookies[CSRF_COOKIE]

    # Reads work with the cookie alone.
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["auth_method"] == "session_cookie"

    # An unsafe request without the header (what a forged cross-site form would send) is refused...
    assert_problem(await client.post("/api/v1/auth/2fa/enroll"), 403, "csrf")
    assert_problem(
        await client.post("/api/v1/auth/2fa/enroll", headers={CSRF_HEADER: "forged.value"}), 403, "csrf"
    )
    # ...a header matching a cookie the attacker planted, but not bound to this session, too...
    client.cookies.set(CSRF_COOKIE, "planted.value", domain="tessera.test")
    assert_problem(
        await client.post("/api/v1/auth/2fa/enroll", headers={CSRF_HEADER: "planted.value"}), 403, "csrf"
    )
    client.cookies.set(CSRF_COOKIE, csrf, domain="tessera.test")
    # ...and with it the request goes through.
    enrolled = await client.post("/api/v1/auth/2fa/enroll", headers={CSRF_HEADER: csrf})
    assert enrolled.status_code == 200, enrolled.text

    # Cookie refresh needs the header too; with it, cookies are rotated.
    assert_problem(await client.post("/api/v1/auth/refresh"), 403, "csrf")
    rotated = await client.post("/api/v1/auth/refresh", headers={CSRF_HEADER: csrf})
    assert rotated.status_code == 200, rotated.text
    new_csrf = client.cookies[CSRF_COOKIE]
    assert new_csrf != csrf
    assert (await client.get("/api/v1/me")).status_code == 200

    # Logout by cookie, with the header: cookies are cleared and the session ends.
    out = await client.post("/api/v1/auth/logout", headers={CSRF_HEADER: new_csrf})
    assert out.status_code == 204
    assert_problem(await client.get("/api/v1/me"), 401)


async def test_bearer_and_api_key_requests_need_no_csrf_header(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    account = await make_account(settings)
    tokens = await login(client, account)
    client.cookies.clear()
    enrolled = await client.post("/api/v1/auth/2fa/enroll", headers=bearer(tokens["access_token"]))
    assert enrolled.status_code == 200, enrolled.text


async def test_only_the_bearer_scheme_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_security_headers_are_on_auth_responses(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": "x@example.test", "password": "nope"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "max-age=" in response.headers["strict-transport-security"]
    assert "camera=()" in response.headers["permissions-policy"]
    assert "usb=()" in response.headers["permissions-policy"]
    assert response.headers["referrer-policy"]


async def test_invalid_payloads_are_problem_json(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/api/v1/auth/login", json={"email": "nope"}), 422, "validation")
    assert_problem(
        await client.post(
            "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
    )


async def test_websocket_authentication_by_token_api_key_and_cookie(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    from starlette.websockets import WebSocket

    from server_fastapi.core.problems import Unauthorized
    from server_fastapi.core.security import (
        CsrfRejected,
        authenticate_websocket_cookie,
        authenticate_websocket_token,
    )

    state = app.state.tessera
    account = await make_account(settings)
    tokens = await login(client, account)
    principal = await authenticate_websocket_token(state, tokens["access_token"])
    assert principal.user_id == account.id
    assert principal.auth_method == "bearer"
    key = await client.post(
        "/api/v1/api-keys", json={"name": "ws", "scopes": ["read"]}, headers=bearer(tokens["access_token"])
    )
    by_key = await authenticate_websocket_token(state, key.json()["key"], ip="127.0.0.1")
    assert by_key.auth_method == "api_key"
    assert by_key.scopes == frozenset({"read"})
    with pytest.raises(Unauthorized):
        await authenticate_websocket_token(state, "garbage")

    def handshake(origin: str | None) -> WebSocket:
        headers = [
            (b"host", b"tessera.test"),
            (b"cookie", f"tessera_access={tokens['access_token']}".encode()),
        ]
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        scope = {"type": "websocket", "path": "/ws", "headers": headers, "app": app, "query_string": b""}

        async def never() -> dict[str, Any]:
            raise AssertionError

        async def ignore(message: Any) -> None:
            raise AssertionError

        return WebSocket(scope, never, ignore)

    same_site = await authenticate_websocket_cookie(state, handshake("http://tessera.test"))
    assert same_site.auth_method == "session_cookie"
    with pytest.raises(CsrfRejected):
        await authenticate_websocket_cookie(state, handshake("https://evil.example"))


async def test_the_sentinels_sign_in_lookup_reads_an_index(db: asyncpg.Connection[Any]) -> None:
    """`sessions_since` (all of a few users' sign-ins since a time, ended ones included) has an index to
    read: with sequential scans priced out, the lookup scans it."""

    async def scans() -> int:
        await db.execute("SELECT pg_stat_force_next_flush()")
        count: int = await db.fetchval(
            "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = $1",
            "auth_sessions_user_id_created_at_idx",
        )
        return count

    before = await scans()
    async with db.transaction():
        await db.execute("SET LOCAL enable_seqscan = off")
        await auth_repository.sessions_since(db, [uuid.uuid4()], datetime.now(UTC) - timedelta(days=1))
    assert await scans() > before
