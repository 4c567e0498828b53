"""Request and response models of the compliance API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

AlertStatus = Literal["open", "acknowledged", "resolved"]
AlertKindName = Literal["wash_trade", "round_trip", "layering", "volume_spike"]
SeverityName = Literal["low", "medium", "high"]


class Ivms101Validated(BaseModel):
    """A valid IVMS101 payload, normalised: the 2023 form, canonical codes, absent elements left out."""

    edition: Literal["2020", "2023"] = Field(description="The edition the payload was read as")
    payload: dict[str, Any]


class KycProfile(BaseModel):
    """The trader's identity as an IVMS101.2023 NaturalPerson (normalised)."""

    natural_person: dict[str, Any] = Field(
        description="IVMS101.2023 NaturalPerson in the standard's camelCase form"
    )
    updated_at: datetime


class KycProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    natural_person: dict[str, Any] = Field(
        description="IVMS101.2023 NaturalPerson in the standard's camelCase form; every violation is "
        "reported at once"
    )


class ErasureRequest(BaseModel):
    """Re-confirmation for erasing one's own account."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(None, max_length=64, description="Required when two-factor sign-in is on")


class AuditVerification(BaseModel):
    intact: bool
    entries: int = Field(description="Entries in the log")
    first_broken_id: int | None = Field(None, description="The first entry whose link is broken")
    reason: str | None = None


class AuditEntry(BaseModel):
    """One entry of the append-only audit log. Users appear by id only, never by name."""

    id: int
    occurred_at: datetime
    actor_id: UUID | None = Field(description="The user who acted; null for Tessera itself")
    action: str = Field(description="Dotted, domain first: `wallets.withdrawal.approved`")
    subject: str | None = Field(description="What was acted on: `withdrawal:42`, `user:<id>`, `BTC-USDT`")
    ip: str | None
    request_id: str | None = Field(description="The request's `X-Request-ID`, to find it in the logs")
    details: Any = Field(description="JSON; an object in every entry Tessera writes")
    hash: str = Field(description="The entry's link in the hash chain (hex SHA-256)")


class AuditEntryPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None = None


class Alert(BaseModel):
    id: int
    kind: AlertKindName
    symbol: str
    accounts: list[UUID] = Field(description="The user ids of the accounts involved")
    severity: SeverityName
    summary: str
    status: AlertStatus
    window_start: datetime
    window_end: datetime
    detected_at: datetime
    created_at: datetime
    acknowledged_by: UUID | None
    acknowledged_at: datetime | None
    resolved_by: UUID | None
    resolved_at: datetime | None
    resolution_comment: str | None


class AlertDetail(Alert):
    evidence: dict[str, Any] = Field(description="What the sentinel saw (trade ids, prices, thresholds)")


class AlertPage(BaseModel):
    items: list[Alert]
    next_cursor: str | None = None


class AlertResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=4000)
