"""Another API process as the Redis bridge sees it, for `test_bridge_processes`: its own bus and bridge,
carrying the channels the app's domains register, publishing what a trading engine or an administrator
there would.

python bridge_peer.py REDIS_URL DATABASE_URL, then one JSON command per line on stdin:
  {"op": "trade", "symbol": ..., "trade_id": ...}       a trade on ticks.{symbol}
  {"op": "book", "symbol": ..., "seq": ..., "price": ...} a book delta on book.{symbol}
  {"op": "instrument", "symbol": ...}                    the instrument (as stored) on markets.instruments
Prints "ready" once following the stream, then "sent" after each command's event is in Redis.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
from redis.asyncio import Redis

from server_fastapi.app import BRIDGED_CHANNELS
from server_fastapi.core.bus import EventBus
from server_fastapi.core.bus_redis import RedisStreamBridge
from server_fastapi.markets import service
from server_fastapi.markets.events import InstrumentChanged, TradeTick, instruments_channel, ticks_channel
from server_fastapi.trading.events import BookDelta, book_channel


async def main(redis_url: str, database_url: str) -> None:
    redis = Redis.from_url(redis_url)
    bus = EventBus(process_id="peer-api")
    bridge = RedisStreamBridge(bus, redis, read_block_ms=100)
    for bridge_channels in BRIDGED_CHANNELS:
        bridge_channels(bridge)
    await bridge.start()
    await bridge.following.wait()
    print("ready", flush=True)
    while line := await asyncio.to_thread(sys.stdin.readline):
        command = json.loads(line)
        symbol = command["symbol"]
        if command["op"] == "trade":
            await ticks_channel(bus, symbol).publish(
                TradeTick(
                    symbol=symbol,
                    trade_id=command["trade_id"],
                    time=datetime.now(UTC),
                    price=Decimal("101.5"),
                    quantity=Decimal("0.25"),
                    taker_side="buy",
                )
            )
        elif command["op"] == "book":
            await book_channel(bus, symbol).publish(
                BookDelta(
                    symbol=symbol,
                    seq=command["seq"],
                    side="buy",
                    price=Decimal(command["price"]),
                    quantity=Decimal("2"),
                )
            )
        else:
            conn = await asyncpg.connect(database_url)
            try:
                instrument = await service.get_instrument(conn, symbol)
            finally:
                await conn.close()
            await instruments_channel(bus).publish(InstrumentChanged(instrument=instrument))
        expected = bridge.forwarded + 1
        while bridge.forwarded < expected:  # noqa: ASYNC110 (polling a counter the bridge owns)
            await asyncio.sleep(0.01)
        print("sent", flush=True)
    await bridge.close()
    await bus.close()
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
