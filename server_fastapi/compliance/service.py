"""Compliance logic: IVMS101 validation for the API, KYC profiles under per-user data keys, erasure by
crypto-shredding, audit-chain verification, and market-abuse alerts fed by the sentinel.

Personal data (names, addresses, dates of birth) never leaves this module except to the person it belongs
to and, as a withdrawal's originator, to the wallets domain: audit entries name users by id only, and
nothing here logs a profile.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from ipaddress import ip_address
from typing import Any, cast
from uuid import UUID

import asyncpg
import orjson
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from server_fastapi.auth import service as auth_service
from server_fastapi.auth.passwords import password_hasher
from server_fastapi.compliance import crypto
from server_fastapi.compliance import repository as repo
from server_fastapi.compliance.audit_chain import ChainReport, ChainVerifier
from server_fastapi.compliance.events import AlertRaised, alerts_channel, observations_channel
from server_fastapi.compliance.ivms101 import (
    NaturalPerson,
    ValidationResult,
    Violation,
    validate_ivms101,
    validate_natural_person,
)
from server_fastapi.compliance.schemas import (
    Alert,
    AlertDetail,
    AlertPage,
    AuditEntry,
    AuditEntryPage,
    AuditVerification,
    Ivms101Validated,
    KycProfile,
)
from server_fastapi.compliance.sentinel import (
    MarketAbuseDetected,
    MarketObservation,
    ObservedOrderCanceled,
    ObservedOrderPlaced,
    ObservedSignIn,
    ObservedTrade,
    Sentinel,
    SentinelSettings,
)
from server_fastapi.core.audit import record_audit
from server_fastapi.core.bus import Delivery, EventBus, Gap, Overflow, Subscription
from server_fastapi.core.db import Connection, Pool, acquire, transaction
from server_fastapi.core.pagination import before_id
from server_fastapi.core.principal import Principal
from server_fastapi.core.problems import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from server_fastapi.core.settings import Settings
from server_fastapi.trading.engine import Side
from server_fastapi.trading.events import FillCreated, OrderUpdated, fills_channel, orders_channel

logger = logging.getLogger(__name__)

NATURAL_PERSON = "natural_person"
MAX_PENDING_FILLS = 10_000


class KycProfileMissing(NotFound):
    slug, title = "kyc-missing", "No KYC Profile"


class PersonalDataErased(Conflict):
    slug, title = "erased", "Personal Data Erased"


class ConfirmationRejected(Forbidden):
    slug, title = "confirmation-rejected", "Confirmation Rejected"


class AlertNotFound(NotFound):
    slug = "alert-not-found"


class AlertClosed(Conflict):
    slug, title = "alert-resolved", "Alert Already Resolved"


# --- IVMS101 --------------------------------------------------------------------------------------------


def _field_errors(violations: Sequence[Violation], prefix: str = "") -> list[FieldError]:
    return [
        FieldError(location="body", pointer=prefix + v.path, code=v.rule, detail=v.message)
        for v in violations
    ]


def _invalid(result: ValidationResult[Any], what: str, prefix: str = "") -> InvalidInput:
    count = len(result.violations)
    return InvalidInput(
        f"The {what} breaks {count} rule{'s' if count != 1 else ''} of IVMS101.",
        errors=_field_errors(result.violations, prefix),
    )


def validate_payload(payload: object) -> Ivms101Validated:
    """The normalised payload, or InvalidInput listing every violation with its JSON Pointer."""
    result = validate_ivms101(payload)
    normalised = result.normalised()
    if normalised is None:
        raise _invalid(result, "payload")
    return Ivms101Validated(edition=result.edition, payload=normalised)


# --- KYC profiles under per-user data keys -----------------------------------------------------------------


async def _data_key(conn: Connection, settings: Settings, user_id: UUID, *, create: bool) -> crypto.DataKey:
    master = crypto.master_key(settings)
    record = await repo.data_key_for_update(conn, user_id) if create else await repo.data_key(conn, user_id)
    if record is None:
        if not create:
            raise KycProfileMissing("No KYC profile is on file for this account.")
        key = crypto.new_data_key(user_id)
        await repo.insert_data_key(conn, user_id, crypto.wrap(master, key), master.key_id)
        return key
    if record["destroyed_at"] is not None:
        raise PersonalDataErased("This account's personal data was erased.")
    return crypto.unwrap(master, user_id, record["wrapped_key"])


async def put_profile(
    conn: Connection, settings: Settings, principal: Principal, natural_person: object
) -> KycProfile:
    result = validate_natural_person(natural_person, originator=True)
    if result.value is None:
        raise _invalid(result, "identity", prefix="/natural_person")
    normalised = result.value.model_dump(mode="json", by_alias=True, exclude_none=True)
    key = await _data_key(conn, settings, principal.user_id, create=True)
    sealed = crypto.encrypt(key, NATURAL_PERSON, orjson.dumps(normalised))
    updated_at = await repo.upsert_profile(conn, principal.user_id, NATURAL_PERSON, sealed)
    await record_audit(
        conn,
        actor_id=principal.user_id,
        action="compliance.kyc.updated",
        subject=f"user:{principal.user_id}",
        details={"kind": NATURAL_PERSON},
    )
    return KycProfile(natural_person=normalised, updated_at=updated_at)


async def _read_profile(
    conn: Connection, settings: Settings, user_id: UUID
) -> tuple[dict[str, Any], datetime]:
    record = await repo.profile(conn, user_id)
    if record is None:
        key_record = await repo.data_key(conn, user_id)
        if key_record is not None and key_record["destroyed_at"] is not None:
            raise PersonalDataErased("This account's personal data was erased.")
        raise KycProfileMissing("No KYC profile is on file for this account.")
    key = await _data_key(conn, settings, user_id, create=False)
    data = orjson.loads(crypto.decrypt(key, record["kind"], record["ciphertext"]))
    return cast(dict[str, Any], data), record["updated_at"]


async def get_profile(conn: Connection, settings: Settings, user_id: UUID) -> KycProfile:
    data, updated_at = await _read_profile(conn, settings, user_id)
    return KycProfile(natural_person=data, updated_at=updated_at)


async def get_originator(conn: Connection, user_id: UUID, settings: Settings | None = None) -> NaturalPerson:
    """The trader's identity as a withdrawal's originator (IVMS101 NaturalPerson).

    Raises KycProfileMissing (404) when none is on file and PersonalDataErased (409) after erasure."""
    data, _ = await _read_profile(conn, settings or Settings(), user_id)
    result = validate_natural_person(data, originator=True)
    if result.value is None:
        raise _invalid(result, "identity on file", prefix="/natural_person")
    return result.value


async def encrypt_personal_data(
    conn: Connection, settings: Settings, user_id: UUID, kind: str, data: object
) -> bytes:
    """Seal other personal data of a user (a withdrawal's travel-rule record) under the same data key,
    so erasure shreds it too. `kind` binds the ciphertext to its purpose."""
    key = await _data_key(conn, settings, user_id, create=True)
    return crypto.encrypt(key, kind, orjson.dumps(data))


async def decrypt_personal_data(
    conn: Connection, settings: Settings, user_id: UUID, kind: str, sealed: bytes
) -> object:
    key = await _data_key(conn, settings, user_id, create=False)
    return orjson.loads(crypto.decrypt(key, kind, sealed))


# --- erasure --------------------------------------------------------------------------------------------


async def erase_account(
    conn: Connection, settings: Settings, principal: Principal, *, password: str, totp: str | None
) -> None:
    """Right to erasure: the data key is destroyed (every ciphertext made with it becomes unreadable), the
    account's personal fields are blanked and its sessions end. Balances, orders, trades and the audit
    log keep referring to the user id, so the books and the chain stay consistent."""
    record = await repo.user_for_erasure(conn, principal.user_id)
    if record is None or record["erased_at"] is not None:
        raise NotFound("No such account.")
    ok, _ = await password_hasher(settings).verify(password, record["password_hash"])
    if not ok:
        raise ConfirmationRejected("The password is wrong.")
    await auth_service.require_second_factor(conn, settings, principal.user_id, totp)
    await repo.destroy_data_key(conn, principal.user_id)
    await repo.delete_profile(conn, principal.user_id)
    await repo.blank_user(conn, principal.user_id)
    sessions = await auth_service.revoke_all_sessions(conn, principal.user_id, reason="erasure")
    await record_audit(
        conn,
        actor_id=principal.user_id,
        action="compliance.user.erased",
        subject=f"user:{principal.user_id}",
        details={"data_key_destroyed": True, "sessions_revoked": sessions},
    )


# --- audit chain ------------------------------------------------------------------------------------------


async def verify_audit_chain(conn: Connection) -> AuditVerification:
    """Recompute every entry's hash in Python and follow the links; the first broken one is reported.

    The chain head is read first: every entry up to the head's last id had committed by then (ids are drawn
    under the chain lock), so entries appended while verifying are left for the next run."""
    head = await repo.audit_head(conn)
    last_id: int | None = head["last_id"] if head else None
    verifier = ChainVerifier()
    if last_id is not None:
        async for rows in repo.audit_rows(conn, up_to=last_id):
            verifier.feed(rows)
    report: ChainReport = verifier.finish(last_id, head["last_hash"] if head else verifier.previous)
    return AuditVerification(
        intact=report.intact,
        entries=report.entries,
        first_broken_id=report.first_broken_id,
        reason=report.reason,
    )


async def audit_verification(conn: Connection, principal: Principal) -> AuditVerification:
    result = await verify_audit_chain(conn)
    await record_audit(
        conn,
        actor_id=principal.user_id,
        action="compliance.audit.verified",
        subject="audit_log",
        details={
            "intact": result.intact,
            "entries": result.entries,
            "first_broken_id": result.first_broken_id,
        },
    )
    return result


async def list_audit_entries(
    conn: Connection,
    *,
    action: str | None,
    subject: str | None,
    actor_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> AuditEntryPage:
    """The audit log newest first, narrowed to an action prefix, a subject or an actor."""
    records = await repo.audit_entries(
        conn,
        action_prefix=action,
        subject=subject,
        actor_id=actor_id,
        before_id=before_id(cursor),
        limit=limit + 1,
    )
    items = [AuditEntry.model_validate(dict(record)) for record in records[:limit]]
    return AuditEntryPage(items=items, next_cursor=str(items[-1].id) if len(records) > limit else None)


# --- large orders ----------------------------------------------------------------------------------------


async def audit_large_order(
    conn: Connection,
    settings: Settings,
    *,
    user_id: UUID,
    order_id: int,
    symbol: str,
    quote_asset: str,
    side: str,
    order_type: str,
    notional: Decimal | None,
) -> int | None:
    """Inside the order-acceptance transaction: an audit entry for an order whose notional (in its quote
    asset) reaches `COMPLIANCE_LARGE_ORDER_THRESHOLDS`; the entry's id, or None below the threshold, for a
    quote asset without one, or when the notional is unknown (a market sell before the first trade).

    Thresholds are per quote asset, so no price conversion sits on the order path; the check costs a dict
    lookup, and only the rare large order pays for the chained insert."""
    threshold = settings.large_order_thresholds.get(quote_asset)
    if threshold is None or notional is None or notional < threshold:
        return None
    return await record_audit(
        conn,
        actor_id=user_id,
        action="compliance.order.large",
        subject=f"order:{order_id}",
        details={
            "symbol": symbol,
            "side": side,
            "type": order_type,
            "notional": str(notional),
            "quote_asset": quote_asset,
            "threshold": str(threshold),
        },
    )


# --- alerts ----------------------------------------------------------------------------------------------


def _alert(record: repo.Record) -> Alert:
    return Alert.model_validate(dict(record))


def _cursor(alert_id: int) -> str:
    return base64.urlsafe_b64encode(f"a{alert_id}".encode()).decode().rstrip("=")


def _before_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("a"):
            raise ValueError(text)
        return int(text[1:])
    except ValueError:
        raise InvalidInput(
            "The cursor is not one this API gave out.",
            errors=[FieldError(location="query", pointer="/cursor", detail="invalid cursor", code="cursor")],
        ) from None


async def list_alerts(
    conn: Connection,
    *,
    status: str | None,
    kind: str | None,
    symbol: str | None,
    cursor: str | None,
    limit: int,
) -> AlertPage:
    records = await repo.alerts(
        conn, status=status, kind=kind, symbol=symbol, before_id=_before_id(cursor), limit=limit + 1
    )
    items = [_alert(record) for record in records[:limit]]
    next_cursor = _cursor(items[-1].id) if len(records) > limit else None
    return AlertPage(items=items, next_cursor=next_cursor)


async def get_alert(conn: Connection, alert_id: int) -> AlertDetail:
    record = await repo.alert(conn, alert_id)
    if record is None:
        raise AlertNotFound(f"No alert {alert_id}.")
    return AlertDetail.model_validate(dict(record))


async def acknowledge_alert(conn: Connection, principal: Principal, alert_id: int) -> AlertDetail:
    record = await repo.alert(conn, alert_id, for_update=True)
    if record is None:
        raise AlertNotFound(f"No alert {alert_id}.")
    if record["status"] == "resolved":
        raise AlertClosed("A resolved alert cannot be acknowledged.")
    if record["status"] == "open":
        await repo.acknowledge_alert(conn, alert_id, principal.user_id)
        await record_audit(
            conn,
            actor_id=principal.user_id,
            action="compliance.alert.acknowledged",
            subject=f"alert:{alert_id}",
        )
    return await get_alert(conn, alert_id)


async def resolve_alert(conn: Connection, principal: Principal, alert_id: int, comment: str) -> AlertDetail:
    record = await repo.alert(conn, alert_id, for_update=True)
    if record is None:
        raise AlertNotFound(f"No alert {alert_id}.")
    if record["status"] == "resolved":
        raise AlertClosed("This alert is resolved already.")
    await repo.resolve_alert(conn, alert_id, principal.user_id, comment)
    # The comment is free text an officer typed; the entry keeps its length, not its words.
    await record_audit(
        conn,
        actor_id=principal.user_id,
        action="compliance.alert.resolved",
        subject=f"alert:{alert_id}",
        details={"previous_status": record["status"], "comment_length": len(comment)},
    )
    return await get_alert(conn, alert_id)


async def has_open_alert(conn: Connection, user_id: UUID) -> bool:
    """Whether an unresolved market-abuse alert names this user (the withdrawals rules hold on it)."""
    return await repo.has_open_alert(conn, user_id)


async def store_alert(conn: Connection, alert: MarketAbuseDetected, accounts: list[UUID]) -> int | None:
    """Store one sentinel alert; None when it was stored before (same fingerprint: a replay)."""
    alert_id = await repo.insert_alert(
        conn,
        fingerprint=alert.alert_id,
        kind=alert.kind.value,
        symbol=alert.symbol,
        accounts=accounts,
        severity=alert.severity.value,
        summary=alert.summary,
        evidence=alert.evidence.model_dump(mode="json"),
        window_start=alert.window_start,
        window_end=alert.window_end,
        detected_at=alert.detected_at,
    )
    if alert_id is not None:
        await record_audit(
            conn,
            actor_id=None,
            action="compliance.alert.raised",
            subject=f"alert:{alert_id}",
            details={
                "kind": alert.kind.value,
                "symbol": alert.symbol,
                "severity": alert.severity.value,
                "accounts": [str(account) for account in accounts],
            },
        )
    return alert_id


# --- the sentinel on the bus -------------------------------------------------------------------------------


def account_number(user_id: UUID) -> int:
    """The sentinel's integer account id for a user: stable across restarts (alert fingerprints depend on
    it) without asking another domain's tables. 62 bits of the UUID; a collision is not a practical risk."""
    return user_id.int >> 66


IDENTITY_REFRESH_SECONDS = 10.0
"""How long the subscriber trusts what it knows of an account's sign-ins before asking auth again."""


@dataclass(slots=True)
class _Party:
    """What the subscriber knows about a trading user beyond the engine's events."""

    market_maker: bool
    sign_ins_after: datetime
    """Sign-ins up to this session start were fed to the sentinel already."""
    checked_at: float = -math.inf
    """Monotonic time of the last look at the user's sign-ins."""


@dataclass(slots=True)
class SubscriberStats:
    """Counters beside the sentinel's own, read at scrape time."""

    lag_seconds: float = 0.0
    """Venue time of the last observation processed to the time it was processed."""
    sign_in_lookups: int = 0
    sign_in_lookup_failures: int = 0


class SentinelSubscriber:
    """Feeds the sentinel from the bus and stores what it raises.

    Reads `trading.fills` (the two fills of a trade, paired into one `ObservedTrade`), `trading.orders`
    (placements and cancels) and `compliance.observations` (richer observations published directly), all
    with `Overflow.BLOCK`: an observation is never dropped. The trading events carry no client IP or device
    id, so before a trade the subscriber asks auth where its two users signed in from (each session's
    address, at most every `IDENTITY_REFRESH_SECONDS` per user) and feeds those sign-ins first: the
    sentinel links owners that share an address. Users listed in `SENTINEL_MARKET_MAKER_EMAILS` are marked
    on their trades as designated market makers. A placed order's touch is approximated by the symbol's
    last trade price."""

    def __init__(
        self, pool: Pool, bus: EventBus, settings: Settings, sentinel: SentinelSettings | None = None
    ) -> None:
        self.pool = pool
        self.bus = bus
        self.sentinel = Sentinel(sentinel)
        self._lock = asyncio.Lock()
        self._users: dict[int, UUID] = {}
        self._parties: dict[UUID, _Party] = {}
        self._market_makers = frozenset(settings.sentinel_market_maker_emails)
        self._pending_fills: dict[tuple[str, int], FillCreated] = {}
        self._live_orders: set[int] = set()
        self._last_price: dict[str, Decimal] = {}
        self._subscriptions: list[Subscription[Any]] = []
        self.stats = SubscriberStats()
        self.stored = 0

    def start(self) -> None:
        self._subscriptions = [
            fills_channel(self.bus).subscribe_handler(
                "compliance.sentinel", self._on_fill, overflow=Overflow.BLOCK
            ),
            orders_channel(self.bus).subscribe_handler(
                "compliance.sentinel", self._on_order, overflow=Overflow.BLOCK
            ),
            observations_channel(self.bus).subscribe_handler(
                "compliance.sentinel", self._on_observation, overflow=Overflow.BLOCK
            ),
        ]

    def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.unsubscribe()
        self._subscriptions = []

    def _account(self, user_id: UUID) -> int:
        number = account_number(user_id)
        self._users[number] = user_id
        return number

    async def _on_observation(self, delivery: Delivery[MarketObservation]) -> None:
        if isinstance(delivery, Gap):
            return
        observation = delivery.event
        if isinstance(observation, ObservedTrade):
            for account, owner in (
                (observation.buyer_account_id, observation.buyer_owner_id),
                (observation.seller_account_id, observation.seller_owner_id),
            ):
                try:
                    self._users.setdefault(account, UUID(owner))
                except ValueError:
                    continue
        await self.observe([observation])

    async def _on_fill(self, delivery: Delivery[FillCreated]) -> None:
        if isinstance(delivery, Gap):
            return
        event = delivery.event
        key = (event.fill.symbol, event.fill.trade_id)
        other = self._pending_fills.pop(key, None)
        if other is None:
            if len(self._pending_fills) >= MAX_PENDING_FILLS:  # a partner that never came: forget the oldest
                del self._pending_fills[next(iter(self._pending_fills))]
            self._pending_fills[key] = event
            return
        buy, sell = (event, other) if event.fill.side == "buy" else (other, event)
        taker = event if event.fill.liquidity == "taker" else other
        fill = buy.fill
        self._last_price[fill.symbol] = fill.price
        try:
            sign_ins = await self._sign_ins(buy.user_id, sell.user_id, now=fill.time)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            # The trade still reaches every detector rather than the dead letters; the two users stay due for
            # a look, so their sign-ins are asked for again with their next trade.
            logger.warning("sentinel could not read sign-ins; trade observed without them", exc_info=True)
            self.stats.sign_in_lookup_failures += 1
            sign_ins = []
        trade = ObservedTrade(
            time=fill.time,
            symbol=fill.symbol,
            trade_id=fill.trade_id,
            price=fill.price,
            quantity=fill.quantity,
            taker_side=Side.BUY if taker.fill.side == "buy" else Side.SELL,
            buyer_account_id=self._account(buy.user_id),
            seller_account_id=self._account(sell.user_id),
            buyer_owner_id=str(buy.user_id),
            seller_owner_id=str(sell.user_id),
            buyer_order_id=buy.fill.order_id,
            seller_order_id=sell.fill.order_id,
            buyer_market_maker=self._is_known_market_maker(buy.user_id),
            seller_market_maker=self._is_known_market_maker(sell.user_id),
        )
        await self.observe([*sign_ins, trade])

    def _is_known_market_maker(self, user_id: UUID) -> bool:
        """Unknown (auth was unreachable) counts as not exempt: a needless alert beats a missed one."""
        party = self._parties.get(user_id)
        return party is not None and party.market_maker

    async def _sign_ins(self, buyer: UUID, seller: UUID, *, now: datetime) -> list[ObservedSignIn]:
        """The two users' sign-ins the sentinel has not seen yet, asking auth for users not checked within
        `IDENTITY_REFRESH_SECONDS` (and, once per user, whether they are a designated market maker)."""
        clock = time.monotonic()
        users = {buyer, seller}
        stale = [
            user
            for user in users
            if (party := self._parties.get(user)) is None
            or clock - party.checked_at >= IDENTITY_REFRESH_SECONDS
        ]
        if not stale:
            return []
        horizon = now - self.sentinel.settings.wash_trade.sign_in_window
        found: list[ObservedSignIn] = []
        async with acquire(self.pool) as connection:
            for user in stale:
                if user not in self._parties:
                    self._parties[user] = _Party(await self._is_market_maker(connection, user), horizon)
            since = min(max(self._parties[user].sign_ins_after, horizon) for user in stale)
            origins = await auth_service.sign_in_origins(connection, stale, since=since)
        self.stats.sign_in_lookups += 1
        for origin in origins:
            party = self._parties[origin.user_id]
            if origin.signed_in_at <= party.sign_ins_after:
                continue
            party.sign_ins_after = origin.signed_in_at
            # The venue's own machine (a local proxy, development) links no one.
            if ip_address(origin.ip).is_loopback:
                continue
            # Auth records no device id yet; a user agent names a browser build, not a device.
            found.append(
                ObservedSignIn(
                    time=origin.signed_in_at, account_id=self._account(origin.user_id), ip=origin.ip
                )
            )
        for user in stale:
            self._parties[user].checked_at = clock
        return found

    async def _is_market_maker(self, conn: Connection, user_id: UUID) -> bool:
        if not self._market_makers:
            return False
        try:
            user = await auth_service.get_user(conn, user_id)
        except NotFound:
            return False
        return user.email in self._market_makers

    async def _on_order(self, delivery: Delivery[OrderUpdated]) -> None:
        if isinstance(delivery, Gap):
            return
        order, account = delivery.event.order, self._account(delivery.event.user_id)
        observation: MarketObservation | None = None
        if order.status in ("open", "partially_filled") and order.id not in self._live_orders:
            self._live_orders.add(order.id)
            if order.type == "limit":
                touch = self._last_price.get(order.symbol)
                observation = ObservedOrderPlaced(
                    time=order.created_at,
                    symbol=order.symbol,
                    order_id=order.id,
                    account_id=account,
                    side=Side.BUY if order.side == "buy" else Side.SELL,
                    price=order.price,
                    quantity=order.quantity,
                    best_bid=touch,
                    best_ask=touch,
                )
        elif order.status in ("filled", "canceled", "rejected"):
            was_live = order.id in self._live_orders
            self._live_orders.discard(order.id)
            if order.status == "canceled" and was_live:
                remaining = (order.quantity - order.filled_quantity) if order.quantity is not None else None
                observation = ObservedOrderCanceled(
                    time=order.updated_at,
                    symbol=order.symbol,
                    order_id=order.id,
                    account_id=account,
                    remaining_quantity=remaining,
                )
        if observation is not None:
            await self.observe([observation])

    async def observe(self, observations: Sequence[MarketObservation]) -> list[int]:
        """Run observations through the sentinel; store and publish what it raises. The new alert ids."""
        async with self._lock:
            raised = self.sentinel.process_batch(observations)
        if observations:
            self.stats.lag_seconds = time.time() - observations[-1].time.timestamp()
        stored: list[int] = []
        for alert in raised:
            accounts = [self._users[a] for a in alert.account_ids if a in self._users]
            async with transaction(self.pool) as conn:
                alert_id = await store_alert(conn, alert, accounts)
            if alert_id is None:
                continue
            stored.append(alert_id)
            self.stored += 1
            logger.info(
                "market abuse alert",
                extra={"alert_id": alert_id, "kind": alert.kind.value, "symbol": alert.symbol},
            )
            await alerts_channel(self.bus).publish(AlertRaised(id=alert_id, alert=alert))
        return stored


class SentinelMetricsCollector:
    """Prometheus view of the sentinel, read at scrape time so the hot path only bumps plain integers."""

    def __init__(self, subscriber: SentinelSubscriber) -> None:
        self._subscriber = subscriber

    def collect(self) -> Iterable[Metric]:
        stats = self._subscriber.sentinel.stats()
        observations = CounterMetricFamily(
            "tessera_sentinel_observations", "Observations the sentinel processed", labels=["kind"]
        )
        for kind, count in (
            ("trade", stats.trades),
            ("order_placed", stats.orders_placed),
            ("order_canceled", stats.orders_canceled),
            ("sign_in", stats.sign_ins),
            ("heartbeat", stats.heartbeats),
        ):
            observations.add_metric([kind], count)
        trades = CounterMetricFamily("tessera_sentinel_trades", "Trades the sentinel processed")
        trades.add_metric([], stats.trades)
        alerts = CounterMetricFamily(
            "tessera_sentinel_alerts", "Market-abuse alerts the sentinel raised", labels=["kind"]
        )
        for alert_kind, count in stats.alerts.items():
            alerts.add_metric([alert_kind.value], count)
        stored = CounterMetricFamily("tessera_sentinel_alerts_stored", "Alerts stored (new fingerprints)")
        stored.add_metric([], self._subscriber.stored)
        suppressed = CounterMetricFamily(
            "tessera_sentinel_alerts_suppressed", "Detections inside an earlier alert's dedup window"
        )
        suppressed.add_metric([], stats.suppressed)
        lag = GaugeMetricFamily(
            "tessera_sentinel_lag_seconds", "Venue time of the last observation to when it was processed"
        )
        lag.add_metric([], self._subscriber.stats.lag_seconds)
        window = GaugeMetricFamily("tessera_sentinel_window_trades", "Trades held in the sliding window")
        window.add_metric([], stats.window_trades)
        linked = GaugeMetricFamily(
            "tessera_sentinel_linked_accounts", "Accounts with sign-in addresses or devices on record"
        )
        linked.add_metric([], stats.linked_accounts)
        lookups = CounterMetricFamily(
            "tessera_sentinel_sign_in_lookups", "Questions to auth about where traders signed in from"
        )
        lookups.add_metric([], self._subscriber.stats.sign_in_lookups)
        lookup_failures = CounterMetricFamily(
            "tessera_sentinel_sign_in_lookup_failures",
            "Trades observed without their sign-ins because auth's records could not be read",
        )
        lookup_failures.add_metric([], self._subscriber.stats.sign_in_lookup_failures)
        families = [observations, trades, alerts, stored, suppressed, lag, window, linked, lookups]
        return [*families, lookup_failures]
