"""`after_commit`: actions run once the transaction commits, never after a rollback, in both kinds of unit of
work (a request's and `transaction()`), and a failing action does not undo or hide the commit."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from server_fastapi.core.db import Pool, after_commit, transaction


@pytest.fixture
async def pool(database_url: str) -> Any:
    created = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert created is not None
    yield created
    await created.close()


async def test_actions_run_after_commit_in_order_and_never_after_rollback(pool: Pool) -> None:
    seen: list[str] = []

    def note(label: str) -> Any:
        async def action(after: Pool) -> None:
            async with after.acquire() as reader:  # the committed state is visible to others by now
                seen.append(f"{label}:{await reader.fetchval('SELECT count(*) FROM after_commit_probe')}")

        return action

    async with pool.acquire() as setup:
        await setup.execute("CREATE TABLE IF NOT EXISTS after_commit_probe (id int)")
        await setup.execute("TRUNCATE after_commit_probe")
    async with transaction(pool) as conn:
        await conn.execute("INSERT INTO after_commit_probe VALUES (1)")
        after_commit(conn, note("first"))
        after_commit(conn, note("second"))
        assert seen == []
    assert seen == ["first:1", "second:1"]

    async def failing_unit_of_work() -> None:
        async with transaction(pool) as conn:
            await conn.execute("INSERT INTO after_commit_probe VALUES (2)")
            after_commit(conn, note("rolled back"))
            raise RuntimeError("the unit of work fails")

    with pytest.raises(RuntimeError):
        await failing_unit_of_work()
    async with transaction(pool) as conn:
        pass  # the same pooled connection again: nothing left over from the rolled-back transaction
    assert seen == ["first:1", "second:1"]


async def test_a_failing_action_neither_undoes_the_commit_nor_stops_the_next(
    pool: Pool, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    async def broken(_pool: Pool) -> None:
        raise ConnectionError("the bus is away")

    async def next_one(_pool: Pool) -> None:
        ran.append("next")

    async with pool.acquire() as setup:
        await setup.execute("CREATE TABLE IF NOT EXISTS after_commit_kept (id int)")
        await setup.execute("TRUNCATE after_commit_kept")
    async with transaction(pool) as conn:
        await conn.execute("INSERT INTO after_commit_kept VALUES (1)")
        after_commit(conn, broken)
        after_commit(conn, next_one)
    assert ran == ["next"]
    assert "an after-commit action failed" in caplog.text
    async with pool.acquire() as reader:
        assert await reader.fetchval("SELECT count(*) FROM after_commit_kept") == 1
