"""The simulated feed: determinism, the tick and lot grid, ordering and its volatility clustering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice, pairwise

import polars as pl
import pytest

from server_fastapi.markets.analytics import TICK_SCHEMA, candles
from server_fastapi.markets.feed import FeedInstrument, paced, simulate, simulate_frame, to_frame

START = datetime(2025, 1, 1, tzinfo=UTC)
BTC = FeedInstrument("BTC-USDT", Decimal("65000"), Decimal("0.01"), Decimal("0.00001"))
ETH_BTC = FeedInstrument(
    "ETH-BTC", Decimal("0.05123"), Decimal("0.00001"), Decimal("0.0001"), trades_per_second=0.5
)
SOL = FeedInstrument("SOL-USDT", Decimal("150.5"), Decimal("0.005"), Decimal("0.01"), jumps_per_day=50)


def test_same_seed_same_trades() -> None:
    first = simulate_frame([BTC, ETH_BTC, SOL], seed=42, start=START, count=5_000)
    again = simulate_frame([BTC, ETH_BTC, SOL], seed=42, start=START, count=5_000)
    other = simulate_frame([BTC, ETH_BTC, SOL], seed=43, start=START, count=5_000)
    assert first.equals(again)
    assert not first.equals(other)


def test_a_symbol_walk_does_not_depend_on_the_other_symbols() -> None:
    alone = simulate_frame([BTC], seed=7, start=START, count=2_000)
    together = simulate_frame([SOL, BTC], seed=7, start=START, count=6_000)
    btc = together.filter(pl.col("symbol") == "BTC-USDT").head(2_000)
    assert btc.equals(alone)


def test_frame_matches_the_trade_objects() -> None:
    trades = list(islice(simulate([BTC, ETH_BTC], seed=1, start=START), 3_000))
    frame = simulate_frame([BTC, ETH_BTC], seed=1, start=START, count=3_000)
    assert frame.schema == TICK_SCHEMA
    assert to_frame(trades).equals(frame)
    assert isinstance(trades[0].price, Decimal)
    assert trades[0].time.tzinfo is not None


@pytest.mark.parametrize("spec", [BTC, ETH_BTC, SOL], ids=lambda s: s.symbol)
def test_prices_and_quantities_are_on_the_grid(spec: FeedInstrument) -> None:
    for trade in islice(simulate([spec], seed=3, start=START), 5_000):
        assert trade.price >= spec.tick_size
        assert trade.quantity >= spec.lot_size
        assert trade.price % spec.tick_size == 0
        assert trade.quantity % spec.lot_size == 0
        assert trade.taker_side in ("buy", "sell")


def test_order_ids_and_times() -> None:
    frame = simulate_frame([BTC, ETH_BTC, SOL], seed=9, start=START, count=20_000, first_trade_id=100)
    assert frame["time"].is_sorted()
    assert frame["time"].min() > START  # type: ignore[operator]
    for (_,), part in frame.partition_by("symbol", as_dict=True).items():
        assert part["trade_id"].to_list() == list(range(100, 100 + part.height))
        assert part["time"].diff().drop_nulls().min() > timedelta(0)  # type: ignore[operator]
    counts = frame["symbol"].value_counts().sort("symbol")
    # 2 + 0.5 + 2 trades per second: ETH-BTC trades about a quarter as often as each of the others.
    eth = counts.filter(pl.col("symbol") == "ETH-BTC")["count"].item()
    assert 0.08 < eth / frame.height < 0.14


def minute_return_stats(spec: FeedInstrument) -> tuple[float, float]:
    """Lag-1 autocorrelation of absolute one-minute returns, and their kurtosis."""
    ticks = simulate_frame([spec], seed=11, start=START, count=100_000)
    returns = candles(ticks, "1m")["close"].cast(pl.Float64).log().diff().drop_nulls()
    size = returns.abs()
    autocorrelation = pl.DataFrame({"a": size[1:], "b": size[:-1]}).select(pl.corr("a", "b")).item()
    centred = returns - returns.mean()
    kurtosis = (centred**4).mean() / (centred**2).mean() ** 2  # type: ignore[operator]
    return float(autocorrelation), float(kurtosis)  # type: ignore[arg-type]


def test_volatility_clusters_and_jumps_fatten_the_tails() -> None:
    # On the one-minute GARCH clock large moves follow large moves and the tails are fat; the same
    # walk without GARCH and jumps shows neither (a Gaussian walk has kurtosis 3).
    price, tick, lot = Decimal("1000"), Decimal("0.0001"), Decimal("1")
    clustered = FeedInstrument("X-USDT", price, tick, lot, jumps_per_day=20)
    plain = FeedInstrument("X-USDT", price, tick, lot, garch_alpha=0, garch_beta=0, jumps_per_day=0)
    clustered_ac, clustered_kurtosis = minute_return_stats(clustered)
    plain_ac, plain_kurtosis = minute_return_stats(plain)
    assert clustered_ac > 0.12 > 0.06 > plain_ac
    assert clustered_kurtosis > 4.5 > 3.5 > plain_kurtosis


async def test_paced_waits_the_scaled_gaps() -> None:
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    trades = list(islice(simulate([BTC], seed=5, start=START), 20))
    got = [t async for t in paced(trades, speed=10.0, sleep=fake_sleep)]
    assert got == trades
    gaps = [(b.time - a.time).total_seconds() / 10.0 for a, b in pairwise(trades)]
    assert waited == pytest.approx(gaps)


@pytest.mark.parametrize(
    "changes",
    [
        {"tick_size": Decimal(0)},
        {"lot_size": Decimal("-1")},
        {"tick_size": Decimal("0.000000001")},
        {"start_price": Decimal("NaN")},
        {"garch_alpha": 0.2, "garch_beta": 0.8},
        {"trades_per_second": 0.0},
        {"jump_stdev": -0.1},
    ],
)
def test_bad_parameters_are_refused(changes: dict[str, object]) -> None:
    fields = {
        "symbol": "BTC-USDT",
        "start_price": Decimal(1),
        "tick_size": Decimal("0.01"),
        "lot_size": Decimal("0.001"),
        **changes,
    }
    with pytest.raises(ValueError, match="BTC-USDT"):
        FeedInstrument(**fields)  # type: ignore[arg-type]


def test_bad_stream_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        next(simulate([BTC], seed=1, start=datetime(2025, 1, 1)))  # noqa: DTZ001
    with pytest.raises(ValueError, match="once"):
        next(simulate([BTC, BTC], seed=1, start=START))
    assert simulate_frame([BTC], seed=1, start=START, count=0).schema == TICK_SCHEMA
