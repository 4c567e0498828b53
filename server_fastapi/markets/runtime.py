"""The long-lived part of the markets domain, started and stopped by the app's lifespan.

`MarketsRuntime` holds the instrument cache, the tick writer, the live candles and tickers and, in dev when
`MARKET_SIMULATOR=on`, the simulated feed. It boots in a background task that waits for PostgreSQL, so the
API starts (and reports not ready) while the database is still coming up. `book` is where tickers find best
bid and ask; the trading domain replaces `NoBook`. The lifespan's Redis bridge carries the `ticks.*` and
`markets.instruments` channels (`events.bridge_channels`): an instrument listed through another process is
followed here from its first trade on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Final

from fastapi import Depends, Request

from server_fastapi.core.bus import Bus, Delivery, Envelope, Overflow
from server_fastapi.core.db import Connection, acquire
from server_fastapi.core.settings import Environment
from server_fastapi.core.state import AppState
from server_fastapi.markets import repository, service
from server_fastapi.markets.events import InstrumentChanged, TradeTick, instruments_channel, ticks_channel
from server_fastapi.markets.feed import FeedInstrument, paced, simulate
from server_fastapi.markets.live import LiveMarkets
from server_fastapi.markets.schemas import Instrument, InstrumentStatus
from server_fastapi.markets.service import BookSource, NoBook
from server_fastapi.markets.writer import TickWriter, WriterMetricsCollector, pool_writer

logger = logging.getLogger(__name__)

SIMULATOR_START_PRICES: Final = {
    "BTC-USDT": Decimal("65000"),
    "ETH-USDT": Decimal("3500"),
    "SOL-USDT": Decimal("150"),
    "ETH-BTC": Decimal("0.054"),
}


class MarketsRuntime:
    def __init__(self, state: AppState, *, book: BookSource | None = None) -> None:
        self.state = state
        self.book: BookSource = book or NoBook()
        self.instruments: dict[str, Instrument] = {}
        self.writer = TickWriter(pool_writer(state.pool))
        self.live = LiveMarkets(state.bus, self)
        self.ready = asyncio.Event()
        self._boot_task: asyncio.Task[None] | None = None
        self._simulator: asyncio.Task[None] | None = None
        state.registry.register(WriterMetricsCollector(self.writer))

    def best_bid_ask(self, symbol: str) -> tuple[Decimal | None, Decimal | None]:
        """Delegates to the current `book`, so the live tickers see a book plugged in later."""
        return self.book.best_bid_ask(symbol)

    def channel(self, symbol: str) -> Bus[TradeTick]:
        return ticks_channel(self.state.bus, symbol)

    async def publish(self, tick: TradeTick) -> None:
        await self.channel(tick.symbol).publish(tick)

    def start(self) -> None:
        instruments_channel(self.state.bus).subscribe_handler(
            "markets-instruments", self._on_instrument, overflow=Overflow.BLOCK, include_remote=True
        )
        self._boot_task = asyncio.create_task(self._boot(), name="markets-boot")

    async def _on_instrument(self, delivery: Delivery[InstrumentChanged]) -> None:
        # Changes made in this process were applied by `instrument_changed` already.
        if isinstance(delivery, Envelope) and delivery.origin is not None:
            await self._apply(delivery.event.instrument)

    async def _boot(self) -> None:
        delay = 0.5
        while True:
            try:
                await self._load()
                break
            except (OSError, TimeoutError) as error:
                logger.warning("markets waiting for the database", extra={"error": repr(error)})
            except Exception:
                logger.exception("markets failed to start; retrying")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
        settings = self.state.settings
        if settings.market_simulator:
            if settings.env is Environment.PRODUCTION:
                logger.warning("MARKET_SIMULATOR is ignored in production")
            else:
                self._simulator = asyncio.create_task(self._simulate(), name="market-simulator")
        self.ready.set()
        logger.info("markets ready", extra={"symbols": sorted(self.instruments)})

    async def _load(self) -> None:
        now = datetime.now(UTC)
        async with acquire(self.state.pool) as conn:
            instruments = await service.list_instruments(conn)
            for instrument in instruments:
                await self._follow(instrument, conn, now)

    async def _follow(self, instrument: Instrument, conn: Connection, now: datetime) -> None:
        self.instruments[instrument.symbol] = instrument
        self.writer.follow([self.channel(instrument.symbol)])
        await self.live.add(conn, instrument.symbol, now)

    async def instrument_changed(self, instrument: Instrument) -> None:
        """After an admin change committed: refresh the cache here and tell the other processes; a new
        symbol is written and streamed from now on, in every process."""
        await self._apply(instrument)
        await instruments_channel(self.state.bus).publish(InstrumentChanged(instrument=instrument))

    async def _apply(self, instrument: Instrument) -> None:
        await self.ready.wait()  # boot follows every instrument it finds; this one may be new since
        if instrument.symbol in self.instruments:
            self.instruments[instrument.symbol] = instrument
            return
        async with acquire(self.state.pool) as conn:
            await self._follow(instrument, conn, datetime.now(UTC))

    async def _simulate(self) -> None:
        settings = self.state.settings
        specs = []
        async with acquire(self.state.pool) as conn:
            for symbol, instrument in sorted(self.instruments.items()):
                last = await repository.recent_trades(conn, symbol, 1)
                price = last[0]["price"] if last else SIMULATOR_START_PRICES.get(symbol, Decimal(100))
                specs.append(
                    FeedInstrument(
                        symbol=symbol,
                        start_price=price,
                        tick_size=instrument.tick_size,
                        lot_size=instrument.lot_size,
                        trades_per_second=1.0,
                    )
                )
        # Ids far above the engine's sequential ones, rising across restarts.
        first_trade_id = int(time.time()) * 1_000_000
        trades = simulate(
            specs, seed=settings.market_simulator_seed, start=datetime.now(UTC), first_trade_id=first_trade_id
        )
        logger.info("market simulator on", extra={"symbols": [s.symbol for s in specs]})
        async for trade in paced(trades, speed=settings.market_simulator_speed):
            listed = self.instruments.get(trade.symbol)
            if listed is None or listed.status is not InstrumentStatus.TRADING:
                continue
            await self.publish(
                TradeTick(
                    symbol=trade.symbol,
                    trade_id=trade.trade_id,
                    time=trade.time,
                    price=trade.price,
                    quantity=trade.quantity,
                    taker_side=trade.taker_side,
                )
            )

    async def close(self) -> None:
        for task in (self._boot_task, self._simulator):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.live.close()
        await self.writer.close()


async def _runtime(request: Request) -> MarketsRuntime:
    runtime: MarketsRuntime = request.app.state.markets
    return runtime


Markets = Annotated[MarketsRuntime, Depends(_runtime)]
