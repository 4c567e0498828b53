"""Fixtures shared by every Python test: real PostgreSQL (TimescaleDB) and Redis from `infra/local.sh`.

Migrations run once per session into a template database; each test that asks for `database_url` gets a
fresh database cloned from it, so tests cannot leak into each other. Redis tests use database 1 (dev uses 0)
and start from an empty one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from tests_support import make_settings

from server_fastapi.app import create_app
from server_fastapi.core.settings import Settings
from server_fastapi.migrations import upgrade

ADMIN_DSN = os.environ.get(
    "TESSERA_TEST_DATABASE_URL", "postgresql://tessera:tessera@127.0.0.1:55432/postgres"
)
REDIS_BASE_URL = os.environ.get("TESSERA_TEST_REDIS_URL", "redis://127.0.0.1:56379")
TEST_REDIS_DB = 1


def database_dsn(name: str) -> str:
    base, _, _ = ADMIN_DSN.rpartition("/")
    return f"{base}/{name}"


async def _admin() -> asyncpg.Connection[Any]:
    return await asyncpg.connect(ADMIN_DSN)


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    """A migrated database used as the template of every test database."""
    import asyncio

    name = f"tessera_template_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        admin = await _admin()
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    async def seal() -> None:
        # TimescaleDB's background workers keep a connection to databases that allow connections, which
        # would make every CREATE DATABASE ... TEMPLATE fail; a sealed template has none.
        admin = await _admin()
        try:
            await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
        finally:
            await admin.close()

    async def drop() -> None:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(create())
    upgrade(database_dsn(name))
    asyncio.run(seal())
    yield name
    asyncio.run(drop())


@pytest.fixture
async def database_url(template_database: str) -> AsyncIterator[str]:
    name = f"tessera_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    finally:
        await admin.close()
    yield database_dsn(name)
    admin = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


@pytest.fixture
async def redis_url() -> str:
    url = f"{REDIS_BASE_URL}/{TEST_REDIS_DB}"
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    return url


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        yield http
