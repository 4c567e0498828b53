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
    bridge = RedisStreamBridge(bus, redis, read_block_ms=100)
    bridge.carry("test.*")
    await bridge.start()
    channel = bus.channel("test.ping", Ping)  # created after the bridge started: carried by its pattern
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


async def test_events_from_another_process_reach_only_subscribers_that_ask_and_only_once(
    redis_url: str,
) -> None:
    redis = Redis.from_url(redis_url)
    bus = EventBus(process_id="test-listener")
    channel = bus.channel("test.ping", Ping)
    remote_too = channel.subscribe("live view", include_remote=True)
    local_only = channel.subscribe("side effects")
    bridge = RedisStreamBridge(bus, redis, read_block_ms=100)
    bridge.carry("test.*")
    await bridge.start()
    await asyncio.wait_for(bridge.following.wait(), 10)
    await channel.publish(Ping(n=-1, sender="local"))
    publisher = spawn("publish", redis_url, 20)
    _, err = await asyncio.wait_for(asyncio.to_thread(publisher.communicate), 30)
    assert publisher.returncode == 0, err
    received: list[Ping] = []
    while len(received) < 21:
        delivery = await asyncio.wait_for(remote_too.get(), 10)
        assert isinstance(delivery, Envelope)
        received.append(delivery.event)
        if delivery.event.sender == "peer":
            assert delivery.origin == "peer-publish"
    await asyncio.sleep(0.3)
    assert remote_too.depth == 0, "the bridge must not echo our own event back"
    assert [p.n for p in received] == [-1, *range(20)]
    assert [d.event.n for d in local_only.drain_ready() if isinstance(d, Envelope)] == [-1]
    assert bridge.received == 20
    await bridge.close()
    await bus.close()
    await redis.aclose()


async def test_channels_outside_the_patterns_stay_in_their_process(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    here, there = EventBus(process_id="here"), EventBus(process_id="there")
    bridges = [RedisStreamBridge(bus, redis, read_block_ms=100) for bus in (here, there)]
    for bridge in bridges:
        bridge.carry("test.ping*")
        await bridge.start()
        await asyncio.wait_for(bridge.following.wait(), 10)
    carried = there.channel("test.ping.new", Ping).subscribe("view", include_remote=True)
    private = there.channel("test.private", Ping).subscribe("view", include_remote=True)
    await here.channel("test.private", Ping).publish(Ping(n=1, sender="here"))
    await here.channel("test.ping.new", Ping).publish(Ping(n=2, sender="here"))
    delivery = await asyncio.wait_for(carried.get(), 10)
    assert isinstance(delivery, Envelope)
    assert (delivery.event.n, delivery.origin) == (2, "here")
    assert private.depth == 0
    assert not bridges[0].carries("test.private")
    for bridge in bridges:
        await bridge.close()
    await here.close()
    await there.close()
    await redis.aclose()


async def test_events_of_several_channels_reach_the_stream_in_publish_order(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    stream = "tessera:bus:test-order"
    await redis.delete(stream)
    bus = EventBus(process_id="test-order")
    bridge = RedisStreamBridge(bus, redis, stream=stream, read_block_ms=100)
    bridge.carry("test.order.*")
    channels = [bus.channel(f"test.order.{name}", Ping) for name in ("orders", "fills", "balances")]
    await bridge.start()
    published = []
    for n in range(300):
        channel = channels[(n * 7 + n // 5) % 3]  # interleaved, in runs of different lengths
        await channel.publish(Ping(n=n, sender=channel.name))
        published.append((channel.name, n))
        if n % 50 == 0:
            await asyncio.sleep(0)  # let the forwarder take part of it: several batches
    await bridge.close()
    entries = await redis.xrange(stream)
    await redis.delete(stream)
    await bus.close()
    await redis.aclose()
    streamed = [
        (fields[b"channel"].decode(), json.loads(fields[b"data"])["n"]) for _entry_id, fields in entries
    ]
    assert streamed == published
    assert bridge.forwarded == 300
