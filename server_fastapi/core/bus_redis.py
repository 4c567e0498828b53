"""Carries chosen bus channels between processes through one Redis Stream.

Domains say which channels cross processes with name patterns (`bridge.carry("ticks.*", "trading.orders")`,
see each domain's `events.py`); a channel matching one is bridged whenever it is created, so a new
instrument's `ticks.NEW-SYM` crosses processes from its first event, without a restart.

Out: one outbox queue, fed by every bridged channel (`Bus.feed`), holds the events published in this
process in their publish order; one task appends them to the stream in that order, a pipeline per batch
(JSON, with the channel name, the publishing process id and the W3C `traceparent`). The outbox drops the
oldest (logged and counted) when Redis stays away long enough to fill it: a Redis outage must never stall
the venue, whose publishers would otherwise wait.
In: one reader task follows the stream and republishes other processes' events on the local channel of
the same name, tagged with their origin, when this process has that channel (otherwise nobody here
listens). Only subscribers that ask for remote events (`include_remote=True`) see them.

One stream rather than one per channel: channels added at runtime need no new reader position, and a
reader sees one process's events in the order they were published, across channels too (a trade's order
update before its balance change, as the engine published them).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import re
from typing import Any, cast

from opentelemetry import context as otel_context
from opentelemetry.propagate import extract, inject
from redis.asyncio import Redis

from server_fastapi.core.bus import Bus, Envelope, Event, EventBus, Gap, Overflow

logger = logging.getLogger(__name__)

STREAM = "tessera:bus"
OUTBOX_CHANNEL = "redis-bridge.outbox"


class RedisStreamBridge:
    def __init__(
        self,
        bus: EventBus,
        redis: Redis,
        *,
        stream: str = STREAM,
        max_stream_length: int = 100_000,
        read_block_ms: int = 500,
        outbox_size: int = 100_000,
    ) -> None:
        self._bus = bus
        self._redis = redis
        self.stream = stream
        self._max_stream_length = max_stream_length
        self._read_block_ms = read_block_ms
        self._patterns: list[str] = []
        self._matcher: re.Pattern[str] | None = None
        # The outbox's own channel carries nothing; it gives the queue a name in the bus metrics.
        self._outbox = bus.channel(OUTBOX_CHANNEL, Event).subscribe(
            "redis-bridge", maxsize=outbox_size, overflow=Overflow.DROP_OLDEST
        )
        self._fed: list[Bus[Any]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.following = asyncio.Event()
        """Set once the reader knows where the stream ends and follows it."""
        self.forwarded = 0
        self.received = 0
        self.dropped = 0
        bus.watch(self._channel_created)

    def carry(self, *patterns: str) -> None:
        """Bridge every channel whose name matches one of `patterns` (`*` matches anything, so `ticks.*`
        is every symbol's ticks), those that exist now and those created later."""
        self._patterns.extend(patterns)
        self._matcher = re.compile("|".join(fnmatch.translate(p) for p in self._patterns))
        for channel in list(self._bus.channels.values()):
            self._channel_created(channel)

    def carries(self, name: str) -> bool:
        return self._matcher is not None and self._matcher.match(name) is not None

    def _channel_created(self, channel: Bus[Any]) -> None:
        if channel in self._fed or channel is self._outbox.bus or not self.carries(channel.name):
            return
        # Fed at once, so nothing published before `start` (or before the forwarder runs) is missed.
        channel.feed(self._outbox)
        self._fed.append(channel)

    async def start(self) -> None:
        """Forward local events and follow the stream from its current end. Returns at once: while Redis
        is unreachable the bridge waits for it in the background."""
        self._tasks.append(asyncio.create_task(self._forward(), name="bridge-out"))
        self._tasks.append(asyncio.create_task(self._follow(), name="bridge-in"))

    async def _forward(self) -> None:
        outbox = self._outbox
        while (first := await outbox.get()) is not None:
            batch: list[Envelope[Any]] = []
            for delivery in [first, *outbox.drain_ready()]:
                if isinstance(delivery, Gap):
                    self.dropped += delivery.missed
                    logger.warning(
                        "redis bridge dropped events while Redis was unreachable",
                        extra={"missed": delivery.missed},
                    )
                    continue
                batch.append(delivery)
            if batch:
                await _retrying(lambda batch=batch: self._append(batch), what="forwarding events")
                self.forwarded += len(batch)

    async def _append(self, envelopes: list[Envelope[Any]]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for envelope in envelopes:
                carrier: dict[str, str] = {}
                inject(carrier, context=envelope.trace_context)
                pipe.xadd(
                    self.stream,
                    {
                        "channel": envelope.channel,
                        "origin": self._bus.process_id,
                        "seq": str(envelope.seq),
                        "data": envelope.event.model_dump_json(),
                        "traceparent": carrier.get("traceparent", ""),
                    },
                    maxlen=self._max_stream_length,
                    approximate=True,
                )
            await pipe.execute()

    async def _follow(self) -> None:
        last = await _retrying(lambda: self._redis.xrevrange(self.stream, count=1), what="finding the end")
        position = _decode(last[0][0]) if last else "0-0"
        self.following.set()
        while not self._stopping:
            response = await _retrying(
                lambda position=position: self._redis.xread(
                    cast(Any, {self.stream: position}), block=self._read_block_ms, count=1000
                ),
                what="reading the bus stream",
            )
            for _stream, entries in response or []:
                for raw_id, fields in entries:
                    position = _decode(raw_id)
                    values = {_decode(k): _decode(v) for k, v in fields.items()}
                    if values.get("origin") != self._bus.process_id:
                        await self._republish(values)

    async def _republish(self, values: dict[str, str]) -> None:
        name = values.get("channel", "")
        channel = self._bus.channels.get(name)
        if channel is None or not self.carries(name):
            return  # nobody in this process follows that channel
        try:
            event = channel.event_type.model_validate_json(values["data"])
        except Exception:
            logger.exception("dropping a malformed bridged event", extra={"channel": name})
            return
        token = otel_context.attach(extract({"traceparent": values.get("traceparent", "")}))
        try:
            await channel.publish(event, origin=values.get("origin", "unknown"))
        finally:
            otel_context.detach(token)
        self.received += 1

    async def close(self) -> None:
        """Forward what is queued, then stop. The reader ends after its current blocking read: redis-py
        does not reliably give up a blocking XREAD when its task is cancelled."""
        self._stopping = True
        for channel in self._fed:
            channel.unsubscribe(self._outbox)
        self._outbox.unsubscribe()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=self._read_block_ms / 1000 + 5)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks.clear()


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def _retrying(operation: Any, *, what: str) -> Any:
    """Redis outages pause the bridge instead of killing it; it resumes where it stopped."""
    delay = 0.1
    while True:
        try:
            return await operation()
        except (ConnectionError, OSError, TimeoutError) as error:
            logger.warning("redis bridge waiting for Redis", extra={"during": what, "error": str(error)})
        except Exception as error:
            if type(error).__module__.startswith("redis"):
                logger.warning("redis bridge waiting for Redis", extra={"during": what, "error": str(error)})
            else:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
