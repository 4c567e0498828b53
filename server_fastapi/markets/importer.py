"""Import historical trades from CSV or Parquet, streamed in batches, without a database.

Three layouts are recognised from the header (or, for Binance's header-less files, from the
number and shape of the fields):

- `binance_trades`: `id, price, qty, quote_qty, time, is_buyer_maker[, is_best_match]`
  (spot files have no header and 7 fields; USD-M futures files have a header and 6);
- `binance_agg_trades`: `agg_trade_id, price, quantity, first_trade_id, last_trade_id,
  transact_time, is_buyer_maker[, is_best_match]` (spot: no header, 8 fields; futures: header, 7);
- `plain`: `time, price, qty, side` with optional `symbol` and `trade_id` columns; time is an
  epoch integer or ISO 8601 (`T` or space; `Z`, an offset, or none for UTC); side is buy/sell/b/s;
  rows without a trade id get a stable synthetic one (`_synthetic_trade_id`).

Binance times are epoch integers: milliseconds, and microseconds in spot files from 2025 on; each
value's unit is read from its magnitude (see `_epoch_to_us`), so mixed files work. Binance's
`is_buyer_maker = true` means the seller was the taker, so the taker side is `sell`.

Every row is either accepted (a row of `TICK_SCHEMA`) or rejected with one `RejectReason`; a bad
row never stops the import. The caller supplies the write step as an async sink that receives
batches of accepted rows, so this module holds no SQL. On two shared cores a million rows take
about 3-4 s with epoch times and 7 s with ISO strings, in a few hundred MB.
"""

from __future__ import annotations

import asyncio
import re
import time as clock
from collections import Counter
from collections.abc import Awaitable, Callable, Generator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Final, Literal, Protocol

import polars as pl

from server_fastapi.markets.analytics import MONEY_SCALE, PRICE_DTYPE, QUANTITY_DTYPE, TICK_SCHEMA

DEFAULT_BATCH_SIZE: Final = 100_000
MAX_SAMPLES: Final = 20
MIN_TIME: Final = datetime(2009, 1, 3, tzinfo=UTC)
"""No crypto trade predates the Bitcoin genesis block; earlier times are misread units."""
MAX_FUTURE: Final = timedelta(days=1)
MAX_INTEGER_DIGITS: Final = 20
"""Prices and quantities below 10**20: generous, and keeps exact candle arithmetic in Int128."""


class Layout(StrEnum):
    BINANCE_TRADES = "binance_trades"
    BINANCE_AGG_TRADES = "binance_agg_trades"
    PLAIN = "plain"


class RejectReason(StrEnum):
    """Why a row was rejected; a row with several faults gets the first in this order."""

    BAD_TIME = "bad_time"  # unparseable, or before 2009-01-03 / more than a day ahead
    UNKNOWN_SYMBOL = "unknown_symbol"
    BAD_PRICE = "bad_price"  # not a positive decimal with at most 8 decimals below 1e20
    BAD_QUANTITY = "bad_quantity"  # same rule as price
    BAD_SIDE = "bad_side"
    BAD_TRADE_ID = "bad_trade_id"
    OFF_GRID_PRICE = "off_grid_price"  # not a multiple of the instrument's tick size
    OFF_GRID_QUANTITY = "off_grid_quantity"  # not a multiple of the instrument's lot size


class ImportFormatError(ValueError):
    """The file as a whole cannot be imported (unknown layout, missing column, float money)."""


class InstrumentGrid(Protocol):
    """What the importer needs of an instrument; the markets schema's instrument fits."""

    @property
    def tick_size(self) -> Decimal: ...

    @property
    def lot_size(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class Grid:
    """A plain `InstrumentGrid`, for callers without an instrument model at hand."""

    tick_size: Decimal
    lot_size: Decimal


FileFormat = Literal["csv", "parquet"]


@dataclass(frozen=True, slots=True)
class DetectedLayout:
    """How a file will be read: `columns` are the file's names, `canonical` ours, in file order."""

    layout: Layout
    file_format: FileFormat
    has_header: bool
    columns: tuple[str, ...]
    canonical: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImportProgress:
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    rows_written: int
    total_rows: int | None


@dataclass(frozen=True, slots=True)
class RejectedSample:
    line: int
    reason: RejectReason
    values: dict[str, str | None]


@dataclass(slots=True)
class ImportSummary:
    """What an import did; `rejected` counts rows per reason, `samples` shows the first few."""

    source: str
    layout: Layout
    rows_read: int = 0
    rows_written: int = 0
    rejected: dict[RejectReason, int] = field(default_factory=dict)
    samples: list[RejectedSample] = field(default_factory=list)
    first_time: datetime | None = None
    last_time: datetime | None = None
    seconds: float = 0.0

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())

    @property
    def rows_accepted(self) -> int:
        return self.rows_read - self.rows_rejected

    def record(self, accepted: pl.DataFrame, rejected: pl.DataFrame) -> None:
        """Count one batch (before it is written)."""
        self.rows_read += accepted.height + rejected.height
        if rejected.height:
            counts = Counter(self.rejected)
            counts.update(RejectReason(r) for r in rejected.get_column("reason").to_list())
            self.rejected = dict(sorted(counts.items()))
            for row in rejected.head(MAX_SAMPLES - len(self.samples)).iter_rows(named=True):
                line, reason = row.pop("line"), row.pop("reason")
                self.samples.append(RejectedSample(line, RejectReason(reason), row))
        if accepted.height:
            times = accepted.get_column("time")
            low, high = times.min(), times.max()
            if isinstance(low, datetime) and (self.first_time is None or low < self.first_time):
                self.first_time = low
            if isinstance(high, datetime) and (self.last_time is None or high > self.last_time):
                self.last_time = high

    def progress(self, total_rows: int | None) -> ImportProgress:
        return ImportProgress(
            rows_read=self.rows_read,
            rows_accepted=self.rows_accepted,
            rows_rejected=self.rows_rejected,
            rows_written=self.rows_written,
            total_rows=total_rows,
        )


BatchSink = Callable[[pl.DataFrame], Awaitable[int | None]]
"""Writes one batch of accepted rows (`TICK_SCHEMA`); returns rows written, or None for all."""
RejectSink = Callable[[pl.DataFrame], Awaitable[object]]
"""Receives rejected rows: `line`, `reason` and the raw fields as strings."""
ProgressCallback = Callable[[ImportProgress], None]


# --- layout detection -------------------------------------------------------------------------

_TRADES_NO_HEADER: Final = ("trade_id", "price", "quantity", "quote_quantity", "time", "is_buyer_maker")
_AGG_NO_HEADER: Final = (
    "trade_id",
    "price",
    "quantity",
    "first_trade_id",
    "last_trade_id",
    "time",
    "is_buyer_maker",
)
_PLAIN_NO_HEADER: Final = ("time", "price", "quantity", "side")

# Header names, lower-cased with `_` and spaces removed, to our names.
_SYNONYMS: Final[dict[str, str]] = {
    "id": "trade_id",
    "tradeid": "trade_id",
    "aggtradeid": "trade_id",
    "aggregatetradeid": "trade_id",
    "price": "price",
    "qty": "quantity",
    "quantity": "quantity",
    "quoteqty": "quote_quantity",
    "quotequantity": "quote_quantity",
    "firsttradeid": "first_trade_id",
    "lasttradeid": "last_trade_id",
    "time": "time",
    "timestamp": "time",
    "transacttime": "time",
    "isbuyermaker": "is_buyer_maker",
    "isbestmatch": "is_best_match",
    "side": "side",
    "takerside": "side",
    "symbol": "symbol",
}
_REQUIRED: Final[dict[Layout, frozenset[str]]] = {
    Layout.BINANCE_TRADES: frozenset({"trade_id", "price", "quantity", "time", "is_buyer_maker"}),
    Layout.BINANCE_AGG_TRADES: frozenset({"trade_id", "price", "quantity", "time", "is_buyer_maker"}),
    Layout.PLAIN: frozenset({"time", "price", "quantity", "side"}),
}
_BOOL: Final = re.compile(r"^(true|false)$", re.IGNORECASE)
_HEADER_SNIFF_BYTES: Final = 64 * 1024


def _file_format(path: Path) -> FileFormat:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix == ".zip":
        raise ImportFormatError(f"{path.name}: unzip Binance archives first")
    raise ImportFormatError(f"{path.name}: expected a .csv or .parquet file")


def _layout_from_names(names: list[str], source: str) -> tuple[Layout, tuple[str, ...]]:
    canonical: list[str] = []
    for name in names:
        key = re.sub(r"[\s_]", "", name.strip().lower())
        canonical.append(_SYNONYMS.get(key, f"_extra_{len(canonical)}"))
    duplicated = {c for c in canonical if canonical.count(c) > 1}
    if duplicated:
        raise ImportFormatError(f"{source}: duplicated columns {sorted(duplicated)}")
    found = set(canonical)
    keys = {re.sub(r"[\s_]", "", n.strip().lower()) for n in names}
    if "aggtradeid" in keys or "aggregatetradeid" in keys or {"first_trade_id", "last_trade_id"} <= found:
        layout = Layout.BINANCE_AGG_TRADES
    elif "is_buyer_maker" in found:
        layout = Layout.BINANCE_TRADES
    elif "side" in found:
        layout = Layout.PLAIN
    else:
        raise ImportFormatError(f"{source}: unrecognised columns {names}")
    missing = _REQUIRED[layout] - found
    if missing:
        raise ImportFormatError(f"{source}: {layout} layout lacks {sorted(missing)}")
    return layout, tuple(canonical)


def _layout_from_fields(fields: list[str], source: str) -> tuple[Layout, tuple[str, ...]]:
    """Header-less files: Binance's spot files (7 or 8 fields) and futures files without one."""
    n = len(fields)
    extra = ("is_best_match",)
    if n == 8:
        return Layout.BINANCE_AGG_TRADES, (*_AGG_NO_HEADER, *extra)
    if n == 7:
        # Spot trades end with two booleans; futures aggTrades have an integer time at index 5.
        if _BOOL.match(fields[5]):
            return Layout.BINANCE_TRADES, (*_TRADES_NO_HEADER, *extra)
        return Layout.BINANCE_AGG_TRADES, _AGG_NO_HEADER
    if n == 6:
        return Layout.BINANCE_TRADES, _TRADES_NO_HEADER
    if n == 4:
        return Layout.PLAIN, _PLAIN_NO_HEADER
    raise ImportFormatError(f"{source}: cannot tell the layout of a header-less row of {n} fields")


def _is_header(fields: list[str]) -> bool:
    """A first row naming any known column is a header; Binance's data rows name none."""
    return any(re.sub(r"[\s_]", "", f.lower()) in _SYNONYMS for f in fields)


def detect_layout(path: str | Path) -> DetectedLayout:
    """Read just the header (or first row) and decide how to read the file."""
    path = Path(path)
    file_format = _file_format(path)
    if file_format == "parquet":
        names = pl.read_parquet_schema(path).keys()
        layout, canonical = _layout_from_names(list(names), path.name)
        return DetectedLayout(layout, file_format, True, tuple(names), canonical)
    with path.open("rb") as fh:
        head = fh.read(_HEADER_SNIFF_BYTES)
    first = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()
    if not first or not first[0].strip():
        raise ImportFormatError(f"{path.name}: empty file or empty first line")
    fields = [f.strip().strip('"') for f in first[0].split(",")]
    if _is_header(fields):
        layout, canonical = _layout_from_names(fields, path.name)
        return DetectedLayout(layout, file_format, True, tuple(fields), canonical)
    layout, canonical = _layout_from_fields(fields, path.name)
    return DetectedLayout(layout, file_format, False, canonical, canonical)


_BINANCE_FILE: Final = re.compile(r"^([A-Z0-9]+)-(?:trades|aggTrades)-")


def symbol_from_filename(path: str | Path) -> str | None:
    """`BTCUSDT-trades-2025-01.csv` → `BTCUSDT` (Binance names its files after the symbol)."""
    match = _BINANCE_FILE.match(Path(path).name)
    return match.group(1) if match else None


# --- validation -------------------------------------------------------------------------------

_DECIMAL_PATTERN: Final = (
    rf"^\+?(\d{{1,{MAX_INTEGER_DIGITS}}}(\.\d{{0,{MONEY_SCALE}}}0*)?|\.\d{{1,{MONEY_SCALE}}}0*)$"
)
_UNITS: Final = Decimal(10) ** MONEY_SCALE
_TIME_WITH_OFFSET: Final = "%Y-%m-%dT%H:%M:%S%.f%:z"
_TIME_NAIVE: Final = "%Y-%m-%dT%H:%M:%S%.f"


def _epoch_to_us(n: pl.Expr) -> pl.Expr:
    """Epoch integers in s, ms, µs or ns, told apart by magnitude (unambiguous 1973-5138)."""
    return (
        pl.when(n < 10**11)
        .then(n * 1_000_000)
        .when(n < 10**14)
        .then(n * 1_000)
        .when(n < 10**17)
        .then(n)
        .otherwise(n // 1_000)
    )


def _parse_time(raw: pl.Expr, layout: Layout) -> pl.Expr:
    as_int = _epoch_to_us(raw.str.to_integer(strict=False))
    from_int = pl.from_epoch(as_int, time_unit="us").dt.replace_time_zone("UTC")
    if layout != Layout.PLAIN:
        return from_int
    # ISO 8601 with `T` or a space, with `Z`, an offset or nothing (then UTC), folded into two
    # formats first: each strptime pass over a million rows costs about half a second.
    iso = raw.str.replace(" ", "T", literal=True).str.replace(r"Z$", "+00:00")
    parsed = [
        iso.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False)
        for fmt in (_TIME_WITH_OFFSET, _TIME_NAIVE)
    ]
    return pl.when(raw.str.contains(r"^\d+$")).then(from_int).otherwise(pl.coalesce(parsed))


def _parse_money(raw: pl.Expr, dtype: pl.Decimal) -> tuple[pl.Expr, pl.Expr]:
    """(value, ok): exact decimal parse; ok means positive, at most 8 decimals, below 1e20."""
    well_formed = raw.str.contains(_DECIMAL_PATTERN).fill_null(value=False)
    value = pl.when(well_formed).then(raw.str.strip_chars_start("+")).str.to_decimal(scale=MONEY_SCALE)
    value = value.cast(dtype)
    return value, well_formed & (value > 0).fill_null(value=False)


def _grid_frame(instruments: Mapping[str, InstrumentGrid]) -> pl.DataFrame:
    """Alias → symbol with tick and lot in 1e-8 units; `BTCUSDT` and `BTC/USDT` find `BTC-USDT`."""
    aliases: dict[str, str] = {}
    clashes: set[str] = set()
    for symbol in instruments:
        for alias in {symbol.upper(), symbol.upper().replace("-", ""), symbol.upper().replace("-", "/")}:
            if alias in aliases and aliases[alias] != symbol:
                clashes.add(alias)
            aliases[alias] = symbol
    for symbol in instruments:
        aliases[symbol.upper()] = symbol  # an exact name always wins over a stripped one
        clashes.discard(symbol.upper())
    rows = []
    for alias, symbol in aliases.items():
        if alias in clashes:
            continue
        spec = instruments[symbol]
        units = []
        for name, size in (("tick_size", spec.tick_size), ("lot_size", spec.lot_size)):
            scaled = size * _UNITS
            if size <= 0 or scaled != scaled.to_integral_value():
                raise ValueError(f"{symbol}: {name} {size} is not a positive multiple of 1e-{MONEY_SCALE}")
            units.append(int(scaled))
        rows.append((alias, symbol, units[0], units[1]))
    return pl.DataFrame(
        rows,
        schema={"_alias": pl.String, "symbol": pl.String, "_tick": pl.Int128, "_lot": pl.Int128},
        orient="row",
    )


def _scan(path: Path, detected: DetectedLayout) -> pl.LazyFrame:
    """A lazy scan with every field as a trimmed string under our column names."""
    rename = dict(zip(detected.columns, detected.canonical, strict=True))
    if detected.file_format == "csv":
        lf = pl.scan_csv(
            path,
            has_header=detected.has_header,
            schema=dict.fromkeys(detected.columns, pl.String),
            truncate_ragged_lines=True,
            encoding="utf8-lossy",
            row_index_name="_row",
            quote_char='"',
        )
    else:
        schema = pl.read_parquet_schema(path)
        for name, canonical in rename.items():
            if canonical in ("price", "quantity") and schema[name].is_float():
                raise ImportFormatError(
                    f"{path.name}: column {name!r} is {schema[name]}; money is never float, "
                    "store it as a string or a decimal"
                )
        lf = pl.scan_parquet(path, row_index_name="_row")
        casts = []
        for name, dtype in schema.items():
            if isinstance(dtype, pl.Datetime):
                utc = pl.col(name).dt.replace_time_zone("UTC") if dtype.time_zone is None else pl.col(name)
                casts.append(utc.dt.epoch("us").cast(pl.String).alias(name))
            else:
                casts.append(pl.col(name).cast(pl.String))
        lf = lf.with_columns(casts)
    return lf.rename(rename).with_columns(pl.col(detected.canonical).str.strip_chars())


def _synthetic_trade_id(time: pl.Expr, row: pl.Expr) -> pl.Expr:
    """An id for rows without one: epoch microseconds * 1000 + row number mod 1000.

    Stable when the same file is imported again (so an idempotent writer skips it), distinct
    across files unless two trades share a microsecond and a row residue, and far above the
    small sequential ids the engine issues.
    """
    return time.dt.epoch("us") * 1000 + (row.cast(pl.Int64) % 1000)


def _not_blank(detected: DetectedLayout) -> pl.Expr:
    """Blank lines are skipped, not counted: they are layout, not rejected trades."""
    return ~pl.all_horizontal(pl.col(detected.canonical).is_null())


def _validated(
    lf: pl.LazyFrame,
    detected: DetectedLayout,
    grid: pl.DataFrame,
    symbol: str | None,
    check_grid: bool,
    now: datetime,
) -> pl.LazyFrame:
    """Add `time`, `symbol`, `trade_id`, `price`, `quantity`, `taker_side`, `_reason`, `_line`."""
    layout = detected.layout
    # Rows are reported by line in a CSV (the header is line 1) and by row number in Parquet.
    first_line = 2 if detected.file_format == "csv" and detected.has_header else 1
    raw = [c for c in detected.canonical if not c.startswith("_extra_")]
    lf = lf.filter(_not_blank(detected))
    lf = lf.select(
        pl.col("_row"),
        *(pl.col(c).alias(f"_raw_{c}") for c in raw),
        (pl.col("symbol") if "symbol" in raw else pl.lit(symbol, dtype=pl.String)).alias("_symbol"),
    )
    time = _parse_time(pl.col("_raw_time"), layout)
    price, price_ok = _parse_money(pl.col("_raw_price"), PRICE_DTYPE)
    quantity, quantity_ok = _parse_money(pl.col("_raw_quantity"), QUANTITY_DTYPE)
    if layout == Layout.PLAIN:
        given = pl.col("_raw_side").str.to_lowercase()
        buy, sell = given.is_in(["buy", "b"]), given.is_in(["sell", "s"])
    else:
        maker = pl.col("_raw_is_buyer_maker").str.to_lowercase()
        buy, sell = maker.is_in(["false", "0"]), maker.is_in(["true", "1"])
    side = pl.when(buy).then(pl.lit("buy")).when(sell).then(pl.lit("sell")).otherwise(None)
    if "trade_id" in raw:
        trade_id = pl.col("_raw_trade_id").str.to_integer(dtype=pl.Int64, strict=False)
    else:
        trade_id = _synthetic_trade_id(time, pl.col("_row"))
    lf = lf.with_columns(
        time.alias("time"),
        price.alias("price"),
        price_ok.alias("_price_ok"),
        quantity.alias("quantity"),
        quantity_ok.alias("_quantity_ok"),
        side.alias("taker_side"),
        trade_id.alias("trade_id"),
        (pl.col("_row").cast(pl.Int64) + first_line).alias("_line"),
    ).join(
        grid.lazy(),
        left_on=pl.col("_symbol").str.to_uppercase(),
        right_on="_alias",
        how="left",
        maintain_order="left",
    )
    units = pl.Int128
    off_tick = (pl.col("price") * _UNITS).cast(units) % pl.col("_tick") != 0
    off_lot = (pl.col("quantity") * _UNITS).cast(units) % pl.col("_lot") != 0
    time_ok = pl.col("time").is_between(pl.lit(MIN_TIME), pl.lit(now + MAX_FUTURE), closed="left")
    reason = (
        pl.when(~time_ok.fill_null(value=False))
        .then(pl.lit(RejectReason.BAD_TIME.value))
        .when(pl.col("symbol").is_null())
        .then(pl.lit(RejectReason.UNKNOWN_SYMBOL.value))
        .when(~pl.col("_price_ok"))
        .then(pl.lit(RejectReason.BAD_PRICE.value))
        .when(~pl.col("_quantity_ok"))
        .then(pl.lit(RejectReason.BAD_QUANTITY.value))
        .when(pl.col("taker_side").is_null())
        .then(pl.lit(RejectReason.BAD_SIDE.value))
        .when(pl.col("trade_id").is_null() | (pl.col("trade_id") < 0))
        .then(pl.lit(RejectReason.BAD_TRADE_ID.value))
    )
    if check_grid:
        reason = (
            reason.when(off_tick)
            .then(pl.lit(RejectReason.OFF_GRID_PRICE.value))
            .when(off_lot)
            .then(pl.lit(RejectReason.OFF_GRID_QUANTITY.value))
        )
    return lf.with_columns(reason.otherwise(None).alias("_reason"))


def _split(batch: pl.DataFrame, raw: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    ok = pl.col("_reason").is_null()
    accepted = batch.filter(ok).select(list(TICK_SCHEMA.names()))
    rejected = batch.filter(~ok).select(
        pl.col("_line").alias("line"),
        pl.col("_reason").alias("reason"),
        *(pl.col(f"_raw_{c}").alias(c) for c in raw),
    )
    return accepted, rejected


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """A prepared import: the detected layout and the lazy query that validates every row."""

    path: Path
    detected: DetectedLayout
    query: pl.LazyFrame
    raw_columns: list[str]

    def batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Generator[tuple[pl.DataFrame, pl.DataFrame]]:
        """Stream `(accepted, rejected)` pairs; memory stays around a few batches.

        Close the generator when stopping early: that drops Polars' streaming query.
        """
        for batch in self.query.collect_batches(chunk_size=batch_size, maintain_order=True):
            yield _split(batch, self.raw_columns)

    def count_rows(self) -> int:
        """Data rows in the file, as `rows_read` will count them, for a progress bar."""
        if self.detected.file_format == "parquet":
            return int(pl.scan_parquet(self.path).select(pl.len()).collect().item())
        lf = _scan(self.path, self.detected).filter(_not_blank(self.detected))
        return int(lf.select(pl.len()).collect(engine="streaming").item())


def plan_import(
    path: str | Path,
    *,
    instruments: Mapping[str, InstrumentGrid],
    symbol: str | None = None,
    check_grid: bool = True,
    now: datetime | None = None,
) -> ImportPlan:
    """Detect the layout and build the validating query; raises `ImportFormatError` up front.

    Rows take their symbol from a `symbol` column when the file has one, else from `symbol`,
    else from a Binance file name. Symbols match the instruments' names, also written without
    the dash or with a slash (`BTCUSDT`, `BTC/USDT` → `BTC-USDT`). Off-grid values are
    rejected unless `check_grid` is False.
    """
    grid = _grid_frame(instruments)
    path = Path(path)
    detected = detect_layout(path)
    if "symbol" not in detected.canonical:
        symbol = symbol or symbol_from_filename(path)
        if symbol is None:
            raise ImportFormatError(f"{path.name}: no symbol column; pass the symbol to import as")
    query = _validated(_scan(path, detected), detected, grid, symbol, check_grid, now or datetime.now(UTC))
    raw = [c for c in detected.canonical if not c.startswith("_extra_")]
    return ImportPlan(path, detected, query, raw)


async def import_trades(
    path: str | Path,
    *,
    instruments: Mapping[str, InstrumentGrid],
    sink: BatchSink,
    symbol: str | None = None,
    on_rejected: RejectSink | None = None,
    on_progress: ProgressCallback | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    check_grid: bool = True,
    count_rows: bool = True,
    now: datetime | None = None,
) -> ImportSummary:
    """Import a file: validate every row, hand accepted batches to `sink`, summarise.

    Parsing runs in a worker thread so the event loop stays responsive; batches reach `sink`
    in file order, one at a time (the next batch is parsed only after `sink` returns, which
    bounds memory). An exception from `sink` stops the import and propagates.
    """
    started = clock.perf_counter()
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    plan = plan_import(path, instruments=instruments, symbol=symbol, check_grid=check_grid, now=now)
    total = await asyncio.to_thread(plan.count_rows) if count_rows else None
    summary = ImportSummary(source=str(plan.path), layout=plan.detected.layout)
    with closing(plan.batches(batch_size)) as batches:
        while (pair := await asyncio.to_thread(next, batches, None)) is not None:
            accepted, rejected = pair
            summary.record(accepted, rejected)
            if rejected.height and on_rejected is not None:
                await on_rejected(rejected)
            if accepted.height:
                written = await sink(accepted)
                summary.rows_written += accepted.height if written is None else written
            if on_progress is not None:
                on_progress(summary.progress(total))
    summary.seconds = clock.perf_counter() - started
    return summary
