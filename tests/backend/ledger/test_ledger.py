"""The ledger: balanced entries only, no negative user balance, deposits audited, faucet in dev/test only."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, Request
from tests_support import announced, assert_problem, balance_news, make_settings

from server_fastapi.__main__ import export_openapi
from server_fastapi.app import create_app
from server_fastapi.core.principal import SESSION_SCOPES, Principal, Role
from server_fastapi.core.problems import Unauthorized
from server_fastapi.core.security import authenticated_principal
from server_fastapi.ledger import service
from server_fastapi.ledger.schemas import Balance


@pytest.fixture
async def api(app: FastAPI) -> FastAPI:
    async def principal(request: Request) -> Principal:
        user = request.headers.get("x-test-user")
        if not user:
            raise Unauthorized("no test user")
        role = Role(request.headers.get("x-test-role", "trader"))
        return Principal(user_id=UUID(user), role=role, scopes=SESSION_SCOPES, auth_method="bearer")

    app.dependency_overrides[authenticated_principal] = principal
    return app


async def make_user(db: asyncpg.Connection[Any], role: str = "trader") -> UUID:
    user_id: UUID = await db.fetchval(
        "INSERT INTO users (email, role) VALUES ($1, $2) RETURNING id",
        f"{uuid.uuid4().hex[:12]}@example.test",
        role,
    )
    return user_id


def headers(user_id: UUID, role: str = "trader") -> dict[str, str]:
    return {"x-test-user": str(user_id), "x-test-role": role}


async def test_faucet_credits_the_caller_and_balances_list_it(
    api: FastAPI, client: httpx.AsyncClient, db: asyncpg.Connection[Any]
) -> None:
    news = balance_news(api)
    user = await make_user(db)
    response = await client.post(
        "/api/v1/dev/faucet", json={"asset": "USDT", "amount": "1500.25"}, headers=headers(user)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"asset": "USDT", "available": "1500.25", "held": "0"}
    assert announced(news) == [(user, "USDT", Decimal("1500.25"), Decimal(0))]  # live on `balances`
    listed = await client.get("/api/v1/balances", headers=headers(user))
    assert listed.json() == [{"asset": "USDT", "available": "1500.25", "held": "0"}]
    assert (await client.get("/api/v1/balances")).status_code == 401

    for body, code in (
        ({"asset": "USDT", "amount": "0"}, "greater_than"),
        ({"asset": "NOPE", "amount": "1"}, "unknown_asset"),
    ):
        bad = await client.post("/api/v1/dev/faucet", json=body, headers=headers(user))
        assert bad.status_code == 422, bad.text
        assert bad.json()["errors"][0]["code"] == code
    assert (await client.get("/api/v1/balances", headers=headers(user))).json()[0]["available"] == "1500.25"
    assert announced(news) == []  # refused credits announce nothing


async def test_admin_deposit_is_admin_only_and_audited(
    api: FastAPI, client: httpx.AsyncClient, db: asyncpg.Connection[Any]
) -> None:
    news = balance_news(api)
    admin, trader = await make_user(db, "admin"), await make_user(db)
    body = {"user_id": str(trader), "asset": "BTC", "amount": "0.5", "reference": "wire-42"}
    refused = await client.post("/api/v1/admin/deposits", json=body, headers=headers(trader))
    assert refused.status_code == 403
    created = await client.post("/api/v1/admin/deposits", json=body, headers=headers(admin, "admin"))
    assert created.status_code == 201, created.text
    assert created.json() == {
        "asset": "BTC",
        "available": "0.5",
        "held": "0",
        "reference": "wire-42",
        "credited": True,
    }
    assert announced(news) == [(trader, "BTC", Decimal("0.5"), Decimal(0))]  # to the trader, live
    audit = await db.fetchrow(
        "SELECT actor_id, subject, details FROM audit_log WHERE action = 'ledger.deposit'"
    )
    assert audit is not None
    assert (audit["actor_id"], audit["subject"]) == (admin, f"user:{trader}")
    external = await db.fetchval(
        "SELECT available FROM ledger_accounts WHERE kind = 'external' AND asset = 'BTC'"
    )
    assert external == Decimal("-0.5")


async def test_a_deposit_is_credited_once_per_reference(
    api: FastAPI, client: httpx.AsyncClient, db: asyncpg.Connection[Any]
) -> None:
    admin, trader, other = await make_user(db, "admin"), await make_user(db), await make_user(db)
    body = {"user_id": str(trader), "asset": "BTC", "amount": "0.5", "reference": "wire-7"}
    as_admin = headers(admin, "admin")
    first = await client.post("/api/v1/admin/deposits", json=body, headers=as_admin)
    assert first.status_code == 201, first.text

    # A retry (a lost answer, a double click) credits nothing and answers the balance.
    news = balance_news(api)
    again = await client.post("/api/v1/admin/deposits", json={**body, "amount": "0.50"}, headers=as_admin)
    assert again.status_code == 200, again.text
    assert again.json() == {
        "asset": "BTC",
        "available": "0.5",
        "held": "0",
        "reference": "wire-7",
        "credited": False,
    }
    assert announced(news) == []

    # The same reference for another account, asset or amount is refused and moves nothing.
    for changed in ({"user_id": str(other)}, {"asset": "ETH"}, {"amount": "5"}):
        refused = await client.post("/api/v1/admin/deposits", json={**body, **changed}, headers=as_admin)
        problem = assert_problem(refused, 409, "deposit-reference-used")
        assert problem["reference"] == "wire-7", problem
    assert await service.balances(db, trader) == [
        Balance(asset="BTC", available=Decimal("0.5"), held=Decimal(0))
    ]
    assert await service.balances(db, other) == []
    deposits = await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'ledger.deposit'")
    assert deposits == 1


async def test_concurrent_deposits_of_one_reference_credit_it_once(
    api: FastAPI, client: httpx.AsyncClient, db: asyncpg.Connection[Any]
) -> None:
    admin, trader = await make_user(db, "admin"), await make_user(db)
    body = {"user_id": str(trader), "asset": "USDT", "amount": "250", "reference": "wire-race"}
    answers = await asyncio.gather(
        *(client.post("/api/v1/admin/deposits", json=body, headers=headers(admin, "admin")) for _ in range(6))
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(201) == 1, [answer.text for answer in answers]
    assert set(statuses) <= {200, 201, 409}, [answer.text for answer in answers]
    assert await service.balances(db, trader) == [
        Balance(asset="USDT", available=Decimal(250), held=Decimal(0))
    ]


async def test_a_deposit_to_no_account_is_a_field_problem_and_writes_nothing(
    api: FastAPI, client: httpx.AsyncClient, db: asyncpg.Connection[Any]
) -> None:
    admin = await make_user(db, "admin")
    body = {"user_id": str(uuid.uuid4()), "asset": "USDT", "amount": "1", "reference": "wire-nobody"}
    refused = await client.post("/api/v1/admin/deposits", json=body, headers=headers(admin, "admin"))
    problem = assert_problem(refused, 422)
    assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [("/user_id", "unknown_account")]
    assert await db.fetchval("SELECT count(*) FROM ledger_entries WHERE reference = 'wire-nobody'") == 0
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'ledger.deposit'") == 0


async def test_the_database_refuses_unbalanced_entries_and_negative_balances(
    db: asyncpg.Connection[Any],
) -> None:
    user = await make_user(db)
    await service.credit(db, user, "USDT", Decimal(10), kind="deposit", reference="t")
    account = await db.fetchval("SELECT id FROM ledger_accounts WHERE owner_id = $1", user)
    transaction = db.transaction()
    await transaction.start()
    entry = await db.fetchval(
        "INSERT INTO ledger_entries (kind, reference) VALUES ('adjustment', 'x') RETURNING id"
    )
    await db.execute(
        "INSERT INTO ledger_postings (entry_id, account_id, bucket, asset, amount)"
        " VALUES ($1, $2, 'available', 'USDT', 5)",
        entry,
        account,
    )
    with pytest.raises(asyncpg.CheckViolationError, match="does not balance"):
        await transaction.commit()  # a failed COMMIT ends the transaction: nothing was written
    with pytest.raises(service.InsufficientFunds):
        await service.hold(db, user, "USDT", Decimal(11), "too-much")
    with pytest.raises(asyncpg.CheckViolationError):
        await service.settle_withdrawal(db, user, "USDT", Decimal(1), "nothing-held")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("UPDATE ledger_postings SET amount = amount * 2")
    await service.hold(db, user, "USDT", Decimal(4), "w-1")
    await service.settle_withdrawal(db, user, "USDT", Decimal(4), "w-1")
    assert await service.balances(db, user) == [Balance(asset="USDT", available=Decimal(6), held=Decimal(0))]


def test_the_faucet_is_absent_in_production() -> None:
    production = json.loads(export_openapi())["paths"]
    assert "/api/v1/dev/faucet" not in production
    assert "/api/v1/balances" in production
    dev = create_app(make_settings("postgresql://x@localhost/x", "redis://localhost/0")).openapi()["paths"]
    assert "/api/v1/dev/faucet" in dev
