"""Serves the built web app (`frontend/dist`) from the API's own origin, so cookies stay same-site.

It is the router's fallback, not a mount, so it only sees requests no route matches (routes added later
still win). Any GET that names no file gets `index.html`, so the client-side router can handle deep links
such as `/trade/BTC-USDT`; paths under `/api/` and `/ws` never fall back, and other methods stay 404s."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

_NEVER_THE_APP = ("api/", "ws", "docs", "openapi.json", "healthz", "readyz", "metrics")


class WebApp(StaticFiles):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, html=True, check_dir=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=404)
        await super().__call__(scope, receive, send)

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as error:
            if error.status_code != 404 or path.startswith(_NEVER_THE_APP):
                raise
            response = await super().get_response("index.html", scope)
            response.headers["cache-control"] = "no-cache"
            return response
        # Vite puts a content hash in every asset name, so assets never change under the same URL.
        if path.startswith("assets/"):
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        elif path in ("", ".", "index.html"):
            response.headers["cache-control"] = "no-cache"
        return response


def web_app(dist: Path) -> WebApp | None:
    """The router's fallback app, or None when the web app has not been built."""
    return WebApp(dist) if (dist / "index.html").is_file() else None
