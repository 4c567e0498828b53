"""Request and response models of the order assistant, and the JSON answer asked of a language model.

A draft has the shape of `POST /api/v1/orders`'s body, so the web app's order ticket can be filled with it
as it is; the assistant never places it."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server_fastapi.ledger.schemas import Amount
from server_fastapi.trading.schemas import SYMBOL_PATTERN, SideName, TimeInForceName, TypeName

Source = Literal["rules", "model"]

RefusalReason = Literal[
    "not_an_order",
    "prompt_injection",
    "ambiguous",
    "unsupported",
    "unknown_market",
    "market_halted",
    "invalid_order",
    "off_grid",
    "below_min_notional",
    "outside_price_band",
    "insufficient_funds",
]

FallbackReason = Literal[
    "model_error", "model_timeout", "guard_failed", "low_confidence", "model_not_configured"
]


class DraftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1,
        max_length=500,
        examples=["buy 0.25 ETH at 3,100 good till cancelled", "sell half my SOL at market"],
    )


class OrderDraft(BaseModel):
    """An order the trader can review and place through `POST /api/v1/orders` (same field names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: str = Field(pattern=SYMBOL_PATTERN, examples=["ETH-USDT"])
    side: SideName
    type: TypeName
    quantity: Amount | None = None
    price: Amount | None = None
    quote_budget: Amount | None = Field(None, description="Market buys: the most quote to spend")
    time_in_force: TimeInForceName = "GTC"
    post_only: bool = False


class Refusal(BaseModel):
    reason: RefusalReason
    detail: str = Field(description="What the trader can do about it, in one sentence")


class DraftResponse(BaseModel):
    """A draft that passed every check in `checks`, or a refusal (then `draft` is null)."""

    draft: OrderDraft | None
    source: Source = Field(description="Who understood the words: the rule-based parser or the model")
    explanation: str = Field(description="One line: what the draft does, or why there is none")
    checks: list[str] = Field(description="The guards the draft passed, in the order they ran")
    refusal: Refusal | None = None
    fallback: FallbackReason | None = Field(
        None, description="Why the rule-based parser answered although a model is configured"
    )


class ModelAnswer(BaseModel):
    """What the language model must answer: one order intent and its confidence, nothing else.

    Relative amounts come back as `portion` (0.5 for "half my SOL"); Tessera computes the quantity from
    the trader's real balance, so the model never sees or decides amounts of money it was not told."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(pattern=SYMBOL_PATTERN, description="One of the listed symbols")
    side: SideName
    type: TypeName
    quantity: Decimal | None = Field(None, gt=0, description="Base-asset quantity, when the trader gave one")
    quote_amount: Decimal | None = Field(
        None, gt=0, description="Amount of the quote asset to spend or receive, when the trader gave one"
    )
    portion: Decimal | None = Field(
        None, gt=0, le=1, description="Share of the balance being sold or spent: 0.5 for half, 1 for all"
    )
    price: Decimal | None = Field(None, gt=0, description="Limit price in the quote asset")
    time_in_force: TimeInForceName = "GTC"
    post_only: bool = False
    confidence: float = Field(ge=0, le=1)
