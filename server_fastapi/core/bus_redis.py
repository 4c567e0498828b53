"""Carries chosen bus channels between processes through Redis Streams.

Each bridged channel has one stream. A local `BLOCK` subscriber appends every locally published event
(JSON, with the publishing process id and W3C `traceparent`); a reader task follows every stream and
republishes events from other processes on the local channel, tagged with their origin so they are not
sent back. Local subscribers therefore see local and remote events alike, each process's in publish order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, cast

from opentelemetry import context as otel_context
from opentelemetry.propagate import extract, inject
from redis.asyncio import Redis

from server_fastapi.core.bus import Bus, Envelope, EventBus, Overflow, Subscription

logger = logging.getLogger(__name__)

STREAM_PREFIX = "tessera:bus:"


class RedisStreamBridge:
    def __init__(
        self,
        bus: EventBus,
        redis: Redis,
        channels: list[Bus[Any]],
        *,
        max_stream_length: int = 100_000,
        read_block_ms: int = 500,
    ) -> None:
        self._bus = bus
        self._redis = redis
        self._channels = {STREAM_PREFIX + channel.name: channel for channel in channels}
        self._max_stream_length = max_stream_length
        self._read_block_ms = read_block_ms
        self._tasks: list[asyncio.Task[None]] = []
        self._subscriptions: list[Subscription[Any]] = []
        self._stopping = False
        self.forwarded = 0
        self.received = 0

    async def start(self) -> None:
        """Follow the streams from their current end, then start forwarding local events."""
        positions: dict[str, str] = {}
        for stream in self._channels:
            last = await self._redis.xrevrange(stream, count=1)
            positions[stream] = _decode(last[0][0]) if last and last[0][0] else "0-0"
        for stream, channel in self._channels.items():
            subscription = channel.subscribe("redis-bridge", maxsize=10_000, overflow=Overflow.BLOCK)
            self._subscriptions.append(subscription)
            self._tasks.append(
                asyncio.create_task(self._forward(stream, subscription), name=f"bridge-out:{stream}")
            )
        self._tasks.append(asyncio.create_task(self._follow(positions), name="bridge-in"))

    async def _forward(self, stream: str, subscription: Subscription[Any]) -> None:
        while (first := await subscription.get()) is not None:
            batch = [first, *subscription.drain_ready()]
            local = [d for d in batch if isinstance(d, Envelope) and d.origin is None]
            if not local:
                continue
            await _retrying(lambda batch=local: self._append(stream, batch), what=f"forwarding to {stream}")
            self.forwarded += len(local)

    async def _append(self, stream: str, envelopes: list[Envelope[Any]]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for envelope in envelopes:
                carrier: dict[str, str] = {}
                inject(carrier, context=envelope.trace_context)
                pipe.xadd(
                    stream,
                    {
                        "origin": self._bus.process_id,
                        "seq": str(envelope.seq),
                        "data": envelope.event.model_dump_json(),
                        "traceparent": carrier.get("traceparent", ""),
                    },
                    maxlen=self._max_stream_length,
                    approximate=True,
                )
            await pipe.execute()

    async def _follow(self, positions: dict[str, str]) -> None:
        while not self._stopping:
            response = await _retrying(
                lambda: self._redis.xread(cast(Any, positions), block=self._read_block_ms, count=1000),
                what="reading bridged streams",
            )
            for raw_stream, entries in response or []:
                stream = _decode(raw_stream)
                channel = self._channels[stream]
                for raw_id, fields in entries:
                    positions[stream] = _decode(raw_id)
                    values = {_decode(k): _decode(v) for k, v in fields.items()}
                    if values.get("origin") == self._bus.process_id:
                        continue
                    await self._republish(channel, values)

    async def _republish(self, channel: Bus[Any], values: dict[str, str]) -> None:
        try:
            event = channel.event_type.model_validate_json(values["data"])
        except Exception:
            logger.exception("dropping a malformed bridged event", extra={"channel": channel.name})
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
        for subscription in self._subscriptions:
            subscription.unsubscribe()
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
