"""The ticks hypertable, SQL candles against Polars, idempotent COPY writes and the tick writer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import polars as pl
import pytest

from server_fastapi.core.bus import EventBus
from server_fastapi.core.db import Connection, connect
from server_fastapi.core.problems import NotFound
from server_fastapi.markets import repository, service
from server_fastapi.markets.analytics import INTERVALS, candles
from server_fastapi.markets.events import TradeTick, ticks_channel
from server_fastapi.markets.feed import FeedInstrument, simulate_frame
from server_fastapi.markets.repository import TickRecord
from server_fastapi.markets.schemas import InstrumentCreate, InstrumentStatus, InstrumentUpdate
from server_fastapi.markets.writer import TickWriter

FEED = [
    FeedInstrument(
        symbol="BTC-USDT",
        start_price=Decimal("65000"),
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.00001"),
        trades_per_second=0.05,
    ),
    FeedInstrument(
        symbol="ETH-BTC",
        start_price=Decimal("0.054"),
        tick_size=Decimal("0.00001"),
        lot_size=Decimal("0.0001"),
        trades_per_second=0.05,
    ),
]
START = datetime(2025, 3, 1, 22, 17, 3, tzinfo=UTC)
FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def ten_thousand_ticks() -> pl.DataFrame:
    """10,000 ticks over about 28 hours; every 37th trade shares the time of the one before it, so the
    trade id must break ties for open and close."""
    frame = simulate_frame(FEED, seed=11, start=START, count=10_000).sort("symbol", "time", "trade_id")
    tie = pl.int_range(pl.len()).over("symbol") % 37 == 36
    return frame.with_columns(
        pl.when(tie).then(pl.col("time").shift(1).over("symbol")).otherwise(pl.col("time")).alias("time")
    )


def records(frame: pl.DataFrame) -> list[TickRecord]:
    return [tuple(row) for row in frame.iter_rows()]  # type: ignore[misc]


def sql_rows(rows: Sequence[asyncpg.Record]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in rows]


async def test_ticks_is_a_hypertable_chunked_by_time_and_partitioned_by_symbol(
    db: asyncpg.Connection,
) -> None:
    dimensions = await db.fetch(
        """
        SELECT column_name, dimension_type, num_partitions
        FROM timescaledb_information.dimensions WHERE hypertable_name = 'ticks' ORDER BY dimension_number
        """
    )
    assert [(d["column_name"], d["dimension_type"]) for d in dimensions] == [
        ("time", "Time"),
        ("symbol", "Space"),
    ]
    assert dimensions[1]["num_partitions"] >= 2


async def test_seeded_instruments(db: asyncpg.Connection) -> None:
    instruments = {i.symbol: i for i in await service.list_instruments(db)}
    assert {"BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC"} <= set(instruments)
    btc = instruments["BTC-USDT"]
    assert (btc.base_asset, btc.quote_asset, btc.tick_size, btc.lot_size) == (
        "BTC",
        "USDT",
        Decimal("0.01"),
        Decimal("0.00001"),
    )
    assert btc.status is InstrumentStatus.TRADING
    with pytest.raises(NotFound):
        await service.get_instrument(db, "DOGE-USDT")


async def test_candles_from_sql_equal_candles_from_polars_for_every_interval(db: asyncpg.Connection) -> None:
    ticks = ten_thousand_ticks()
    async with db.transaction():
        assert await repository.copy_ticks_frame(db, ticks) == 10_000
    for symbol in ("BTC-USDT", "ETH-BTC"):
        for interval in INTERVALS:
            expected = candles(ticks.filter(pl.col("symbol") == symbol).drop("symbol"), interval)
            rows = await repository.candles(db, symbol, interval, FAR_PAST, FAR_FUTURE, 100_000)
            assert sql_rows(rows) == [tuple(row) for row in expected.iter_rows()], (symbol, interval)
            assert len(rows) > 1


async def test_a_batch_written_twice_stays_once(db: asyncpg.Connection) -> None:
    batch = records(ten_thousand_ticks().head(500))
    async with db.transaction():
        assert await repository.copy_ticks(db, batch) == 500
    async with db.transaction():
        assert await repository.copy_ticks(db, batch) == 0
    async with db.transaction():  # the frame path and duplicates inside one batch too
        assert await repository.copy_ticks_frame(db, ten_thousand_ticks().head(600)) == 100
    async with db.transaction():
        assert await repository.copy_ticks(db, batch[:10] + batch[:10]) == 0
    assert await db.fetchval("SELECT count(*) FROM ticks") == 600


async def test_the_copy_and_row_by_row_paths_store_the_same_rows(db: asyncpg.Connection) -> None:
    batch = records(ten_thousand_ticks().head(50))
    async with db.transaction():
        await repository.copy_ticks(db, batch[:25])
        await repository.insert_ticks_row_by_row(db, batch[25:])
    stored = await db.fetch(
        "SELECT time, symbol, trade_id, price, quantity, taker_side FROM ticks ORDER BY symbol, time"
    )
    assert sorted(sql_rows(stored)) == sorted(batch)


def tick(n: int, symbol: str = "BTC-USDT") -> TradeTick:
    return TradeTick(
        symbol=symbol,
        trade_id=n,
        time=datetime(2025, 1, 1, 0, 0, n % 60, n, tzinfo=UTC),
        price=Decimal("100.5") + n,
        quantity=Decimal("0.001"),
        taker_side="buy" if n % 2 else "sell",
    )


async def test_the_tick_writer_batches_and_writes_each_tick_once(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    bus = EventBus(process_id="test")
    written: list[int] = []

    async def write(batch: Sequence[TickRecord]) -> int:
        async with pool.acquire() as conn, conn.transaction():
            count = await repository.copy_ticks(conn, batch)  # type: ignore[arg-type]
        written.append(len(batch))
        return count

    writer = TickWriter(write, max_batch=100, flush_seconds=0.05)
    channels = [ticks_channel(bus, "BTC-USDT"), ticks_channel(bus, "ETH-USDT")]
    writer.follow(channels)
    for n in range(1, 301):
        await channels[n % 2].publish(tick(n, "BTC-USDT" if n % 2 == 0 else "ETH-USDT"))
    for n in range(2, 51, 2):  # published again: stored once
        await channels[0].publish(tick(n))
    await writer.flush()
    await writer.close()
    assert await pool.fetchval("SELECT count(*) FROM ticks") == 300
    assert writer.stats.written == 300
    assert writer.stats.duplicates == 25
    assert max(written) <= 100
    await bus.close()
    await pool.close()


async def test_a_failing_batch_is_retried_then_reported_never_lost_silently() -> None:
    bus = EventBus(process_id="test")
    attempts: list[int] = []
    stored: list[TickRecord] = []

    async def flaky(batch: Sequence[TickRecord]) -> int:
        attempts.append(len(batch))
        if len(attempts) <= 2:
            raise ConnectionResetError("database went away")
        stored.extend(batch)
        return len(batch)

    writer = TickWriter(flaky, max_batch=50, flush_seconds=0.01, retries=3, retry_delay=0.001)
    channel = ticks_channel(bus, "BTC-USDT")
    writer.follow([channel])
    for n in range(1, 41):
        await channel.publish(tick(n))
    await writer.flush()
    assert len(stored) == 40
    assert writer.stats.retries == 2
    assert writer.stats.failed_batches == 0

    async def broken(batch: Sequence[TickRecord]) -> int:
        raise ConnectionResetError("still down")

    writer._write = broken
    for n in range(41, 51):
        await channel.publish(tick(n))
    await writer.flush()
    await writer.close()
    assert writer.stats.failed_batches == 1
    assert writer.stats.failed_ticks == 10
    assert [record[2] for record in writer.failed[0]] == list(range(41, 51))
    await bus.close()


async def test_ticks_bridged_from_another_process_are_left_to_their_publisher() -> None:
    bus = EventBus(process_id="test")
    stored: list[TickRecord] = []

    async def write(batch: Sequence[TickRecord]) -> int:
        stored.extend(batch)
        return len(batch)

    writer = TickWriter(write, flush_seconds=0.01)
    channel = ticks_channel(bus, "BTC-USDT")
    writer.follow([channel])
    await channel.publish(tick(1))
    await channel.publish(tick(2), origin="another-process")
    await writer.flush()
    await writer.close()
    assert [record[2] for record in stored] == [1]
    await bus.close()


async def test_admin_instrument_changes(database_url: str) -> None:
    # The app's own codecs (jsonb as Python objects), as the API's pool has them.
    db = await connect(database_url)
    try:
        await _admin_instrument_changes(db)
    finally:
        await db.close()


async def _admin_instrument_changes(db: Connection) -> None:
    created = await service.create_instrument(
        db,
        InstrumentCreate(
            base_asset="SOL",
            quote_asset="BTC",
            tick_size=Decimal("0.0000001"),
            lot_size=Decimal("0.01"),
            min_notional=Decimal("0.0001"),
            price_band_pct=Decimal("15"),
            maker_fee_rate=Decimal("0.0008"),
            taker_fee_rate=Decimal("0.001"),
        ),
        actor_id=None,
    )
    assert created.symbol == "SOL-BTC"
    halted = await service.set_status(db, "SOL-BTC", InstrumentStatus.HALTED, actor_id=None)
    assert halted.status is InstrumentStatus.HALTED
    changed = await service.update_instrument(
        db, "SOL-BTC", InstrumentUpdate(taker_fee_rate=Decimal("0.002")), actor_id=None
    )
    assert changed.taker_fee_rate == Decimal("0.002")
    assert changed.updated_at >= created.updated_at
    audited = await db.fetch("SELECT action, subject, details FROM audit_log ORDER BY id")
    assert [(row["action"], row["subject"]) for row in audited] == [
        ("markets.instrument.created", "SOL-BTC"),
        ("markets.instrument.updated", "SOL-BTC"),
        ("markets.instrument.updated", "SOL-BTC"),
    ]
    assert audited[1]["details"] == {"status": "halted"}
    await asyncio.sleep(0)
