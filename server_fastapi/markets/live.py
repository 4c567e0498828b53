"""Live market state of one process: forming candles and 24-hour tickers, kept in memory from ticks.

Seeded from the database at start, then fed by every tick on `ticks.{symbol}` (local and bridged). After a
tick it publishes `CandleUpdate` on `candles.{symbol}.{interval}` (only while someone listens) and marks the
ticker dirty; tickers go out on `ticker.{symbol}` at most every `ticker_period` seconds. The candle rules
are those of `analytics` (half-open UTC buckets from the epoch, exact VWAP rounded half up to 8 places).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from server_fastapi.core.bus import Bus, Envelope, EventBus, Gap, Overflow
from server_fastapi.core.db import Connection
from server_fastapi.markets import repository
from server_fastapi.markets.analytics import INTERVALS, Interval
from server_fastapi.markets.events import (
    CandleUpdate,
    TickerUpdate,
    TradeTick,
    candles_channel,
    ticker_channel,
    ticks_channel,
)
from server_fastapi.markets.schemas import Candle, Ticker
from server_fastapi.markets.service import BookSource, bucket_start, change, window_start

logger = logging.getLogger(__name__)

_VWAP_SCALE: Final = Decimal("0.00000001")


@dataclass(slots=True)
class _Forming:
    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int
    notional: Decimal

    @classmethod
    def first(cls, time: datetime, price: Decimal, quantity: Decimal) -> _Forming:
        return cls(time, price, price, price, price, quantity, 1, price * quantity)

    def add(self, price: Decimal, quantity: Decimal) -> None:
        if price > self.high:
            self.high = price
        if price < self.low:
            self.low = price
        self.close = price
        self.volume += quantity
        self.trades += 1
        self.notional += price * quantity

    def candle(self) -> Candle:
        vwap = (self.notional / self.volume).quantize(_VWAP_SCALE, rounding=ROUND_HALF_UP)
        return Candle(
            time=self.time,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
            trades=self.trades,
            vwap=vwap,
        )


class _Symbol:
    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.last: Decimal | None = None
        self.high_water: tuple[datetime, int] | None = None
        self.forming: dict[Interval, _Forming] = {}
        self.minutes: deque[_Forming] = deque()


class LiveMarkets:
    def __init__(self, bus: EventBus, book: BookSource, *, ticker_period: float = 0.25) -> None:
        self._bus = bus
        self.book = book
        self.ticker_period = ticker_period
        self._symbols: dict[str, _Symbol] = {}
        self._dirty: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def add(self, conn: Connection, symbol: str, now: datetime) -> None:
        """Seed `symbol` from the database and follow its ticks."""
        if symbol in self._symbols:
            return
        state = _Symbol(symbol)
        self._symbols[symbol] = state
        channel = ticks_channel(self._bus, symbol)
        # Subscribe before reading the database; ticks already seeded are skipped by the high-water mark.
        channel.subscribe_handler(
            "live-markets", self._on_delivery, maxsize=10_000, overflow=Overflow.BLOCK, include_remote=True
        )
        since = window_start(now)
        rows = await repository.candle_states(conn, symbol, "1m", since)
        state.minutes.extend(_forming(row) for row in rows)
        for interval in INTERVALS:
            if interval == "1m":
                if state.minutes and state.minutes[-1].time == bucket_start(now, "1m"):
                    state.forming["1m"] = state.minutes[-1]
                continue
            rows = await repository.candle_states(conn, symbol, interval, bucket_start(now, interval))
            if rows:
                state.forming[interval] = _forming(rows[-1])
        (stats,) = await repository.market_stats(conn, since, symbol)
        state.last = stats["last"]
        mark = await repository.last_trade(conn, symbol)
        if mark is not None:
            state.high_water = (mark["time"], mark["trade_id"])
        if self._task is None:
            self._task = asyncio.create_task(self._publish_tickers(), name="live-tickers")

    async def _on_delivery(self, delivery: Envelope[TradeTick] | Gap) -> None:
        if isinstance(delivery, Gap):
            return
        await self.on_tick(delivery.event)

    async def on_tick(self, tick: TradeTick) -> None:
        state = self._symbols.get(tick.symbol)
        if state is None:
            return
        key = (tick.time, tick.trade_id)
        if state.high_water is not None and key <= state.high_water:
            return
        state.high_water = key
        state.last = tick.price
        for interval in INTERVALS:
            start = bucket_start(tick.time, interval)
            forming = state.forming.get(interval)
            if forming is not None and forming.time == start:
                forming.add(tick.price, tick.quantity)
            elif forming is None or forming.time < start:
                forming = _Forming.first(start, tick.price, tick.quantity)
                state.forming[interval] = forming
                if interval == "1m":
                    state.minutes.append(forming)
            else:
                continue  # a late tick for a closed candle: the database has it
            channel: Bus[CandleUpdate] = candles_channel(self._bus, tick.symbol, interval)
            if channel.subscriptions:
                # Candle channels have DROP_OLDEST subscribers (WebSocket clients): this never waits.
                await channel.publish(
                    CandleUpdate(symbol=tick.symbol, interval=interval, candle=forming.candle())
                )
        self._dirty.add(tick.symbol)

    def forming(self, symbol: str, interval: Interval) -> Candle | None:
        state = self._symbols.get(symbol)
        forming = state.forming.get(interval) if state else None
        return forming.candle() if forming else None

    def ticker(self, symbol: str, now: datetime | None = None) -> Ticker | None:
        state = self._symbols.get(symbol)
        if state is None:
            return None
        since = window_start(now or datetime.now(UTC))
        while state.minutes and state.minutes[0].time < since:
            state.minutes.popleft()
        minutes = state.minutes
        open_ = minutes[0].open if minutes else None
        best_bid, best_ask = self.book.best_bid_ask(symbol)
        return Ticker(
            symbol=symbol,
            last=state.last,
            open_24h=open_,
            high_24h=max((m.high for m in minutes), default=None),
            low_24h=min((m.low for m in minutes), default=None),
            volume_24h=sum((m.volume for m in minutes), Decimal(0)),
            change_24h=change(state.last, open_),
            best_bid=best_bid,
            best_ask=best_ask,
        )

    async def _publish_tickers(self) -> None:
        while True:
            await asyncio.sleep(self.ticker_period)
            dirty, self._dirty = self._dirty, set()
            for symbol in dirty:
                channel = ticker_channel(self._bus, symbol)
                if not channel.subscriptions:
                    continue
                ticker = self.ticker(symbol)
                if ticker is not None:
                    try:
                        await channel.publish(TickerUpdate(ticker=ticker))
                    except Exception:
                        logger.exception("ticker publish failed", extra={"symbol": symbol})

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _forming(row: object) -> _Forming:
    values = dict(row)  # type: ignore[call-overload]
    return _Forming(
        time=values["time"],
        open=values["open"],
        high=values["high"],
        low=values["low"],
        close=values["close"],
        volume=values["volume"],
        trades=values["trades"],
        notional=values["notional"],
    )
