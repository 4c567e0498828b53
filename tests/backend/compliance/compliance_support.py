"""Helpers of the compliance API tests: accounts made through the auth service, sign-in, problem checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI

from server_fastapi.auth import service as auth_service
from server_fastapi.core.db import connect
from server_fastapi.core.principal import Role
from server_fastapi.core.settings import Settings

PASSWORD = "correct-Horse-battery-42"
FAST_ARGON2: dict[str, Any] = {"argon2_time_cost": 2, "argon2_memory_kib": 19456, "argon2_parallelism": 1}


@dataclass(frozen=True)
class Account:
    id: UUID
    email: str
    password: str
    role: Role


async def make_account(
    settings: Settings,
    *,
    role: Role = Role.TRADER,
    display_name: str = "Test Person",
    email: str | None = None,
) -> Account:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.test"
    conn = await connect(settings.database_url.get_secret_value())
    try:
        async with conn.transaction():
            user = await auth_service.create_user(
                conn, settings, email=email, password=PASSWORD, display_name=display_name, role=role
            )
    finally:
        await conn.close()
    return Account(id=user.id, email=email, password=PASSWORD, role=role)


def client_for(app: FastAPI, *, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://tessera.test")


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Bearer headers of a fresh session."""
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class Trader:
    """A signed-in, funded account placing BTC-USDT limit orders through the API from a client address."""

    def __init__(self, app: FastAPI, account: Account, ip: str) -> None:
        self.account = account
        self.client = client_for(app, ip=ip)
        self.headers: dict[str, str] = {}

    async def start(self, **funds: str) -> Trader:
        self.headers = await sign_in(self.client, self.account.email)
        for asset, amount in funds.items():
            response = await self.client.post(
                "/api/v1/dev/faucet", json={"asset": asset, "amount": amount}, headers=self.headers
            )
            assert response.status_code == 200, response.text
        return self

    async def order(self, side: str, quantity: str = "0.1", price: str = "60000") -> int:
        body = {"symbol": "BTC-USDT", "side": side, "type": "limit", "price": price, "quantity": quantity}
        response = await self.client.post("/api/v1/orders", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        order_id: int = response.json()["id"]
        return order_id


def natural_person(
    *,
    surname: str = "Lovelace",
    given: str = "Augusta Ada",
    street: str = "Dorset Street",
    town: str = "Marylebone",
    birth_date: str = "1815-12-10",
) -> dict[str, Any]:
    """A valid IVMS101.2023 NaturalPerson (an originator: address, customer id and birth data present)."""
    return {
        "name": {
            "nameIdentifier": [
                {
                    "primaryIdentifier": surname,
                    "secondaryIdentifier": given,
                    "naturalPersonNameIdentifierType": "LEGL",
                }
            ]
        },
        "geographicAddress": [
            {
                "addressType": "HOME",
                "streetName": street,
                "buildingNumber": "12",
                "townName": town,
                "country": "GB",
            }
        ],
        "customerIdentification": "C-1815",
        "dateAndPlaceOfBirth": {"dateOfBirth": birth_date, "placeOfBirth": "London"},
        "countryOfResidence": "GB",
    }
