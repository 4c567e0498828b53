"""The project database is migrated to head and has TimescaleDB."""

from __future__ import annotations

from typing import Any

import asyncpg

from server_fastapi.migrations import head_revision


async def test_timescaledb_extension_is_installed(db: asyncpg.Connection[Any]) -> None:
    version = await db.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    assert version is not None
    assert tuple(int(part) for part in version.split(".")[:2]) >= (2, 13)


async def test_migrations_are_at_head(db: asyncpg.Connection[Any]) -> None:
    assert await db.fetchval("SELECT version_num FROM alembic_version") == head_revision()
