"""The `import-trades` command end to end: a million-row CSV and a Parquet file into TimescaleDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import polars as pl
import pytest

from server_fastapi.markets import repository
from server_fastapi.markets.analytics import candles

ROOT = Path(__file__).resolve().parents[3]
JAN_1_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def money(units: pl.Expr, decimals: int) -> pl.Expr:
    """Integer units of 10**-decimals as an exact decimal string."""
    scale = 10**decimals
    return (units // scale).cast(pl.String) + "." + (units % scale).cast(pl.String).str.zfill(decimals)


def million_rows() -> pl.DataFrame:
    """1,000,000 plain rows (`time,symbol,trade_id,price,qty,side`) of BTC-USDT and ETH-USDT over about 14
    hours, with a few hundred bad ones: a price that is not a number, an unknown symbol, a time that is
    not one."""
    n = pl.int_range(1, 1_000_001, dtype=pl.Int64, eager=True).alias("n")
    frame = pl.DataFrame(n).with_columns(
        (JAN_1_MS + pl.col("n") * 50).cast(pl.String).alias("time"),
        pl.when(pl.col("n") % 2 == 0).then(pl.lit("BTC-USDT")).otherwise(pl.lit("ETH-USDT")).alias("symbol"),
        pl.col("n").alias("trade_id"),
        money(6_000_000 + (pl.col("n") * 7919) % 100_000, 2).alias("price"),
        money(pl.col("n") % 97 + 1, 4).alias("qty"),
        pl.when(pl.col("n") % 3 == 0).then(pl.lit("sell")).otherwise(pl.lit("buy")).alias("side"),
    )
    return frame.with_columns(
        pl.when(pl.col("n") % 10_007 == 0).then(pl.lit("abc")).otherwise(pl.col("price")).alias("price"),
        pl.when(pl.col("n") % 10_009 == 1)
        .then(pl.lit("DOGE-USDT"))
        .otherwise(pl.col("symbol"))
        .alias("symbol"),
        pl.when(pl.col("n") % 10_037 == 2).then(pl.lit("not-a-time")).otherwise(pl.col("time")).alias("time"),
    )


def expected_ticks(rows: pl.DataFrame) -> pl.DataFrame:
    good = rows.filter(
        (pl.col("n") % 10_007 != 0) & (pl.col("n") % 10_009 != 1) & (pl.col("n") % 10_037 != 2)
    )
    return good.select(
        pl.from_epoch(pl.col("time").cast(pl.Int64), time_unit="ms")
        .dt.replace_time_zone("UTC")
        .alias("time"),
        "symbol",
        "trade_id",
        pl.col("price").str.to_decimal(scale=8).alias("price"),
        pl.col("qty").str.to_decimal(scale=8).alias("quantity"),
    )


def run_import(database_url: str, *args: str) -> list[dict[str, Any]]:
    env = {**os.environ, "DATABASE_URL": database_url, "TESSERA_ENV": "test"}
    result = subprocess.run(
        [sys.executable, "-m", "server_fastapi", "import-trades", "--json", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "[" in result.stderr
    assert "rows" in result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


async def assert_candles_match(db: asyncpg.Connection, ticks: pl.DataFrame, symbol: str) -> None:
    for interval in ("1m", "1h"):
        expected = candles(ticks.filter(pl.col("symbol") == symbol).drop("symbol"), interval)
        rows = await repository.candles(db, symbol, interval, FAR_PAST, FAR_FUTURE, 100_000)
        assert [tuple(row) for row in rows] == [tuple(row) for row in expected.iter_rows()], (
            symbol,
            interval,
        )


@pytest.mark.slow
async def test_a_million_row_csv_is_imported_with_rejections_reported(
    tmp_path: Path, database_url: str, db: asyncpg.Connection
) -> None:
    rows = million_rows()
    path = tmp_path / "trades.csv"
    rows.drop("n").write_csv(path)
    rejects = tmp_path / "rejects.csv"

    (summary,) = run_import(database_url, str(path), "--rejects", str(rejects))

    bad = {
        "bad_price": int((rows["n"] % 10_007 == 0).sum()),
        "unknown_symbol": int(((rows["n"] % 10_009 == 1) & (rows["n"] % 10_007 != 0)).sum()),
    }
    assert summary["rows_read"] == 1_000_000
    assert summary["rejected"]["bad_time"] == int((rows["n"] % 10_037 == 2).sum())
    # A row with several faults gets the first reason in the importer's order (time, symbol, price).
    assert summary["rejected"]["unknown_symbol"] + summary["rejected"]["bad_price"] >= bad["bad_price"]
    assert summary["rows_written"] == summary["rows_accepted"] == 1_000_000 - summary["rows_rejected"]
    assert summary["rows_rejected"] > 250
    assert pl.read_csv(rejects).height == summary["rows_rejected"]

    ticks = expected_ticks(rows)
    assert ticks.height == summary["rows_written"]
    assert await db.fetchval("SELECT count(*) FROM ticks") == ticks.height
    await assert_candles_match(db, ticks, "BTC-USDT")
    await assert_candles_match(db, ticks, "ETH-USDT")


async def test_a_binance_parquet_file_is_imported_once(
    tmp_path: Path, database_url: str, db: asyncpg.Connection
) -> None:
    count = 50_000
    n = pl.int_range(1, count + 1, dtype=pl.Int64, eager=True)
    frame = pl.DataFrame(
        {
            "id": n,
            "price": pl.Series(
                n.to_frame("n").select(money(150_000 + (pl.col("n") * 31) % 5_000, 3)).to_series()
            ),
            "qty": pl.Series(n.to_frame("n").select(money(pl.col("n") % 50 + 1, 2)).to_series()),
            "quote_qty": pl.Series(["0"] * count),
            "time": JAN_1_MS + n * 1_000,
            "is_buyer_maker": n % 2 == 0,
        }
    )
    frame = frame.with_columns(
        pl.when(pl.col("id") == 7).then(pl.lit("-3.000")).otherwise(pl.col("price")).alias("price"),
        pl.when(pl.col("id") == 9).then(pl.lit(5)).otherwise(pl.col("time")).alias("time"),
    )
    path = tmp_path / "SOLUSDT-trades-2025-01.parquet"
    frame.write_parquet(path)

    (first,) = run_import(database_url, str(path), "--symbol", "SOL-USDT")
    assert first["layout"] == "binance_trades"
    assert first["rejected"] == {"bad_time": 1, "bad_price": 1}
    assert first["rows_written"] == count - 2
    (again,) = run_import(database_url, str(path), "--symbol", "SOL-USDT")
    assert again["rows_written"] == 0
    assert again["rows_already_stored"] == count - 2

    ticks = frame.filter(~pl.col("id").is_in([7, 9])).select(
        pl.from_epoch("time", time_unit="ms").dt.replace_time_zone("UTC").alias("time"),
        pl.lit("SOL-USDT").alias("symbol"),
        pl.col("id").alias("trade_id"),
        pl.col("price").str.to_decimal(scale=8),
        pl.col("qty").str.to_decimal(scale=8).alias("quantity"),
    )
    await assert_candles_match(db, ticks, "SOL-USDT")
    sides = await db.fetch(
        "SELECT trade_id, taker_side FROM ticks WHERE trade_id IN (1, 2) ORDER BY trade_id"
    )
    assert [r["taker_side"] for r in sides] == ["buy", "sell"]  # is_buyer_maker: the seller took
