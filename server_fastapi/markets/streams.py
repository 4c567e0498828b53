"""The public WebSocket channels of market data: `trades:{symbol}`, `ticker:{symbol}` and
`candles:{symbol}:{interval}`. Each provider checks the name against the instrument cache and follows the
matching bus channel; ticker and candles send the current state as a snapshot first."""

from __future__ import annotations

from typing import Any

from server_fastapi.core.ws import ChannelError, ChannelFeed, Hub, Session
from server_fastapi.markets.analytics import INTERVALS, validate_interval
from server_fastapi.markets.events import (
    CandleUpdate,
    TickerUpdate,
    TradeTick,
    candles_channel,
    ticker_channel,
)
from server_fastapi.markets.runtime import MarketsRuntime


def render_trade(tick: TradeTick) -> dict[str, Any]:
    return {
        "symbol": tick.symbol,
        "trade_id": tick.trade_id,
        "time": tick.time.isoformat(),
        "price": format(tick.price, "f"),
        "quantity": format(tick.quantity, "f"),
        "taker_side": tick.taker_side,
    }


def _render_candle(update: CandleUpdate) -> dict[str, Any]:
    return update.candle.model_dump(mode="json")


def _render_ticker(update: TickerUpdate) -> dict[str, Any]:
    return update.ticker.model_dump(mode="json")


class _MarketProvider:
    requires_auth = False
    kind = ""
    parts = 2

    def __init__(self, runtime: MarketsRuntime) -> None:
        self.runtime = runtime

    def _parse(self, channel: str) -> list[str]:
        parts = channel.split(":")
        if len(parts) != self.parts or not all(parts):
            shape = "candles:{symbol}:{interval}" if self.kind == "candles" else f"{self.kind}:{{symbol}}"
            raise ChannelError(f"bad channel name {channel!r}; expected {shape}")
        if not self.runtime.ready.is_set():
            raise ChannelError("market data is starting; try again shortly", 503)
        if parts[1] not in self.runtime.instruments:
            raise ChannelError(f"no market {parts[1]!r}", 404)
        return parts


class TradesProvider(_MarketProvider):
    kind = "trades"

    async def open(self, channel: str, session: Session) -> ChannelFeed:
        _, symbol = self._parse(channel)
        return ChannelFeed(source=self.runtime.channel(symbol), render=render_trade)


class TickerProvider(_MarketProvider):
    kind = "ticker"

    async def open(self, channel: str, session: Session) -> ChannelFeed:
        _, symbol = self._parse(channel)
        ticker = self.runtime.live.ticker(symbol)
        return ChannelFeed(
            source=ticker_channel(self.runtime.state.bus, symbol),
            render=_render_ticker,
            snapshot=ticker.model_dump(mode="json") if ticker else None,
        )


class CandlesProvider(_MarketProvider):
    kind = "candles"
    parts = 3

    async def open(self, channel: str, session: Session) -> ChannelFeed:
        _, symbol, raw_interval = self._parse(channel)
        try:
            interval = validate_interval(raw_interval)
        except ValueError:
            raise ChannelError(
                f"unknown interval {raw_interval!r}; expected one of {', '.join(INTERVALS)}"
            ) from None
        forming = self.runtime.live.forming(symbol, interval)
        return ChannelFeed(
            source=candles_channel(self.runtime.state.bus, symbol, interval),
            render=_render_candle,
            snapshot=forming.model_dump(mode="json") if forming else None,
        )


def register_channels(hub: Hub, runtime: MarketsRuntime) -> None:
    hub.register("trades", TradesProvider(runtime))
    hub.register("ticker", TickerProvider(runtime))
    hub.register("candles", CandlesProvider(runtime))
