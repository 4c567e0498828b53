"""SQL of the markets domain. Every function takes the connection it is given; callers own the transaction.

Candles follow the rules of `analytics` exactly (bucket origin, tie-breaking of open and close, exact VWAP,
omitted gaps), so they equal the Polars candles on the same ticks.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import asyncpg
import polars as pl

from server_fastapi.core.db import Connection
from server_fastapi.markets.analytics import (
    BUCKET_ORIGIN,
    CLOSE_SQL,
    INTERVAL_SQL,
    OPEN_SQL,
    VWAP_SQL,
    Interval,
)

TICK_COLUMNS: Final = ("time", "symbol", "trade_id", "price", "quantity", "taker_side")
TickRecord = tuple[datetime, str, int, Decimal, Decimal, str]

_INSTRUMENT_COLUMNS: Final = (
    "symbol, base_asset, quote_asset, tick_size, lot_size, min_notional, price_band_pct, "
    "maker_fee_rate, taker_fee_rate, status, created_at, updated_at"
)
_UPDATABLE: Final = frozenset(
    {"tick_size", "lot_size", "min_notional", "price_band_pct", "maker_fee_rate", "taker_fee_rate", "status"}
)


# --- instruments ----------------------------------------------------------------------------------


async def list_instruments(conn: Connection) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {_INSTRUMENT_COLUMNS} FROM instruments ORDER BY symbol")  # noqa: S608


async def get_instrument(conn: Connection, symbol: str, *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {_INSTRUMENT_COLUMNS} FROM instruments WHERE symbol = $1{lock}",  # noqa: S608
        symbol,
    )


async def existing_assets(conn: Connection, codes: Sequence[str]) -> set[str]:
    rows = await conn.fetch("SELECT code FROM assets WHERE code = ANY($1::text[])", list(codes))
    return {row["code"] for row in rows}


async def insert_instrument(conn: Connection, values: dict[str, Any]) -> asyncpg.Record | None:
    """The new row, or None when the symbol exists already."""
    return await conn.fetchrow(
        f"""
        INSERT INTO instruments (symbol, base_asset, quote_asset, tick_size, lot_size, min_notional,
                                 price_band_pct, maker_fee_rate, taker_fee_rate, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT ON CONSTRAINT instruments_pkey DO NOTHING
        RETURNING {_INSTRUMENT_COLUMNS}
        """,  # noqa: S608
        values["symbol"],
        values["base_asset"],
        values["quote_asset"],
        values["tick_size"],
        values["lot_size"],
        values["min_notional"],
        values["price_band_pct"],
        values["maker_fee_rate"],
        values["taker_fee_rate"],
        values["status"],
    )


async def update_instrument(conn: Connection, symbol: str, changes: dict[str, Any]) -> asyncpg.Record | None:
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
    names = sorted(changes)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    return await conn.fetchrow(
        f"""
        UPDATE instruments SET {assignments}{", " if assignments else ""}updated_at = now()
        WHERE symbol = $1
        RETURNING {_INSTRUMENT_COLUMNS}
        """,  # noqa: S608
        symbol,
        *(changes[name] for name in names),
    )


# --- market statistics ----------------------------------------------------------------------------


async def market_stats(conn: Connection, since: datetime, symbol: str | None = None) -> list[asyncpg.Record]:
    """Per instrument: the last price ever and open/high/low/volume of trades at or after `since`."""
    return await conn.fetch(
        f"""
        SELECT i.symbol,
               (SELECT t.price FROM ticks t WHERE t.symbol = i.symbol
                ORDER BY t.time DESC, t.trade_id DESC LIMIT 1) AS last,
               s.open, s.high, s.low, coalesce(s.volume, 0) AS volume
        FROM instruments i
        LEFT JOIN LATERAL (
            SELECT {OPEN_SQL} AS open, max(price) AS high, min(price) AS low, sum(quantity) AS volume
            FROM ticks WHERE ticks.symbol = i.symbol AND ticks.time >= $1
        ) s ON true
        WHERE $2::text IS NULL OR i.symbol = $2
        ORDER BY i.symbol
        """,  # noqa: S608
        since,
        symbol,
    )


def _candles_sql(interval: Interval) -> str:
    # The interval comes from a fixed table, never from the request text.
    bucket = f"time_bucket(INTERVAL '{INTERVAL_SQL[interval]}', time, TIMESTAMPTZ '{BUCKET_ORIGIN}')"
    return f"""
        SELECT {bucket} AS time, {OPEN_SQL} AS open, max(price) AS high, min(price) AS low,
               {CLOSE_SQL} AS close, sum(quantity) AS volume, count(*) AS trades, {VWAP_SQL} AS vwap
        FROM ticks
        WHERE symbol = $1 AND time >= $2 AND time < $3
        GROUP BY 1
        ORDER BY 1
        LIMIT $4
    """  # noqa: S608


async def candles(
    conn: Connection, symbol: str, interval: Interval, start: datetime, end: datetime, limit: int
) -> list[asyncpg.Record]:
    """Candles of `[start, end)`, oldest first, at most `limit`."""
    return await conn.fetch(_candles_sql(interval), symbol, start, end, limit)


async def recent_trades(
    conn: Connection, symbol: str, limit: int, before: tuple[datetime, int] | None = None
) -> list[asyncpg.Record]:
    """Newest first; with `before` = (time, trade_id), only trades older than that one."""
    if before is None:
        return await conn.fetch(
            """
            SELECT trade_id, time, price, quantity, taker_side FROM ticks WHERE symbol = $1
            ORDER BY time DESC, trade_id DESC LIMIT $2
            """,
            symbol,
            limit,
        )
    return await conn.fetch(
        """
        SELECT trade_id, time, price, quantity, taker_side FROM ticks
        WHERE symbol = $1 AND (time, trade_id) < ($3, $4)
        ORDER BY time DESC, trade_id DESC LIMIT $2
        """,
        symbol,
        limit,
        before[0],
        before[1],
    )


async def ticks_between(conn: Connection, symbol: str, start: datetime, end: datetime) -> pl.DataFrame:
    """Ticks of `[start, end)` in `(time, trade_id)` order, as a frame for Polars analytics."""
    rows = await conn.fetch(
        """
        SELECT time, trade_id, price, quantity FROM ticks
        WHERE symbol = $1 AND time >= $2 AND time < $3 ORDER BY time, trade_id
        """,
        symbol,
        start,
        end,
    )
    return pl.DataFrame(
        [tuple(row) for row in rows],
        schema={
            "time": pl.Datetime("us", "UTC"),
            "trade_id": pl.Int64,
            "price": pl.Decimal(38, 8),
            "quantity": pl.Decimal(38, 8),
        },
        orient="row",
    )


# --- writing ticks --------------------------------------------------------------------------------

_STAGING: Final = "ticks_staging"


async def _staging(conn: Connection) -> None:
    # Session-local and emptied at commit, so concurrent writers never see each other's rows.
    await conn.execute(
        f"""
        CREATE TEMP TABLE IF NOT EXISTS {_STAGING}
            (LIKE ticks INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
        """
    )


async def _merge_staging(conn: Connection) -> int:
    status = await conn.execute(
        f"""
        INSERT INTO ticks ({", ".join(TICK_COLUMNS)})
        SELECT {", ".join(TICK_COLUMNS)} FROM {_STAGING}
        ON CONFLICT ON CONSTRAINT ticks_pkey DO NOTHING
        """  # noqa: S608
    )
    await conn.execute(f"TRUNCATE {_STAGING}")
    return int(status.rsplit(" ", 1)[-1])


async def copy_ticks(conn: Connection, records: Iterable[TickRecord]) -> int:
    """Write ticks through binary COPY; rows already stored (same symbol, time and trade id) are skipped.
    Returns rows inserted. Call inside a transaction.

    New ticks (the usual case) are copied straight into the hypertable inside a savepoint; when the batch
    holds a tick that is already stored, the savepoint is rolled back and the batch goes through a staging
    table and `INSERT ... ON CONFLICT DO NOTHING` instead."""
    rows = records if isinstance(records, list) else list(records)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("ticks", records=rows, columns=list(TICK_COLUMNS))
        return len(rows)
    except asyncpg.UniqueViolationError:
        pass
    await _staging(conn)
    await conn.copy_records_to_table(_STAGING, records=rows, columns=list(TICK_COLUMNS))
    return await _merge_staging(conn)


def _csv(frame: pl.DataFrame) -> bytes:
    return (
        frame.select(
            pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00"),
            *TICK_COLUMNS[1:],
        )
        .write_csv(include_header=False)
        .encode()
    )


async def copy_ticks_frame(conn: Connection, frame: pl.DataFrame) -> int:
    """`copy_ticks` for a frame of `TICK_SCHEMA` rows: Polars writes CSV, PostgreSQL parses it, no
    Python object per value. Returns rows inserted. Call inside a transaction."""
    data = _csv(frame)
    try:
        async with conn.transaction():
            await conn.copy_to_table(
                "ticks", source=io.BytesIO(data), columns=list(TICK_COLUMNS), format="csv"
            )
        return frame.height
    except asyncpg.UniqueViolationError:
        pass
    await _staging(conn)
    await conn.copy_to_table(_STAGING, source=io.BytesIO(data), columns=list(TICK_COLUMNS), format="csv")
    return await _merge_staging(conn)


async def insert_ticks_row_by_row(conn: Connection, records: Sequence[TickRecord]) -> None:
    """The slow way (`executemany`), kept as the benchmark's baseline."""
    await conn.executemany(
        f"""
        INSERT INTO ticks ({", ".join(TICK_COLUMNS)}) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT ON CONSTRAINT ticks_pkey DO NOTHING
        """,  # noqa: S608
        records,
    )


async def candle_states(
    conn: Connection, symbol: str, interval: Interval, since: datetime
) -> list[asyncpg.Record]:
    """Candles from `since` on with their exact notional (`sum(price * quantity)`), to keep aggregating."""
    bucket = f"time_bucket(INTERVAL '{INTERVAL_SQL[interval]}', time, TIMESTAMPTZ '{BUCKET_ORIGIN}')"
    return await conn.fetch(
        f"""
        SELECT {bucket} AS time, {OPEN_SQL} AS open, max(price) AS high, min(price) AS low,
               {CLOSE_SQL} AS close, sum(quantity) AS volume, count(*) AS trades,
               sum(price * quantity) AS notional
        FROM ticks WHERE symbol = $1 AND time >= $2
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608
        symbol,
        since,
    )


async def last_trade(conn: Connection, symbol: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT time, trade_id FROM ticks WHERE symbol = $1 ORDER BY time DESC, trade_id DESC LIMIT 1",
        symbol,
    )
