"""Bus events of the markets domain and the channels that carry them.

`TradeTick` on `ticks.{symbol}` is the one way trades enter market data: the trading engine publishes its
trades there, the simulated feed its simulated ones. The channel is bridged through Redis, so WebSocket
clients and live candles of every API process see every trade; only the publishing process writes it to the
database. `InstrumentChanged` on `markets.instruments` (bridged too) keeps every process's instrument cache
current after an administrator's change. `CandleUpdate` and `TickerUpdate` are derived per process from the
ticks (see `live.LiveMarkets`), so they are not bridged.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from server_fastapi.core.bus import Bus, Event, EventBus
from server_fastapi.core.bus_redis import RedisStreamBridge
from server_fastapi.markets.analytics import Interval
from server_fastapi.markets.schemas import Candle, Instrument, Ticker

TakerSide = Literal["buy", "sell"]


class TradeTick(Event):
    symbol: str
    trade_id: int
    time: datetime
    price: Decimal
    quantity: Decimal
    taker_side: TakerSide


class CandleUpdate(Event):
    """The forming (or just closed) candle of one symbol and interval after a trade."""

    symbol: str
    interval: Interval
    candle: Candle


class TickerUpdate(Event):
    ticker: Ticker


class InstrumentChanged(Event):
    """An instrument was listed or changed (committed)."""

    instrument: Instrument


def ticks_channel(bus: EventBus, symbol: str) -> Bus[TradeTick]:
    return bus.channel(f"ticks.{symbol}", TradeTick)


def candles_channel(bus: EventBus, symbol: str, interval: Interval) -> Bus[CandleUpdate]:
    return bus.channel(f"candles.{symbol}.{interval}", CandleUpdate)


def ticker_channel(bus: EventBus, symbol: str) -> Bus[TickerUpdate]:
    return bus.channel(f"ticker.{symbol}", TickerUpdate)


def instruments_channel(bus: EventBus) -> Bus[InstrumentChanged]:
    return bus.channel("markets.instruments", InstrumentChanged)


def bridge_channels(bridge: RedisStreamBridge) -> None:
    """The markets channels that cross processes: every symbol's trades and instrument changes."""
    bridge.carry("ticks.*", "markets.instruments")
