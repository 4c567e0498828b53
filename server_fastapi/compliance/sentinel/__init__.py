"""The sentinel: market-abuse detection over the venue's trades and orders (MiCA art. 16 style).

Feed `Sentinel.process_batch` micro-batches of `MarketObservation`s (trades, order placements and
cancels, sign-ins, heartbeats) in publish order; it returns the `MarketAbuseDetected` alerts they complete:
wash trades, round trips, layering/spoofing and volume spikes, each with the evidence a compliance
officer reviews. Thresholds live in `SentinelSettings`. Pure: no database, no bus, no clock; the
compliance service wires it to the bus, the alerts table and the API.
"""

from server_fastapi.compliance.sentinel.events import (
    AlertKind,
    Evidence,
    Heartbeat,
    LayeringEvidence,
    LayeringOrder,
    MarketAbuseDetected,
    MarketObservation,
    ObservedOrderCanceled,
    ObservedOrderPlaced,
    ObservedSignIn,
    ObservedTrade,
    RoundTripEvidence,
    Severity,
    SignInLink,
    VolumeSpikeEvidence,
    WashLink,
    WashTradeEvidence,
    alert_fingerprint,
)
from server_fastapi.compliance.sentinel.monitor import Sentinel, SentinelStats
from server_fastapi.compliance.sentinel.settings import (
    LayeringSettings,
    RoundTripSettings,
    SentinelSettings,
    VolumeSpikeSettings,
    WashTradeSettings,
)

__all__ = [
    "AlertKind",
    "Evidence",
    "Heartbeat",
    "LayeringEvidence",
    "LayeringOrder",
    "LayeringSettings",
    "MarketAbuseDetected",
    "MarketObservation",
    "ObservedOrderCanceled",
    "ObservedOrderPlaced",
    "ObservedSignIn",
    "ObservedTrade",
    "RoundTripEvidence",
    "RoundTripSettings",
    "Sentinel",
    "SentinelSettings",
    "SentinelStats",
    "Severity",
    "SignInLink",
    "VolumeSpikeEvidence",
    "VolumeSpikeSettings",
    "WashLink",
    "WashTradeEvidence",
    "WashTradeSettings",
    "alert_fingerprint",
]
