"""The four detectors. Each one reads observations in sequence order and appends what it raises.

Every detector works per event on plain dicts and deques (see `window.py` for why not per-batch Polars
frames): a comparison or a dict update per trade, exact in `Decimal`. Polars does the batch analytics:
when a volume bucket spikes, `spike_participants` ranks its accounts and trades.

Dedup: after an alert for a key (kind, symbol, accounts), the same key raises nothing new for detections
up to one detector window after the alert's window end; a pattern that keeps going raises again after
that, with fresh evidence.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import polars as pl

from server_fastapi.compliance.sentinel.events import (
    AlertKind,
    LayeringEvidence,
    LayeringOrder,
    MarketAbuseDetected,
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
from server_fastapi.compliance.sentinel.settings import (
    LayeringSettings,
    RoundTripSettings,
    VolumeSpikeSettings,
    WashTradeSettings,
)
from server_fastapi.compliance.sentinel.window import TradeWindow
from server_fastapi.trading.engine import CancelReason, Side

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BPS = Decimal(10_000)

KIND_RANK = {
    AlertKind.WASH_TRADE: 0,
    AlertKind.ROUND_TRIP: 1,
    AlertKind.LAYERING: 2,
    AlertKind.VOLUME_SPIKE: 3,
}


class Raised(NamedTuple):
    """An alert and the sequence number of the observation that completed it (orders the output)."""

    seq: int
    alert: MarketAbuseDetected


def seconds(delta: timedelta) -> Decimal:
    """A duration as exact decimal seconds ("30", "0.5", "-1.000001")."""
    whole = Decimal(delta.days * 86_400 + delta.seconds)
    return whole + Decimal(delta.microseconds).scaleb(-6).normalize() if delta.microseconds else whole


def _alert(
    kind: AlertKind,
    symbol: str,
    accounts: tuple[int, ...],
    window_start: datetime,
    window_end: datetime,
    detected_at: datetime,
    severity: Severity,
    summary: str,
    evidence: WashTradeEvidence | RoundTripEvidence | LayeringEvidence | VolumeSpikeEvidence,
) -> MarketAbuseDetected:
    return MarketAbuseDetected(
        alert_id=alert_fingerprint(kind, symbol, accounts, window_start),
        kind=kind,
        symbol=symbol,
        account_ids=accounts,
        window_start=window_start,
        window_end=window_end,
        detected_at=detected_at,
        severity=severity,
        summary=summary,
        evidence=evidence,
    )


class Cooldowns:
    """Keys that alerted recently, and until when they stay quiet."""

    def __init__(self) -> None:
        self._until: dict[Hashable, datetime] = {}
        self.suppressed = 0

    def __len__(self) -> int:
        return len(self._until)

    def quiet(self, key: Hashable, at: datetime) -> bool:
        until = self._until.get(key)
        if until is not None and at <= until:
            self.suppressed += 1
            return True
        return False

    def arm(self, key: Hashable, until: datetime) -> None:
        self._until[key] = until

    def expire(self, before: datetime) -> None:
        if self._until:
            self._until = {key: until for key, until in self._until.items() if until >= before}


# --- wash trades -------------------------------------------------------------------------------------

SIGN_INS_KEPT = 16
"""Sign-in times kept per account and address (or device): the latest ones, enough to find the one
before any trade of the window."""
SIGN_IN_SWEEP = timedelta(hours=1)


class SignInIndex:
    """Which addresses (or devices) each account signed in from, and when: account → identifier → the
    latest sign-in times, sorted. Sign-ins may arrive late and out of order (the publisher looks them up
    when an account first trades), so each list is kept sorted rather than appended to."""

    def __init__(self, window: timedelta, late_tolerance: timedelta, ignored: frozenset[str]) -> None:
        self.window = window
        self._late_tolerance = late_tolerance
        self._ignored = ignored
        self._seen: dict[int, dict[str, list[datetime]]] = {}
        self._next_sweep: datetime | None = None

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, account_id: int, identifier: str, at: datetime) -> None:
        if identifier in self._ignored:
            return
        times = self._seen.setdefault(account_id, {}).setdefault(identifier, [])
        if at in times:
            return
        insort(times, at)
        if len(times) > SIGN_INS_KEPT:
            del times[0]

    def _latest(self, times: list[datetime], at: datetime) -> datetime | None:
        """The latest sign-in at or before `at` (give or take the late tolerance) and inside the window."""
        position = bisect_right(times, at + self._late_tolerance)
        if position == 0:
            return None
        latest = times[position - 1]
        return latest if latest >= at - self.window else None

    def shared(self, first: int, second: int, at: datetime) -> tuple[str, datetime, datetime] | None:
        """The identifier both accounts signed in with most recently before `at`, and each one's time."""
        # Most trades are between accounts that share nothing: two lookups and a disjointness test.
        seen = self._seen
        mine = seen.get(first)
        if mine is None:
            return None
        theirs = seen.get(second)
        if theirs is None or mine.keys().isdisjoint(theirs):
            return None
        found: tuple[str, datetime, datetime] | None = None
        for identifier in sorted(mine.keys() & theirs.keys()):
            first_at = self._latest(mine[identifier], at)
            second_at = self._latest(theirs[identifier], at)
            if first_at is None or second_at is None:
                continue
            if found is None or min(first_at, second_at) > min(found[1], found[2]):
                found = (identifier, first_at, second_at)
        return found

    def expire(self, watermark: datetime) -> None:
        """Hourly (in event time), forget sign-ins older than the window."""
        if self._next_sweep is not None and watermark < self._next_sweep:
            return
        self._next_sweep = watermark + min(self.window, SIGN_IN_SWEEP)
        horizon = watermark - self.window - self._late_tolerance
        for account in list(self._seen):
            identifiers = self._seen[account]
            for identifier in list(identifiers):
                times = identifiers[identifier]
                del times[: bisect_left(times, horizon)]
                if not times:
                    del identifiers[identifier]
            if not identifiers:
                del self._seen[account]


class WashTradeDetector:
    def __init__(self, settings: WashTradeSettings, cooldowns: Cooldowns, late_tolerance: timedelta) -> None:
        self.settings = settings
        self._cooldowns = cooldowns
        self._use_ip = settings.enabled and settings.use_ip
        self._use_device = settings.enabled and settings.use_device
        self._ignored_ips = settings.ignored_ips
        self.sign_in_ips = SignInIndex(settings.sign_in_window, late_tolerance, settings.ignored_ips)
        self.sign_in_devices = SignInIndex(settings.sign_in_window, late_tolerance, frozenset())

    @property
    def linked_accounts(self) -> int:
        return len(self.sign_in_ips) + len(self.sign_in_devices)

    def on_sign_in(self, sign_in: ObservedSignIn) -> None:
        if self._use_ip and sign_in.ip is not None:
            self.sign_in_ips.add(sign_in.account_id, sign_in.ip, sign_in.time)
        if self._use_device and sign_in.device_id is not None:
            self.sign_in_devices.add(sign_in.account_id, sign_in.device_id, sign_in.time)

    def expire(self, watermark: datetime) -> None:
        self.sign_in_ips.expire(watermark)
        self.sign_in_devices.expire(watermark)

    def on_trade(self, seq: int, trade: ObservedTrade, out: list[Raised]) -> None:
        if not self.settings.enabled:
            return
        buyer, seller = trade.buyer_account_id, trade.seller_account_id
        buyer_ip = trade.buyer_ip
        device = trade.buyer_device_id
        shared_ip = (
            buyer_ip
            if self._use_ip
            and buyer_ip is not None
            and buyer_ip == trade.seller_ip
            and buyer_ip not in self._ignored_ips
            else None
        )
        shared_device = (
            device if self._use_device and device is not None and device == trade.seller_device_id else None
        )
        same_owner = trade.buyer_owner_id == trade.seller_owner_id
        same_account = buyer == seller
        sign_ins: tuple[SignInLink, ...] = ()
        if not (same_owner or same_account):
            if shared_ip is None and (ip_link := self.sign_in_ips.shared(buyer, seller, trade.time)):
                shared_ip, buyer_at, seller_at = ip_link
                sign_ins += (
                    SignInLink(account_id=buyer, ip=shared_ip, signed_in_at=buyer_at),
                    SignInLink(account_id=seller, ip=shared_ip, signed_in_at=seller_at),
                )
            if shared_device is None and (
                device_link := self.sign_in_devices.shared(buyer, seller, trade.time)
            ):
                shared_device, buyer_at, seller_at = device_link
                sign_ins += (
                    SignInLink(account_id=buyer, device_id=shared_device, signed_in_at=buyer_at),
                    SignInLink(account_id=seller, device_id=shared_device, signed_in_at=seller_at),
                )
        if not (same_owner or same_account or shared_ip or shared_device):
            return
        links: list[WashLink] = []
        if same_account:
            links.append(WashLink.SAME_ACCOUNT)
        if same_owner:
            links.append(WashLink.SAME_OWNER)
        if shared_ip is not None:
            links.append(WashLink.SHARED_IP)
        if shared_device is not None:
            links.append(WashLink.SHARED_DEVICE)
        accounts = tuple(sorted({buyer, seller}))
        key = (AlertKind.WASH_TRADE, trade.symbol, accounts)
        if self._cooldowns.quiet(key, trade.time):
            return
        self._cooldowns.arm(key, trade.time + self.settings.window)
        how = ", ".join(link.value.replace("_", " ") for link in links)
        if sign_ins:
            how += " at sign-in"
        summary = (
            f"Wash trade on {trade.symbol}: account {buyer} bought {trade.quantity} at "
            f"{trade.price} from account {seller} ({how})."
        )
        severity = Severity.HIGH if same_owner or same_account else Severity.MEDIUM
        evidence = WashTradeEvidence(
            trade_ids=(trade.trade_id,),
            links=tuple(links),
            buyer_account_id=buyer,
            seller_account_id=seller,
            buyer_owner_id=trade.buyer_owner_id,
            seller_owner_id=trade.seller_owner_id,
            shared_ip=shared_ip,
            shared_device_id=shared_device,
            sign_ins=sign_ins,
            price=trade.price,
            quantity=trade.quantity,
        )
        out.append(
            Raised(
                seq,
                _alert(
                    AlertKind.WASH_TRADE,
                    trade.symbol,
                    accounts,
                    trade.time,
                    trade.time,
                    trade.time,
                    severity,
                    summary,
                    evidence,
                ),
            )
        )


# --- round trips -------------------------------------------------------------------------------------


class RoundTripDetector:
    def __init__(self, settings: RoundTripSettings, cooldowns: Cooldowns) -> None:
        self.settings = settings
        self._cooldowns = cooldowns

    def on_trade(self, seq: int, trade: ObservedTrade, window: TradeWindow, out: list[Raised]) -> None:
        """Match the trade against the latest earlier trade of the window that it reverses."""
        if (
            not self.settings.enabled
            or trade.buyer_account_id == trade.seller_account_id
            or trade.buyer_market_maker
            or trade.seller_market_maker
        ):
            return
        horizon = trade.time - self.settings.window
        for outbound in window.reversals(trade):
            if outbound.time < horizon:
                return
            if self._check(seq, trade, outbound, out):
                return

    def _check(self, seq: int, back: ObservedTrade, outbound: ObservedTrade, out: list[Raised]) -> bool:
        s = self.settings
        elapsed = back.time - outbound.time
        price_gap = abs(back.price - outbound.price)
        quantity_gap = abs(back.quantity - outbound.quantity)
        if price_gap > s.price_tolerance * outbound.price:
            return False
        if quantity_gap > s.quantity_tolerance * outbound.quantity:
            return False
        if outbound.price * outbound.quantity < s.min_notional:
            return False
        first_seller, first_buyer = outbound.seller_account_id, outbound.buyer_account_id
        accounts = tuple(sorted((first_seller, first_buyer)))
        key = (AlertKind.ROUND_TRIP, back.symbol, accounts)
        if self._cooldowns.quiet(key, back.time):
            return True
        self._cooldowns.arm(key, back.time + s.window)
        linked = outbound.buyer_owner_id == outbound.seller_owner_id
        summary = (
            f"Round trip on {back.symbol}: account {first_seller} sold {outbound.quantity} at "
            f"{outbound.price} to account {first_buyer}, which sold {back.quantity} back at {back.price} "
            f"{seconds(elapsed)} s later (trades {outbound.trade_id}, {back.trade_id})."
        )
        evidence = RoundTripEvidence(
            trade_ids=(outbound.trade_id, back.trade_id),
            first_seller_account_id=first_seller,
            first_buyer_account_id=first_buyer,
            outbound_price=outbound.price,
            return_price=back.price,
            outbound_quantity=outbound.quantity,
            return_quantity=back.quantity,
            price_deviation=price_gap / outbound.price,
            quantity_deviation=quantity_gap / outbound.quantity,
            elapsed_seconds=seconds(elapsed),
            thresholds={
                "window_seconds": str(seconds(s.window)),
                "price_tolerance": str(s.price_tolerance),
                "quantity_tolerance": str(s.quantity_tolerance),
                "min_notional": str(s.min_notional),
            },
        )
        severity = Severity.HIGH if linked else Severity.MEDIUM
        alert = _alert(
            AlertKind.ROUND_TRIP,
            back.symbol,
            accounts,
            outbound.time,
            back.time,
            back.time,
            severity,
            summary,
            evidence,
        )
        out.append(Raised(seq, alert))
        return True


# --- layering / spoofing -----------------------------------------------------------------------------


@dataclass(slots=True)
class _SizeReference:
    """The symbol's last N trade quantities (a bounded deque) and their exact sum (for the mean size)."""

    quantities: deque[Decimal]
    total: Decimal = Decimal(0)


class _Resting(NamedTuple):
    order: ObservedOrderPlaced
    reference_price: Decimal
    distance_bps: Decimal


class _Cancel(NamedTuple):
    resting: _Resting
    canceled_at: datetime


class LayeringDetector:
    def __init__(self, settings: LayeringSettings, cooldowns: Cooldowns, late_tolerance: timedelta) -> None:
        self.settings = settings
        self._cooldowns = cooldowns
        self._late_tolerance = late_tolerance
        self._sizes: dict[str, _SizeReference] = {}
        self._resting: dict[int, _Resting] = {}
        self._resting_order: deque[tuple[datetime, int]] = deque()
        self._cancels: dict[tuple[int, str, Side], deque[_Cancel]] = {}
        self._min_distance_bps = settings.min_distance_bps
        self._track_sizes = settings.enabled and settings.min_size_multiple is not None

    @property
    def tracked_orders(self) -> int:
        return len(self._resting)

    def on_trade(self, trade: ObservedTrade) -> None:
        if not self._track_sizes:
            return
        ref = self._sizes.get(trade.symbol)
        if ref is None:
            sizes = deque[Decimal](maxlen=self.settings.size_reference_trades)
            ref = self._sizes[trade.symbol] = _SizeReference(sizes)
        quantities = ref.quantities
        quantity = trade.quantity
        if len(quantities) == quantities.maxlen:
            ref.total += quantity - quantities[0]
        else:
            ref.total += quantity
        quantities.append(quantity)

    def on_placed(self, order: ObservedOrderPlaced) -> None:
        price, quantity = order.price, order.quantity
        if price is None or quantity is None or not self.settings.enabled:
            return
        # Distance first: most orders quote at or near the touch and stop here.
        if order.side is Side.BUY:
            reference = order.best_bid if order.best_bid is not None else order.best_ask
            if reference is None:
                return
            gap = reference - price
        else:
            reference = order.best_ask if order.best_ask is not None else order.best_bid
            if reference is None:
                return
            gap = price - reference
        if gap * BPS < self._min_distance_bps * reference:
            return
        if not self._large(order.symbol, price, quantity):
            return
        self._resting[order.order_id] = _Resting(order, reference, gap / reference * BPS)
        self._resting_order.append((order.time, order.order_id))

    def _large(self, symbol: str, price: Decimal, quantity: Decimal) -> bool:
        s = self.settings
        if s.min_order_notional is not None and price * quantity >= s.min_order_notional:
            return True
        if s.min_size_multiple is None:
            return False
        ref = self._sizes.get(symbol)
        if ref is None or len(ref.quantities) < s.size_reference_min_trades:
            return False
        # quantity >= multiple * mean, without dividing
        return quantity * len(ref.quantities) >= s.min_size_multiple * ref.total

    def on_canceled(
        self, seq: int, cancel: ObservedOrderCanceled, window: TradeWindow, out: list[Raised]
    ) -> None:
        resting = self._resting.pop(cancel.order_id, None)
        if resting is None or cancel.reason is not CancelReason.USER:
            return
        s = self.settings
        order = resting.order
        if cancel.time - order.time > s.max_order_lifetime or order.account_id != cancel.account_id:
            return
        key = (order.account_id, order.symbol, order.side)
        recent = self._cancels.get(key)
        if recent is None:
            recent = self._cancels[key] = deque()
        recent.append(_Cancel(resting, cancel.time))
        horizon = cancel.time - s.window
        while recent and recent[0].canceled_at < horizon:
            recent.popleft()
        if len(recent) < s.min_cancels:
            return
        dedup_key = (AlertKind.LAYERING, order.symbol, order.account_id, order.side)
        if self._cooldowns.quiet(dedup_key, cancel.time):
            return
        start = min(c.resting.order.time for c in recent)
        opposite = window.trades_of(
            order.symbol, order.account_id, as_buyer=order.side is Side.SELL, since=start
        )
        if s.require_opposite_trade and not opposite:
            return
        self._cooldowns.arm(dedup_key, cancel.time + s.window)
        orders = tuple(
            LayeringOrder(
                order_id=c.resting.order.order_id,
                placed_at=c.resting.order.time,
                canceled_at=c.canceled_at,
                price=c.resting.order.price or Decimal(0),
                quantity=c.resting.order.quantity or Decimal(0),
                reference_price=c.resting.reference_price,
                distance_bps=c.resting.distance_bps,
            )
            for c in recent
        )
        side = "bids" if order.side is Side.BUY else "asks"
        summary = (
            f"Layering on {order.symbol}: account {order.account_id} placed and canceled {len(orders)} large "
            f"{side} away from the touch within {seconds(cancel.time - start)} s"
            + (f", while trading {len(opposite)} times on the other side." if opposite else ".")
        )
        evidence = LayeringEvidence(
            side=order.side,
            order_ids=tuple(o.order_id for o in orders),
            orders=orders,
            opposite_trade_ids=tuple(t.trade_id for t in opposite),
            thresholds={
                "window_seconds": str(seconds(s.window)),
                "min_cancels": str(s.min_cancels),
                "max_order_lifetime_seconds": str(seconds(s.max_order_lifetime)),
                "min_distance_bps": str(s.min_distance_bps),
                "min_order_notional": str(s.min_order_notional),
                "min_size_multiple": str(s.min_size_multiple),
            },
        )
        severity = Severity.HIGH if opposite else Severity.MEDIUM
        alert = _alert(
            AlertKind.LAYERING,
            order.symbol,
            (order.account_id,),
            start,
            cancel.time,
            cancel.time,
            severity,
            summary,
            evidence,
        )
        out.append(Raised(seq, alert))

    def expire(self, watermark: datetime) -> None:
        horizon = watermark - self.settings.max_order_lifetime - self._late_tolerance
        resting_order, resting = self._resting_order, self._resting
        while resting_order and resting_order[0][0] < horizon:
            resting.pop(resting_order.popleft()[1], None)
        cancel_horizon = watermark - self.settings.window - self._late_tolerance
        stale = [key for key, recent in self._cancels.items() if recent[-1].canceled_at < cancel_horizon]
        for key in stale:
            del self._cancels[key]


# --- volume spikes -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Bucket:
    """A symbol's open bucket and its closed history."""

    index: int
    start: datetime
    end: datetime
    baseline: deque[Decimal]
    volume: Decimal = Decimal(0)
    trades: list[ObservedTrade] = field(default_factory=list)


def spike_participants(trades: list[ObservedTrade]) -> tuple[list[int], tuple[int, ...]]:
    """Who drove a spiking bucket, as batch analytics over its trades in Polars (exact decimal sums): the
    five accounts that traded the most of it (a self-trade counts once), and its ten largest trades, largest
    first; ties go to the lower account or trade id."""
    frame = pl.DataFrame(
        {
            "trade_id": [t.trade_id for t in trades],
            "quantity": [t.quantity for t in trades],
            "buyer": [t.buyer_account_id for t in trades],
            "seller": [t.seller_account_id for t in trades],
        },
        # Polars infers a decimal scale that holds every quantity exactly.
        schema_overrides={"trade_id": pl.Int64, "buyer": pl.Int64, "seller": pl.Int64},
    )
    sides = pl.concat(
        [
            frame.select(pl.col("buyer").alias("account"), "quantity"),
            frame.filter(pl.col("seller") != pl.col("buyer")).select(
                pl.col("seller").alias("account"), "quantity"
            ),
        ]
    )
    top = (
        sides.group_by("account")
        .agg(pl.col("quantity").sum())
        .sort(["quantity", "account"], descending=[True, False])
        .head(5)
    )
    largest = frame.sort(["quantity", "trade_id"], descending=[True, False]).head(10)
    return top["account"].to_list(), tuple(largest["trade_id"].to_list())


class VolumeSpikeDetector:
    def __init__(
        self, settings: VolumeSpikeSettings, cooldowns: Cooldowns, late_tolerance: timedelta
    ) -> None:
        self.settings = settings
        self._cooldowns = cooldowns
        self._late_tolerance = late_tolerance
        self._buckets: dict[str, _Bucket] = {}
        self.late_trades = 0

    def _bounds(self, index: int) -> tuple[datetime, datetime]:
        start = EPOCH + self.settings.bucket * index
        return start, start + self.settings.bucket

    def on_trade(self, seq: int, trade: ObservedTrade, out: list[Raised]) -> None:
        if not self.settings.enabled:
            return
        bucket = self._buckets.get(trade.symbol)
        if bucket is None:
            index = (trade.time - EPOCH) // self.settings.bucket
            start, end = self._bounds(index)
            bucket = self._buckets[trade.symbol] = _Bucket(
                index, start, end, deque(maxlen=self.settings.baseline_buckets)
            )
        elif trade.time >= bucket.end:
            self._roll(seq, trade.symbol, bucket, (trade.time - EPOCH) // self.settings.bucket, out)
        elif trade.time < bucket.start:
            self.late_trades += 1
            return
        bucket.volume += trade.quantity
        bucket.trades.append(trade)

    def on_clock(self, seq: int, now: datetime, out: list[Raised]) -> None:
        """Close every bucket that ended at least `late_tolerance` before `now`."""
        if not self.settings.enabled:
            return
        settled = now - self._late_tolerance
        for symbol, bucket in self._buckets.items():
            if settled >= bucket.end:
                self._roll(seq, symbol, bucket, (settled - EPOCH) // self.settings.bucket, out)

    def _roll(self, seq: int, symbol: str, bucket: _Bucket, index: int, out: list[Raised]) -> None:
        """Close the open bucket, count the empty ones up to `index`, open bucket `index`."""
        self._judge(seq, symbol, bucket, out)
        bucket.baseline.append(bucket.volume)
        empty = min(index - bucket.index - 1, self.settings.baseline_buckets)
        bucket.baseline.extend([Decimal(0)] * empty)
        bucket.index = index
        bucket.start, bucket.end = self._bounds(index)
        bucket.volume = Decimal(0)
        bucket.trades = []

    def _judge(self, seq: int, symbol: str, bucket: _Bucket, out: list[Raised]) -> None:
        s = self.settings
        baseline = bucket.baseline
        if len(baseline) < s.min_baseline_buckets or len(bucket.trades) < s.min_trades:
            return
        volume = bucket.volume
        median = statistics.median(baseline)
        if volume < s.median_multiple * median:
            return
        mean = sum(baseline, Decimal(0)) / len(baseline)
        stdev = statistics.pstdev([float(v) for v in baseline])
        excess = float(volume - mean)
        z = excess / stdev if stdev > 0 else (math.inf if excess > 0 else 0.0)
        if z < s.min_z_score:
            return
        key = (AlertKind.VOLUME_SPIKE, symbol)
        if self._cooldowns.quiet(key, bucket.end):
            return
        self._cooldowns.arm(key, bucket.end + s.bucket)
        top_accounts, largest = spike_participants(bucket.trades)
        multiple = volume / median if median > 0 else None
        z_text = "inf" if math.isinf(z) else f"{z:.1f}"
        summary = (
            f"Volume spike on {symbol}: {volume} traded in {len(bucket.trades)} trades between "
            f"{bucket.start.isoformat()} and {bucket.end.isoformat()}, "
            + (f"{multiple:.1f}x" if multiple is not None else "far above")
            + f" the median of the last {len(baseline)} buckets (z = {z_text})."
        )
        evidence = VolumeSpikeEvidence(
            bucket_start=bucket.start,
            bucket_end=bucket.end,
            volume=volume,
            trade_count=len(bucket.trades),
            baseline_buckets=len(baseline),
            baseline_median=median,
            baseline_mean=mean,
            baseline_stdev=stdev,
            z_score=z,
            median_multiple=multiple,
            largest_trade_ids=largest,
            thresholds={
                "bucket_seconds": str(seconds(s.bucket)),
                "median_multiple": str(s.median_multiple),
                "min_z_score": str(s.min_z_score),
                "min_trades": str(s.min_trades),
                "min_baseline_buckets": str(s.min_baseline_buckets),
            },
        )
        severity = (
            Severity.MEDIUM
            if volume >= 2 * s.median_multiple * median and z >= 2 * s.min_z_score
            else (Severity.LOW)
        )
        alert = _alert(
            AlertKind.VOLUME_SPIKE,
            symbol,
            tuple(sorted(top_accounts)),
            bucket.start,
            bucket.end,
            bucket.end,
            severity,
            summary,
            evidence,
        )
        out.append(Raised(seq, alert))
