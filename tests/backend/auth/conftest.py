"""Fixtures of the auth tests: the app with fast (but still OWASP-minimum) Argon2 parameters, and a Redis
database of their own, because the limiter tests count exactly and must not see another test run's flush."""

from __future__ import annotations

import os

import pytest
from redis.asyncio import Redis
from tests_support import make_settings

from server_fastapi.core.settings import Settings

AUTH_REDIS_DB = 2
REDIS_BASE_URL = os.environ.get("TESSERA_TEST_REDIS_URL", "redis://127.0.0.1:56379")


@pytest.fixture
async def redis_url() -> str:
    url = f"{REDIS_BASE_URL}/{AUTH_REDIS_DB}"
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    return url


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(
        database_url, redis_url, argon2_time_cost=2, argon2_memory_kib=19456, argon2_parallelism=1
    )
