"""The typed in-process event bus that connects Tessera's domains.

A `Bus[T]` is one named channel of immutable Pydantic events of type `T`. Each subscriber owns a bounded
queue and declares what happens when it is full: `BLOCK` makes publishers wait (the ledger and persistence
may lose nothing), `DROP_OLDEST` discards the oldest queued event and hands the subscriber a `Gap` marker
before the next event (UI streams that must never slow the venue down).

Every delivery is an `Envelope` carrying the channel's sequence number, the publish time and the trace
context of the publisher. A handler that raises is counted, logged and its envelope goes to the dead-letter
list of its subscription; it never stops the other subscribers or the publisher.

`EventBus` owns the channels, drains them on shutdown and tells watchers (the Redis bridge) about every
channel it creates. Chosen channels are bridged to other processes through Redis Streams
(`RedisStreamBridge`); events from other processes reach only subscribers that ask for them
(`include_remote=True`: live views such as WebSocket clients), so a subscriber with side effects (writing
ticks, raising alerts) acts once, in the process that published the event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar

from opentelemetry import context as otel_context
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)


class Event(BaseModel):
    """Base class of every bus event: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


T = TypeVar("T", bound=Event)


class Overflow(StrEnum):
    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"


class BusClosedError(RuntimeError):
    """Raised when publishing to a bus that is shutting down."""


class Envelope(NamedTuple, Generic[T]):
    """One delivery: the event plus its channel sequence number, publish time and trace context.

    A NamedTuple rather than a frozen dataclass: it is built once per publish, and that is 3x cheaper."""

    channel: str
    seq: int
    published_ns: int
    event: T
    trace_context: otel_context.Context | None = None
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    """Handed to a `DROP_OLDEST` subscriber before the first event after it lost `missed` events."""

    channel: str
    missed: int


Delivery = Envelope[T] | Gap


@dataclass(slots=True)
class SubscriptionStats:
    delivered: int = 0
    dropped: int = 0
    failed: int = 0
    last_lag_seconds: float = 0.0


class Subscription(Generic[T]):
    """A subscriber's bounded queue; iterate it (`async for`) or let the bus drive a handler."""

    __slots__ = (
        "_closed",
        "_getters",
        "_missed",
        "_queue",
        "bus",
        "dead_letters",
        "include_remote",
        "maxsize",
        "name",
        "overflow",
        "stats",
    )

    def __init__(
        self, bus: Bus[T], name: str, maxsize: int, overflow: Overflow, *, include_remote: bool = False
    ) -> None:
        if maxsize < 1:
            raise ValueError("a subscription needs room for at least one event")
        self.bus = bus
        self.name = name
        self.maxsize = maxsize
        self.overflow = overflow
        self.include_remote = include_remote
        self.stats = SubscriptionStats()
        self.dead_letters: deque[Envelope[T]] = deque(maxlen=1000)
        # A deque plus explicit waiter futures is markedly cheaper than asyncio.Queue on the hot path.
        self._queue: deque[Envelope[T]] = deque()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._missed = 0
        self._closed = False

    @property
    def depth(self) -> int:
        return len(self._queue)

    def _wake_getter(self) -> None:
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)
                return

    def offer(self, envelope: Envelope[T]) -> bool:
        """Enqueue without waiting; False when full under `BLOCK` (the caller must wait and retry)."""
        queue = self._queue
        if len(queue) >= self.maxsize:
            if self.overflow is Overflow.BLOCK:
                return False
            queue.popleft()
            self._missed += 1
            self.stats.dropped += 1
        queue.append(envelope)
        if self._getters:
            self._wake_getter()
        return True

    def close(self) -> None:
        self._closed = True
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)

    async def get(self) -> Delivery[T] | None:
        """The next delivery, or None once the subscription is closed and empty."""
        while True:
            if self._missed:
                missed, self._missed = self._missed, 0
                return Gap(self.bus.name, missed)
            if self._queue:
                envelope = self._queue.popleft()
                self.bus._space_freed(self)
                return envelope
            if self._closed:
                return None
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except asyncio.CancelledError:
                if getter in self._getters:
                    self._getters.remove(getter)
                raise

    def drain_ready(self) -> list[Delivery[T]]:
        """Everything already queued, without waiting (lets consumers work in batches)."""
        batch: list[Delivery[T]] = []
        if self._missed:
            batch.append(Gap(self.bus.name, self._missed))
            self._missed = 0
        queue = self._queue
        if queue:
            batch.extend(queue)
            queue.clear()
            self.bus._space_freed(self)
        return batch

    def __aiter__(self) -> AsyncIterator[Delivery[T]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Delivery[T]]:
        while (item := await self.get()) is not None:
            yield item

    def unsubscribe(self) -> None:
        self.bus.unsubscribe(self)


class Bus(Generic[T]):
    """One typed channel: publishers call `publish`, subscribers get every event in publish order."""

    def __init__(self, name: str, event_type: type[T]) -> None:
        self.name = name
        self.event_type = event_type
        self._seq = 0
        self._subscriptions: list[Subscription[T]] = []
        self._handler_tasks: dict[Subscription[T], asyncio.Task[None]] = {}
        self._space_waiters: dict[Subscription[T], asyncio.Future[None]] = {}
        self._closed = False
        self.published = 0

    @property
    def subscriptions(self) -> tuple[Subscription[T], ...]:
        return tuple(self._subscriptions)

    @property
    def last_seq(self) -> int:
        return self._seq

    def subscribe(
        self,
        name: str,
        *,
        maxsize: int = 1024,
        overflow: Overflow = Overflow.BLOCK,
        include_remote: bool = False,
    ) -> Subscription[T]:
        """A queue to read with `async for`; the reader must keep up or choose `DROP_OLDEST`. With
        `include_remote` it also gets the events other processes published (bridged through Redis)."""
        subscription = Subscription(self, name, maxsize, overflow, include_remote=include_remote)
        self._subscriptions.append(subscription)
        return subscription

    def subscribe_handler(
        self,
        name: str,
        handler: Callable[[Delivery[T]], Awaitable[None] | None],
        *,
        maxsize: int = 1024,
        overflow: Overflow = Overflow.BLOCK,
        include_remote: bool = False,
    ) -> Subscription[T]:
        """Run `handler` for every delivery in a task of its own; its failures are isolated."""
        subscription = self.subscribe(name, maxsize=maxsize, overflow=overflow, include_remote=include_remote)
        task = asyncio.get_running_loop().create_task(
            self._run_handler(subscription, handler), name=f"bus:{self.name}:{name}"
        )
        self._handler_tasks[subscription] = task
        return subscription

    def feed(self, subscription: Subscription[Any]) -> None:
        """Also deliver this channel's events into `subscription`, which belongs to another channel: one
        queue fed by several channels holds their events in the order they were published. `DROP_OLDEST`
        only, so one channel's publisher never waits for a queue shared with others."""
        if subscription.overflow is not Overflow.DROP_OLDEST:
            raise ValueError("only a drop_oldest subscription can be fed by several channels")
        if subscription not in self._subscriptions:
            self._subscriptions.append(subscription)

    def unsubscribe(self, subscription: Subscription[T]) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
        subscription.close()
        self._space_freed(subscription)

    async def publish(self, event: T, *, origin: str | None = None) -> Envelope[T]:
        """Deliver `event` to every subscriber; waits only for full `BLOCK` subscribers. `origin` names the
        process that published it when the Redis bridge brings it in (None: published here)."""
        if self._closed:
            raise BusClosedError(f"bus {self.name!r} is closed")
        if type(event) is not self.event_type and not isinstance(event, self.event_type):
            raise TypeError(
                f"bus {self.name!r} carries {self.event_type.__name__}, not {type(event).__name__}"
            )
        self._seq += 1
        envelope = Envelope(self.name, self._seq, time.time_ns(), event, otel_context.get_current(), origin)
        self.published += 1
        for subscription in self._subscriptions:
            if origin is not None and not subscription.include_remote:
                continue
            while not subscription.offer(envelope):
                await self._wait_for_space(subscription)
                if subscription not in self._subscriptions:
                    break
        return envelope

    async def _wait_for_space(self, subscription: Subscription[T]) -> None:
        waiter = self._space_waiters.get(subscription)
        if waiter is None or waiter.done():
            waiter = asyncio.get_running_loop().create_future()
            self._space_waiters[subscription] = waiter
        await asyncio.shield(waiter)

    def _space_freed(self, subscription: Subscription[T]) -> None:
        waiter = self._space_waiters.pop(subscription, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _run_handler(
        self, subscription: Subscription[T], handler: Callable[[Delivery[T]], Awaitable[None] | None]
    ) -> None:
        stats = subscription.stats
        while True:
            first = await subscription.get()
            if first is None:
                return
            batch = [first, *subscription.drain_ready()]
            last_envelope: Envelope[T] | None = None
            for delivery in batch:
                try:
                    result = handler(delivery)
                    if result is not None:
                        await result
                except Exception:
                    stats.failed += 1
                    if type(delivery) is not Gap:
                        subscription.dead_letters.append(delivery)  # type: ignore[arg-type]
                    logger.exception(
                        "bus handler failed",
                        extra={
                            "channel": self.name,
                            "subscriber": subscription.name,
                            "seq": getattr(delivery, "seq", None),
                        },
                    )
                if type(delivery) is not Gap:
                    last_envelope = delivery  # type: ignore[assignment]
                    stats.delivered += 1
            if last_envelope is not None:
                stats.last_lag_seconds = (time.time_ns() - last_envelope.published_ns) / 1e9

    async def close(self, drain_seconds: float = 10.0) -> None:
        """Stop accepting events, let handler subscribers finish what is queued, then stop them."""
        self._closed = True
        for subscription in list(self._subscriptions):
            if subscription.bus is self:  # one this channel only feeds is closed by its own channel
                subscription.close()
        tasks = list(self._handler_tasks.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=drain_seconds)
            for task in pending:
                logger.warning("bus subscriber did not drain in time", extra={"task": task.get_name()})
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._handler_tasks.clear()


@dataclass
class EventBus:
    """All channels of one process; the lifespan owns it."""

    process_id: str
    channels: dict[str, Bus[Any]] = field(default_factory=dict)
    _watchers: list[Callable[[Bus[Any]], None]] = field(default_factory=list)

    def channel(self, name: str, event_type: type[T]) -> Bus[T]:
        """The channel `name`, created on first use; a channel carries one event type only."""
        existing = self.channels.get(name)
        if existing is not None:
            if existing.event_type is not event_type:
                raise TypeError(
                    f"channel {name!r} carries {existing.event_type.__name__}, not {event_type.__name__}"
                )
            return existing
        bus: Bus[T] = Bus(name, event_type)
        self.channels[name] = bus
        for watcher in self._watchers:
            watcher(bus)
        return bus

    def watch(self, watcher: Callable[[Bus[Any]], None]) -> None:
        """Call `watcher` with every channel, those that exist now and each one created later."""
        self._watchers.append(watcher)
        for bus in list(self.channels.values()):
            watcher(bus)

    def stats(self) -> Iterable[tuple[str, Subscription[Any]]]:
        for name, bus in self.channels.items():
            for subscription in bus.subscriptions:
                if subscription.bus is bus:
                    yield name, subscription

    async def close(self, drain_seconds: float = 10.0) -> None:
        await asyncio.gather(*(bus.close(drain_seconds) for bus in self.channels.values()))


class BusMetricsCollector:
    """Prometheus view of every subscription's queue depth, deliveries, drops, failures and lag, read at
    scrape time so the hot path only bumps plain integers."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            "tessera_bus_queue_depth",
            "Events waiting in a subscriber's queue",
            labels=["channel", "subscriber"],
        )
        delivered = CounterMetricFamily(
            "tessera_bus_delivered", "Events handled by a subscriber", labels=["channel", "subscriber"]
        )
        dropped = CounterMetricFamily(
            "tessera_bus_dropped",
            "Events dropped by a drop_oldest subscriber",
            labels=["channel", "subscriber"],
        )
        failed = CounterMetricFamily(
            "tessera_bus_handler_failures", "Handler calls that raised", labels=["channel", "subscriber"]
        )
        lag = GaugeMetricFamily(
            "tessera_bus_lag_seconds",
            "Publish-to-handle delay of the last event",
            labels=["channel", "subscriber"],
        )
        published = CounterMetricFamily("tessera_bus_published", "Events published", labels=["channel"])
        for name, channel in self._bus.channels.items():
            published.add_metric([name], channel.published)
            for subscription in channel.subscriptions:
                if subscription.bus is not channel:
                    continue  # fed from here, reported under its own channel
                labels = [name, subscription.name]
                depth.add_metric(labels, subscription.depth)
                delivered.add_metric(labels, subscription.stats.delivered)
                dropped.add_metric(labels, subscription.stats.dropped)
                failed.add_metric(labels, subscription.stats.failed)
                lag.add_metric(labels, subscription.stats.last_lag_seconds)
        return [published, depth, delivered, dropped, failed, lag]
