"""A second OS process for the Redis bridge test: it joins the bridged channel and publishes or listens.

python bus_peer.py listen REDIS_URL COUNT   print each received event as a JSON line, then exit
python bus_peer.py publish REDIS_URL COUNT  publish COUNT events, then exit
"""

from __future__ import annotations

import asyncio
import sys

from redis.asyncio import Redis

from server_fastapi.core.bus import Envelope, Event, EventBus
from server_fastapi.core.bus_redis import RedisStreamBridge


class Ping(Event):
    n: int
    sender: str


async def main(mode: str, redis_url: str, count: int) -> None:
    redis = Redis.from_url(redis_url)
    bus = EventBus(process_id=f"peer-{mode}")
    bridge = RedisStreamBridge(bus, redis, read_block_ms=100)
    bridge.carry("test.*")
    await bridge.start()
    channel = bus.channel("test.ping", Ping)
    if mode == "listen":
        subscription = channel.subscribe("printer", include_remote=True)
        await bridge.following.wait()
        print("ready", flush=True)
        received = 0
        async for delivery in subscription:
            if isinstance(delivery, Envelope):
                print(delivery.event.model_dump_json(), flush=True)
                received += 1
                if received == count:
                    break
    else:
        for n in range(count):
            await channel.publish(Ping(n=n, sender="peer"))
        while bridge.forwarded < count:  # noqa: ASYNC110 (polling a counter the bridge owns)
            await asyncio.sleep(0.01)
    await bridge.close()
    await bus.close()
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
