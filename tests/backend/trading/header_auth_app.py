"""The API with header sign-in (`X-Test-User`), for tests and benchmarks that run it in a real server
process (Granian, Uvicorn): `header_auth_app:create_app` with this folder on PYTHONPATH."""

from __future__ import annotations

from fastapi import FastAPI
from trading_support import use_header_auth

from server_fastapi.app import create_app as create_api


def create_app() -> FastAPI:
    app = create_api()
    use_header_auth(app)
    return app
