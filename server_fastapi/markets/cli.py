"""`python -m server_fastapi import-trades FILE...`: historical trades from CSV or Parquet into ticks.

Each file is streamed in batches (Polars lazy scan, see `importer`); each batch is written in its own
transaction through COPY and merged idempotently, so importing a file twice stores its trades once. Bad rows
are counted by reason and never stop the import; `--rejects` writes them to a CSV. A progress bar goes to
stderr, a summary to stdout (`--json` for one JSON object per file).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import polars as pl

from server_fastapi.core.db import connect
from server_fastapi.core.settings import Settings
from server_fastapi.markets import service
from server_fastapi.markets.importer import (
    DEFAULT_BATCH_SIZE,
    ImportFormatError,
    ImportProgress,
    ImportSummary,
    import_trades,
)

BAR_WIDTH = 30


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "import-trades",
        help="import historical trades (Binance trades/aggTrades or time,price,qty,side) from CSV or Parquet",
    )
    parser.add_argument("files", nargs="+", type=Path, help=".csv or .parquet files")
    parser.add_argument("--symbol", help="market of files without a symbol column, e.g. BTC-USDT")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="rows per transaction")
    parser.add_argument("--no-grid-check", action="store_true", help="accept prices and sizes off the grid")
    parser.add_argument("--rejects", type=Path, help="write rejected rows (line, reason, fields) to this CSV")
    parser.add_argument("--json", action="store_true", help="print each summary as one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


class ProgressBar:
    """A one-line bar on a terminal; on a pipe, a line every few seconds."""

    def __init__(self, name: str, stream: TextIO) -> None:
        self.name = name
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.perf_counter()
        self.last_line = 0.0

    def __call__(self, progress: ImportProgress) -> None:
        now = time.perf_counter()
        if not self.tty and now - self.last_line < 2.0:
            return
        self.last_line = now
        total = progress.total_rows or 0
        fraction = min(progress.rows_read / total, 1.0) if total else 0.0
        filled = round(fraction * BAR_WIDTH)
        rate = progress.rows_read / max(now - self.started, 1e-9)
        line = (
            f"{self.name} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%} "
            f"{progress.rows_read:,}/{total:,} rows, {progress.rows_rejected:,} rejected, "
            f"{progress.rows_written:,} written, {rate:,.0f} rows/s"
        )
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def summary_dict(summary: ImportSummary) -> dict[str, Any]:
    return {
        "source": summary.source,
        "layout": summary.layout.value,
        "rows_read": summary.rows_read,
        "rows_accepted": summary.rows_accepted,
        "rows_rejected": summary.rows_rejected,
        "rows_written": summary.rows_written,
        "rows_already_stored": summary.rows_accepted - summary.rows_written,
        "rejected": {reason.value: count for reason, count in summary.rejected.items()},
        "samples": [
            {"line": s.line, "reason": s.reason.value, "values": s.values} for s in summary.samples[:10]
        ],
        "first_time": summary.first_time.isoformat() if summary.first_time else None,
        "last_time": summary.last_time.isoformat() if summary.last_time else None,
        "seconds": round(summary.seconds, 3),
    }


def print_summary(summary: ImportSummary, out: TextIO) -> None:
    rate = summary.rows_read / summary.seconds if summary.seconds else 0.0
    out.write(
        f"{summary.source} ({summary.layout.value}): {summary.rows_read:,} rows read, "
        f"{summary.rows_rejected:,} rejected, {summary.rows_written:,} written "
        f"({summary.rows_accepted - summary.rows_written:,} already stored) in {summary.seconds:.1f} s "
        f"({rate:,.0f} rows/s)\n"
    )
    for reason, count in summary.rejected.items():
        out.write(f"  rejected {reason.value}: {count:,}\n")
    for sample in summary.samples[:5]:
        out.write(f"    line {sample.line}: {sample.reason.value} {sample.values}\n")
    if summary.first_time and summary.last_time:
        out.write(f"  trades from {summary.first_time.isoformat()} to {summary.last_time.isoformat()}\n")


async def _import(args: argparse.Namespace, settings: Settings) -> int:
    conn = await connect(settings.database_url.get_secret_value())
    failures = 0
    try:
        instruments = {i.symbol: i for i in await service.list_instruments(conn)}

        async def sink(batch: pl.DataFrame) -> int:
            async with conn.transaction():  # one transaction per batch: the unit of work
                return await service.write_ticks_frame(conn, batch)

        rejects_header = [True]

        async def keep_rejects(rejected: pl.DataFrame) -> None:
            assert args.rejects is not None
            with args.rejects.open("a" if not rejects_header[0] else "w") as out:
                rejected.write_csv(out, include_header=rejects_header[0])
            rejects_header[0] = False

        for path in args.files:
            bar = None if args.quiet else ProgressBar(path.name, sys.stderr)
            try:
                summary = await import_trades(
                    path,
                    instruments=instruments,
                    sink=sink,
                    symbol=args.symbol,
                    on_rejected=keep_rejects if args.rejects else None,
                    on_progress=bar,
                    batch_size=args.batch_size,
                    check_grid=not args.no_grid_check,
                )
            except (ImportFormatError, OSError) as error:
                failures += 1
                sys.stderr.write(f"{path}: not imported: {error}\n")
                continue
            finally:
                if bar is not None:
                    bar.done()
            if args.json:
                sys.stdout.write(json.dumps(summary_dict(summary)) + "\n")
            else:
                print_summary(summary, sys.stdout)
    finally:
        await conn.close()
    return 1 if failures else 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_import(args, Settings()))
