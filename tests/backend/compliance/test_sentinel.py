"""The sentinel against crafted sequences: each pattern raises exactly the expected alerts, thresholds hold at
their edges, alerts are deduplicated, and realistic clean trading raises nothing."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server_fastapi.compliance.sentinel import (
    AlertKind,
    Heartbeat,
    LayeringEvidence,
    LayeringSettings,
    MarketAbuseDetected,
    MarketObservation,
    ObservedOrderCanceled,
    ObservedOrderPlaced,
    ObservedSignIn,
    ObservedTrade,
    RoundTripEvidence,
    RoundTripSettings,
    Sentinel,
    SentinelSettings,
    Severity,
    SignInLink,
    VolumeSpikeEvidence,
    VolumeSpikeSettings,
    WashLink,
    WashTradeEvidence,
    WashTradeSettings,
)
from server_fastapi.compliance.sentinel.detectors import spike_participants
from server_fastapi.trading.engine import CancelReason, Side

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SYMBOL = "BTC-USDT"
_trade_ids = itertools.count(1)
_order_ids = itertools.count(1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def trade(
    *,
    seconds: float,
    seller: int,
    buyer: int,
    price: str = "100",
    quantity: str = "1",
    symbol: str = SYMBOL,
    trade_id: int | None = None,
    seller_owner: str | None = None,
    buyer_owner: str | None = None,
    seller_ip: str | None = None,
    buyer_ip: str | None = None,
    seller_device: str | None = None,
    buyer_device: str | None = None,
) -> ObservedTrade:
    """A trade; each account is its own owner unless told otherwise."""
    return ObservedTrade(
        time=at(seconds),
        symbol=symbol,
        trade_id=trade_id if trade_id is not None else next(_trade_ids),
        price=Decimal(price),
        quantity=Decimal(quantity),
        taker_side=Side.BUY,
        buyer_account_id=buyer,
        seller_account_id=seller,
        buyer_owner_id=buyer_owner or f"owner-{buyer}",
        seller_owner_id=seller_owner or f"owner-{seller}",
        buyer_ip=buyer_ip,
        seller_ip=seller_ip,
        buyer_device_id=buyer_device,
        seller_device_id=seller_device,
    )


def placed(
    *,
    seconds: float,
    account: int,
    side: Side,
    price: str,
    quantity: str,
    best_bid: str | None = "100",
    best_ask: str | None = "100.1",
    order_id: int | None = None,
    symbol: str = SYMBOL,
) -> ObservedOrderPlaced:
    return ObservedOrderPlaced(
        time=at(seconds),
        symbol=symbol,
        order_id=order_id if order_id is not None else next(_order_ids),
        account_id=account,
        side=side,
        price=Decimal(price),
        quantity=Decimal(quantity),
        best_bid=Decimal(best_bid) if best_bid is not None else None,
        best_ask=Decimal(best_ask) if best_ask is not None else None,
    )


def canceled(
    order: ObservedOrderPlaced, *, seconds: float, reason: CancelReason = CancelReason.USER
) -> ObservedOrderCanceled:
    return ObservedOrderCanceled(
        time=at(seconds),
        symbol=order.symbol,
        order_id=order.order_id,
        account_id=order.account_id,
        reason=reason,
    )


def run(
    observations: Sequence[MarketObservation], config: SentinelSettings | None = None
) -> list[MarketAbuseDetected]:
    return Sentinel(config).process_batch(observations)


def kinds(alerts: Sequence[MarketAbuseDetected]) -> list[AlertKind]:
    return [a.kind for a in alerts]


# --- wash trades -------------------------------------------------------------------------------------


def test_wash_trade_between_accounts_of_one_owner() -> None:
    wash = trade(seconds=0, seller=1, buyer=2, seller_owner="alice", buyer_owner="alice", trade_id=501)
    (alert,) = run([trade(seconds=0, seller=3, buyer=4), wash, trade(seconds=1, seller=2, buyer=5)])
    assert alert.kind is AlertKind.WASH_TRADE
    assert alert.account_ids == (1, 2)
    assert alert.severity is Severity.HIGH
    assert alert.window_start == alert.window_end == alert.detected_at == at(0)
    evidence = alert.evidence
    assert isinstance(evidence, WashTradeEvidence)
    assert evidence.trade_ids == (501,)
    assert evidence.links == (WashLink.SAME_OWNER,)
    assert (evidence.buyer_owner_id, evidence.seller_owner_id) == ("alice", "alice")
    assert "account 2 bought 1 at 100 from account 1" in alert.summary


def test_wash_trade_linked_by_shared_ip_or_device() -> None:
    by_ip = trade(seconds=0, seller=1, buyer=2, seller_ip="203.0.113.7", buyer_ip="203.0.113.7", trade_id=601)
    by_device = trade(seconds=0, seller=3, buyer=4, seller_device="dev-9", buyer_device="dev-9", trade_id=602)
    ip_alert, device_alert = run([by_ip, by_device])
    assert ip_alert.account_ids == (1, 2)
    assert device_alert.account_ids == (3, 4)
    assert ip_alert.severity is device_alert.severity is Severity.MEDIUM
    assert isinstance(ip_alert.evidence, WashTradeEvidence)
    assert ip_alert.evidence.links == (WashLink.SHARED_IP,)
    assert ip_alert.evidence.shared_ip == "203.0.113.7"
    assert ip_alert.evidence.trade_ids == (601,)
    assert isinstance(device_alert.evidence, WashTradeEvidence)
    assert device_alert.evidence.links == (WashLink.SHARED_DEVICE,)
    assert device_alert.evidence.shared_device_id == "dev-9"


def test_self_trade_is_a_wash_trade() -> None:
    (alert,) = run([trade(seconds=0, seller=7, buyer=7)])
    assert alert.account_ids == (7,)
    assert isinstance(alert.evidence, WashTradeEvidence)
    assert alert.evidence.links == (WashLink.SAME_ACCOUNT, WashLink.SAME_OWNER)


def test_unlinked_or_ignored_links_raise_nothing() -> None:
    config = SentinelSettings(
        wash_trade=WashTradeSettings(ignored_ips=frozenset({"198.51.100.1"}), use_device=False)
    )
    stream = [
        trade(seconds=0, seller=1, buyer=2),  # no IP or device at all: None never links
        trade(seconds=1, seller=1, buyer=2, seller_ip="203.0.113.1", buyer_ip="203.0.113.2"),
        trade(seconds=2, seller=1, buyer=2, seller_ip="198.51.100.1", buyer_ip="198.51.100.1"),
        trade(seconds=3, seller=1, buyer=2, seller_device="d", buyer_device="d"),
    ]
    assert run(stream, config) == []
    assert kinds(run(stream)) == [AlertKind.WASH_TRADE]  # by default the device links them


def test_wash_trades_in_one_window_raise_one_alert() -> None:
    def wash(seconds: float) -> ObservedTrade:
        return trade(seconds=seconds, seller=1, buyer=2, seller_owner="o", buyer_owner="o")

    stream = [wash(s) for s in range(0, 300, 10)] + [wash(300), wash(301), wash(305)]
    alerts = run(stream)
    # The first alert quiets the pair for the 5-minute window (its end inclusive); 301 s alerts again.
    assert [a.detected_at for a in alerts] == [at(0), at(301)]
    # Another symbol is another pattern.
    other = trade(seconds=1, seller=1, buyer=2, seller_owner="o", buyer_owner="o", symbol="ETH-USDT")
    assert len(run([wash(0), other, wash(2)])) == 2


def signed_in(
    *, seconds: float, account: int, ip: str | None = None, device: str | None = None
) -> ObservedSignIn:
    return ObservedSignIn(time=at(seconds), account_id=account, ip=ip, device_id=device)


def test_owners_that_signed_in_from_one_address_or_device_are_linked() -> None:
    stream = [
        signed_in(seconds=-3600, account=1, ip="203.0.113.7"),
        signed_in(seconds=-60, account=1, ip="198.51.100.9"),
        signed_in(seconds=-600, account=2, ip="203.0.113.7"),
        signed_in(seconds=-10, account=3, device="dev-1"),
        signed_in(seconds=-20, account=4, device="dev-1"),
        trade(seconds=0, seller=1, buyer=2, trade_id=801),
        trade(seconds=1, seller=3, buyer=4, trade_id=802),
    ]
    ip_alert, device_alert = run(stream)
    assert ip_alert.account_ids == (1, 2)
    assert ip_alert.severity is Severity.MEDIUM
    assert isinstance(ip_alert.evidence, WashTradeEvidence)
    assert ip_alert.evidence.links == (WashLink.SHARED_IP,)
    assert ip_alert.evidence.shared_ip == "203.0.113.7"
    assert ip_alert.evidence.sign_ins == (
        SignInLink(account_id=2, ip="203.0.113.7", signed_in_at=at(-600)),
        SignInLink(account_id=1, ip="203.0.113.7", signed_in_at=at(-3600)),
    )
    assert "shared ip at sign-in" in ip_alert.summary
    assert isinstance(device_alert.evidence, WashTradeEvidence)
    assert device_alert.evidence.links == (WashLink.SHARED_DEVICE,)
    assert device_alert.evidence.shared_device_id == "dev-1"


def test_sign_ins_link_only_within_their_window_and_before_the_trade() -> None:
    config = SentinelSettings(wash_trade=WashTradeSettings(sign_in_window=timedelta(hours=1)))
    different = [
        signed_in(seconds=-10, account=1, ip="198.51.100.1"),
        signed_in(seconds=-10, account=2, ip="198.51.100.2"),
        trade(seconds=0, seller=1, buyer=2),
    ]
    assert run(different, config) == []
    too_old = [
        signed_in(seconds=-3601, account=1, ip="203.0.113.7"),
        signed_in(seconds=-10, account=2, ip="203.0.113.7"),
        trade(seconds=0, seller=1, buyer=2),
    ]
    assert run(too_old, config) == []
    assert kinds(run([*too_old[:2], trade(seconds=-1, seller=1, buyer=2)], config)) == [AlertKind.WASH_TRADE]
    # A sign-in after the trade (beyond the late tolerance) did not link the owners when they traded.
    later = [
        signed_in(seconds=-10, account=1, ip="203.0.113.7"),
        signed_in(seconds=60, account=2, ip="203.0.113.7"),
        trade(seconds=0, seller=1, buyer=2),
    ]
    assert run(later, config) == []
    ignored = SentinelSettings(wash_trade=WashTradeSettings(ignored_ips=frozenset({"203.0.113.7"})))
    assert run([later[0], signed_in(seconds=-5, account=2, ip="203.0.113.7"), later[2]], ignored) == []


def test_sign_ins_expire_and_never_move_the_clock() -> None:
    config = SentinelSettings(wash_trade=WashTradeSettings(sign_in_window=timedelta(hours=1)))
    sentinel = Sentinel(config)
    sentinel.process_batch([signed_in(seconds=0, account=1, ip="203.0.113.7")])
    assert sentinel.watermark is None
    sentinel.process_batch(
        [signed_in(seconds=1, account=2, ip="203.0.113.7"), trade(seconds=2, seller=5, buyer=6)]
    )
    assert sentinel.watermark == at(2)
    assert sentinel.stats().linked_accounts == 2
    sentinel.process_batch([trade(seconds=7300, seller=5, buyer=6)])
    assert sentinel.stats().linked_accounts == 0
    assert sentinel.stats().sign_ins == 2


# --- round trips -------------------------------------------------------------------------------------


def test_round_trip() -> None:
    stream = [
        trade(seconds=0, seller=10, buyer=11, price="100", quantity="2.5", trade_id=701),
        trade(seconds=5, seller=12, buyer=13, price="100.05", quantity="2.5"),
        trade(seconds=30, seller=11, buyer=10, price="100.1", quantity="2.5", trade_id=702),
    ]
    (alert,) = run(stream)
    assert alert.kind is AlertKind.ROUND_TRIP
    assert alert.account_ids == (10, 11)
    assert (alert.window_start, alert.window_end, alert.detected_at) == (at(0), at(30), at(30))
    assert alert.severity is Severity.MEDIUM
    evidence = alert.evidence
    assert isinstance(evidence, RoundTripEvidence)
    assert evidence.trade_ids == (701, 702)
    assert (evidence.first_seller_account_id, evidence.first_buyer_account_id) == (10, 11)
    assert evidence.price_deviation == Decimal("0.001")
    assert evidence.quantity_deviation == 0
    assert evidence.elapsed_seconds == 30


def test_designated_market_makers_make_no_round_trips() -> None:
    def leg(seconds: float, seller: int, buyer: int, maker: int | None) -> ObservedTrade:
        base = trade(seconds=seconds, seller=seller, buyer=buyer)
        return base.model_copy(
            update={"seller_market_maker": seller == maker, "buyer_market_maker": buyer == maker}
        )

    assert run([leg(0, 10, 11, maker=10), leg(30, 11, 10, maker=10)]) == []
    assert run([leg(0, 10, 11, maker=11), leg(30, 11, 10, maker=11)]) == []
    assert kinds(run([leg(0, 10, 11, maker=None), leg(30, 11, 10, maker=None)])) == [AlertKind.ROUND_TRIP]
    # Exempt from round trips, not from wash trades.
    owned = [leg(0, 10, 11, maker=10).model_copy(update={"buyer_owner_id": "owner-10"})]
    assert kinds(run(owned)) == [AlertKind.WASH_TRADE]


def test_round_trip_takes_the_latest_matching_outbound_leg() -> None:
    stream = [
        trade(seconds=0, seller=1, buyer=2, trade_id=801),
        trade(seconds=10, seller=1, buyer=2, trade_id=802),
        trade(seconds=20, seller=1, buyer=2, quantity="5", trade_id=803),  # a different size
        trade(seconds=30, seller=2, buyer=1, trade_id=804),
    ]
    (alert,) = run(stream)
    assert isinstance(alert.evidence, RoundTripEvidence)
    assert alert.evidence.trade_ids == (802, 804)


@pytest.mark.parametrize(
    ("back_seconds", "back_price", "back_quantity", "expected"),
    [
        (120, "100.2", "1", True),  # on every edge: 2 min, 0.2 % price, same size
        (120.000001, "100", "1", False),  # just outside the window
        (60, "100.2001", "1", False),  # price just outside the tolerance
        (60, "99.8", "1", True),
        (60, "99.7999", "1", False),
        (60, "100", "1.01", True),  # quantity on the 1 % edge
        (60, "100", "1.0101", False),
        (60, "100", "0.9899", False),
    ],
)
def test_round_trip_threshold_edges(
    back_seconds: float, back_price: str, back_quantity: str, expected: bool
) -> None:
    stream = [
        trade(seconds=0, seller=1, buyer=2, price="100", quantity="1"),
        trade(seconds=back_seconds, seller=2, buyer=1, price=back_price, quantity=back_quantity),
    ]
    assert kinds(run(stream)) == ([AlertKind.ROUND_TRIP] if expected else [])


def test_round_trip_min_notional_and_direction() -> None:
    config = SentinelSettings(round_trip=RoundTripSettings(min_notional=Decimal(1000)))
    small = [
        trade(seconds=0, seller=1, buyer=2, quantity="9.99"),
        trade(seconds=1, seller=2, buyer=1, quantity="9.99"),
    ]
    large = [
        trade(seconds=0, seller=1, buyer=2, quantity="10"),
        trade(seconds=1, seller=2, buyer=1, quantity="10"),
    ]
    assert run(small, config) == []
    assert kinds(run(large, config)) == [AlertKind.ROUND_TRIP]
    # Same direction twice, or a third account in between, is no round trip.
    assert run([trade(seconds=0, seller=1, buyer=2), trade(seconds=1, seller=1, buyer=2)]) == []
    assert run([trade(seconds=0, seller=1, buyer=2), trade(seconds=1, seller=2, buyer=3)]) == []


def test_round_trips_in_one_window_raise_one_alert() -> None:
    churn = [
        trade(seconds=s, seller=1 if (s // 10) % 2 == 0 else 2, buyer=2 if (s // 10) % 2 == 0 else 1)
        for s in range(0, 240, 10)
    ]
    alerts = run(churn)
    # A trade every 10 s flips direction: the first reversal alerts at 10 s, the pair stays quiet for
    # the 2-minute window after it, and the churn alerts again at 140 s.
    assert [a.detected_at for a in alerts] == [at(10), at(140)]
    assert all(a.kind is AlertKind.ROUND_TRIP for a in alerts)


# --- layering ----------------------------------------------------------------------------------------


def spoof_cycle(
    start: float,
    *,
    account: int = 42,
    price: str = "99.8",  # 20 bps under the best bid of 100
    quantity: str = "1000",  # 99,800 USDT: large by the notional test
    lifetime: float = 1,
) -> tuple[ObservedOrderPlaced, ObservedOrderCanceled]:
    order = placed(seconds=start, account=account, side=Side.BUY, price=price, quantity=quantity)
    return order, canceled(order, seconds=start + lifetime)


def test_layering_pattern_with_trading_on_the_other_side() -> None:
    stream: list[MarketObservation] = []
    order_ids = []
    for i in range(5):
        order, cancel = spoof_cycle(i * 8)
        order_ids.append(order.order_id)
        stream += [order, cancel]
    sell = trade(seconds=20.5, seller=42, buyer=9, trade_id=901)
    # Same side as the fake bids (and no round trip: another size): not listed.
    buy = trade(seconds=21, seller=9, buyer=42, quantity="3", trade_id=902)
    stream[6:6] = [sell, buy]
    (alert,) = run(stream)
    assert alert.kind is AlertKind.LAYERING
    assert alert.account_ids == (42,)
    assert alert.severity is Severity.HIGH
    assert (alert.window_start, alert.window_end) == (at(0), at(33))
    evidence = alert.evidence
    assert isinstance(evidence, LayeringEvidence)
    assert evidence.side is Side.BUY
    assert list(evidence.order_ids) == order_ids
    assert evidence.opposite_trade_ids == (901,)
    assert all(o.distance_bps == 20 and o.reference_price == 100 for o in evidence.orders)


def test_layering_on_the_ask_side_without_trades_is_medium() -> None:
    stream: list[MarketObservation] = []
    for i in range(5):
        order = placed(seconds=i, account=5, side=Side.SELL, price="100.3", quantity="1000")
        stream += [order, canceled(order, seconds=i + 0.5)]
    (alert,) = run(stream)
    assert alert.severity is Severity.MEDIUM
    assert isinstance(alert.evidence, LayeringEvidence)
    assert alert.evidence.side is Side.SELL
    assert alert.evidence.opposite_trade_ids == ()
    config = SentinelSettings(layering=LayeringSettings(require_opposite_trade=True))
    assert run(stream, config) == []


def layering_stream(
    *, cycles: int = 5, account: int = 42, price: str = "99.8", quantity: str = "1000", lifetime: float = 1
) -> list[MarketObservation]:
    stream: list[MarketObservation] = []
    for i in range(cycles):
        stream += spoof_cycle(i * 10, account=account, price=price, quantity=quantity, lifetime=lifetime)
    return stream


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, True),
        ({"cycles": 4}, False),  # one cancel short
        ({"lifetime": 5}, True),  # lived exactly the longest lifetime
        ({"lifetime": 5.001}, False),
        ({"price": "99.9"}, True),  # exactly 10 bps away
        ({"price": "99.9001"}, False),
        ({"quantity": "501.0021"}, True),  # 50,000.01 USDT at 99.8
        ({"quantity": "501.002"}, False),  # 49,999.9996 USDT
    ],
)
def test_layering_threshold_edges(overrides: dict[str, Any], expected: bool) -> None:
    assert kinds(run(layering_stream(**overrides))) == ([AlertKind.LAYERING] if expected else [])


def test_layering_window_and_cancel_reason() -> None:
    spread_out = layering_stream(cycles=6)
    spread_out = [
        o.model_copy(update={"time": o.time + timedelta(seconds=i * 7)}) for i, o in enumerate(spread_out)
    ]
    # 5 cancels span more than the 1-minute window once they are spread out: no alert.
    assert run(spread_out) == []
    not_user = []
    for i in range(5):
        order, _ = spoof_cycle(i * 10)
        not_user += [order, canceled(order, seconds=i * 10 + 1, reason=CancelReason.STP)]
    assert run(not_user) == []


def test_layering_relative_size() -> None:
    config = SentinelSettings(layering=LayeringSettings(min_order_notional=None))
    history = [trade(seconds=i * 0.1, seller=1000 + i, buyer=2000 + i, quantity="2") for i in range(20)]
    big = layering_stream(quantity="20")  # 10x the mean trade of 2
    smaller = layering_stream(quantity="19.99")
    assert kinds(run(history + big, config)) == [AlertKind.LAYERING]
    assert run(history + smaller, config) == []
    assert run(history[:19] + big, config) == []  # too few trades for a reference size


def test_layering_dedup_and_fresh_evidence_later() -> None:
    alerts = run(layering_stream(cycles=12))
    # Cancels at 1, 11, ..., 111 s: the 5th (41 s) alerts, the account is quiet up to 101 s (the 11th
    # cancel included), the 12th (111 s) alerts with the 7 cancels of its own minute (51 s to 111 s).
    assert [a.detected_at for a in alerts] == [at(41), at(111)]
    assert isinstance(alerts[1].evidence, LayeringEvidence)
    assert len(alerts[1].evidence.order_ids) == 7


# --- volume spikes -----------------------------------------------------------------------------------


def steady_buckets(buckets: int, per_bucket: Sequence[str] = ("1",) * 10) -> list[ObservedTrade]:
    stream = []
    for b in range(buckets):
        for i, quantity in enumerate(per_bucket):
            stream.append(trade(seconds=b * 60 + i * 5, seller=i, buyer=100 + i, quantity=quantity))
    return stream


def spike_bucket(bucket: int, quantities: Sequence[str]) -> list[ObservedTrade]:
    return [
        trade(seconds=bucket * 60 + i, seller=300 + i, buyer=400 + i, quantity=q, trade_id=1000 + i)
        for i, q in enumerate(quantities)
    ]


def test_volume_spike() -> None:
    stream = [*steady_buckets(40), *spike_bucket(40, ["20", "30", "5", "10", "15"])]
    assert run(stream) == []  # the spike's bucket is still open
    (alert,) = run([*stream, trade(seconds=41 * 60, seller=1, buyer=2)])
    assert alert.kind is AlertKind.VOLUME_SPIKE
    assert (alert.window_start, alert.window_end, alert.detected_at) == (at(2400), at(2460), at(2460))
    # The five busiest accounts of the bucket (a tie broken by the lower id).
    assert alert.account_ids == (300, 301, 304, 400, 401)
    evidence = alert.evidence
    assert isinstance(evidence, VolumeSpikeEvidence)
    assert evidence.volume == 80
    assert evidence.trade_count == 5
    assert evidence.baseline_buckets == 40
    assert evidence.baseline_median == 10
    assert evidence.median_multiple == 8
    assert math.isinf(evidence.z_score)  # a perfectly flat baseline
    assert evidence.largest_trade_ids == (1001, 1000, 1004, 1003, 1002)


def test_spike_participants_rank_exactly_with_ties_to_the_lower_id() -> None:
    trades = [
        trade(seconds=0, seller=1, buyer=2, quantity="0.000000001", trade_id=10),
        trade(seconds=0, seller=3, buyer=3, quantity="5", trade_id=11),  # a self-trade counts once
        trade(seconds=0, seller=4, buyer=2, quantity="5", trade_id=9),
        trade(seconds=0, seller=5, buyer=6, quantity="0.000000002", trade_id=12),
        trade(seconds=0, seller=7, buyer=8, quantity="1", trade_id=13),
    ]
    accounts, largest = spike_participants(trades)
    # 2: 5.000000001, then 3 and 4 tie at 5, 7 and 8 at 1.
    assert accounts == [2, 3, 4, 7, 8]
    assert largest == (9, 11, 13, 12, 10)


def test_volume_spike_closed_by_the_clock() -> None:
    stream = [*steady_buckets(40), *spike_bucket(40, ["20"] * 5)]
    bucket_end = 41 * 60
    assert run([*stream, Heartbeat(time=at(bucket_end + 4.9))]) == []  # within the late tolerance
    (alert,) = run([*stream, Heartbeat(time=at(bucket_end + 5))])
    assert alert.detected_at == at(bucket_end)


@pytest.mark.parametrize(
    ("history", "quantities", "expected"),
    [
        (40, ["10"] * 5, True),  # exactly 5x the median
        (40, ["9.99"] * 5, False),
        (30, ["20"] * 5, True),  # exactly the shortest baseline
        (29, ["20"] * 5, False),  # a fresh market never alerts
        (40, ["20"] * 4, False),  # too few trades in the bucket
    ],
)
def test_volume_spike_threshold_edges(history: int, quantities: list[str], expected: bool) -> None:
    stream = [
        *steady_buckets(history),
        *spike_bucket(history, quantities),
        trade(seconds=1e5, seller=1, buyer=2),
    ]
    assert kinds(run(stream)) == ([AlertKind.VOLUME_SPIKE] if expected else [])


@pytest.mark.parametrize(("spike", "expected"), [("7", True), ("6.98", False)])
def test_volume_spike_z_score_edge(spike: str, expected: bool) -> None:
    # Buckets alternate volume 1 and 2 (mean 1.5, population stdev 0.5): z = 4 at 3.5, 5 trades of 0.7.
    config = SentinelSettings(volume_spike=VolumeSpikeSettings(median_multiple=Decimal(1)))
    history: list[ObservedTrade] = []
    for b in range(40):
        history += steady_buckets(1, ["0.1" if b % 2 == 0 else "0.2"] * 10)
        history[-10:] = [t.model_copy(update={"time": t.time + timedelta(minutes=b)}) for t in history[-10:]]
    each = str(Decimal(spike) / 10)
    stream = [*history, *spike_bucket(40, [each] * 5), trade(seconds=1e5, seller=1, buyer=2)]
    assert kinds(run(stream, config)) == ([AlertKind.VOLUME_SPIKE] if expected else [])


def test_volume_spike_dedup_and_empty_buckets() -> None:
    stream = [*steady_buckets(40), *spike_bucket(40, ["20"] * 5), *spike_bucket(41, ["20"] * 5)]
    stream += spike_bucket(42, ["20"] * 5)
    alerts = run([*stream, trade(seconds=43 * 60, seller=1, buyer=2)])
    # The next bucket is quiet after an alert; the third spiking bucket alerts again.
    assert [a.window_start for a in alerts] == [at(40 * 60), at(42 * 60)]
    # Hours of silence fill the baseline with empty buckets: a handful of trades is then a spike.
    quiet = [*steady_buckets(40), *spike_bucket(200, ["1"] * 5), trade(seconds=1e5, seller=1, buyer=2)]
    (alert,) = run(quiet)
    assert isinstance(alert.evidence, VolumeSpikeEvidence)
    assert alert.evidence.baseline_median == 0
    assert alert.evidence.median_multiple is None


# --- clean trading, determinism, batching, memory ------------------------------------------------------


def clean_market(seed: int, *, hours: float = 1.0, accounts: int = 300) -> Iterator[MarketObservation]:
    """Independent accounts trading at random on three symbols (about one trade a second each), market
    makers quoting near the touch and canceling fast, now and then a large resting order canceled much
    later, and a heartbeat every second."""
    rng = random.Random(seed)
    mids = {"BTC-USDT": 60_000.0, "ETH-USDT": 3_000.0, "SOL-USDT": 150.0}
    trade_id = order_id = 0
    open_quotes: list[tuple[float, ObservedOrderPlaced]] = []
    now = 0.0
    next_beat = 1.0
    while now < hours * 3600:
        now += rng.expovariate(6.0)
        while next_beat <= now:
            yield Heartbeat(time=at(next_beat))
            next_beat += 1
        while open_quotes and open_quotes[0][0] <= now:
            _, quote = open_quotes.pop(0)
            yield canceled(quote, seconds=now)
        symbol = rng.choice(list(mids))
        mid = mids[symbol] = mids[symbol] * math.exp(rng.gauss(0, 0.0003))
        tick = Decimal("0.01")
        if rng.random() < 0.5:
            trade_id += 1
            seller, buyer = rng.sample(range(accounts), 2)
            price = Decimal(mid * (1 + rng.uniform(-0.0005, 0.0005))).quantize(tick)
            quantity = Decimal(rng.lognormvariate(0, 1) * 1000 / mid).quantize(Decimal("0.0001")) or Decimal(
                "0.0001"
            )
            yield ObservedTrade(
                time=at(now),
                symbol=symbol,
                trade_id=trade_id,
                price=price,
                quantity=quantity,
                taker_side=rng.choice([Side.BUY, Side.SELL]),
                buyer_account_id=buyer,
                seller_account_id=seller,
                buyer_owner_id=f"owner-{buyer}",
                seller_owner_id=f"owner-{seller}",
                buyer_ip=f"10.{buyer // 256}.{buyer % 256}.1",
                seller_ip=f"10.{seller // 256}.{seller % 256}.1",
                buyer_device_id=f"device-{buyer}" if rng.random() < 0.8 else None,
                seller_device_id=f"device-{seller}" if rng.random() < 0.8 else None,
            )
            continue
        order_id += 1
        side = rng.choice([Side.BUY, Side.SELL])
        best_bid = Decimal(mid * 0.9998).quantize(tick)
        best_ask = Decimal(mid * 1.0002).quantize(tick)
        large = rng.random() < 0.05
        bps = rng.uniform(20, 200) if large else rng.uniform(0, 8)
        sign = -1 if side is Side.BUY else 1
        touch = best_bid if side is Side.BUY else best_ask
        notional = rng.uniform(60_000, 200_000) if large else rng.uniform(100, 5_000)
        order = ObservedOrderPlaced(
            time=at(now),
            symbol=symbol,
            order_id=order_id,
            account_id=rng.randrange(accounts),
            side=side,
            price=(touch * (1 + Decimal(sign * bps) / 10_000)).quantize(tick),
            quantity=Decimal(notional / mid).quantize(Decimal("0.0001")),
            best_bid=best_bid,
            best_ask=best_ask,
        )
        yield order
        lifetime = rng.uniform(30, 600) if large else rng.uniform(0.2, 4)
        open_quotes.append((now + lifetime, order))
        open_quotes.sort(key=lambda item: item[0])


def test_clean_trading_raises_nothing() -> None:
    stream = list(clean_market(7, hours=1.5))
    sentinel = Sentinel()
    alerts = [
        alert for i in range(0, len(stream), 500) for alert in sentinel.process_batch(stream[i : i + 500])
    ]
    stats = sentinel.stats()
    assert alerts == []
    assert stats.trades > 15_000
    assert stats.orders_canceled > 10_000
    # Memory stays bounded: the window holds a few minutes of trades, not the whole stream.
    assert stats.window_trades < 3 * 5 * 60
    assert stats.tracked_orders < 500


@cache
def pattern_stream() -> list[MarketObservation]:
    """Every pattern at once, interleaved with clean trading, in time order."""
    base = list(clean_market(11, hours=0.75, accounts=400))
    crafted: list[MarketObservation] = [
        trade(seconds=100, seller=901, buyer=902, seller_owner="mallory", buyer_owner="mallory"),
        trade(seconds=200, seller=903, buyer=904, price="100", quantity="3"),
        trade(seconds=260, seller=904, buyer=903, price="100.1", quantity="3"),
        *layering_stream(cycles=7, account=905),
    ]
    for b in range(40):
        crafted += [
            trade(seconds=b * 60 + i * 5, seller=910 + i, buyer=920 + i, symbol="XYZ-USDT") for i in range(10)
        ]
    crafted += [t.model_copy(update={"symbol": "XYZ-USDT"}) for t in spike_bucket(40, ["20"] * 5)]
    crafted.append(trade(seconds=2500, seller=1, buyer=2, symbol="XYZ-USDT"))
    return sorted([*base, *crafted], key=lambda o: o.time)


def test_same_stream_same_alerts_whatever_the_batches() -> None:
    stream = pattern_stream()
    whole = run(stream)
    assert kinds(whole) == [
        AlertKind.LAYERING,
        AlertKind.WASH_TRADE,
        AlertKind.ROUND_TRIP,
        AlertKind.VOLUME_SPIKE,
    ]
    assert run(stream) == whole
    one_by_one = Sentinel()
    assert [a for o in stream for a in one_by_one.process(o)] == whole


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=4000), min_size=1, max_size=20))
def test_batch_boundaries_do_not_matter(cuts: list[int]) -> None:
    stream = pattern_stream()
    sentinel = Sentinel()
    alerts: list[MarketAbuseDetected] = []
    start = 0
    for size in itertools.cycle(cuts):
        if start >= len(stream):
            break
        alerts += sentinel.process_batch(stream[start : start + size])
        start += size
    assert alerts == run(stream)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="min_baseline_buckets"):
        VolumeSpikeSettings(baseline_buckets=10, min_baseline_buckets=20)
    with pytest.raises(ValueError, match="min_order_notional or min_size_multiple"):
        LayeringSettings(min_order_notional=None, min_size_multiple=None)
    with pytest.raises(ValueError, match="positive"):
        RoundTripSettings(window=timedelta(0))
    assert SentinelSettings.model_validate(
        {"round_trip": {"window": "PT30S"}}
    ).round_trip.window == timedelta(seconds=30)


def test_alerts_survive_the_bus_as_json() -> None:
    (alert,) = run(layering_stream())
    again = MarketAbuseDetected.model_validate_json(alert.model_dump_json())
    assert again == alert
    assert isinstance(again.evidence, LayeringEvidence)


def test_window_as_a_polars_frame() -> None:
    sentinel = Sentinel()
    sentinel.process_batch(
        [
            trade(seconds=0, seller=1, buyer=2, price="100.5", quantity="0.25", trade_id=1),
            trade(seconds=1, seller=3, buyer=4, symbol="ETH-USDT", trade_id=2),
            trade(seconds=200, seller=5, buyer=6, price="101", trade_id=3),
        ]
    )
    # The first two trades left the window (2 min + 5 s of late tolerance) when the third arrived.
    frame = sentinel.window_frame()
    assert frame["trade_id"].to_list() == [3]
    assert frame["price"].to_list() == [Decimal("101")]
    assert sentinel.window_frame("ETH-USDT").is_empty()
    assert sentinel.watermark == at(200)
