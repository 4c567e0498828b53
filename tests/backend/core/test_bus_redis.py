"""The Redis Streams bridge carries events between two real OS processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis

from server_fastapi.core.bus import Envelope, EventBus
from server_fastapi.core.bus_redis import RedisStreamBridge

PEER = Path(__file__).with_name("bus_peer.py")
sys.path.insert(0, str(PEER.parent))
from bus_peer import Ping  # noqa: E402


def spawn(mode: str, redis_url: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(PEER), mode, redis_url, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_event_published_here_reaches_a_subscriber_in_another_process(redis_url: str) -> None:
    listener = spawn("listen", redis_url, 50)
    assert listener.stdout is not None
    ready = await asyncio.wait_for(asyncio.to_thread(listener.stdout.readline), 30)
    assert ready.strip() == "ready"

    redis = Redis.from_url(redis_url)
    bus = EventBus(process_id="test-publisher")
    channel = bus.channel("test.ping", Ping)
    bridge = RedisStreamBridge(bus, redis, [channel], read_block_ms=100)
    await bridge.start()
    for n in range(50):
        await channel.publish(Ping(n=n, sender="pytest"))
    out, err = await asyncio.wait_for(asyncio.to_thread(listener.communicate), 30)
    await bridge.close()
    await bus.close()
    await redis.aclose()
    assert listener.returncode == 0, err
    received = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [event["n"] for event in received] == list(range(50))
    assert {event["sender"] for event in received} == {"pytest"}


async def test_events_from_another_process_reach_local_subscribers_once(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    bus = EventBus(process_id="test-listener")
    channel = bus.channel("test.ping", Ping)
    subscription = channel.subscribe("local")
    bridge = RedisStreamBridge(bus, redis, [channel], read_block_ms=100)
    await bridge.start()
    await channel.publish(Ping(n=-1, sender="local"))
    publisher = spawn("publish", redis_url, 20)
    _, err = await asyncio.wait_for(asyncio.to_thread(publisher.communicate), 30)
    assert publisher.returncode == 0, err
    received: list[Ping] = []
    while len(received) < 21:
        delivery = await asyncio.wait_for(subscription.get(), 10)
        assert isinstance(delivery, Envelope)
        received.append(delivery.event)
        if delivery.event.sender == "peer":
            assert delivery.origin == "peer-publish"
    await asyncio.sleep(0.3)
    assert subscription.depth == 0, "the bridge must not echo our own event back"
    assert [p.n for p in received] == [-1, *range(20)]
    await bridge.close()
    await bus.close()
    await redis.aclose()
