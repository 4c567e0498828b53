"""Withdrawal request and response models: amounts are decimal strings on the wire, `Decimal` here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from server_fastapi.ledger.schemas import ASSET_PATTERN, Amount
from server_fastapi.wallets.evm import ChecksumAddress

WithdrawalStatus = Literal[
    "requested", "pending_review", "approved", "signed", "broadcast", "confirmed", "failed", "rejected"
]
"""requested → pending_review → approved → signed → broadcast → confirmed | failed | rejected."""

ReviewReason = Literal["amount_threshold", "new_destination", "sanctions_list", "open_alert"]


class WithdrawalRequest(BaseModel):
    """A withdrawal of a chain's native coin to an address the trader controls or names."""

    model_config = ConfigDict(extra="forbid")

    asset: str = Field(pattern=ASSET_PATTERN, examples=["ETH"])
    amount: Decimal = Field(
        gt=0, max_digits=38, examples=["0.25"], json_schema_extra={"type": "string", "format": "decimal"}
    )
    chain_id: int = Field(ge=1, le=2**64 - 1, examples=[11155111])
    destination: ChecksumAddress = Field(
        description="The receiving address in its EIP-55 mixed-case form (the checksum catches typos).",
        examples=["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"],
    )
    beneficiary: dict[str, Any] = Field(
        description="The beneficiary as an IVMS101.2023 `Person` (`naturalPerson` or `legalPerson`). Its "
        "`accountNumber` is set to the destination. The originator comes from the trader's KYC profile.",
        examples=[
            {
                "naturalPerson": {
                    "name": {
                        "nameIdentifier": [
                            {
                                "primaryIdentifier": "Lovelace",
                                "secondaryIdentifier": "Ada",
                                "naturalPersonNameIdentifierType": "LEGL",
                            }
                        ]
                    }
                }
            }
        ],
    )
    totp: str | None = Field(
        None,
        min_length=6,
        max_length=16,
        description="The 6-digit authenticator code, or one unused recovery code; required with 2FA on.",
    )


class Withdrawal(BaseModel):
    id: int
    asset: str
    amount: Amount
    fee: Amount = Field(description="Held with the amount; kept by the venue once the withdrawal confirms")
    chain_id: int
    destination: str
    status: WithdrawalStatus
    review_reasons: list[ReviewReason] = Field(description="Why it needed compliance review, if it did")
    from_address: str | None = Field(description="The hot wallet that sent it, once signed")
    nonce: int | None
    tx_hash: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


class WithdrawalPage(BaseModel):
    items: list[Withdrawal]
    next_cursor: str | None = None


class WithdrawalForReview(Withdrawal):
    """What a compliance officer sees: the withdrawal, whose it is, and its whole travel-rule record."""

    user_id: UUID
    travel_rule: dict[str, Any] | None = Field(
        description="The IVMS101.2023 payload as stored; null once the trader's personal data was erased"
    )
    review_comment: str | None
    reviewed_by: UUID | None
    reviewed_at: datetime | None


class WithdrawalReviewPage(BaseModel):
    items: list[WithdrawalForReview]
    next_cursor: str | None = None


class WithdrawalDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=2000, description="Why: kept with the withdrawal")


class WithdrawalRoute(BaseModel):
    """An asset and chain a withdrawal can use, and its fee."""

    asset: str
    chain_id: int
    fee: Amount
