"""Request and response models of the markets API. Every amount is a `Decimal` here and a decimal string
on the wire (`"0.015"`); times are ISO 8601 in UTC."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from server_fastapi.markets.analytics import Interval

DecimalStr = Annotated[
    Decimal,
    PlainSerializer(lambda value: format(value.normalize(), "f") if value else "0", return_type=str),
    Field(json_schema_extra={"type": "string", "format": "decimal"}),
]
"""A Decimal serialised as a plain decimal string without exponent or trailing zeros."""

SYMBOL_PATTERN = r"^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$"
ASSET_PATTERN = r"^[A-Z0-9]{2,12}$"


class InstrumentStatus(StrEnum):
    TRADING = "trading"
    HALTED = "halted"


class Instrument(BaseModel):
    """A tradable pair and its grid: prices are multiples of `tick_size`, quantities of `lot_size`."""

    model_config = ConfigDict(frozen=True)

    symbol: str = Field(examples=["BTC-USDT"])
    base_asset: str
    quote_asset: str
    tick_size: DecimalStr
    lot_size: DecimalStr
    min_notional: DecimalStr = Field(description="Smallest price * quantity an order may have, in quote")
    price_band_pct: DecimalStr = Field(description="How far (percent) an order price may be from the last")
    maker_fee_rate: DecimalStr
    taker_fee_rate: DecimalStr
    status: InstrumentStatus
    created_at: datetime
    updated_at: datetime


class Market(Instrument):
    """An instrument with its last price and 24-hour statistics (null without trades)."""

    last: DecimalStr | None
    change_24h: DecimalStr | None = Field(description="Relative change over 24 hours, 0.0125 = +1.25%")
    volume_24h: DecimalStr = Field(description="Base-asset volume over 24 hours")


class MarketList(BaseModel):
    items: list[Market]
    next_cursor: str | None = None


class Ticker(BaseModel):
    """24-hour statistics over whole minutes: the window starts 24 hours before the current minute."""

    symbol: str
    last: DecimalStr | None
    open_24h: DecimalStr | None
    high_24h: DecimalStr | None
    low_24h: DecimalStr | None
    volume_24h: DecimalStr
    change_24h: DecimalStr | None = Field(description="(last - open_24h) / open_24h, 8 decimals")
    best_bid: DecimalStr | None = Field(description="Null until the symbol has an order book")
    best_ask: DecimalStr | None


class Candle(BaseModel):
    """One bucket `[time, time + interval)`; intervals without trades have no candle."""

    time: datetime
    open: DecimalStr
    high: DecimalStr
    low: DecimalStr
    close: DecimalStr
    volume: DecimalStr
    trades: int
    vwap: DecimalStr


class CandleList(BaseModel):
    symbol: str
    interval: Interval
    items: list[Candle]


class Trade(BaseModel):
    trade_id: int
    time: datetime
    price: DecimalStr
    quantity: DecimalStr
    taker_side: Literal["buy", "sell"]


class TradeList(BaseModel):
    items: list[Trade]
    next_cursor: str | None = Field(description="Pass as `cursor` for older trades; null at the end")


class IndicatorRow(BaseModel):
    time: datetime
    values: dict[str, float | None]


class IndicatorList(BaseModel):
    symbol: str
    interval: Interval
    columns: list[str]
    items: list[IndicatorRow]


class InstrumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_asset: str = Field(pattern=ASSET_PATTERN)
    quote_asset: str = Field(pattern=ASSET_PATTERN)
    tick_size: Decimal = Field(gt=0, decimal_places=8)
    lot_size: Decimal = Field(gt=0, decimal_places=8)
    min_notional: Decimal = Field(ge=0)
    price_band_pct: Decimal = Field(gt=0, le=100)
    maker_fee_rate: Decimal = Field(gt=Decimal("-0.01"), lt=Decimal("0.1"))
    taker_fee_rate: Decimal = Field(ge=0, lt=Decimal("0.1"))
    status: InstrumentStatus = InstrumentStatus.TRADING


class InstrumentUpdate(BaseModel):
    """Fields to change; the assets of a symbol never change."""

    model_config = ConfigDict(extra="forbid")

    tick_size: Decimal | None = Field(None, gt=0, decimal_places=8)
    lot_size: Decimal | None = Field(None, gt=0, decimal_places=8)
    min_notional: Decimal | None = Field(None, ge=0)
    price_band_pct: Decimal | None = Field(None, gt=0, le=100)
    maker_fee_rate: Decimal | None = Field(None, gt=Decimal("-0.01"), lt=Decimal("0.1"))
    taker_fee_rate: Decimal | None = Field(None, ge=0, lt=Decimal("0.1"))
    status: InstrumentStatus | None = None
