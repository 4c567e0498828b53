"""Candles and indicators of `server_fastapi.markets.analytics` against hand-computed values."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server_fastapi.markets.analytics import (
    CANDLE_GAP_RULE,
    INTERVAL_SECONDS,
    INTERVALS,
    PRICE_DTYPE,
    TICK_SCHEMA,
    VWAP_ROUNDING,
    IndicatorError,
    IndicatorSpec,
    bollinger,
    candles,
    compute_indicators,
    ema,
    parse_indicators,
    periods_per_year,
    realised_volatility,
    rsi,
    sma,
    vwap,
)


def at(day: int, hour: int, minute: int, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, second, micro, tzinfo=UTC)


# (time, trade_id, price, quantity); trades 2 and 3 share a timestamp, so the id decides the order.
TICKS = [
    (at(5, 23, 59, 59, 999_999), 1, "100", "1"),
    (at(6, 0, 0), 2, "101", "2"),
    (at(6, 0, 0), 3, "99.5", "0.5"),
    (at(6, 0, 4, 59), 4, "102.25", "1.25"),
    (at(6, 0, 5), 5, "100.75", "3"),
    (at(6, 0, 14, 30), 6, "98", "0.1"),
    (at(6, 0, 15), 7, "103", "1"),
    (at(6, 3, 59, 59), 8, "104", "2"),
    (at(6, 4, 0), 9, "105", "1"),
    (at(7, 0, 0, 1), 10, "106", "1"),
]

Row = tuple[datetime, str, str, str, str, str, int, str]


def one(time: datetime, price: str, quantity: str) -> Row:
    """The candle of a single trade."""
    return (time, price, price, price, price, quantity, 1, price)


T1, T4, T5, T6, T7, T8, T9, T10 = (
    ("100", "1"),
    ("102.25", "1.25"),
    ("100.75", "3"),
    ("98", "0.1"),
    ("103", "1"),
    ("104", "2"),
    ("105", "1"),
    ("106", "1"),
)

# Worked by hand: e.g. 5m at 00:00 holds trades 2, 3, 4: notional 202 + 49.75 + 127.8125 = 379.5625
# over 3.75 → 101.2166666…, rounded half up to 101.21666667.
EXPECTED: dict[str, list[Row]] = {
    "1m": [
        one(at(5, 23, 59), *T1),
        (at(6, 0, 0), "101", "101", "99.5", "99.5", "2.5", 2, "100.7"),
        one(at(6, 0, 4), *T4),
        one(at(6, 0, 5), *T5),
        one(at(6, 0, 14), *T6),
        one(at(6, 0, 15), *T7),
        one(at(6, 3, 59), *T8),
        one(at(6, 4, 0), *T9),
        one(at(7, 0, 0), *T10),
    ],
    "5m": [
        one(at(5, 23, 55), *T1),
        (at(6, 0, 0), "101", "102.25", "99.5", "102.25", "3.75", 3, "101.21666667"),
        one(at(6, 0, 5), *T5),
        one(at(6, 0, 10), *T6),
        one(at(6, 0, 15), *T7),
        one(at(6, 3, 55), *T8),
        one(at(6, 4, 0), *T9),
        one(at(7, 0, 0), *T10),
    ],
    "15m": [
        one(at(5, 23, 45), *T1),
        (at(6, 0, 0), "101", "102.25", "98", "98", "6.85", 5, "100.96532847"),
        one(at(6, 0, 15), *T7),
        one(at(6, 3, 45), *T8),
        one(at(6, 4, 0), *T9),
        one(at(7, 0, 0), *T10),
    ],
    "1h": [
        one(at(5, 23, 0), *T1),
        (at(6, 0, 0), "101", "103", "98", "103", "7.85", 6, "101.22452229"),
        one(at(6, 3, 0), *T8),
        one(at(6, 4, 0), *T9),
        one(at(7, 0, 0), *T10),
    ],
    "4h": [
        one(at(5, 20, 0), *T1),
        (at(6, 0, 0), "101", "104", "98", "104", "9.85", 7, "101.78807107"),
        one(at(6, 4, 0), *T9),
        one(at(7, 0, 0), *T10),
    ],
    "1d": [
        one(at(5, 0, 0), *T1),
        (at(6, 0, 0), "101", "105", "98", "105", "10.85", 8, "102.08410138"),
        one(at(7, 0, 0), *T10),
    ],
}


def ticks_frame(rows: list[tuple[datetime, int, str, str]], *, shuffle: bool = True) -> pl.DataFrame:
    rows = list(rows)
    if shuffle:
        random.Random(4).shuffle(rows)  # candles must not depend on input order
    return pl.DataFrame(
        {
            "time": [r[0] for r in rows],
            "trade_id": [r[1] for r in rows],
            "price": [Decimal(r[2]) for r in rows],
            "quantity": [Decimal(r[3]) for r in rows],
        },
        schema={
            "time": TICK_SCHEMA["time"],
            "trade_id": pl.Int64,
            "price": PRICE_DTYPE,
            "quantity": PRICE_DTYPE,
        },
    )


def text(value: Decimal) -> str:
    return str(value.normalize())


def as_rows(frame: pl.DataFrame) -> list[Row]:
    money = ("open", "high", "low", "close", "volume")
    return [
        (r["time"], *(text(r[c]) for c in money), r["trades"], text(r["vwap"]))
        for r in frame.iter_rows(named=True)
    ]


def normalised(rows: list[Row]) -> list[Row]:
    return [(r[0], *(text(Decimal(v)) for v in r[1:6]), r[6], text(Decimal(r[7]))) for r in rows]  # type: ignore[misc]


@pytest.mark.parametrize("interval", INTERVALS)
def test_candles_match_the_hand_computed_case(interval: str) -> None:
    result = candles(ticks_frame(TICKS), interval)
    assert result.columns == ["time", "open", "high", "low", "close", "volume", "trades", "vwap"]
    assert as_rows(result) == normalised(EXPECTED[interval])


def test_candles_are_exact_decimals_and_utc_microseconds() -> None:
    result = candles(ticks_frame(TICKS).lazy(), "1h")
    assert result.schema["time"] == pl.Datetime("us", "UTC")
    for column in ("open", "high", "low", "close", "volume", "vwap"):
        assert result.schema[column] == PRICE_DTYPE
    assert result.schema["trades"] == pl.Int64


def test_vwap_rounds_half_up_once() -> None:
    # Exactly halfway: (0.00000002 + 0.00000003) / 2 = 0.000000025 → 0.00000003 (half-even would say ...2).
    rows = [(at(6, 0, 0), 1, "0.00000002", "1"), (at(6, 0, 0, 1), 2, "0.00000003", "1")]
    assert VWAP_ROUNDING == "ROUND_HALF_UP"
    assert candles(ticks_frame(rows), "1m")["vwap"].to_list() == [Decimal("0.00000003")]
    # Just below half must not be rounded up by an intermediate rounding.
    rows = [(at(6, 0, 0), 1, "0.00000001", "1"), (at(6, 0, 0, 1), 2, "0.00000002", "0.99999999")]
    # (1e-8 + 1.999999998e-8) / 1.99999999 = 1.4999999987…e-8 → 0.00000001
    assert candles(ticks_frame(rows), "1m")["vwap"].to_list() == [Decimal("0.00000001")]


def test_empty_intervals_are_omitted() -> None:
    assert CANDLE_GAP_RULE == "omit"
    times = candles(ticks_frame(TICKS), "1h")["time"].to_list()
    assert at(6, 1, 0) not in times
    assert at(6, 2, 0) not in times


@pytest.mark.parametrize("interval", INTERVALS)
def test_buckets_align_to_the_epoch_and_to_timescale_default_origin(interval: str) -> None:
    width = timedelta(seconds=INTERVAL_SECONDS[interval])  # type: ignore[index]
    timescale_origin = datetime(2000, 1, 3, tzinfo=UTC)
    for bucket in candles(ticks_frame(TICKS), interval)["time"]:
        assert (bucket - datetime(1970, 1, 1, tzinfo=UTC)) % width == timedelta(0)
        assert (bucket - timescale_origin) % width == timedelta(0)


def test_candles_per_symbol() -> None:
    frame = ticks_frame(TICKS, shuffle=False)
    both = pl.concat([frame.with_columns(pl.lit(s).alias("symbol")) for s in ("ETH-USDT", "BTC-USDT")])
    result = candles(both, "1d")
    assert result.columns[0] == "symbol"
    assert result["symbol"].to_list() == ["BTC-USDT"] * 3 + ["ETH-USDT"] * 3
    for (_,), part in result.partition_by("symbol", as_dict=True).items():
        assert as_rows(part.drop("symbol")) == normalised(EXPECTED["1d"])


def test_other_time_zones_are_converted_and_naive_times_are_utc() -> None:
    frame = ticks_frame(TICKS)
    expected = candles(frame, "1d")
    kolkata = frame.with_columns(pl.col("time").dt.convert_time_zone("Asia/Kolkata"))
    naive = frame.with_columns(pl.col("time").dt.replace_time_zone(None))
    nanos = frame.with_columns(pl.col("time").dt.cast_time_unit("ns"))
    assert candles(kolkata, "1d").equals(expected)
    assert candles(naive, "1d").equals(expected)
    assert candles(nanos, "1d").equals(expected)


def test_candles_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown interval"):
        candles(ticks_frame(TICKS), "2m")
    with pytest.raises(TypeError, match="never float"):
        candles(ticks_frame(TICKS).with_columns(pl.col("price").cast(pl.Float64)), "1m")
    with pytest.raises(ValueError, match="quantity"):
        candles(ticks_frame(TICKS).drop("quantity"), "1m")


def test_presorted_ticks_give_the_same_candles() -> None:
    ordered = ticks_frame(TICKS, shuffle=False).with_columns(pl.lit("BTC-USDT").alias("symbol"))
    for interval in INTERVALS:
        assert candles(ordered, interval, presorted=True).equals(candles(ordered, interval))


def test_no_ticks_no_candles() -> None:
    assert candles(ticks_frame([]), "1m").height == 0


def reference_candles(rows: list[tuple[int, int, int, int]], interval: str) -> list[Row]:
    """Pure-Python Decimal candles: floor(epoch_us / width) buckets, ties by trade id."""
    width_us = INTERVAL_SECONDS[interval] * 1_000_000  # type: ignore[index]
    unit = Decimal("0.00000001")
    buckets: dict[int, list[tuple[int, int, Decimal, Decimal]]] = {}
    for time_us, trade_id, price_units, qty_units in rows:
        buckets.setdefault(time_us // width_us, []).append(
            (time_us, trade_id, price_units * unit, qty_units * unit)
        )
    out: list[Row] = []
    for key in sorted(buckets):
        trades = sorted(buckets[key])
        prices = [t[2] for t in trades]
        volume = sum((t[3] for t in trades), Decimal(0))
        notional = sum((t[2] * t[3] for t in trades), Decimal(0))
        average = (notional / volume).quantize(unit, rounding=ROUND_HALF_UP)
        start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=key * width_us)
        values = (prices[0], max(prices), min(prices), prices[-1], volume)
        out.append((start, *(str(v.normalize()) for v in values), len(trades), str(average.normalize())))  # type: ignore[arg-type]
    return out


BASE_US = 1_709_683_200_000_000  # 2024-03-06 00:00 UTC


@settings(max_examples=60, deadline=None)
@given(
    interval=st.sampled_from(INTERVALS),
    trades=st.lists(
        st.tuples(
            st.integers(0, 3 * 86_400_000_000),
            st.integers(1, 10**12),  # price in 1e-8 units: up to 10,000
            st.integers(1, 10**11),  # quantity in 1e-8 units: up to 1,000
        ),
        min_size=1,
        max_size=80,
    ),
)
def test_candles_equal_a_decimal_reference(interval: str, trades: list[tuple[int, int, int]]) -> None:
    rows = [(BASE_US + t, i, p, q) for i, (t, p, q) in enumerate(trades)]
    frame = pl.DataFrame(
        {
            "time": [r[0] for r in rows],
            "trade_id": [r[1] for r in rows],
            "price": [Decimal(r[2]).scaleb(-8) for r in rows],
            "quantity": [Decimal(r[3]).scaleb(-8) for r in rows],
        },
        schema={"time": pl.Int64, "trade_id": pl.Int64, "price": PRICE_DTYPE, "quantity": PRICE_DTYPE},
    ).with_columns(pl.from_epoch("time", time_unit="us").dt.replace_time_zone("UTC"))
    assert as_rows(candles(frame, interval)) == reference_candles(rows, interval)


# --- indicators -------------------------------------------------------------------------------

CLOSES = [10.0, 11.0, 12.0, 11.0, 13.0, 14.0]


def candle_frame() -> pl.DataFrame:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    return pl.DataFrame(
        {
            "time": [start + timedelta(days=i) for i in range(len(CLOSES))],
            "close": [Decimal(str(c)) for c in CLOSES],
            "volume": [Decimal(v) for v in ("1", "2", "1", "1", "2", "1")],
            "vwap": [Decimal(str(c)) for c in CLOSES],
        },
        schema={
            "time": pl.Datetime("us", "UTC"),
            "close": PRICE_DTYPE,
            "volume": PRICE_DTYPE,
            "vwap": PRICE_DTYPE,
        },
    )


def column(expr: pl.Expr | list[pl.Expr]) -> list[Any]:
    exprs = expr if isinstance(expr, list) else [expr]
    frame = candle_frame().select(exprs)
    return [frame[c].to_list() for c in frame.columns] if len(exprs) > 1 else frame.to_series().to_list()


def close_to(actual: list[float | None], expected: list[float | None]) -> bool:
    return len(actual) == len(expected) and all(
        (a is None and e is None) or (a is not None and e is not None and math.isclose(a, e, rel_tol=1e-12))
        for a, e in zip(actual, expected, strict=True)
    )


def test_sma() -> None:
    assert close_to(column(sma(3)), [None, None, 11.0, 34 / 3, 12.0, 38 / 3])


def test_ema_is_seeded_with_the_sma() -> None:
    # alpha = 2 / (3 + 1) = 0.5; seed = SMA(10, 11, 12) = 11; then 0.5*11+0.5*11, 0.5*13+0.5*11, ...
    assert close_to(column(ema(3)), [None, None, 11.0, 11.0, 12.0, 13.0])


def test_rsi_wilder() -> None:
    # Changes +1 +1 -1 +2 +1. Seed: gain 2/3, loss 1/3 → 66.67; then gain (2/3*2+2)/3 = 10/9,
    # loss (1/3*2)/3 = 2/9 → 83.33; then gain (10/9*2+1)/3 = 29/27, loss 4/27 → 100*29/33.
    assert close_to(column(rsi(3)), [None, None, None, 200 / 3, 250 / 3, 2900 / 33])


def test_rsi_of_a_flat_market_is_50_and_of_a_rising_one_100() -> None:
    flat = pl.DataFrame({"close": [1.0] * 5}).select(rsi(2)).to_series().to_list()
    rising = pl.DataFrame({"close": [1.0, 2.0, 3.0, 4.0]}).select(rsi(2)).to_series().to_list()
    assert flat == [None, None, 50.0, 50.0, 50.0]
    assert rising == [None, None, 100.0, 100.0]


def test_vwap_rolling_and_cumulative() -> None:
    assert close_to(column(vwap(2)), [None, 32 / 3, 34 / 3, 23 / 2, 37 / 3, 40 / 3])
    assert close_to(column(vwap()), [10.0, 32 / 3, 11.0, 11.0, 81 / 7, 95 / 8])


def test_bollinger_uses_population_std() -> None:
    mid, upper, lower = column(bollinger(3, 2.0))
    band = 2 * math.sqrt(2 / 3)  # std of (10, 11, 12) with ddof 0
    assert close_to(mid[:3], [None, None, 11.0])
    assert close_to(upper[:3], [None, None, 11.0 + band])
    assert close_to(lower[:3], [None, None, 11.0 - band])


def test_realised_volatility() -> None:
    r1, r2 = math.log(11 / 10), math.log(12 / 11)
    plain = column(realised_volatility(2))
    yearly = column(realised_volatility(2, periods_per_year("1d")))
    assert close_to(plain[:3], [None, None, math.sqrt(r1**2 + r2**2)])
    assert close_to(yearly[:3], [None, None, math.sqrt((r1**2 + r2**2) * 365 / 2)])
    assert periods_per_year("1m") == 525_600


def test_compute_indicators_names_and_dtypes() -> None:
    specs = parse_indicators("sma:3, ema:3, rsi:3, bb:3:2, rv:2, vwap, vwap:2")
    result = compute_indicators(candle_frame(), specs, "1d")
    indicators = ["sma_3", "ema_3", "rsi_3", "bb_mid_3", "bb_upper_3_2", "bb_lower_3_2", "rv_2", "vwap_cum"]
    assert result.columns == ["time", *indicators, "vwap_2"]
    assert all(dtype == pl.Float64 for dtype in result.drop("time").dtypes)
    assert close_to(result["ema_3"].to_list(), [None, None, 11.0, 11.0, 12.0, 13.0])


def test_compute_indicators_per_symbol() -> None:
    frame = pl.concat([candle_frame().with_columns(pl.lit(s).alias("symbol")) for s in ("B", "A")])
    result = compute_indicators(frame, [IndicatorSpec("sma", 3)], "1d")
    assert result["symbol"].to_list() == ["A"] * 6 + ["B"] * 6
    assert close_to(result["sma_3"].to_list()[6:], [None, None, 11.0, 34 / 3, 12.0, 38 / 3])


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "indicators"),
        ("macd:12", "indicators[0]"),
        ("sma:0", "indicators[0].window"),
        ("sma:20,ema:1001", "indicators[1].window"),
        ("rsi:1", "indicators[0].window"),
        ("bb:20:0", "indicators[0].k"),
        ("bb:20:nan", "indicators[0].k"),
        ("sma:x", "indicators[0]"),
        ("sma:2:3", "indicators[0]"),
        (",".join(["sma:2"] * 13), "indicators"),
    ],
)
def test_bad_indicator_requests_name_the_field(text: str, field: str) -> None:
    with pytest.raises(IndicatorError) as caught:
        parse_indicators(text)
    assert caught.value.field == field


def test_compute_indicators_validates() -> None:
    with pytest.raises(IndicatorError, match="twice"):
        compute_indicators(candle_frame(), [IndicatorSpec("sma", 3), IndicatorSpec("sma", 3)], "1d")
    with pytest.raises(IndicatorError):
        compute_indicators(candle_frame(), [], "1d")
    with pytest.raises(ValueError, match="interval"):
        compute_indicators(candle_frame(), [IndicatorSpec("sma", 3)], "3d")
    with pytest.raises(IndicatorError):
        IndicatorSpec("ema", None)


def test_defaults_from_the_query_string() -> None:
    assert parse_indicators("sma,rsi,bb,rv") == [
        IndicatorSpec("sma", 20),
        IndicatorSpec("rsi", 14),
        IndicatorSpec("bollinger", 20, 2.0),
        IndicatorSpec("realised_volatility", 30),
    ]
    assert IndicatorSpec("bollinger", 20, 2.5).columns == ("bb_mid_20", "bb_upper_20_2.5", "bb_lower_20_2.5")
