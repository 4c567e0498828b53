"""A deterministic simulated trade feed for demos, tests and benchmarks.

Each symbol follows its own random walk in log price with GARCH(1,1) volatility clustering and
Poisson jumps; trades arrive as a Poisson process. Prices land on the instrument's tick grid and
quantities on its lot grid, both as exact `Decimal`s. The same seed and parameters give the same
trades (same Python version; the walk is floating point, then snapped to the grid), because every
symbol draws from its own generator seeded from `(seed, symbol)`, so adding a symbol does not
change the others' trades.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Final, Literal

import polars as pl

from server_fastapi.markets.analytics import MONEY_SCALE, PRICE_DTYPE, QUANTITY_DTYPE, TICK_SCHEMA

SECONDS_PER_YEAR: Final = 365 * 86_400
_UNIT: Final = Decimal(1).scaleb(-MONEY_SCALE)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
TakerSide = Literal["buy", "sell"]


@dataclass(frozen=True, slots=True)
class FeedInstrument:
    """How one symbol's simulated market behaves.

    `annual_volatility` is the long-run volatility the GARCH variance reverts to;
    `garch_alpha` (reaction to the last shock) and `garch_beta` (persistence) set the clustering,
    updated every `garch_step_seconds` from that step's return;
    `jumps_per_day` and `jump_stdev` (log size) the jumps; `mean_lots` the mean trade size.
    """

    symbol: str
    start_price: Decimal
    tick_size: Decimal
    lot_size: Decimal
    annual_volatility: float = 0.6
    trades_per_second: float = 2.0
    mean_lots: float = 20.0
    garch_alpha: float = 0.08
    garch_beta: float = 0.90
    garch_step_seconds: float = 60.0
    jumps_per_day: float = 6.0
    jump_stdev: float = 0.004

    def __post_init__(self) -> None:
        for name in ("start_price", "tick_size", "lot_size"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ValueError(f"{self.symbol}: {name} must be a positive Decimal, got {value!r}")
            if value != value.quantize(_UNIT):
                raise ValueError(f"{self.symbol}: {name} has more than {MONEY_SCALE} decimals")
        positive = ("annual_volatility", "trades_per_second", "mean_lots", "garch_step_seconds")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{self.symbol}: {name} must be positive")
        if not (self.garch_alpha >= 0 and self.garch_beta >= 0 and self.garch_alpha + self.garch_beta < 1):
            raise ValueError(f"{self.symbol}: GARCH needs alpha, beta >= 0 and alpha + beta < 1")
        if self.jumps_per_day < 0 or self.jump_stdev < 0:
            raise ValueError(f"{self.symbol}: jump parameters must not be negative")


@dataclass(frozen=True, slots=True)
class SimulatedTrade:
    """One trade, shaped like a row of the ticks table (`TICK_SCHEMA`)."""

    time: datetime
    symbol: str
    trade_id: int
    price: Decimal
    quantity: Decimal
    taker_side: TakerSide


class _SymbolWalk:
    """The state of one symbol's walk; `step` draws the next trade."""

    def __init__(self, spec: FeedInstrument, seed: int, first_trade_id: int) -> None:
        self.spec = spec
        # A str seed is hashed with SHA-512 by `random`, so it is stable across processes.
        self.rng = random.Random(f"tessera-feed:{seed}:{spec.symbol}")
        self.elapsed_us = 0
        self.trade_id = first_trade_id
        self.log_price = math.log(float(spec.start_price))
        self.long_run_var = spec.annual_volatility**2 / SECONDS_PER_YEAR
        self.var = self.long_run_var  # per second
        # GARCH runs on a fixed clock, not per trade, so clustering spans minutes to hours
        # whatever the trade rate: the return of each step sets the next step's variance.
        self.step_us = round(spec.garch_step_seconds * 1e6)
        self.step_end_us = self.step_us
        self.step_return = 0.0
        self.last_ticks = max(1, round(spec.start_price / spec.tick_size))
        self.jump_rate = spec.jumps_per_day / 86_400
        self.size_sigma = 1.0
        self.size_mu = math.log(spec.mean_lots) - self.size_sigma**2 / 2

    def _update_variance(self) -> None:
        """One GARCH(1,1) step on the fixed clock: h = omega + alpha * R**2 / step + beta * h."""
        spec = self.spec
        omega = self.long_run_var * (1 - spec.garch_alpha - spec.garch_beta)
        shock = self.step_return**2 / spec.garch_step_seconds
        var = omega + spec.garch_alpha * shock + spec.garch_beta * self.var
        self.var = min(max(var, self.long_run_var / 25), self.long_run_var * 100)
        self.step_return = 0.0
        self.step_end_us += self.step_us

    def step(self) -> tuple[int, int, int, int, TakerSide]:
        """Draw the next trade as `(elapsed_us, trade_id, ticks, lots, taker_side)`."""
        spec, rng = self.spec, self.rng
        dt_us = max(1, round(rng.expovariate(spec.trades_per_second) * 1e6))
        self.elapsed_us += dt_us
        dt = dt_us / 1e6
        while self.elapsed_us >= self.step_end_us:
            self._update_variance()
        move = math.sqrt(self.var * dt) * rng.gauss(0.0, 1.0) - self.var * dt / 2
        if rng.random() < -math.expm1(-self.jump_rate * dt):
            move += rng.gauss(0.0, spec.jump_stdev)  # a jump also feeds the next variance
        self.log_price += move
        self.step_return += move
        ticks = max(1, round(math.exp(self.log_price) / float(spec.tick_size)))
        if ticks == self.last_ticks:
            side: TakerSide = "buy" if rng.random() < 0.5 else "sell"
        else:
            side = "buy" if ticks > self.last_ticks else "sell"  # the tick rule
        self.last_ticks = ticks
        lots = max(1, round(math.exp(rng.gauss(self.size_mu, self.size_sigma))))
        self.trade_id += 1
        return self.elapsed_us, self.trade_id - 1, ticks, lots, side


def _simulate_raw(
    instruments: Sequence[FeedInstrument], *, seed: int, first_trade_id: int
) -> Iterator[tuple[int, int, int, int, int, TakerSide]]:
    """Merge the walks by time: `(elapsed_us, instrument index, trade_id, ticks, lots, side)`."""
    symbols = [i.symbol for i in instruments]
    if len(set(symbols)) != len(symbols):
        raise ValueError("each symbol may appear once")
    walks = [_SymbolWalk(spec, seed, first_trade_id) for spec in instruments]
    queue: list[tuple[int, int, int, int, int, TakerSide]] = []
    for i, walk in enumerate(walks):
        elapsed, trade_id, ticks, lots, side = walk.step()
        queue.append((elapsed, i, trade_id, ticks, lots, side))
    heapq.heapify(queue)  # (elapsed, index) is unique, so ties go to the instrument listed first
    while queue:
        item = heapq.heappop(queue)
        yield item
        elapsed, trade_id, ticks, lots, side = walks[item[1]].step()
        heapq.heappush(queue, (elapsed, item[1], trade_id, ticks, lots, side))


def _utc(start: datetime) -> datetime:
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    return start.astimezone(UTC)


def simulate(
    instruments: Sequence[FeedInstrument],
    *,
    seed: int,
    start: datetime,
    first_trade_id: int = 1,
) -> Iterator[SimulatedTrade]:
    """An endless stream of trades of all instruments, in time order.

    Trade ids count up per symbol from `first_trade_id`; times are strictly increasing per
    symbol (microsecond resolution, like the ticks table); ties across symbols go to the
    instrument listed first.
    """
    start = _utc(start)
    for elapsed, i, trade_id, ticks, lots, side in _simulate_raw(
        instruments, seed=seed, first_trade_id=first_trade_id
    ):
        spec = instruments[i]
        yield SimulatedTrade(
            time=start + timedelta(microseconds=elapsed),
            symbol=spec.symbol,
            trade_id=trade_id,
            price=spec.tick_size * ticks,
            quantity=spec.lot_size * lots,
            taker_side=side,
        )


def to_frame(trades: Iterable[SimulatedTrade]) -> pl.DataFrame:
    """Trades as a ticks frame (`TICK_SCHEMA`), ready for `candles` or the ticks writer."""
    rows = [(t.time, t.symbol, t.trade_id, t.price, t.quantity, t.taker_side) for t in trades]
    return pl.DataFrame(rows, schema=TICK_SCHEMA, orient="row")


def simulate_frame(
    instruments: Sequence[FeedInstrument],
    *,
    seed: int,
    start: datetime,
    count: int,
    first_trade_id: int = 1,
) -> pl.DataFrame:
    """The first `count` trades of `simulate` as a ticks frame, equal to `to_frame(...)` of them.

    Builds columns of integers (microseconds, 1e-8 units) and converts them in Polars, several
    times faster than going through `Decimal` and `datetime` objects.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    start_us = (_utc(start) - _EPOCH) // timedelta(microseconds=1)
    tick_units = [int(spec.tick_size.scaleb(MONEY_SCALE)) for spec in instruments]
    lot_units = [int(spec.lot_size.scaleb(MONEY_SCALE)) for spec in instruments]
    times: list[int] = []
    index: list[int] = []
    ids: list[int] = []
    prices: list[int] = []
    quantities: list[int] = []
    sides: list[str] = []
    raw = _simulate_raw(instruments, seed=seed, first_trade_id=first_trade_id)
    for elapsed, i, trade_id, ticks, lots, side in islice(raw, count):
        times.append(start_us + elapsed)
        index.append(i)
        ids.append(trade_id)
        prices.append(ticks * tick_units[i])
        quantities.append(lots * lot_units[i])
        sides.append(side)
    symbols = pl.Series([spec.symbol for spec in instruments], dtype=pl.String)
    return pl.DataFrame(
        {
            "time": pl.Series(times, dtype=pl.Int64),
            "symbol": symbols.gather(index) if index else pl.Series([], dtype=pl.String),
            "trade_id": pl.Series(ids, dtype=pl.Int64),
            "price": pl.Series(prices, dtype=pl.Int128),
            "quantity": pl.Series(quantities, dtype=pl.Int128),
            "taker_side": pl.Series(sides, dtype=pl.String),
        }
    ).select(
        pl.from_epoch("time", time_unit="us").dt.replace_time_zone("UTC"),
        "symbol",
        "trade_id",
        (pl.col("price").cast(PRICE_DTYPE) * _UNIT).cast(PRICE_DTYPE),
        (pl.col("quantity").cast(QUANTITY_DTYPE) * _UNIT).cast(QUANTITY_DTYPE),
        "taker_side",
    )


async def paced(
    trades: Iterable[SimulatedTrade],
    *,
    speed: float = 1.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[SimulatedTrade]:
    """Yield trades with the gaps between their times, divided by `speed` (for live demos).

    `sleep` is injectable so tests need not wait.
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    previous: datetime | None = None
    for trade in trades:
        if previous is not None:
            gap = (trade.time - previous).total_seconds() / speed
            if gap > 0:
                await sleep(gap)
        previous = trade.time
        yield trade
