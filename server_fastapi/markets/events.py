"""Bus events of the markets domain and the channels that carry them.

`TradeTick` on `ticks.{symbol}` is the one way trades enter market data: the trading engine publishes its
trades there, the simulated feed its simulated ones. The channel is bridged through Redis, so WebSocket
clients of every API process see every trade; only the publishing process writes it to the database.
`CandleUpdate` and `TickerUpdate` are derived per process from the ticks (see `service.LiveMarkets`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from server_fastapi.core.bus import Bus, Event, EventBus
from server_fastapi.markets.analytics import Interval
from server_fastapi.markets.schemas import Candle, Ticker

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


def ticks_channel(bus: EventBus, symbol: str) -> Bus[TradeTick]:
    return bus.channel(f"ticks.{symbol}", TradeTick)


def candles_channel(bus: EventBus, symbol: str, interval: Interval) -> Bus[CandleUpdate]:
    return bus.channel(f"candles.{symbol}.{interval}", CandleUpdate)


def ticker_channel(bus: EventBus, symbol: str) -> Bus[TickerUpdate]:
    return bus.channel(f"ticker.{symbol}", TickerUpdate)
