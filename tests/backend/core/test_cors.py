"""Browsers on an allowed origin may call every method the API serves (admin instrument updates are PATCH)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests_support import make_settings

from server_fastapi.app import create_app

ORIGIN = "https://app.tessera.test"


@pytest.fixture
async def cors_app() -> AsyncIterator[tuple[httpx.AsyncClient, list[tuple[str, str]]]]:
    # Preflights are answered by the middleware before any route runs: no database or Redis is touched.
    settings = make_settings("postgresql://unused:unused@127.0.0.1:1/unused", "redis://127.0.0.1:1/0")
    app = create_app(settings.model_copy(update={"cors_origins": [ORIGIN]}))
    routes = [
        (path, method.upper())
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method.upper() not in {"HEAD", "OPTIONS"}
    ]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as client:
        yield client, routes


async def test_preflight_allows_patch_for_admin_instrument_updates(
    cors_app: tuple[httpx.AsyncClient, list[tuple[str, str]]],
) -> None:
    client, _ = cors_app
    response = await client.options(
        "/api/v1/admin/instruments/BTC-USDT",
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "PATCH",
            "access-control-request-headers": "content-type, x-csrf-token",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_preflight_allows_every_method_a_route_serves(
    cors_app: tuple[httpx.AsyncClient, list[tuple[str, str]]],
) -> None:
    client, routes = cors_app
    methods = {method for _, method in routes}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods
    for path, method in routes:
        response = await client.options(
            path, headers={"origin": ORIGIN, "access-control-request-method": method}
        )
        assert response.status_code == 200, (path, method, response.text)


async def test_preflight_from_another_origin_is_refused(
    cors_app: tuple[httpx.AsyncClient, list[tuple[str, str]]],
) -> None:
    client, _ = cors_app
    response = await client.options(
        "/api/v1/admin/instruments/BTC-USDT",
        headers={"origin": "https://evil.test", "access-control-request-method": "PATCH"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
