"""Bus events of trading, published by the symbol's runner after the batch that caused them committed.

`book.{symbol}` carries L2 deltas (numbered per symbol, so a client detects gaps after its snapshot);
`trading.orders` and `trading.fills` carry private updates, filtered per account by their consumers.
Trades also go out as `markets.events.TradeTick` on `ticks.{symbol}` for market data.
"""

from __future__ import annotations

from uuid import UUID

from server_fastapi.core.bus import Bus, Event, EventBus
from server_fastapi.core.bus_redis import RedisStreamBridge
from server_fastapi.ledger.schemas import Amount
from server_fastapi.trading.schemas import Fill, Order, SideName


class BookDelta(Event):
    symbol: str
    seq: int
    side: SideName
    price: Amount
    quantity: Amount  # the level's new total; 0 removes it


class OrderUpdated(Event):
    user_id: UUID
    order: Order


class FillCreated(Event):
    user_id: UUID
    fill: Fill


def book_channel(bus: EventBus, symbol: str) -> Bus[BookDelta]:
    return bus.channel(f"book.{symbol}", BookDelta)


def orders_channel(bus: EventBus) -> Bus[OrderUpdated]:
    return bus.channel("trading.orders", OrderUpdated)


def fills_channel(bus: EventBus) -> Bus[FillCreated]:
    return bus.channel("trading.fills", FillCreated)


def bridge_channels(bridge: RedisStreamBridge) -> None:
    """The channels WebSocket clients of every process need from the engine, which runs in one process:
    book deltas and the private updates (`ledger.balances` too, which the engine publishes after a trade)."""
    bridge.carry("book.*", "trading.orders", "trading.fills", "ledger.balances")
