"""The typed bus: ordering, fan-out, both overflow policies, subscriber isolation and draining."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from server_fastapi.core.bus import Bus, BusClosedError, Envelope, Event, EventBus, Gap, Overflow


class Tick(Event):
    n: int


class Other(Event):
    text: str


def new_bus() -> EventBus:
    return EventBus(process_id="test")


def recorder() -> tuple[list[Envelope[Tick] | Gap], object]:
    received: list[Envelope[Tick] | Gap] = []

    def handle(delivery: Envelope[Tick] | Gap) -> None:
        received.append(delivery)

    return received, handle


def numbers(deliveries: list[Envelope[Tick] | Gap]) -> list[int]:
    return [d.event.n for d in deliveries if isinstance(d, Envelope)]


async def test_events_are_frozen_and_typed() -> None:
    tick = Tick(n=1)
    with pytest.raises(ValidationError):
        tick.n = 2  # type: ignore[misc]
    bus = new_bus()
    channel = bus.channel("ticks", Tick)
    with pytest.raises(TypeError):
        await channel.publish(Other(text="nope"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        bus.channel("ticks", Other)


async def test_every_subscriber_gets_every_event_in_publish_order_with_sequence_numbers() -> None:
    channel = new_bus().channel("trades.BTC-USDT", Tick)
    logs = [recorder() for _ in range(3)]
    for index, (_, handler) in enumerate(logs):
        channel.subscribe_handler(f"s{index}", handler)  # type: ignore[arg-type]
    for n in range(500):
        await channel.publish(Tick(n=n))
    await channel.close()
    for received, _ in logs:
        assert numbers(received) == list(range(500))
        assert [d.seq for d in received if isinstance(d, Envelope)] == list(range(1, 501))
        assert all(isinstance(d, Envelope) and d.channel == "trades.BTC-USDT" for d in received)


async def test_each_publisher_keeps_its_order_when_publishers_interleave() -> None:
    channel = new_bus().channel("mixed", Tick)
    received, handler = recorder()
    channel.subscribe_handler("s", handler, maxsize=4)  # type: ignore[arg-type]

    async def publisher(base: int) -> None:
        for n in range(200):
            await channel.publish(Tick(n=base + n))
            if n % 7 == 0:
                await asyncio.sleep(0)

    await asyncio.gather(publisher(0), publisher(10_000))
    await channel.close()
    got = numbers(received)
    assert [n for n in got if n < 10_000] == list(range(200))
    assert [n for n in got if n >= 10_000] == list(range(10_000, 10_200))


async def test_block_policy_makes_the_publisher_wait_and_loses_nothing() -> None:
    channel = new_bus().channel("ledger", Tick)
    subscription = channel.subscribe("slow", maxsize=2, overflow=Overflow.BLOCK)
    for n in range(2):
        await channel.publish(Tick(n=n))
    third = asyncio.create_task(channel.publish(Tick(n=2)))
    await asyncio.sleep(0.01)
    assert not third.done(), "a full BLOCK subscriber must hold the publisher back"
    first = await subscription.get()
    assert isinstance(first, Envelope)
    assert first.event.n == 0
    await asyncio.wait_for(third, 1)
    rest = subscription.drain_ready()
    assert [d.event.n for d in rest if isinstance(d, Envelope)] == [1, 2]


async def test_drop_oldest_policy_never_blocks_and_reports_a_gap() -> None:
    channel = new_bus().channel("ui", Tick)
    subscription = channel.subscribe("browser", maxsize=3, overflow=Overflow.DROP_OLDEST)
    for n in range(10):
        await asyncio.wait_for(channel.publish(Tick(n=n)), 0.1)
    deliveries = subscription.drain_ready()
    assert isinstance(deliveries[0], Gap)
    assert deliveries[0].missed == 7
    assert [d.event.n for d in deliveries[1:] if isinstance(d, Envelope)] == [7, 8, 9]
    assert subscription.stats.dropped == 7
    await channel.publish(Tick(n=10))
    next_delivery = await subscription.get()
    assert isinstance(next_delivery, Envelope)
    assert next_delivery.event.n == 10


async def test_a_slow_drop_oldest_subscriber_does_not_slow_a_blocking_one() -> None:
    channel = new_bus().channel("mixed-speed", Tick)
    fast, fast_handler = recorder()
    channel.subscribe_handler("fast", fast_handler, maxsize=10_000)  # type: ignore[arg-type]
    channel.subscribe("stalled-ui", maxsize=1, overflow=Overflow.DROP_OLDEST)
    for n in range(1000):
        await asyncio.wait_for(channel.publish(Tick(n=n)), 0.5)
    await channel.close()
    assert numbers(fast) == list(range(1000))


async def test_a_failing_subscriber_never_stops_the_others() -> None:
    channel = new_bus().channel("isolated", Tick)
    good, good_handler = recorder()

    def explode(delivery: Envelope[Tick] | Gap) -> None:
        if isinstance(delivery, Envelope) and delivery.event.n % 2:
            raise ValueError("handler bug")

    async def async_good(delivery: Envelope[Tick] | Gap) -> None:
        await asyncio.sleep(0)
        good_handler(delivery)  # type: ignore[operator]

    broken = channel.subscribe_handler("broken", explode)
    channel.subscribe_handler("good", async_good)
    for n in range(20):
        await channel.publish(Tick(n=n))
    await channel.close()
    assert numbers(good) == list(range(20))
    assert broken.stats.failed == 10
    assert broken.stats.delivered == 20
    assert [d.event.n for d in broken.dead_letters] == list(range(1, 20, 2))


async def test_close_drains_queued_events_then_refuses_new_ones() -> None:
    channel = new_bus().channel("drain", Tick)
    received: list[int] = []

    async def slow(delivery: Envelope[Tick] | Gap) -> None:
        await asyncio.sleep(0.001)
        if isinstance(delivery, Envelope):
            received.append(delivery.event.n)

    channel.subscribe_handler("slow", slow, maxsize=1000)
    for n in range(100):
        await channel.publish(Tick(n=n))
    assert len(received) < 100
    await channel.close()
    assert received == list(range(100))
    with pytest.raises(BusClosedError):
        await channel.publish(Tick(n=101))


async def test_iterating_a_subscription_ends_when_unsubscribed() -> None:
    channel: Bus[Tick] = new_bus().channel("iter", Tick)
    subscription = channel.subscribe("reader")
    for n in range(3):
        await channel.publish(Tick(n=n))
    subscription.unsubscribe()
    seen = [d.event.n async for d in subscription if isinstance(d, Envelope)]
    assert seen == [0, 1, 2]
    assert channel.subscriptions == ()
