"""Bus throughput against a plain asyncio.Queue fan-out of the same workload, side by side in one run.

Each side: one producer publishes N events; S subscribers each run a trivial handler over every event, in
bounded queues of the same size with the producer waiting when a queue is full (the bus's BLOCK policy).
Prints one JSON object; the target is the bus within 1.5x of the plain queues and >= 300,000 events/s
delivered with one subscriber.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

from server_fastapi.core.bus import Envelope, Event, EventBus, Gap

EVENTS = 200_000
QUEUE_SIZE = 1024
ROUNDS = 3


class Tick(Event):
    n: int


async def run_bus(events: list[Tick], subscribers: int) -> float:
    channel = EventBus(process_id="bench").channel("bench", Tick)
    counts = [0] * subscribers

    def make_handler(index: int):  # type: ignore[no-untyped-def]
        def handle(delivery: Envelope[Tick] | Gap) -> None:
            counts[index] += 1

        return handle

    for index in range(subscribers):
        channel.subscribe_handler(f"s{index}", make_handler(index), maxsize=QUEUE_SIZE)
    started = time.perf_counter()
    publish = channel.publish
    for event in events:
        await publish(event)
    await channel.close()
    elapsed = time.perf_counter() - started
    assert counts == [len(events)] * subscribers
    return len(events) * subscribers / elapsed


async def run_plain_queues(events: list[Tick], subscribers: int) -> float:
    queues: list[asyncio.Queue[Tick | None]] = [asyncio.Queue(QUEUE_SIZE) for _ in range(subscribers)]
    counts = [0] * subscribers

    async def consume(index: int, queue: asyncio.Queue[Tick | None]) -> None:
        while await queue.get() is not None:
            counts[index] += 1

    tasks = [asyncio.create_task(consume(i, q)) for i, q in enumerate(queues)]
    started = time.perf_counter()
    for event in events:
        for queue in queues:
            await queue.put(event)
    for queue in queues:
        await queue.put(None)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    assert counts == [len(events)] * subscribers
    return len(events) * subscribers / elapsed


async def main() -> None:
    events = [Tick(n=n) for n in range(EVENTS)]
    results: dict[str, object] = {
        "benchmark": "bus",
        "events": EVENTS,
        "queue_size": QUEUE_SIZE,
        "rounds": ROUNDS,
        "loadavg_1m": os.getloadavg()[0],
    }
    for subscribers in (1, 8):
        bus_rates, plain_rates = [], []
        for _ in range(ROUNDS):
            # Alternate the two sides so drift in machine load hits both alike.
            plain_rates.append(await run_plain_queues(events, subscribers))
            bus_rates.append(await run_bus(events, subscribers))
        bus_best, plain_best = max(bus_rates), max(plain_rates)
        results[f"subscribers_{subscribers}"] = {
            "bus_events_per_s": round(bus_best),
            "plain_queue_events_per_s": round(plain_best),
            "plain_over_bus_ratio": round(plain_best / bus_best, 3),
        }
    one = results["subscribers_1"]
    eight = results["subscribers_8"]
    assert isinstance(one, dict)
    assert isinstance(eight, dict)
    results["targets"] = {
        "ratio_at_most": 1.5,
        "min_events_per_s_1_subscriber": 300_000,
        "met": one["plain_over_bus_ratio"] <= 1.5
        and eight["plain_over_bus_ratio"] <= 1.5
        and one["bus_events_per_s"] >= 300_000,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
