"""Helpers of the auth tests: accounts made through the real service, sign-in, problem checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI

from server_fastapi.auth import service
from server_fastapi.core.db import connect
from server_fastapi.core.principal import Role
from server_fastapi.core.settings import Settings

PASSWORD = "correct-Horse-battery-42"


@dataclass(frozen=True)
class Account:
    id: UUID
    email: str
    password: str
    role: Role


async def make_account(settings: Settings, *, role: Role = Role.TRADER, password: str = PASSWORD) -> Account:
    email = f"user-{uuid.uuid4().hex[:10]}@example.test"
    conn = await connect(settings.database_url.get_secret_value())
    try:
        async with conn.transaction():
            user = await service.create_user(
                conn, settings, email=email, password=password, display_name="Test Person", role=role
            )
    finally:
        await conn.close()
    return Account(id=user.id, email=email, password=password, role=role)


def client_from(app: FastAPI, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://tessera.test")


async def login(client: httpx.AsyncClient, account: Account, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password, **extra}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
