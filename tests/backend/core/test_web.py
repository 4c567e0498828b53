"""The API serves the built web app with a client-side-routing fallback that never hides API 404s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests_support import make_settings

from server_fastapi.app import create_app


@pytest.fixture
async def web_client(tmp_path: Path, database_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Tessera</title><div id=app></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('tessera')")
    app = create_app(make_settings(database_url, redis_url, web_dist=tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as client:
            yield client


async def test_deep_links_get_the_app_and_assets_are_immutable(web_client: httpx.AsyncClient) -> None:
    for path in ("/", "/trade/BTC-USDT", "/settings"):
        page = await web_client.get(path)
        assert page.status_code == 200
        assert "<title>Tessera</title>" in page.text
        assert page.headers["cache-control"] == "no-cache"
        assert "default-src 'self'" in page.headers["content-security-policy"]
    asset = await web_client.get("/assets/index-abc123.js")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]


async def test_api_paths_keep_their_problem_404s(web_client: httpx.AsyncClient) -> None:
    for missing in (await web_client.get("/api/v1/no-such-thing"), await web_client.post("/trade/BTC-USDT")):
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
    assert (await web_client.get("/healthz")).json() == {"status": "ok"}
    assert (await web_client.post("/healthz")).status_code == 405
