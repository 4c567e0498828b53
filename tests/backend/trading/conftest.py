"""Fixtures of the trading tests that run the API: header sign-in and a funded-account factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from trading_support import use_header_auth


@pytest.fixture
async def api(app: FastAPI) -> FastAPI:
    use_header_auth(app)
    return app


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()
