"""The sentinel's thresholds: one model per detector, all documented, all with defaults.

The models are plain frozen Pydantic models (no environment reading of their own) so the application's
settings can nest them and a test can build one with a single changed field. Durations are `timedelta`
(Pydantic accepts seconds or ISO 8601, `"PT5S"`); ratios and amounts are `Decimal`.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

_MODEL = ConfigDict(frozen=True, extra="forbid")


def _positive(value: timedelta, name: str) -> None:
    if value <= timedelta(0):
        raise ValueError(f"{name} must be a positive duration")


class WashTradeSettings(BaseModel):
    """A trade whose buyer and seller are the same person: the same account, the same owner, or two
    owners linked by a shared client IP address or device id at the time of the trade."""

    model_config = _MODEL

    enabled: bool = True
    use_ip: bool = Field(True, description="Link buyer and seller by a shared client IP address.")
    use_device: bool = Field(True, description="Link buyer and seller by a shared device id.")
    ignored_ips: frozenset[str] = Field(
        frozenset(),
        description="Addresses shared by unrelated people (office proxies, carrier-grade NAT) that never "
        "link two owners.",
    )
    window: timedelta = Field(
        timedelta(minutes=5),
        description="After an alert for a pair of accounts, their further wash trades on the symbol raise "
        "no new alert for this long.",
    )
    sign_in_window: timedelta = Field(
        timedelta(days=30),
        description="Two accounts that signed in from one address (or device) within this long before a "
        "trade between them are linked.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _positive(self.window, "window")
        _positive(self.sign_in_window, "sign_in_window")
        return self


class RoundTripSettings(BaseModel):
    """A sells to B, then B sells (nearly) the same quantity back to A at nearly the same price within
    `window`: volume printed without any change of position."""

    model_config = _MODEL

    enabled: bool = True
    window: timedelta = Field(
        timedelta(minutes=2),
        description="Longest time between the outbound leg and the return leg; also the dedup window.",
    )
    price_tolerance: Decimal = Field(
        Decimal("0.002"),
        ge=0,
        description="Largest |return price - outbound price| as a fraction of the outbound price.",
    )
    quantity_tolerance: Decimal = Field(
        Decimal("0.01"),
        ge=0,
        description="Largest |return quantity - outbound quantity| as a fraction of the outbound quantity.",
    )
    min_notional: Decimal = Field(
        Decimal(0), ge=0, description="Outbound legs worth less (price x quantity, quote asset) are ignored."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _positive(self.window, "window")
        return self


class LayeringSettings(BaseModel):
    """An account repeatedly places large limit orders away from the touch and cancels them quickly."""

    model_config = _MODEL

    enabled: bool = True
    window: timedelta = Field(
        timedelta(minutes=1),
        description="The qualifying cancels are counted over this sliding window (by cancel time); also "
        "the dedup window.",
    )
    min_cancels: int = Field(5, ge=1, description="Qualifying cancels on one side within `window` to alert.")
    max_order_lifetime: timedelta = Field(
        timedelta(seconds=5), description="A cancel counts only if the order lived at most this long."
    )
    min_distance_bps: Decimal = Field(
        Decimal(10),
        ge=0,
        description="How far behind the same side's best price (in basis points of it) an order must rest "
        "to be 'away from the touch'; with that side empty, the other side's best is the reference.",
    )
    min_order_notional: Decimal | None = Field(
        Decimal(50_000),
        gt=0,
        description="An order at least this large (price x quantity, quote asset) is large; None: off.",
    )
    min_size_multiple: Decimal | None = Field(
        Decimal(10),
        gt=0,
        description="An order at least this many times the symbol's mean trade quantity is large; None: "
        "off. Needs `size_reference_min_trades` trades of the symbol.",
    )
    size_reference_trades: int = Field(
        500, ge=1, description="The mean trade quantity is taken over the symbol's last this many trades."
    )
    size_reference_min_trades: int = Field(
        20, ge=1, description="Fewer trades than this: the relative size test is off for the symbol."
    )
    require_opposite_trade: bool = Field(
        False,
        description="Alert only when the account also traded on the other side in the window (the classic "
        "spoof: fake bids while selling). Either way such trades are listed in the evidence.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _positive(self.window, "window")
        _positive(self.max_order_lifetime, "max_order_lifetime")
        if self.min_order_notional is None and self.min_size_multiple is None:
            raise ValueError("set min_order_notional or min_size_multiple, or disable layering")
        return self


class VolumeSpikeSettings(BaseModel):
    """A symbol's volume in one time bucket far above its own recent buckets. Both tests must pass:
    the volume is at least `median_multiple` times the baseline median and its z-score against the
    baseline is at least `min_z_score`. Buckets are aligned to the Unix epoch; empty buckets count as
    zero volume in the baseline."""

    model_config = _MODEL

    enabled: bool = True
    bucket: timedelta = Field(timedelta(minutes=1), description="Length of one volume bucket.")
    baseline_buckets: int = Field(
        60, ge=2, description="The baseline is the symbol's last this many buckets."
    )
    min_baseline_buckets: int = Field(
        30, ge=2, description="A symbol with fewer buckets of history never alerts (a fresh market)."
    )
    median_multiple: Decimal = Field(
        Decimal(5), gt=0, description="Bucket volume must be at least this multiple of the baseline median."
    )
    min_z_score: float = Field(
        4.0, gt=0, description="(volume - baseline mean) / baseline standard deviation must reach this."
    )
    min_trades: int = Field(5, ge=1, description="Buckets with fewer trades never alert.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        _positive(self.bucket, "bucket")
        if self.min_baseline_buckets > self.baseline_buckets:
            raise ValueError("min_baseline_buckets cannot exceed baseline_buckets")
        return self


class SentinelSettings(BaseModel):
    model_config = _MODEL

    wash_trade: WashTradeSettings = WashTradeSettings()
    round_trip: RoundTripSettings = RoundTripSettings()
    layering: LayeringSettings = LayeringSettings()
    volume_spike: VolumeSpikeSettings = VolumeSpikeSettings()
    late_tolerance: timedelta = Field(
        timedelta(seconds=5),
        description="How far behind the newest observation (of any symbol) an observation may arrive and "
        "still be compared with everything in its window; a heartbeat closes a volume bucket only this "
        "long after the bucket's end.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.late_tolerance < timedelta(0):
            raise ValueError("late_tolerance cannot be negative")
        return self
