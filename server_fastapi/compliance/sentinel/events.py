"""What the sentinel reads (market observations) and what it raises (`MarketAbuseDetected`).

Observations are published by the trading integration, already converted from engine ticks and lots to
`Decimal`, enriched with who stands behind each account (owner, client IP, device). They share one base
class so a single bus channel (`Bus[MarketObservation]`) can carry all of them in their true order.
Times are event times (when the engine did it), never the sentinel's clock, so replaying the same
observations gives the same alerts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from server_fastapi.core.bus import Event
from server_fastapi.trading.engine import CancelReason, Side

Positive = Annotated[Decimal, Field(gt=0)]


class MarketObservation(Event):
    """Base of every observation; `time` is when it happened on the venue."""

    time: AwareDatetime


class ObservedTrade(MarketObservation):
    """One trade with both parties. Client IPs and device ids are those of the requests that placed the
    two orders, normalised by the publisher (one textual form per address)."""

    symbol: str
    trade_id: int
    price: Positive
    quantity: Positive
    taker_side: Side
    buyer_account_id: int
    seller_account_id: int
    buyer_owner_id: str
    seller_owner_id: str
    buyer_order_id: int | None = None
    seller_order_id: int | None = None
    buyer_ip: str | None = None
    seller_ip: str | None = None
    buyer_device_id: str | None = None
    seller_device_id: str | None = None
    buyer_market_maker: bool = False
    seller_market_maker: bool = False
    """Designated market makers quote both sides all day: their trades never make a round-trip alert."""


class ObservedSignIn(MarketObservation):
    """An account signed in from a client address (and, when the client sent one, a device id). The
    sentinel links two owners that signed in from one address or device within the wash-trade settings'
    `sign_in_window`. `time` is the sign-in's, so these may arrive long after it happened."""

    account_id: int
    ip: str | None = None
    device_id: str | None = None


class ObservedOrderPlaced(MarketObservation):
    """An order accepted into the book, with the touch just before it arrived (None: that side empty).
    `price` is None for market orders, `quantity` None for a budget-only market buy."""

    symbol: str
    order_id: int
    account_id: int
    side: Side
    price: Positive | None
    quantity: Positive | None
    best_bid: Positive | None
    best_ask: Positive | None


class ObservedOrderCanceled(MarketObservation):
    symbol: str
    order_id: int
    account_id: int
    reason: CancelReason = CancelReason.USER
    remaining_quantity: Decimal | None = None


class Heartbeat(MarketObservation):
    """The venue's clock: lets time-based work (closing a quiet symbol's volume bucket) happen without
    trades. Published on the same channel, so a replay sees it at the same place."""


# --- alerts -------------------------------------------------------------------------------------------


class AlertKind(StrEnum):
    WASH_TRADE = "wash_trade"
    ROUND_TRIP = "round_trip"
    LAYERING = "layering"
    VOLUME_SPIKE = "volume_spike"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class WashLink(StrEnum):
    SAME_ACCOUNT = "same_account"
    SAME_OWNER = "same_owner"
    SHARED_IP = "shared_ip"
    SHARED_DEVICE = "shared_device"


_EVIDENCE = ConfigDict(frozen=True, extra="forbid")


class SignInLink(BaseModel):
    """One party's latest sign-in (at or before the trade) from the address or device both used."""

    model_config = _EVIDENCE

    account_id: int
    ip: str | None = None
    device_id: str | None = None
    signed_in_at: datetime


class WashTradeEvidence(BaseModel):
    model_config = _EVIDENCE

    kind: Literal["wash_trade"] = "wash_trade"
    trade_ids: tuple[int, ...]
    links: tuple[WashLink, ...]
    buyer_account_id: int
    seller_account_id: int
    buyer_owner_id: str
    seller_owner_id: str
    shared_ip: str | None = None
    shared_device_id: str | None = None
    sign_ins: tuple[SignInLink, ...] = ()
    """When the link comes from sign-ins rather than the orders' own requests: each party's sign-in."""
    price: Decimal
    quantity: Decimal


class RoundTripEvidence(BaseModel):
    model_config = _EVIDENCE

    kind: Literal["round_trip"] = "round_trip"
    trade_ids: tuple[int, int]
    """The outbound leg, then the return leg."""
    first_seller_account_id: int
    first_buyer_account_id: int
    outbound_price: Decimal
    return_price: Decimal
    outbound_quantity: Decimal
    return_quantity: Decimal
    price_deviation: Decimal
    """|return - outbound| / outbound price."""
    quantity_deviation: Decimal
    elapsed_seconds: Decimal
    thresholds: dict[str, str]


class LayeringOrder(BaseModel):
    model_config = _EVIDENCE

    order_id: int
    placed_at: datetime
    canceled_at: datetime
    price: Decimal
    quantity: Decimal
    reference_price: Decimal
    """The touch the distance was measured from."""
    distance_bps: Decimal


class LayeringEvidence(BaseModel):
    model_config = _EVIDENCE

    kind: Literal["layering"] = "layering"
    side: Side
    order_ids: tuple[int, ...]
    orders: tuple[LayeringOrder, ...]
    opposite_trade_ids: tuple[int, ...]
    """Trades of the account on the other side within the window (what the fake orders may have helped)."""
    thresholds: dict[str, str]


class VolumeSpikeEvidence(BaseModel):
    model_config = _EVIDENCE

    kind: Literal["volume_spike"] = "volume_spike"
    bucket_start: datetime
    bucket_end: datetime
    volume: Decimal
    trade_count: int
    baseline_buckets: int
    baseline_median: Decimal
    baseline_mean: Decimal
    baseline_stdev: float
    z_score: float
    median_multiple: Decimal | None
    """volume / baseline median; None when the median is zero."""
    largest_trade_ids: tuple[int, ...]
    """The bucket's largest trades (at most ten), largest first."""
    thresholds: dict[str, str]


Evidence = Annotated[
    WashTradeEvidence | RoundTripEvidence | LayeringEvidence | VolumeSpikeEvidence,
    Field(discriminator="kind"),
]


class MarketAbuseDetected(Event):
    """One alert for a compliance officer to review.

    `alert_id` is a fingerprint of kind, symbol, accounts and window start: the same observations always
    give the same id, so storing alerts can be idempotent (a replay after a restart inserts nothing new).
    `detected_at` is when the pattern was complete: the completing observation's time (for a volume
    spike, the end of its bucket)."""

    alert_id: str
    kind: AlertKind
    symbol: str
    account_ids: tuple[int, ...]
    window_start: datetime
    window_end: datetime
    detected_at: datetime
    severity: Severity
    summary: str
    evidence: Evidence


def alert_fingerprint(
    kind: AlertKind, symbol: str, account_ids: Sequence[int], window_start: datetime
) -> str:
    text = f"{kind.value}|{symbol}|{','.join(map(str, account_ids))}|{window_start.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]
