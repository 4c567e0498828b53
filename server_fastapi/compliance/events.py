"""Bus events of the compliance domain and the channels that carry them.

`compliance.observations` carries `MarketObservation`s (trades, order placements and cancels, heartbeats)
for the sentinel: a publisher that knows more than the trading events say (client IP, device id, the
touch an order met) publishes here. `compliance.alerts` carries every stored market-abuse alert once.
"""

from __future__ import annotations

from server_fastapi.compliance.sentinel import MarketAbuseDetected, MarketObservation
from server_fastapi.core.bus import Bus, Event, EventBus


class AlertRaised(Event):
    """A market-abuse alert that was stored (once per sentinel fingerprint) for officers to review."""

    id: int
    alert: MarketAbuseDetected


def observations_channel(bus: EventBus) -> Bus[MarketObservation]:
    return bus.channel("compliance.observations", MarketObservation)


def alerts_channel(bus: EventBus) -> Bus[AlertRaised]:
    return bus.channel("compliance.alerts", AlertRaised)
