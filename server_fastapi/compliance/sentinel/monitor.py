"""`Sentinel`: feeds micro-batches of observations through the detectors and returns the alerts.

Pure and synchronous: no I/O, no clock, no randomness. The same observations in the same order give
the same alerts, however they are cut into batches (as long as nothing arrives later than
`late_tolerance` behind the newest observation). Alerts come back ordered by the observation that
completed them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from server_fastapi.compliance.sentinel.detectors import (
    KIND_RANK,
    Cooldowns,
    LayeringDetector,
    Raised,
    RoundTripDetector,
    VolumeSpikeDetector,
    WashTradeDetector,
)
from server_fastapi.compliance.sentinel.events import (
    AlertKind,
    Heartbeat,
    MarketAbuseDetected,
    MarketObservation,
    ObservedOrderCanceled,
    ObservedOrderPlaced,
    ObservedSignIn,
    ObservedTrade,
)
from server_fastapi.compliance.sentinel.settings import SentinelSettings
from server_fastapi.compliance.sentinel.window import TradeWindow


@dataclass(slots=True)
class SentinelStats:
    """Plain counters for metrics; read them at scrape time."""

    trades: int = 0
    orders_placed: int = 0
    orders_canceled: int = 0
    heartbeats: int = 0
    sign_ins: int = 0
    alerts: dict[AlertKind, int] = field(default_factory=lambda: dict.fromkeys(AlertKind, 0))
    suppressed: int = 0
    late_trades: int = 0
    window_trades: int = 0
    tracked_orders: int = 0
    linked_accounts: int = 0


class Sentinel:
    def __init__(self, settings: SentinelSettings | None = None) -> None:
        self.settings = settings = settings or SentinelSettings()
        self._cooldowns = Cooldowns()
        retention = (
            max(settings.round_trip.window, settings.layering.window + settings.layering.max_order_lifetime)
            + settings.late_tolerance
        )
        self._window = TradeWindow(retention)
        self._wash = WashTradeDetector(settings.wash_trade, self._cooldowns, settings.late_tolerance)
        self._round_trip = RoundTripDetector(settings.round_trip, self._cooldowns)
        self._layering = LayeringDetector(settings.layering, self._cooldowns, settings.late_tolerance)
        self._spikes = VolumeSpikeDetector(settings.volume_spike, self._cooldowns, settings.late_tolerance)
        self._cooldown_horizon = (
            max(
                settings.wash_trade.window,
                settings.round_trip.window,
                settings.layering.window,
                settings.volume_spike.bucket,
            )
            + settings.late_tolerance
        )
        self._next_seq = 0
        self._watermark: datetime | None = None
        self._stats = SentinelStats()

    @property
    def watermark(self) -> datetime | None:
        """The newest observation time seen."""
        return self._watermark

    def stats(self) -> SentinelStats:
        stats = self._stats
        stats.suppressed = self._cooldowns.suppressed
        stats.late_trades = self._spikes.late_trades
        stats.window_trades = len(self._window)
        stats.tracked_orders = self._layering.tracked_orders
        stats.linked_accounts = self._wash.linked_accounts
        return stats

    def window_frame(self, symbol: str | None = None) -> pl.DataFrame:
        """The trades still in the sliding window (or those of one symbol) as a Polars frame."""
        return self._window.frame(symbol)

    def process(self, observation: MarketObservation) -> list[MarketAbuseDetected]:
        return self.process_batch((observation,))

    def process_batch(self, observations: Sequence[MarketObservation]) -> list[MarketAbuseDetected]:
        """Run one micro-batch (in publish order) through every detector; the alerts it completed."""
        if not observations:
            return []
        base = self._next_seq
        self._next_seq += len(observations)
        raised: list[Raised] = []
        window = self._window
        wash, round_trip, layering, spikes = self._wash, self._round_trip, self._layering, self._spikes
        stats = self._stats
        watermark = self._watermark
        for seq, observation in enumerate(observations, base):
            if isinstance(observation, ObservedSignIn):
                # Looked up when an account trades, not streamed: a sign-in never moves the clock.
                stats.sign_ins += 1
                wash.on_sign_in(observation)
                continue
            if watermark is None or observation.time > watermark:
                watermark = observation.time
            if isinstance(observation, ObservedTrade):
                stats.trades += 1
                wash.on_trade(seq, observation, raised)
                round_trip.on_trade(seq, observation, window, raised)
                window.add(seq, observation)
                spikes.on_trade(seq, observation, raised)
                layering.on_trade(observation)
            elif isinstance(observation, ObservedOrderPlaced):
                stats.orders_placed += 1
                layering.on_placed(observation)
            elif isinstance(observation, ObservedOrderCanceled):
                stats.orders_canceled += 1
                layering.on_canceled(seq, observation, window, raised)
            elif isinstance(observation, Heartbeat):
                stats.heartbeats += 1
                spikes.on_clock(seq, observation.time, raised)
            else:
                raise TypeError(f"the sentinel does not read {type(observation).__name__}")

        if watermark is None:  # only sign-ins so far
            return []
        self._watermark = watermark
        window.expire(watermark)
        layering.expire(watermark)
        wash.expire(watermark)
        self._cooldowns.expire(watermark - self._cooldown_horizon)

        raised.sort(key=lambda r: (r.seq, KIND_RANK[r.alert.kind]))
        alerts = [r.alert for r in raised]
        for alert in alerts:
            stats.alerts[alert.kind] += 1
        return alerts
