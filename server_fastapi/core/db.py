"""The asyncpg pool and the per-request unit of work.

A handler that needs the database takes `Db`: one pooled connection inside one transaction that commits
when the handler returns and rolls back when it raises, before the response is sent, so a client never
sees success for something that did not commit. Repositories take that connection; services never commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, TypeAlias, cast

import asyncpg
import orjson
from fastapi import Depends, Request

from server_fastapi.core.settings import DatabaseSettings

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record]
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
else:  # asyncpg's classes are generic only in its stubs
    Connection = asyncpg.Connection
    Pool = asyncpg.Pool


async def _init_connection(connection: Connection) -> None:
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name,
            schema="pg_catalog",
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
        )


async def create_pool(settings: DatabaseSettings) -> Pool:
    """A pool that connects lazily (min size 0 by default) so the API starts, and reports not-ready,
    while PostgreSQL is still coming up."""
    pool = await asyncpg.create_pool(
        settings.database_url.get_secret_value(),
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        command_timeout=settings.db_command_timeout,
        max_inactive_connection_lifetime=60.0,
        init=_init_connection,
        server_settings={"application_name": "tessera-api", "timezone": "UTC"},
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> Connection:
    """A single connection with the same codecs as the pool (CLI commands, tests, workers)."""
    connection: Connection = await asyncpg.connect(dsn, server_settings={"timezone": "UTC"})
    await _init_connection(connection)
    return connection


async def _unit_of_work(request: Request) -> AsyncIterator[Connection]:
    pool: Pool = request.app.state.tessera.pool
    async with pool.acquire() as connection, connection.transaction():
        # The pool hands out a proxy that behaves as the connection it wraps.
        yield cast(Connection, connection)


Db = Annotated[Connection, Depends(_unit_of_work, scope="function")]
