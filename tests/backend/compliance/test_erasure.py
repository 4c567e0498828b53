"""Erasure (`DELETE /api/v1/me`) by crypto-shredding: afterwards no table, log line or audit entry yields the
person's name, address or date of birth, the books still balance and the audit chain is intact."""

from __future__ import annotations

import logging
import time
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import pyotp
import pytest
from compliance_support import (
    FAST_ARGON2,
    PASSWORD,
    client_for,
    make_account,
    natural_person,
    sign_in,
)
from fastapi import FastAPI
from tests_support import assert_problem, make_settings

from server_fastapi.compliance.service import PersonalDataErased, get_originator
from server_fastapi.core.db import connect
from server_fastapi.core.principal import Role
from server_fastapi.core.settings import Settings

SURNAME, GIVEN, STREET, TOWN, BIRTH = "Lovelace", "Augusta Ada", "Dorset Street", "Marylebone", "1815-12-10"
NEEDLES = (SURNAME, GIVEN, STREET, TOWN, BIRTH, "Augusta")
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY", "USER-DEFINED")


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url, **FAST_ARGON2)


class LogLines(logging.Handler):
    """Every record, rendered by the app's own formatter (what would reach the log files)."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def personal_data_hits(conn: asyncpg.Connection[Any], needles: tuple[str, ...]) -> list[str]:
    """Every (table, column, needle) where a text-like column of any table still holds a needle."""
    columns = await conn.fetch(
        """
        SELECT c.table_schema, c.table_name, c.column_name
          FROM information_schema.columns c
          JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE t.table_type = 'BASE TABLE'
           AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
           AND c.table_schema NOT LIKE '\\_timescaledb%' AND c.table_schema NOT LIKE 'timescaledb%'
           AND c.data_type = ANY($1::text[])
        """,
        list(TEXT_TYPES),
    )
    assert len(columns) > 20  # the scan sees the whole schema
    hits = []
    for column in columns:
        table = f'"{column["table_schema"]}"."{column["table_name"]}"'
        for needle in needles:
            found = await conn.fetchval(
                f'SELECT count(*) FROM {table} WHERE "{column["column_name"]}"::text ILIKE $1',
                f"%{needle}%",
            )
            if found:
                hits.append(f"{table}.{column['column_name']}: {needle}")
    return hits


async def test_erasure_shreds_personal_data_everywhere_and_keeps_books_and_chain(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    root = logging.getLogger()
    capture = LogLines(root.handlers[0].formatter if root.handlers else None)
    root.addHandler(capture)
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        officer = await make_account(settings, role=Role.COMPLIANCE)
        async with client_for(app) as client:
            email = "augusta.ada.lovelace@example.test"
            registered = await client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": f"{GIVEN} {SURNAME}"},
            )
            assert registered.status_code == 201, registered.text
            user_id = registered.json()["id"]
            headers = await sign_in(client, email)
            person = natural_person(surname=SURNAME, given=GIVEN, street=STREET, town=TOWN, birth_date=BIRTH)
            kyc = await client.put("/api/v1/kyc", json={"natural_person": person}, headers=headers)
            assert kyc.status_code == 200, kyc.text
            funded = await client.post(
                "/api/v1/dev/faucet", json={"asset": "USDT", "amount": "250"}, headers=headers
            )
            assert funded.status_code in (200, 201), funded.text
            balances_before = (await client.get("/api/v1/balances", headers=headers)).json()

            conn = await asyncpg.connect(database_url)
            try:
                assert await personal_data_hits(conn, (SURNAME,))  # the scan finds what is there
            finally:
                await conn.close()

            wrong = await client.request("DELETE", "/api/v1/me", json={"password": "not-it"}, headers=headers)
            assert_problem(wrong, 403, "confirmation-rejected")
            erased = await client.request(
                "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=headers
            )
            assert erased.status_code == 204, erased.text

            assert_problem(await client.get("/api/v1/kyc", headers=headers), 401)
            relogin = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert relogin.status_code == 401

            officer_headers = await sign_in(client, officer.email)
            verified = await client.get("/api/v1/audit/verify", headers=officer_headers)
            assert verified.status_code == 200, verified.text
            assert verified.json()["intact"] is True
    finally:
        root.removeHandler(capture)
        root.setLevel(previous_level)

    conn = await connect(database_url)
    try:
        hits = await personal_data_hits(conn, (*NEEDLES, "augusta.ada"))
        user = await conn.fetchrow(
            "SELECT email, display_name, password_hash, erased_at FROM users WHERE id = $1::uuid", user_id
        )
        key = await conn.fetchrow(
            "SELECT wrapped_key, destroyed_at FROM kyc_data_keys WHERE user_id = $1::uuid", user_id
        )
        profile_rows = await conn.fetchval(
            "SELECT count(*) FROM kyc_profiles WHERE user_id = $1::uuid", user_id
        )
        open_sessions = await conn.fetchval(
            "SELECT count(*) FROM auth_sessions WHERE user_id = $1::uuid AND revoked_at IS NULL", user_id
        )
        erasure = await conn.fetchrow(
            """
            SELECT actor_id::text AS actor, subject, details FROM audit_log
             WHERE action = 'compliance.user.erased'
            """
        )
        balances = await conn.fetch(
            "SELECT asset, available, held FROM ledger_accounts WHERE owner_id = $1::uuid AND kind = 'user'",
            user_id,
        )
        with pytest.raises(PersonalDataErased):
            await get_originator(conn, uuid.UUID(user_id), settings)
    finally:
        await conn.close()

    assert hits == []
    assert user["erased_at"] is not None
    assert user["display_name"] is None
    assert user["password_hash"] is None
    assert user["email"].endswith("@erased.invalid")
    assert key["wrapped_key"] is None
    assert key["destroyed_at"] is not None
    assert profile_rows == 0
    assert open_sessions == 0
    assert erasure["actor"] == user_id
    assert erasure["subject"] == f"user:{user_id}"
    assert erasure["details"]["data_key_destroyed"] is True
    kept = {row["asset"]: row["available"] for row in balances}
    assert kept["USDT"] == Decimal(next(b["available"] for b in balances_before if b["asset"] == "USDT"))
    assert kept["USDT"] == Decimal(250)

    assert capture.lines, "the flow logged nothing: the capture is not wired"
    leaked = [line for line in capture.lines for needle in NEEDLES if needle.lower() in line.lower()]
    assert leaked == []


async def test_erasure_needs_a_person_and_their_password(app: FastAPI, settings: Settings) -> None:
    account = await make_account(settings)
    async with client_for(app) as client:
        assert_problem(await client.request("DELETE", "/api/v1/me", json={"password": PASSWORD}), 401)
        headers = await sign_in(client, account.email)
        created = await client.post(
            "/api/v1/api-keys", json={"name": "bot", "scopes": ["read"]}, headers=headers
        )
        key_headers = {"X-API-Key": created.json()["key"]}
        refused = await client.request(
            "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=key_headers
        )
        assert_problem(refused, 403)
        missing = await client.request("DELETE", "/api/v1/me", json={}, headers=headers)
        assert_problem(missing, 422)
        still_there = await client.get("/api/v1/me", headers=headers)
        assert still_there.status_code == 200


async def test_with_two_factor_sign_in_erasure_also_needs_a_code(app: FastAPI, settings: Settings) -> None:
    account = await make_account(settings)
    async with client_for(app) as client:
        headers = await sign_in(client, account.email)
        enrolment = (await client.post("/api/v1/auth/2fa/enroll", headers=headers)).json()
        totp = pyotp.TOTP(enrolment["secret"])
        verified = await client.post("/api/v1/auth/2fa/verify", json={"code": totp.now()}, headers=headers)
        assert verified.status_code == 200, verified.text
        without = await client.request("DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=headers)
        assert_problem(without, 403, "totp-required")
        code = totp.at(time.time() + 30)  # the current step was spent on enrolment
        erased = await client.request(
            "DELETE", "/api/v1/me", json={"password": PASSWORD, "totp": code}, headers=headers
        )
        assert erased.status_code == 204, erased.text
