"""The trade importer: layout detection, row validation with reasons, Parquet, and a million rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from server_fastapi.markets.analytics import PRICE_DTYPE, TICK_SCHEMA, candles
from server_fastapi.markets.importer import (
    Grid,
    ImportFormatError,
    ImportProgress,
    Layout,
    RejectReason,
    detect_layout,
    import_trades,
    plan_import,
    symbol_from_filename,
)

INSTRUMENTS = {
    "BTC-USDT": Grid(Decimal("0.01"), Decimal("0.00001")),
    "ETH-USDT": Grid(Decimal("0.01"), Decimal("0.0001")),
    "ETH-BTC": Grid(Decimal("0.00001"), Decimal("0.0001")),
}
JAN_1_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z


class Collect:
    """An async sink that keeps what it is given (a stand-in for the COPY writer)."""

    def __init__(self, written: int | None = None) -> None:
        self.batches: list[pl.DataFrame] = []
        self.written = written

    async def __call__(self, batch: pl.DataFrame) -> int | None:
        self.batches.append(batch)
        return self.written

    @property
    def frame(self) -> pl.DataFrame:
        return pl.concat(self.batches) if self.batches else pl.DataFrame(schema=TICK_SCHEMA)


def synthetic_id(time: datetime, row: int) -> int:
    """The id of a plain row without one: epoch microseconds * 1000 + row mod 1000."""
    return (time - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000 + row % 1000


def write(tmp_path: Path, name: str, lines: Sequence[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# --- layouts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "layout", "has_header"),
    [
        # Spot trades: no header, 7 fields ending in two booleans.
        (["1,65000.10,0.001,65.0001,1735689600000,True,True"], Layout.BINANCE_TRADES, False),
        # USD-M futures trades: header, 6 fields.
        (
            ["id,price,qty,quote_qty,time,is_buyer_maker", "1,1.5,2,3,1735689600000,true"],
            Layout.BINANCE_TRADES,
            True,
        ),
        # Spot aggTrades: no header, 8 fields.
        (["7,65000.10,0.001,10,11,1735689600000000,False,True"], Layout.BINANCE_AGG_TRADES, False),
        # Futures aggTrades: header, 7 fields.
        (
            [
                "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker",
                "7,1.5,2,10,11,1735689600000,false",
            ],
            Layout.BINANCE_AGG_TRADES,
            True,
        ),
        # Futures aggTrades without a header: 7 fields, an integer time where trades have a boolean.
        (["7,1.5,2,10,11,1735689600000,false"], Layout.BINANCE_AGG_TRADES, False),
        (["time,price,qty,side", "2025-01-01T00:00:00Z,1.5,2,buy"], Layout.PLAIN, True),
        (
            ["Time, Symbol, Price, Quantity, Side", "2025-01-01T00:00:00Z,BTC-USDT,1.5,2,buy"],
            Layout.PLAIN,
            True,
        ),
        (["2025-01-01T00:00:00Z,1.5,2,buy"], Layout.PLAIN, False),
    ],
)
def test_layout_detection(tmp_path: Path, lines: list[str], layout: Layout, has_header: bool) -> None:
    detected = detect_layout(write(tmp_path, "trades.csv", lines))
    assert (detected.layout, detected.has_header, detected.file_format) == (layout, has_header, "csv")


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("\ufefftime,price,qty,side\n2025-01-01T00:00:00Z,1.5,2,buy\n".encode())
    assert detect_layout(path).layout == Layout.PLAIN


@pytest.mark.parametrize(
    ("name", "lines", "message"),
    [
        ("t.csv", ["when,price,amount", "1,2,3"], "unrecognised"),
        ("t.csv", ["time,price,side", "1,2,buy"], "lacks"),
        ("t.csv", ["1,2,3,4,5"], "header-less"),
        ("t.csv", ["time,price,price,qty,side"], "duplicated"),
        ("t.csv", [""], "empty"),
        ("t.zip", ["x"], "unzip"),
        ("t.json", ["x"], "csv or .parquet"),
    ],
)
def test_unknown_layouts_are_refused(tmp_path: Path, name: str, lines: list[str], message: str) -> None:
    with pytest.raises(ImportFormatError, match=message):
        detect_layout(write(tmp_path, name, lines))


# --- Binance files ----------------------------------------------------------------------------


async def test_binance_spot_trades_in_ms_and_us(tmp_path: Path) -> None:
    # 2025 spot files switched to microseconds; older ones are milliseconds.
    path = write(
        tmp_path,
        "BTCUSDT-trades-2025-01.csv",
        [
            "100,65000.10000000,0.00100000,65.00010000,1735689600123,True,True",
            "101,65000.11000000,0.00200000,130.00022000,1735689600123456,False,True",
        ],
    )
    sink = Collect()
    summary = await import_trades(path, instruments=INSTRUMENTS, sink=sink)
    assert summary.layout == Layout.BINANCE_TRADES
    assert (summary.rows_read, summary.rows_written, summary.rejected) == (2, 2, {})
    frame = sink.frame
    assert frame.schema == TICK_SCHEMA
    assert frame.rows() == [
        (utc(2025, 1, 1, 0, 0, 0, 123_000), "BTC-USDT", 100, Decimal("65000.1"), Decimal("0.001"), "sell"),
        (utc(2025, 1, 1, 0, 0, 0, 123_456), "BTC-USDT", 101, Decimal("65000.11"), Decimal("0.002"), "buy"),
    ]
    assert summary.first_time == utc(2025, 1, 1, 0, 0, 0, 123_000)
    assert summary.last_time == utc(2025, 1, 1, 0, 0, 0, 123_456)


async def test_binance_agg_trades_take_the_aggregate_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ETHBTC-aggTrades-2024-12-31.csv",
        [
            "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker",
            "26129,0.03512000,4.7000,27781,27785,1735603200000,true",
        ],
    )
    sink = Collect()
    summary = await import_trades(path, instruments=INSTRUMENTS, sink=sink)
    assert summary.layout == Layout.BINANCE_AGG_TRADES
    assert sink.frame.rows() == [
        (utc(2024, 12, 31), "ETH-BTC", 26129, Decimal("0.03512"), Decimal("4.7"), "sell"),
    ]


def test_symbol_comes_from_a_binance_file_name_or_the_caller(tmp_path: Path) -> None:
    assert symbol_from_filename("BTCUSDT-aggTrades-2025-01-01.csv") == "BTCUSDT"
    assert symbol_from_filename("trades.csv") is None
    path = write(tmp_path, "trades.csv", ["1,1.5,2,3,1735689600000,true"])
    with pytest.raises(ImportFormatError, match="symbol"):
        plan_import(path, instruments=INSTRUMENTS)
    accepted, _ = next(plan_import(path, instruments=INSTRUMENTS, symbol="eth/usdt").batches())
    assert accepted["symbol"].to_list() == ["ETH-USDT"]


# --- validation -------------------------------------------------------------------------------

BAD_ROWS = [
    "time,symbol,price,qty,side",
    "2025-01-01T00:00:00Z,BTC-USDT,65000.10,0.001,buy",  # line 2: fine
    "yesterday,BTC-USDT,65000.10,0.001,buy",  # 3: bad time
    "2001-01-01T00:00:00Z,BTC-USDT,65000.10,0.001,buy",  # 4: before 2009: a misread unit
    "2025-01-01T00:00:01Z,DOGE-USDT,0.3,1,buy",  # 5: unknown symbol
    "2025-01-01T00:00:02Z,BTC-USDT,abc,0.001,sell",  # 6: bad price
    "2025-01-01T00:00:03Z,BTC-USDT,-5,0.001,sell",  # 7: bad price
    "2025-01-01T00:00:04Z,BTC-USDT,1.123456789,0.001,sell",  # 8: bad price: 9 decimals
    "2025-01-01T00:00:05Z,BTC-USDT,65000.10,0,sell",  # 9: bad quantity
    "2025-01-01T00:00:06Z,BTC-USDT,65000.10,0.001,hold",  # 10: bad side
    "2025-01-01T00:00:07Z,BTC-USDT,65000.105,0.001,buy",  # 11: off the 0.01 tick
    "2025-01-01T00:00:08Z,ETH-USDT,3300.5,0.00005,buy",  # 12: off the 0.0001 lot
    "2025-01-01 00:00:09,btcusdt,65000.2,0.002,SELL",  # 13: fine (space, no zone = UTC; alias)
    "",  # a blank line is skipped, not counted
    "2025-01-01T01:00:10+01:00,ETH-BTC,0.03512,1.5,s",  # 15: fine (offset converted)
    "1735689611000,ETH-USDT,3300.50,2,b",  # 16: fine (epoch ms)
    "2025-01-01T00:00:12Z,BTC-USDT,65000.10",  # 17: ragged: no quantity
]


async def test_rows_are_split_into_accepted_and_rejected_with_reasons(tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.csv", BAD_ROWS)
    sink, rejected = Collect(), Collect()
    progress: list[ImportProgress] = []
    summary = await import_trades(
        path,
        instruments=INSTRUMENTS,
        sink=sink,
        on_rejected=rejected,
        on_progress=progress.append,
        batch_size=4,
        now=utc(2025, 6, 1),
    )
    assert summary.rejected == {
        RejectReason.BAD_TIME: 2,
        RejectReason.UNKNOWN_SYMBOL: 1,
        RejectReason.BAD_PRICE: 3,
        RejectReason.BAD_QUANTITY: 2,
        RejectReason.BAD_SIDE: 1,
        RejectReason.OFF_GRID_PRICE: 1,
        RejectReason.OFF_GRID_QUANTITY: 1,
    }
    assert (summary.rows_read, summary.rows_accepted, summary.rows_written) == (15, 4, 4)
    times = [utc(2025, 1, 1), utc(2025, 1, 1, 0, 0, 9), utc(2025, 1, 1, 0, 0, 10), utc(2025, 1, 1, 0, 0, 11)]
    ids = [synthetic_id(t, row) for t, row in zip(times, (0, 11, 13, 14), strict=True)]
    assert sink.frame.rows() == [
        (times[0], "BTC-USDT", ids[0], Decimal("65000.1"), Decimal("0.001"), "buy"),
        (times[1], "BTC-USDT", ids[1], Decimal("65000.2"), Decimal("0.002"), "sell"),
        (times[2], "ETH-BTC", ids[2], Decimal("0.03512"), Decimal("1.5"), "sell"),
        (times[3], "ETH-USDT", ids[3], Decimal("3300.5"), Decimal("2"), "buy"),
    ]
    lines = rejected.frame.select("line", "reason").rows()
    assert lines == [
        (3, "bad_time"),
        (4, "bad_time"),
        (5, "unknown_symbol"),
        (6, "bad_price"),
        (7, "bad_price"),
        (8, "bad_price"),
        (9, "bad_quantity"),
        (10, "bad_side"),
        (11, "off_grid_price"),
        (12, "off_grid_quantity"),
        (17, "bad_quantity"),
    ]
    assert rejected.frame.columns == ["line", "reason", "time", "symbol", "price", "quantity", "side"]
    sample = summary.samples[3]
    assert (sample.line, sample.reason, sample.values["price"]) == (6, RejectReason.BAD_PRICE, "abc")
    assert progress[-1] == ImportProgress(15, 4, 11, 4, 15)
    assert [p.rows_read for p in progress] == sorted(p.rows_read for p in progress)


async def test_the_grid_check_can_be_switched_off(tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.csv", BAD_ROWS)
    summary = await import_trades(
        path, instruments=INSTRUMENTS, sink=Collect(), check_grid=False, now=utc(2025, 6, 1)
    )
    assert RejectReason.OFF_GRID_PRICE not in summary.rejected
    assert summary.rows_accepted == 6


async def test_times_in_the_future_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", ["time,symbol,price,qty,side", "2030-01-01T00:00:00Z,BTC-USDT,1,1,buy"])
    summary = await import_trades(path, instruments=INSTRUMENTS, sink=Collect(), now=utc(2025, 6, 1))
    assert summary.rejected == {RejectReason.BAD_TIME: 1}


async def test_the_sink_reports_what_it_wrote_and_its_failure_stops_the_import(tmp_path: Path) -> None:
    path = write(tmp_path, "BTCUSDT-trades-2025-01.csv", ["1,1.5,2,3,1735689600000,true"] * 3)
    summary = await import_trades(path, instruments=INSTRUMENTS, sink=Collect(written=1))
    assert (summary.rows_accepted, summary.rows_written) == (3, 1)  # e.g. duplicates skipped

    async def failing(batch: pl.DataFrame) -> None:
        raise ConnectionError("database went away")

    with pytest.raises(ConnectionError):
        await import_trades(path, instruments=INSTRUMENTS, sink=failing)


def test_instrument_grids_must_fit_eight_decimals() -> None:
    with pytest.raises(ValueError, match="tick_size"):
        plan_import(
            Path("BTCUSDT-trades-2025-01.csv"),
            instruments={"BTC-USDT": Grid(Decimal("0.000000001"), Decimal(1))},
        )


# --- Parquet ----------------------------------------------------------------------------------


async def test_parquet_with_binance_columns(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-trades-2025-01.parquet"
    pl.DataFrame(
        {
            "id": [1, 2, 3],
            "price": [Decimal("65000.10"), Decimal("65000.123"), Decimal("65000.20")],
            "qty": [Decimal("0.001"), Decimal("0.001"), Decimal("0.002")],
            "quote_qty": [Decimal("65"), Decimal("65"), Decimal("130")],
            "time": [1735689600000000, 1735689600500000, 1735689601000000],
            "is_buyer_maker": [True, False, None],
        },
        schema_overrides={"price": PRICE_DTYPE, "qty": PRICE_DTYPE, "quote_qty": PRICE_DTYPE},
    ).write_parquet(path)
    detected = detect_layout(path)
    assert (detected.layout, detected.file_format) == (Layout.BINANCE_TRADES, "parquet")
    sink, rejected = Collect(), Collect()
    summary = await import_trades(path, instruments=INSTRUMENTS, sink=sink, on_rejected=rejected)
    assert sink.frame.rows() == [
        (utc(2025, 1, 1), "BTC-USDT", 1, Decimal("65000.1"), Decimal("0.001"), "sell"),
    ]
    # Parquet rows are numbered from 1.
    assert rejected.frame.select("line", "reason").rows() == [(2, "off_grid_price"), (3, "bad_side")]
    assert summary.rows_read == 3


async def test_parquet_plain_layout_with_datetimes(tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    pl.DataFrame(
        {
            "time": [datetime(2025, 1, 1, 12), datetime(2025, 1, 1, 13)],  # noqa: DTZ001 - naive means UTC
            "symbol": ["ETH-USDT", "SOL-USDT"],
            "price": ["3300.50", "150"],
            "qty": ["1.5", "2"],
            "side": ["buy", "sell"],
        }
    ).write_parquet(path)
    sink = Collect()
    summary = await import_trades(path, instruments=INSTRUMENTS, sink=sink)
    assert sink.frame.rows() == [
        (
            utc(2025, 1, 1, 12),
            "ETH-USDT",
            synthetic_id(utc(2025, 1, 1, 12), 0),
            Decimal("3300.5"),
            Decimal("1.5"),
            "buy",
        ),
    ]
    assert summary.rejected == {RejectReason.UNKNOWN_SYMBOL: 1}


def test_parquet_with_float_money_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-trades-2025-01.parquet"
    pl.DataFrame(
        {
            "id": [1],
            "price": [65000.1],
            "qty": [0.001],
            "quote_qty": [65.0],
            "time": [JAN_1_MS],
            "is_buyer_maker": [True],
        }
    ).write_parquet(path)
    with pytest.raises(ImportFormatError, match="never float"):
        plan_import(path, instruments=INSTRUMENTS)


# --- a million rows ---------------------------------------------------------------------------

MILLION = 1_000_000


def million_rows() -> pl.DataFrame:
    """A plain-layout file of BTC and ETH trades, 37 ms apart, with 30 planted bad rows."""
    i = pl.int_range(0, MILLION, dtype=pl.Int64)
    cents = 6_000_000 + (i * 7919) % 100_000
    planted = i % 100_000
    return pl.select(
        time=pl.when(planted == 9).then(pl.lit("yesterday")).otherwise((JAN_1_MS + i * 37).cast(pl.String)),
        symbol=pl.when(planted == 8)
        .then(pl.lit("DOGE-USDT"))
        .when(i % 3 == 0)
        .then(pl.lit("ETH-USDT"))
        .otherwise(pl.lit("BTC-USDT")),
        price=pl.when(planted == 7)
        .then(pl.lit("n/a"))
        .otherwise((cents // 100).cast(pl.String) + "." + (cents % 100).cast(pl.String).str.zfill(2)),
        qty=pl.lit("0.") + (1 + i % 500).cast(pl.String).str.zfill(4),
        side=pl.when(i % 2 == 0).then(pl.lit("buy")).otherwise(pl.lit("sell")),
    )


@pytest.mark.slow
async def test_a_million_row_csv(tmp_path: Path) -> None:
    path = tmp_path / "million.csv"
    source = million_rows()
    source.write_csv(path)
    sink = Collect()
    progress: list[ImportProgress] = []
    summary = await import_trades(
        path, instruments=INSTRUMENTS, sink=sink, on_progress=progress.append, batch_size=100_000
    )
    assert summary.rows_read == MILLION
    assert summary.rejected == {
        RejectReason.BAD_TIME: 10,
        RejectReason.UNKNOWN_SYMBOL: 10,
        RejectReason.BAD_PRICE: 10,
    }
    assert summary.rows_written == MILLION - 30
    assert max(b.height for b in sink.batches) <= 100_000  # streamed, never the whole file at once
    assert progress[-1].total_rows == MILLION
    assert len(progress) >= 10
    # The imported range gives the candles of the clean source rows.
    row = pl.int_range(0, MILLION, dtype=pl.Int64)
    clean = (
        source.with_columns(row=row)
        .filter(~(row % 100_000).is_in([7, 8, 9]))  # not the planted rows
        .select(
            pl.from_epoch(pl.col("time").cast(pl.Int64), time_unit="ms").dt.replace_time_zone("UTC"),
            "symbol",
            (pl.col("time").cast(pl.Int64) * 1_000_000 + pl.col("row") % 1000).alias("trade_id"),
            pl.col("price").str.to_decimal(scale=8),
            pl.col("qty").str.to_decimal(scale=8).alias("quantity"),
        )
    )
    assert candles(sink.frame, "1h").equals(candles(clean, "1h"))
    assert sink.frame["trade_id"].equals(clean["trade_id"])
