"""HTTP routes of market data (public GETs) and instrument administration (admins only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, status

from server_fastapi.core.db import Db
from server_fastapi.core.problems import Conflict, InvalidInput, NotFound, error_responses
from server_fastapi.core.security import AdminUser, require_admin
from server_fastapi.markets import service
from server_fastapi.markets.analytics import Interval
from server_fastapi.markets.runtime import Markets
from server_fastapi.markets.schemas import (
    CandleList,
    IndicatorList,
    Instrument,
    InstrumentCreate,
    InstrumentStatus,
    InstrumentUpdate,
    Market,
    MarketList,
    Ticker,
    TradeList,
)

router = APIRouter(prefix="/markets", tags=["markets"])
admin_router = APIRouter(prefix="/admin/instruments", tags=["admin"], dependencies=[Depends(require_admin)])

Symbol = Annotated[str, Path(description="Market symbol, e.g. BTC-USDT", examples=["BTC-USDT"])]
Start = Annotated[datetime | None, Query(description="Inclusive start (ISO 8601; UTC when no offset)")]
End = Annotated[datetime | None, Query(description="Exclusive end (ISO 8601; UTC when no offset)")]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get("", summary="Every market with its last price and 24-hour change and volume")
async def list_markets(db: Db) -> MarketList:
    return MarketList(items=await service.list_markets(db, datetime.now(UTC)))


@router.get("/{symbol}", summary="One market", responses=error_responses(NotFound))
async def get_market(db: Db, symbol: Symbol) -> Market:
    return await service.get_market(db, symbol, datetime.now(UTC))


@router.get("/{symbol}/ticker", summary="24-hour ticker", responses=error_responses(NotFound))
async def get_ticker(db: Db, markets: Markets, symbol: Symbol) -> Ticker:
    return await service.get_ticker(db, symbol, datetime.now(UTC), markets)


@router.get(
    "/{symbol}/candles",
    summary="OHLCV candles with trade count and VWAP; intervals without trades have no candle",
    responses=error_responses(NotFound, InvalidInput),
)
async def get_candles(
    db: Db,
    symbol: Symbol,
    interval: Interval = "1m",
    start: Start = None,
    end: End = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_CANDLES)] = 500,
) -> CandleList:
    return await service.get_candles(
        db, symbol, interval, start=_utc(start), end=_utc(end), limit=limit, now=datetime.now(UTC)
    )


@router.get(
    "/{symbol}/trades",
    summary="Recent trades, newest first",
    responses=error_responses(NotFound, InvalidInput),
)
async def get_trades(
    db: Db,
    symbol: Symbol,
    limit: Annotated[int, Query(ge=1, le=service.MAX_TRADES)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> TradeList:
    return await service.get_trades(db, symbol, limit=limit, cursor=cursor)


@router.get(
    "/{symbol}/indicators",
    summary="Indicators over candles: sma, ema, rsi, vwap, bb (Bollinger), rv (realised volatility)",
    responses=error_responses(NotFound, InvalidInput),
)
async def get_indicators(
    db: Db,
    symbol: Symbol,
    indicators: Annotated[
        str,
        Query(
            max_length=200,
            description="Comma-separated `name[:window[:k]]`, e.g. `sma:20,ema:50,rsi:14,bb:20:2,rv:30,vwap`",
        ),
    ] = "sma:20",
    interval: Interval = "1h",
    start: Start = None,
    end: End = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_CANDLES)] = 500,
) -> IndicatorList:
    return await service.get_indicators(
        db,
        symbol,
        interval,
        indicators,
        start=_utc(start),
        end=_utc(end),
        limit=limit,
        now=datetime.now(UTC),
    )


@admin_router.post(
    "",
    summary="List a new instrument (symbol = BASE-QUOTE)",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(Conflict, InvalidInput),
)
async def create_instrument(
    db: Db, admin: AdminUser, markets: Markets, body: InstrumentCreate, background: BackgroundTasks
) -> Instrument:
    instrument = await service.create_instrument(db, body, actor_id=admin.user_id)
    background.add_task(markets.instrument_changed, instrument)  # after the commit
    return instrument


@admin_router.patch(
    "/{symbol}",
    summary="Change an instrument's grid, fees, band or status",
    responses=error_responses(NotFound, InvalidInput),
)
async def update_instrument(
    db: Db,
    admin: AdminUser,
    markets: Markets,
    body: InstrumentUpdate,
    background: BackgroundTasks,
    symbol: Symbol,
) -> Instrument:
    instrument = await service.update_instrument(db, symbol, body, actor_id=admin.user_id)
    background.add_task(markets.instrument_changed, instrument)
    return instrument


@admin_router.post(
    "/{symbol}/halt", summary="Halt trading in an instrument", responses=error_responses(NotFound)
)
async def halt_instrument(
    db: Db, admin: AdminUser, markets: Markets, background: BackgroundTasks, symbol: Symbol
) -> Instrument:
    instrument = await service.set_status(db, symbol, InstrumentStatus.HALTED, actor_id=admin.user_id)
    background.add_task(markets.instrument_changed, instrument)
    return instrument


@admin_router.post(
    "/{symbol}/resume", summary="Resume trading in an instrument", responses=error_responses(NotFound)
)
async def resume_instrument(
    db: Db, admin: AdminUser, markets: Markets, background: BackgroundTasks, symbol: Symbol
) -> Instrument:
    instrument = await service.set_status(db, symbol, InstrumentStatus.TRADING, actor_id=admin.user_id)
    background.add_task(markets.instrument_changed, instrument)
    return instrument
