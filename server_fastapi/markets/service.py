"""Market data logic: instruments, markets with 24-hour statistics, tickers, candles, trades, indicators.

Other domains use `get_instrument` / `list_instruments` (the trading engine validates orders against them).
The 24-hour window is counted in whole minutes: it starts 24 hours before the start of the current minute,
so the HTTP ticker (SQL) and the live ticker (in memory, from one-minute buckets) agree.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Protocol
from uuid import UUID

import asyncpg
import polars as pl

from server_fastapi.core.audit import record_audit
from server_fastapi.core.db import Connection
from server_fastapi.core.problems import Conflict, FieldError, InvalidInput, NotFound
from server_fastapi.markets import analytics, repository
from server_fastapi.markets.analytics import INTERVAL_SECONDS, Interval
from server_fastapi.markets.schemas import (
    Candle,
    CandleList,
    IndicatorList,
    IndicatorRow,
    Instrument,
    InstrumentCreate,
    InstrumentStatus,
    InstrumentUpdate,
    Market,
    Ticker,
    Trade,
    TradeList,
)

CHANGE_SCALE: Final = Decimal("0.00000001")
WINDOW_24H: Final = timedelta(hours=24)
MAX_CANDLES: Final = 1000
MAX_TRADES: Final = 1000
INDICATOR_WARMUP_CANDLES: Final = 1000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class BookSource(Protocol):
    """Where the ticker finds the best bid and ask; the trading domain provides the real one."""

    def best_bid_ask(self, symbol: str) -> tuple[Decimal | None, Decimal | None]: ...


class NoBook:
    """Before the trading engine runs there is no book: best bid and ask are null."""

    def best_bid_ask(self, symbol: str) -> tuple[Decimal | None, Decimal | None]:
        return None, None


# --- instruments ----------------------------------------------------------------------------------


def _instrument(row: asyncpg.Record) -> Instrument:
    return Instrument.model_validate(dict(row))


async def get_instrument(conn: Connection, symbol: str) -> Instrument:
    """The instrument, or a 404 `NotFound` problem."""
    row = await repository.get_instrument(conn, symbol)
    if row is None:
        raise NotFound(f"No market {symbol!r}.", symbol=symbol)
    return _instrument(row)


async def list_instruments(conn: Connection) -> list[Instrument]:
    return [_instrument(row) for row in await repository.list_instruments(conn)]


async def create_instrument(conn: Connection, body: InstrumentCreate, *, actor_id: UUID | None) -> Instrument:
    known = await repository.existing_assets(conn, [body.base_asset, body.quote_asset])
    errors = [
        FieldError(
            location="body", pointer=f"/{name}", detail=f"unknown asset {code!r}", code="unknown_asset"
        )
        for name, code in (("base_asset", body.base_asset), ("quote_asset", body.quote_asset))
        if code not in known
    ]
    if body.base_asset == body.quote_asset:
        errors.append(
            FieldError(location="body", pointer="/quote_asset", detail="must differ from base", code="same")
        )
    if errors:
        raise InvalidInput("The instrument is invalid.", errors=errors)
    values = body.model_dump()
    values["symbol"] = f"{body.base_asset}-{body.quote_asset}"
    values["status"] = body.status.value
    row = await repository.insert_instrument(conn, values)
    if row is None:
        raise Conflict(f"Market {values['symbol']!r} exists already.", symbol=values["symbol"])
    await record_audit(
        conn,
        actor_id=actor_id,
        action="markets.instrument.created",
        subject=values["symbol"],
        details=body.model_dump(mode="json"),
    )
    return _instrument(row)


async def update_instrument(
    conn: Connection, symbol: str, body: InstrumentUpdate, *, actor_id: UUID | None
) -> Instrument:
    """Apply an administrator's change; every configuration change lands in the audit log."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    if "status" in changes:
        changes["status"] = InstrumentStatus(changes["status"]).value
    await get_instrument(conn, symbol)
    row = await repository.update_instrument(conn, symbol, changes)
    assert row is not None
    await record_audit(
        conn,
        actor_id=actor_id,
        action="markets.instrument.updated",
        subject=symbol,
        details=body.model_dump(mode="json", exclude_unset=True, exclude_none=True),
    )
    return _instrument(row)


async def set_status(
    conn: Connection, symbol: str, status: InstrumentStatus, *, actor_id: UUID | None
) -> Instrument:
    return await update_instrument(conn, symbol, InstrumentUpdate(status=status), actor_id=actor_id)


# --- markets and tickers --------------------------------------------------------------------------


def window_start(now: datetime) -> datetime:
    """Start of the 24-hour window: 24 hours before the start of `now`'s minute."""
    return now.replace(second=0, microsecond=0) - WINDOW_24H


def change(last: Decimal | None, open_: Decimal | None) -> Decimal | None:
    if last is None or open_ is None or open_ == 0:
        return None
    return ((last - open_) / open_).quantize(CHANGE_SCALE)


async def list_markets(conn: Connection, now: datetime) -> list[Market]:
    instruments = {i.symbol: i for i in await list_instruments(conn)}
    markets = []
    for stats in await repository.market_stats(conn, window_start(now)):
        instrument = instruments[stats["symbol"]]
        markets.append(
            Market(
                **instrument.model_dump(),
                last=stats["last"],
                change_24h=change(stats["last"], stats["open"]),
                volume_24h=stats["volume"],
            )
        )
    return markets


async def get_market(conn: Connection, symbol: str, now: datetime) -> Market:
    instrument = await get_instrument(conn, symbol)
    (stats,) = await repository.market_stats(conn, window_start(now), symbol)
    return Market(
        **instrument.model_dump(),
        last=stats["last"],
        change_24h=change(stats["last"], stats["open"]),
        volume_24h=stats["volume"],
    )


async def get_ticker(conn: Connection, symbol: str, now: datetime, book: BookSource) -> Ticker:
    await get_instrument(conn, symbol)
    (stats,) = await repository.market_stats(conn, window_start(now), symbol)
    best_bid, best_ask = book.best_bid_ask(symbol)
    return Ticker(
        symbol=symbol,
        last=stats["last"],
        open_24h=stats["open"],
        high_24h=stats["high"],
        low_24h=stats["low"],
        volume_24h=stats["volume"],
        change_24h=change(stats["last"], stats["open"]),
        best_bid=best_bid,
        best_ask=best_ask,
    )


# --- candles, trades, indicators ------------------------------------------------------------------


def bucket_start(time: datetime, interval: Interval) -> datetime:
    seconds = INTERVAL_SECONDS[interval]
    elapsed = (time - _EPOCH) // timedelta(seconds=1)
    return _EPOCH + timedelta(seconds=elapsed - elapsed % seconds)


def candle_range(
    interval: Interval, start: datetime | None, end: datetime | None, limit: int, now: datetime
) -> tuple[datetime, datetime]:
    """`[start, end)` of a candles request: the `limit` buckets up to `end` (default: now, so the
    forming candle is included), or the `limit` buckets from `start` when `end` is not given."""
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    if start is not None and end is not None and start >= end:
        raise InvalidInput(
            "The time range is inverted.",
            errors=[
                FieldError(
                    location="query", pointer="/start", detail="must be before end", code="range_inverted"
                )
            ],
        )
    if start is None:
        end = end or now
        last_bucket = bucket_start(end - timedelta(microseconds=1), interval)
        return last_bucket - step * (limit - 1), end
    # At most `limit` buckets from start, so a wide range never scans more than it returns.
    cap = bucket_start(start, interval) + step * limit
    return start, cap if end is None else min(end, cap)


def _candle(row: asyncpg.Record) -> Candle:
    return Candle.model_validate(dict(row))


async def get_candles(
    conn: Connection,
    symbol: str,
    interval: Interval,
    *,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    now: datetime,
) -> CandleList:
    await get_instrument(conn, symbol)
    first, last = candle_range(interval, start, end, limit, now)
    rows = await repository.candles(conn, symbol, interval, first, last, limit)
    return CandleList(symbol=symbol, interval=interval, items=[_candle(row) for row in rows])


def encode_cursor(time: datetime, trade_id: int) -> str:
    micros = (time - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}:{trade_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        micros, trade_id = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        return _EPOCH + timedelta(microseconds=int(micros)), int(trade_id)
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise InvalidInput(
            "The cursor is not one this API returned.",
            errors=[
                FieldError(location="query", pointer="/cursor", detail="malformed cursor", code="cursor")
            ],
        ) from None


async def get_trades(conn: Connection, symbol: str, *, limit: int, cursor: str | None) -> TradeList:
    await get_instrument(conn, symbol)
    before = decode_cursor(cursor) if cursor else None
    rows = await repository.recent_trades(conn, symbol, limit + 1, before)
    items = [Trade.model_validate(dict(row)) for row in rows[:limit]]
    next_cursor = encode_cursor(items[-1].time, items[-1].trade_id) if len(rows) > limit else None
    return TradeList(items=items, next_cursor=next_cursor)


def candles_frame(rows: Sequence[asyncpg.Record]) -> pl.DataFrame:
    return pl.DataFrame(
        [tuple(row) for row in rows],
        schema={
            "time": pl.Datetime("us", "UTC"),
            "open": pl.Decimal(38, 8),
            "high": pl.Decimal(38, 8),
            "low": pl.Decimal(38, 8),
            "close": pl.Decimal(38, 8),
            "volume": pl.Decimal(38, 8),
            "trades": pl.Int64,
            "vwap": pl.Decimal(38, 8),
        },
        orient="row",
    )


async def get_indicators(
    conn: Connection,
    symbol: str,
    interval: Interval,
    indicators: str,
    *,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    now: datetime,
) -> IndicatorList:
    """Indicators over candles of the requested range, computed with enough earlier candles that the
    first requested one already has its full window."""
    try:
        specs = analytics.parse_indicators(indicators)
    except analytics.IndicatorError as error:
        raise InvalidInput(
            f"Bad indicators: {error.message}.",
            errors=[FieldError(location="query", pointer="/indicators", detail=str(error), code="indicator")],
        ) from None
    await get_instrument(conn, symbol)
    first, last = candle_range(interval, start, end, limit, now)
    warmup = max((spec.window or 0) for spec in specs) + 1
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    rows = await repository.candles(conn, symbol, interval, first - step * warmup, last, limit + warmup)
    frame = candles_frame(rows)
    try:
        values = analytics.compute_indicators(frame, specs, interval)
    except analytics.IndicatorError as error:
        raise InvalidInput(
            f"Bad indicators: {error.message}.",
            errors=[FieldError(location="query", pointer="/indicators", detail=str(error), code="indicator")],
        ) from None
    values = values.filter(pl.col("time") >= first).head(limit)
    columns = [c for c in values.columns if c != "time"]
    items = [
        IndicatorRow(time=row["time"], values={c: _finite(row[c]) for c in columns})
        for row in values.iter_rows(named=True)
    ]
    return IndicatorList(symbol=symbol, interval=interval, columns=columns, items=items)


def _finite(value: float | None) -> float | None:
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return float(value)


async def write_ticks_frame(conn: Connection, frame: pl.DataFrame) -> int:
    """Store a frame of ticks (`analytics.TICK_SCHEMA`) idempotently; returns rows newly stored."""
    return await repository.copy_ticks_frame(conn, frame)
