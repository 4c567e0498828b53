"""The tick writer: a `BLOCK` bus subscriber that stores trades in the ticks hypertable in batches.

Each batch goes through binary COPY into a staging table and is merged with `ON CONFLICT DO NOTHING`, so a
batch written twice stays once. A batch that fails is retried with backoff; one that still fails is logged,
counted (`tessera_ticks_failed_batches`) and kept in `failed` for an operator, never silently dropped. Only
ticks published in this process are written (the subscription leaves out bridged events): ticks from other
processes are their publisher's to write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from server_fastapi.core.bus import Bus, Envelope, Gap, Overflow, Subscription
from server_fastapi.core.db import Pool, transaction
from server_fastapi.markets import repository
from server_fastapi.markets.events import TradeTick
from server_fastapi.markets.repository import TickRecord

logger = logging.getLogger(__name__)

WriteBatch = Callable[[Sequence[TickRecord]], Awaitable[int]]


@dataclass(slots=True)
class WriterStats:
    received: int = 0
    written: int = 0
    duplicates: int = 0
    batches: int = 0
    retries: int = 0
    failed_batches: int = 0
    failed_ticks: int = 0
    last_batch_seconds: float = 0.0


def pool_writer(pool: Pool) -> WriteBatch:
    async def write(records: Sequence[TickRecord]) -> int:
        async with transaction(pool) as connection:
            return await repository.copy_ticks(connection, records)

    return write


def to_record(tick: TradeTick) -> TickRecord:
    return (tick.time, tick.symbol, tick.trade_id, tick.price, tick.quantity, tick.taker_side)


class TickWriter:
    def __init__(
        self,
        write: WriteBatch,
        *,
        max_batch: int = 5_000,
        flush_seconds: float = 0.2,
        retries: int = 4,
        retry_delay: float = 0.2,
        queue_size: int = 20_000,
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self.flush_seconds = flush_seconds
        self.retries = retries
        self.retry_delay = retry_delay
        self.queue_size = queue_size
        self.stats = WriterStats()
        self.failed: deque[list[TickRecord]] = deque(maxlen=100)
        self._subscriptions: dict[str, Subscription[TradeTick]] = {}
        self._pending: list[TickRecord] = []
        self._wake = asyncio.Event()
        self._flushed = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._stopping = False

    def follow(self, channels: Iterable[Bus[TradeTick]]) -> None:
        """Start writing the ticks of these channels (idempotent per channel)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="tick-writer")
        for channel in channels:
            if channel.name in self._subscriptions:
                continue
            subscription = channel.subscribe("tick-writer", maxsize=self.queue_size, overflow=Overflow.BLOCK)
            self._subscriptions[channel.name] = subscription
            self._readers.append(
                asyncio.create_task(self._read(subscription), name=f"tick-writer:{channel.name}")
            )

    async def _read(self, subscription: Subscription[TradeTick]) -> None:
        while (first := await subscription.get()) is not None:
            for delivery in [first, *subscription.drain_ready()]:
                if isinstance(delivery, Gap):  # impossible under BLOCK; loud if it ever happens
                    logger.error("tick writer missed ticks", extra={"missed": delivery.missed})
                    continue
                envelope: Envelope[TradeTick] = delivery
                self._pending.append(to_record(envelope.event))
                self.stats.received += 1
            # Backpressure: the bus blocks publishers while our pending list is large.
            while len(self._pending) >= self.max_batch * 4 and not self._stopping:
                self._wake.set()
                self._flushed.clear()
                await self._flushed.wait()
            if len(self._pending) >= self.max_batch:
                self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_seconds)
            self._wake.clear()
            await self._flush_pending()
            if self._stopping and not self._pending:
                return

    async def _flush_pending(self) -> None:
        async with self._write_lock:  # one batch at a time; `flush` also waits for the one in flight
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                await self._write_batch(batch)
        self._flushed.set()

    async def _write_batch(self, batch: list[TickRecord]) -> None:
        started = time.perf_counter()
        for attempt in range(self.retries + 1):
            try:
                written = await self._write(batch)
            except Exception as error:
                if attempt < self.retries:
                    self.stats.retries += 1
                    logger.warning(
                        "tick batch failed; retrying",
                        extra={"attempt": attempt + 1, "ticks": len(batch), "error": repr(error)},
                    )
                    await asyncio.sleep(self.retry_delay * 2**attempt)
                    continue
                self.stats.failed_batches += 1
                self.stats.failed_ticks += len(batch)
                self.failed.append(batch)
                logger.exception(
                    "tick batch failed after retries; kept for an operator",
                    extra={"ticks": len(batch), "first_trade_id": batch[0][2], "symbol": batch[0][1]},
                )
                return
            self.stats.batches += 1
            self.stats.written += written
            self.stats.duplicates += len(batch) - written
            self.stats.last_batch_seconds = time.perf_counter() - started
            return

    async def flush(self) -> None:
        """Write everything received so far (tests, shutdown)."""
        for _ in range(2000):  # the bus has no "drained" signal; wait up to 10 s for the readers
            if not any(subscription.depth for subscription in self._subscriptions.values()):
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0)
        await self._flush_pending()

    async def close(self) -> None:
        """Stop following, write what is queued, stop."""
        for subscription in self._subscriptions.values():
            subscription.unsubscribe()
        if self._readers:
            await asyncio.gather(*self._readers, return_exceptions=True)
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        self._readers.clear()
        self._subscriptions.clear()


class WriterMetricsCollector:
    def __init__(self, writer: TickWriter) -> None:
        self._writer = writer

    def collect(self) -> list[Metric]:
        stats = self._writer.stats
        metrics: list[Metric] = []
        for name, value, text in (
            ("tessera_ticks_written", stats.written, "Ticks inserted into the ticks table"),
            ("tessera_ticks_duplicates", stats.duplicates, "Ticks skipped as already stored"),
            ("tessera_ticks_batch_retries", stats.retries, "Tick batch writes retried"),
            ("tessera_ticks_failed_batches", stats.failed_batches, "Tick batches that failed every retry"),
            ("tessera_ticks_failed", stats.failed_ticks, "Ticks in failed batches"),
        ):
            counter = CounterMetricFamily(name, text)
            counter.add_metric([], value)
            metrics.append(counter)
        pending = GaugeMetricFamily("tessera_ticks_pending", "Ticks received and not yet written")
        pending.add_metric([], len(self._writer._pending))
        metrics.append(pending)
        return metrics
