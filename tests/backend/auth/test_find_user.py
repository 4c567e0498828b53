"""`GET /api/v1/admin/users?email=`: administrators find an account by its email (normalised as at sign-up),
each look-up audited; anyone else is refused, an unknown address is a 404 and a malformed one a 422."""

from __future__ import annotations

from typing import Any

import asyncpg
from auth_support import bearer, client_from, login, make_account
from fastapi import FastAPI
from tests_support import assert_problem

from server_fastapi.core.principal import Role
from server_fastapi.core.settings import Settings


async def test_an_administrator_finds_an_account_by_email_and_the_look_up_is_audited(
    app: FastAPI, settings: Settings, db: asyncpg.Connection[Any]
) -> None:
    admin = await make_account(settings, role=Role.ADMIN)
    trader = await make_account(settings)
    async with client_from(app) as client:
        headers = bearer((await login(client, admin))["access_token"])
        found = await client.get(
            "/api/v1/admin/users", params={"email": f"  {trader.email.upper()} "}, headers=headers
        )
        assert found.status_code == 200, found.text
        body = found.json()
        assert (body["id"], body["email"], body["role"]) == (str(trader.id), trader.email, "trader")
        assert "password_hash" not in body

        missing = await client.get(
            "/api/v1/admin/users", params={"email": "nobody@example.test"}, headers=headers
        )
        assert_problem(missing, 404)
        malformed = await client.get(
            "/api/v1/admin/users", params={"email": "not-an-address"}, headers=headers
        )
        problem = assert_problem(malformed, 422)
        assert [error["pointer"] for error in problem["errors"]] == ["/email"]

    looked_up = await db.fetch(
        "SELECT actor_id, subject FROM audit_log WHERE action = 'auth.user.looked_up' ORDER BY id"
    )
    assert [(row["actor_id"], row["subject"]) for row in looked_up] == [(admin.id, f"user:{trader.id}")]


async def test_only_administrators_find_accounts(app: FastAPI, settings: Settings) -> None:
    for role in (Role.TRADER, Role.COMPLIANCE):
        account = await make_account(settings, role=role)
        async with client_from(app) as client:
            headers = bearer((await login(client, account))["access_token"])
            refused = await client.get(
                "/api/v1/admin/users", params={"email": account.email}, headers=headers
            )
            assert_problem(refused, 403, "role-required")
