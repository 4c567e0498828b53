"""Reading the audit log (`GET /api/v1/audit/entries`): compliance officers only, newest first, narrowed by
action prefix, subject and actor, paged by cursor; entries read back exactly as the chain holds them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from compliance_support import FAST_ARGON2, client_for, make_account, sign_in
from fastapi import FastAPI
from tests_support import assert_problem, make_settings

from server_fastapi.core.audit import record_audit
from server_fastapi.core.db import connect
from server_fastapi.core.principal import Role
from server_fastapi.core.settings import Settings


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url, **FAST_ARGON2)


async def test_officers_read_the_log_newest_first_by_action_subject_and_actor(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    officer = await make_account(settings, role=Role.COMPLIANCE)
    actor = uuid.uuid4()
    written = [
        (actor, "wallets.withdrawal.requested", "withdrawal:7"),
        (actor, "wallets.withdrawal.approved", "withdrawal:7"),
        (None, "wallets.withdrawal.requested", "withdrawal:8"),
        (actor, "wallets.withdrawal.signed", "withdrawal:7"),
        (actor, "wallets.withdrawalish.other", "withdrawal:7"),
        (actor, "trading.halt", "BTC-USDT"),
    ]
    conn = await connect(database_url)
    try:
        for actor_id, action, subject in written:
            await record_audit(
                conn, actor_id=actor_id, action=action, subject=subject, details={"n": 1}, ip="203.0.113.9"
            )
        stored = {
            row["action"]: row["hash"] for row in await conn.fetch("SELECT action, hash FROM audit_log")
        }
    finally:
        await conn.close()
    newest_first = [(action, subject) for _, action, subject in reversed(written)]

    async with client_for(app) as client:
        headers = await sign_in(client, officer.email)

        async def entries(**params: Any) -> list[dict[str, Any]]:
            response = await client.get("/api/v1/audit/entries", params=params, headers=headers)
            assert response.status_code == 200, response.text
            items: list[dict[str, Any]] = response.json()["items"]
            return items

        def shown(items: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
            return [(item["action"], item["subject"]) for item in items]

        everything = await entries()
        assert everything[0]["action"] == "auth.login.succeeded"  # the officer's own sign-in, newest
        assert shown(everything[1 : 1 + len(written)]) == newest_first
        assert everything[-1]["action"] == "auth.user.registered"  # the officer's account, oldest
        halt = everything[1]
        assert (halt["actor_id"], halt["details"], halt["ip"]) == (str(actor), {"n": 1}, "203.0.113.9")
        assert halt["hash"] == stored["trading.halt"]

        assert shown(await entries(action="wallets.withdrawal.")) == [
            ("wallets.withdrawal.signed", "withdrawal:7"),
            ("wallets.withdrawal.requested", "withdrawal:8"),
            ("wallets.withdrawal.approved", "withdrawal:7"),
            ("wallets.withdrawal.requested", "withdrawal:7"),
        ]
        assert shown(await entries(action="wallets.withdrawal")) == newest_first[1:]  # a plain prefix
        assert shown(
            await entries(action="wallets.withdrawal.", subject="withdrawal:7", actor_id=str(actor))
        ) == [
            ("wallets.withdrawal.signed", "withdrawal:7"),
            ("wallets.withdrawal.approved", "withdrawal:7"),
            ("wallets.withdrawal.requested", "withdrawal:7"),
        ]
        assert shown(await entries(subject="withdrawal:8")) == [
            ("wallets.withdrawal.requested", "withdrawal:8")
        ]
        assert await entries(subject="nothing:here") == []

        # Pages follow the cursor to the last one, without repeats or gaps.
        seen: list[int] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/audit/entries", params=params, headers=headers)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [item["id"] for item in everything]


async def test_traders_cannot_read_the_log_and_bad_filters_are_problems(
    app: FastAPI, settings: Settings
) -> None:
    trader = await make_account(settings)
    officer = await make_account(settings, role=Role.COMPLIANCE)
    async with client_for(app) as anonymous:
        assert_problem(await anonymous.get("/api/v1/audit/entries"), 401)
    async with client_for(app) as client:
        refused = await client.get("/api/v1/audit/entries", headers=await sign_in(client, trader.email))
        assert_problem(refused, 403, "role-required")

        headers = await sign_in(client, officer.email)
        for params, pointer in (
            ({"action": "Wallets%"}, "/action"),
            ({"actor_id": "someone"}, "/actor_id"),
            ({"cursor": "abc"}, "/cursor"),
            ({"limit": "0"}, "/limit"),
            ({"subject": ""}, "/subject"),
        ):
            response = await client.get("/api/v1/audit/entries", params=params, headers=headers)
            problem = assert_problem(response, 422)
            assert [error["pointer"] for error in problem["errors"]] == [pointer], problem
