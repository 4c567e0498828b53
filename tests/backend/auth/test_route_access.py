"""Every route declares who may call it. These walks cover every route in the contract, including routes
added later by other domains: without credentials each answers 401 unless it is in the public list, and a
trader gets 403 from every route that is not for traders."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from auth_support import bearer, login, make_account
from fastapi import FastAPI
from tests_support import assert_problem

from server_fastapi.core.principal import Role
from server_fastapi.core.security import PUBLIC_ROUTES, declared_access, is_public_route
from server_fastapi.core.settings import Settings

METHODS = ("get", "post", "put", "patch", "delete")


def _example(parameter: dict[str, Any]) -> str:
    schema = parameter.get("schema", {})
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return "1"
    return "BTC-USDT"


def operations(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path template, concrete path) of every operation in the app's OpenAPI document."""
    spec = app.openapi()
    found = []
    for template, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            path = template
            for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
                if parameter["in"] == "path":
                    path = path.replace("{" + parameter["name"] + "}", _example(parameter))
            found.append((method.upper(), template, path))
    return found


async def _call(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        return await client.request(method, path, json={}, **kwargs)
    return await client.request(method, path, **kwargs)


async def test_every_route_without_credentials_is_401_unless_public(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    walked = operations(app)
    assert len(walked) > 10
    checked_public = 0
    for method, template, path in walked:
        if is_public_route(method, template):
            checked_public += 1
            continue
        response = await _call(client, method, path)
        assert response.status_code == 401, f"{method} {template} answered {response.status_code} unsigned"
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert checked_public >= 3


def test_every_non_public_route_declares_its_access_through_the_security_dependencies(app: FastAPI) -> None:
    declared = declared_access(app)
    assert {(method, path) for method, path, _ in declared} >= {
        (method, template) for method, template, _ in operations(app)
    }
    undeclared = [
        f"{method} {path}"
        for method, path, access in declared
        if not is_public_route(method, path) and not access.authenticated
    ]
    assert undeclared == []


def test_the_public_list_is_explicit_and_small() -> None:
    assert ("POST", "/api/v1/auth/login") in PUBLIC_ROUTES
    assert ("POST", "/api/v1/auth/register") in PUBLIC_ROUTES
    assert ("POST", "/api/v1/auth/refresh") in PUBLIC_ROUTES
    assert ("GET", "/healthz") in PUBLIC_ROUTES
    assert not is_public_route("POST", "/api/v1/auth/logout")
    assert not is_public_route("GET", "/api/v1/me")
    assert not is_public_route("POST", "/api/v1/markets/BTC-USDT")  # market data is public to read only
    assert is_public_route("GET", "/api/v1/markets/{symbol}/ticker")


def non_trader_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    restricted = {
        (method, path)
        for method, path, access in declared_access(app)
        if access.roles is not None and Role.TRADER not in access.roles
    }
    return [op for op in operations(app) if (op[0], op[1]) in restricted]


async def test_every_non_trader_route_refuses_a_trader_with_403(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    trader = await make_account(settings, role=Role.TRADER)
    tokens = await login(client, trader)
    client.cookies.clear()
    walked = non_trader_routes(app)
    assert walked, "no route is restricted to compliance or admin; the walk would prove nothing"
    for method, template, path in walked:
        response = await _call(client, method, path, headers=bearer(tokens["access_token"]))
        assert response.status_code == 403, f"{method} {template} answered {response.status_code} to a trader"
        assert_problem(response, 403, "role-required")


@pytest.mark.parametrize("role", [Role.COMPLIANCE, Role.ADMIN])
async def test_the_roles_a_route_names_are_let_through(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, role: Role
) -> None:
    person = await make_account(settings, role=role)
    tokens = await login(client, person)
    client.cookies.clear()
    allowed = {
        (method, path)
        for method, path, access in declared_access(app)
        if access.roles is not None and role in access.roles
    }
    for method, template, path in operations(app):
        if (method, template) in allowed:
            response = await _call(client, method, path, headers=bearer(tokens["access_token"]))
            assert response.status_code not in (401, 403), f"{method} {template}: {response.text}"
