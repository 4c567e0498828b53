"""The asyncpg pool and the unit of work.

A handler that needs the database takes `Db`: one pooled connection inside one transaction that commits
when the handler returns and rolls back when it raises, before the response is sent, so a client never
sees success for something that did not commit. Repositories take that connection; services never commit.
A handler that must act on the committed state before it answers (order entry waits for the engine) takes
the same unit of work as `Work` and ends it with `commit()`. Work outside a request (the engine runners,
workers) opens its own with `transaction(pool)`.

`after_commit(connection, action)` runs `action(pool)` once the transaction that connection is in has
committed (never when it rolls back), for news that must not go out about a change that then did not happen:
a service that moves money announces the new balances that way without knowing who ends the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias, cast

import asyncpg
import orjson
from asyncpg.transaction import Transaction
from fastapi import Depends, Request

from server_fastapi.core.settings import DatabaseSettings

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record]
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
    PoolConnectionProxy: TypeAlias = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
else:  # asyncpg's classes are generic only in its stubs
    Connection = asyncpg.Connection
    Pool = asyncpg.Pool
    PoolConnectionProxy = asyncpg.pool.PoolConnectionProxy

logger = logging.getLogger(__name__)

AfterCommit = Callable[[Pool], Awaitable[None]]
# Keyed by the connection object a unit of work hands out; emptied when that unit of work ends.
_after_commit: dict[int, list[AfterCommit]] = {}


def after_commit(connection: Connection, action: AfterCommit) -> None:
    """Run `action` with the pool after the transaction `connection` is in commits (in order of
    registration); dropped if it rolls back. The connection must come from `transaction()` or a request's
    unit of work."""
    _after_commit.setdefault(id(connection), []).append(action)


def _take_after_commit(connection: Connection) -> list[AfterCommit]:
    """The actions registered on `connection`'s transaction; taken before the connection goes back to the
    pool, where the next unit of work may register its own under the same connection."""
    return _after_commit.pop(id(connection), [])


async def _run_after_commit(pool: Pool, actions: list[AfterCommit]) -> None:
    for action in actions:
        try:
            await action(pool)
        except Exception:
            # The change is committed whatever happens to its announcement.
            logger.exception("an after-commit action failed")


async def _init_connection(connection: Connection) -> None:
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name,
            schema="pg_catalog",
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
        )


async def _keep_session(connection: Connection) -> None:
    """What a pooled connection needs on its way back to the pool beyond asyncpg's own rollback of an open
    transaction: nothing. Pooled work keeps no session state (settings are `SET LOCAL`, locks are
    transaction-scoped, LISTEN and session advisory locks live on the engine lease's own connection), so the
    default `RESET ALL; UNLISTEN *; ...` would be a wasted round trip on every request."""


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
        reset=_keep_session,
        server_settings={"application_name": "tessera-api", "timezone": "UTC"},
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> Connection:
    """A single connection with the same codecs as the pool (CLI commands, tests, workers)."""
    connection: Connection = await asyncpg.connect(dsn, server_settings={"timezone": "UTC"})
    await _init_connection(connection)
    return connection


@asynccontextmanager
async def acquire(pool: Pool) -> AsyncIterator[Connection]:
    """A pooled connection outside any transaction (reads that need no snapshot, after a commit)."""
    async with pool.acquire() as proxy:
        yield cast(Connection, proxy)  # the pool's proxy behaves as the connection it wraps


@asynccontextmanager
async def transaction(
    pool: Pool,
    *,
    isolation: Literal["read_committed", "repeatable_read"] = "read_committed",
    readonly: bool = False,
) -> AsyncIterator[Connection]:
    """A pooled connection inside one transaction, for units of work that no request owns."""
    async with pool.acquire() as proxy:
        connection = cast(Connection, proxy)  # the pool's proxy behaves as the connection it wraps
        try:
            async with connection.transaction(isolation=isolation, readonly=readonly):
                yield connection
        finally:
            actions = _take_after_commit(connection)
    # After the connection is back in the pool (an action may need one of its own), and only on commit.
    await _run_after_commit(pool, actions)


class UnitOfWork:
    """The request's transaction. It commits when the handler returns unless the handler ended it
    earlier with `commit()`, which also gives the connection back to the pool."""

    def __init__(self, pool: Pool, proxy: PoolConnectionProxy, transaction: Transaction) -> None:
        self.pool = pool
        self._proxy = proxy
        self.connection = cast(Connection, proxy)
        self._transaction = transaction
        self._ended = False

    async def commit(self) -> None:
        await self.end(commit=True)

    async def end(self, *, commit: bool) -> None:
        if self._ended:
            return
        self._ended = True
        actions = _take_after_commit(self.connection)
        try:
            await (self._transaction.commit() if commit else self._transaction.rollback())
        finally:
            await self.pool.release(self._proxy)
        if commit:
            await _run_after_commit(self.pool, actions)


async def _unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    pool: Pool = request.app.state.tessera.pool
    proxy = await pool.acquire()
    transaction = proxy.transaction()
    try:
        await transaction.start()
    except BaseException:
        await pool.release(proxy)
        raise
    unit = UnitOfWork(pool, proxy, transaction)
    try:
        yield unit
    except BaseException:
        await unit.end(commit=False)
        raise
    await unit.end(commit=True)


Work = Annotated[UnitOfWork, Depends(_unit_of_work, scope="function")]


async def _connection(unit: Work) -> Connection:
    return unit.connection


Db = Annotated[Connection, Depends(_connection, scope="function")]
