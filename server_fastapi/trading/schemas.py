"""Trading request and response models: decimal strings on the wire, `Decimal` here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from server_fastapi.ledger.schemas import Amount

SYMBOL_PATTERN = r"^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$"

SideName = Literal["buy", "sell"]
TypeName = Literal["limit", "market"]
TimeInForceName = Literal["GTC", "IOC", "FOK"]
StpName = Literal["cancel_resting", "cancel_incoming", "cancel_both"]
StatusName = Literal["new", "open", "partially_filled", "filled", "canceled", "rejected"]

_DECIMAL: dict[str, JsonValue] = {"type": "string", "format": "decimal"}


class OrderRequest(BaseModel):
    """A new order. Limit: `price` and `quantity`. Market sell: `quantity`. Market buy: `quote_budget`
    (the most quote to spend), optionally capped by `quantity`. Values must lie on the instrument's grid."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(pattern=SYMBOL_PATTERN, examples=["BTC-USDT"])
    side: SideName
    type: TypeName
    quantity: Decimal | None = Field(None, examples=["0.015"], json_schema_extra=_DECIMAL)
    price: Decimal | None = Field(None, examples=["64000.5"], json_schema_extra=_DECIMAL)
    quote_budget: Decimal | None = Field(None, examples=["100"], json_schema_extra=_DECIMAL)
    time_in_force: TimeInForceName = "GTC"
    post_only: bool = False
    client_order_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    stp: StpName | None = Field(
        None,
        description="Self-trade prevention when this order meets a resting order of the same account: "
        "cancel_incoming (default), cancel_resting or cancel_both",
    )


class Order(BaseModel):
    id: int
    symbol: str
    side: SideName
    type: TypeName
    status: StatusName
    quantity: Amount | None
    price: Amount | None
    quote_budget: Amount | None
    filled_quantity: Amount
    filled_quote: Amount = Field(description="Quote amount traded so far")
    average_price: Amount | None
    time_in_force: TimeInForceName
    post_only: bool
    stp: StpName
    client_order_id: str | None
    cancel_reason: str | None = Field(description="user, admin, ioc, fok, stp or budget once canceled")
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime


class OrderPage(BaseModel):
    items: list[Order]
    next_cursor: str | None = None


class Fill(BaseModel):
    """One side of a trade, as the account that took part sees it."""

    trade_id: int
    symbol: str
    order_id: int
    side: SideName
    price: Amount
    quantity: Amount
    quote_amount: Amount
    fee: Amount
    fee_asset: str
    liquidity: Literal["maker", "taker"]
    time: datetime


class FillPage(BaseModel):
    items: list[Fill]
    next_cursor: str | None = None


class BookLevel(BaseModel):
    price: Amount
    quantity: Amount


class OrderBook(BaseModel):
    """L2 snapshot valid as of book delta number `seq`; apply deltas with a larger `seq`."""

    symbol: str
    seq: int
    bids: list[BookLevel]
    asks: list[BookLevel]


class HaltRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str | None = Field(None, pattern=SYMBOL_PATTERN, description="None: every market (global)")
    halted: bool
    reason: str | None = Field(None, max_length=500)


class HaltState(BaseModel):
    scope: str
    halted: bool
    reason: str | None
    updated_at: datetime
