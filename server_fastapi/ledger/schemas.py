"""Ledger request and response models. Amounts are `Decimal` here and decimal strings on the wire."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer


def format_amount(value: Decimal) -> str:
    """A plain decimal string: no exponent, no trailing zeros ("0.015", "12", "0")."""
    if not value:
        return "0"
    return format(value.normalize(), "f")


Amount = Annotated[
    Decimal,
    PlainSerializer(format_amount, return_type=str),
    Field(json_schema_extra={"type": "string", "format": "decimal"}),
]
"""A Decimal serialised as a plain decimal string."""

ASSET_PATTERN = r"^[A-Z0-9]{2,12}$"


class Balance(BaseModel):
    asset: str = Field(examples=["USDT"])
    available: Amount
    held: Amount = Field(description="Reserved by open orders and pending withdrawals")


class Credit(BaseModel):
    """A credit of `amount` of `asset`: a positive decimal string."""

    model_config = ConfigDict(extra="forbid")

    asset: str = Field(pattern=ASSET_PATTERN, examples=["USDT"])
    amount: Decimal = Field(gt=0, max_digits=38, examples=["1000"], json_schema_extra={"type": "string"})


class Deposit(Credit):
    user_id: UUID = Field(description="The account credited")
    reference: str = Field(min_length=1, max_length=200, description="External reference (transfer id)")


class DepositReceipt(Balance):
    """The credited account's balance in the asset after a deposit."""

    reference: str
    credited: bool = Field(
        description="False when this reference was credited before: nothing moved this time"
    )
