"""The market-maker bot: a separate process that keeps every market alive through the public HTTP API.

`python -m server_fastapi market-maker` signs in like any client (bearer tokens, refreshed before they
expire) and, per symbol, quotes a few price levels on each side around a seeded random-walk reference price
(the simulated feed's GARCH walk, `markets.feed`), on the instrument's tick and lot grid and above its
minimum notional. When the reference moves, stale quotes are replaced (cancel, then place); now and then a
small market order takes liquidity so trades print and charts move.

Self-trade prevention stops an account trading with itself, so the taking side uses a second account
(`MARKET_MAKER_TAKER_EMAIL`, by default the maker's address with a `+taker` tag and the same password). In
dev and test the bot registers both accounts when missing and tops them up with the dev faucet; in
production it never registers or uses the faucet: the accounts must exist and be funded, and without a
taker account it takes liquidity from its own account (which trades only against other traders).

Every failure of one request is logged and survives: 429 waits for `Retry-After`, 5xx and transport errors
back off exponentially, 409 (market halted, insufficient funds) pauses that symbol. SIGTERM or SIGINT stops
it cleanly: it cancels its open orders and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Final

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from server_fastapi.markets.feed import FeedInstrument, SimulatedTrade, simulate

logger = logging.getLogger("tessera.market_maker")

API: Final = "/api/v1"
DEV_ENVIRONMENTS: Final = frozenset({"dev", "test"})
DEFAULT_EMAIL: Final = "market-maker@demo.tessera.test"
DEFAULT_PASSWORD: Final = "Tessera-market-maker-pass"  # noqa: S105 (dev and test only, like the demo accounts)
# Where a market without trades starts (the same as the simulated feed's).
START_PRICES: Final = {
    "BTC-USDT": Decimal("65000"),
    "ETH-USDT": Decimal("3500"),
    "SOL-USDT": Decimal("150"),
    "ETH-BTC": Decimal("0.054"),
}
HALF_SPREAD: Final = Decimal("0.0005")  # of the reference price, each side
LEVEL_STEP: Final = Decimal("0.0004")  # between levels
MAX_BACKOFF_SECONDS: Final = 30.0
MAX_RETRY_AFTER_SECONDS: Final = 60.0
FUNDING_CHECK_SECONDS: Final = 30.0
PAUSE_SECONDS: Final = 10.0


class MarketMakerSettings(BaseSettings):
    """From the environment only (no `.env`): the API's own settings file refuses unknown keys."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, case_sensitive=False)

    api_url: str = Field("http://127.0.0.1:8000", validation_alias="TESSERA_API_URL")
    env: str = Field("dev", validation_alias="TESSERA_ENV")
    email: str | None = Field(None, validation_alias="MARKET_MAKER_EMAIL")
    password: SecretStr | None = Field(None, validation_alias="MARKET_MAKER_PASSWORD")
    taker_email: str | None = Field(None, validation_alias="MARKET_MAKER_TAKER_EMAIL")
    taker_password: SecretStr | None = Field(None, validation_alias="MARKET_MAKER_TAKER_PASSWORD")
    seed: int = Field(1, validation_alias="MARKET_MAKER_SEED")
    symbols: str = Field("", validation_alias="MARKET_MAKER_SYMBOLS", description="comma-separated; all")
    interval_seconds: float = Field(1.5, ge=0.2, le=60, validation_alias="MARKET_MAKER_INTERVAL_SECONDS")
    levels: int = Field(3, ge=1, le=10, validation_alias="MARKET_MAKER_LEVELS")
    take_probability: float = Field(0.3, ge=0, le=1, validation_alias="MARKET_MAKER_TAKE_PROBABILITY")
    volatility: float = Field(0.8, gt=0, le=10, validation_alias="MARKET_MAKER_VOLATILITY")
    log_level: str = Field("INFO", validation_alias="TESSERA_LOG_LEVEL")

    @property
    def is_dev(self) -> bool:
        return self.env.lower() in DEV_ENVIRONMENTS

    def symbol_list(self) -> list[str]:
        return [s.strip().upper() for s in self.symbols.split(",") if s.strip()]


class Fatal(Exception):
    """A condition the bot cannot work around (bad credentials, no markets): exit non-zero."""


def _retry_after(response: httpx.Response, fallback: float) -> float:
    value = response.headers.get("retry-after")
    try:
        return min(max(float(value), 0.1), MAX_RETRY_AFTER_SECONDS) if value else fallback
    except ValueError:
        return fallback


def _problem(response: httpx.Response) -> tuple[str, str]:
    """`(slug, detail)` of a problem+json answer (the last path segment of `type`)."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    if not isinstance(body, dict):
        return "", str(body)[:200]
    slug = str(body.get("type", "")).rstrip("/").rsplit("/", 1)[-1]
    return slug, str(body.get("detail") or body.get("title") or "")


class Account:
    """One signed-in account: bearer tokens refreshed before expiry, and requests with retries."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        stop: asyncio.Event,
        *,
        name: str,
        email: str,
        password: SecretStr,
        may_register: bool,
    ) -> None:
        self.http, self.stop, self.name = http, stop, name
        self.email, self.password, self.may_register = email, password, may_register
        self.access: str | None = None
        self.refresh_token: str | None = None
        self.refresh_at = 0.0
        self.lock = asyncio.Lock()
        self.stopping = False  # set once shutting down: backoff no longer gives up on `stop`

    async def pause(self, seconds: float) -> bool:
        """Sleep, cut short by `stop` (unless shutting down); True when the bot should stop."""
        if self.stopping:
            await asyncio.sleep(seconds)
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)
        return self.stop.is_set()

    async def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        retries: int = 4,
    ) -> httpx.Response | None:
        """One request, retried on transport errors, 429 (after Retry-After) and 5xx (exponential backoff).
        Returns the response (any other status for the caller to judge) or None when it gave up."""
        delay = 0.5
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                response = await self.http.request(method, path, json=json, params=params, headers=headers)
            except httpx.TransportError as error:
                logger.warning(
                    "api unreachable",
                    extra={"account": self.name, "path": path, "error": repr(error), "retry_in": delay},
                )
                wait = delay
            else:
                if response.status_code == 429:
                    wait = _retry_after(response, delay)
                    logger.warning(
                        "rate limited", extra={"account": self.name, "path": path, "retry_in": wait}
                    )
                elif response.status_code >= 500:
                    wait = delay
                    logger.warning(
                        "api error",
                        extra={
                            "account": self.name,
                            "path": path,
                            "status": response.status_code,
                            "detail": _problem(response)[1],
                            "retry_in": wait,
                        },
                    )
                else:
                    return response
            if last or await self.pause(wait * random.uniform(0.8, 1.2)):
                return None
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        return None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        idempotency_key: str | None = None,
        retries: int = 4,
    ) -> httpx.Response | None:
        """An authenticated request; a 401 signs in again once."""
        for _ in range(2):
            token = await self.token()
            if token is None:
                return None
            headers = {"Authorization": f"Bearer {token}"}
            if idempotency_key is not None:
                headers["Idempotency-Key"] = idempotency_key
            response = await self.send(
                method, path, json=json, params=params, headers=headers, retries=retries
            )
            if response is None or response.status_code != 401:
                return response
            logger.info("access token refused; signing in again", extra={"account": self.name})
            async with self.lock:
                if self.access == token:
                    self.access = None
        return None

    async def token(self) -> str | None:
        async with self.lock:
            if self.access is not None and time.monotonic() < self.refresh_at:
                return self.access
            if self.access is not None and self.refresh_token is not None and await self._refresh():
                return self.access
            await self.sign_in()
            return self.access

    def _store(self, body: dict[str, Any]) -> None:
        expires_in = float(body["expires_in"])
        self.access = str(body["access_token"])
        self.refresh_token = str(body["refresh_token"])
        # Refresh at 75% of the lifetime, so a slow request never carries an expired token.
        self.refresh_at = time.monotonic() + expires_in * 0.75

    async def _refresh(self) -> bool:
        response = await self.send(
            "POST", f"{API}/auth/refresh", json={"refresh_token": self.refresh_token}, retries=2
        )
        if response is not None and response.status_code == 200:
            self._store(response.json())
            logger.info("tokens refreshed", extra={"account": self.name})
            return True
        logger.info("refresh failed; signing in again", extra={"account": self.name})
        self.access = self.refresh_token = None
        return False

    async def sign_in(self) -> None:
        """Sign in (registering first in dev when the account is missing); waits for the API to come up.
        Raises `Fatal` when the credentials are refused and registering is not allowed or fails."""
        registered = False
        while not (self.stop.is_set() and not self.stopping):
            response = await self.send(
                "POST",
                f"{API}/auth/login",
                json={"email": self.email, "password": self.password.get_secret_value()},
                retries=1000,
            )
            if response is None:
                return
            if response.status_code == 200:
                self._store(response.json())
                logger.info("signed in", extra={"account": self.name, "email": self.email})
                return
            if response.status_code == 401 and self.may_register and not registered:
                await self.register()
                registered = True
                continue
            raise Fatal(f"{self.name}: sign-in as {self.email} refused: {_problem(response)[1]}")

    async def register(self) -> None:
        response = await self.send(
            "POST",
            f"{API}/auth/register",
            json={
                "email": self.email,
                "password": self.password.get_secret_value(),
                "display_name": f"Market maker ({self.name})",
            },
            retries=1000,
        )
        if response is not None and response.status_code in (201, 409):
            logger.info(
                "account registered" if response.status_code == 201 else "account exists",
                extra={"account": self.name, "email": self.email},
            )
        elif response is not None:
            raise Fatal(f"{self.name}: registering {self.email} failed: {_problem(response)[1]}")


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str
    base: str
    quote: str
    tick: Decimal
    lot: Decimal
    min_notional: Decimal
    band_pct: Decimal

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Instrument:
        return cls(
            symbol=item["symbol"],
            base=item["base_asset"],
            quote=item["quote_asset"],
            tick=Decimal(item["tick_size"]),
            lot=Decimal(item["lot_size"]),
            min_notional=Decimal(item["min_notional"]),
            band_pct=Decimal(item["price_band_pct"]),
        )

    def floor_price(self, value: Decimal) -> Decimal:
        return (value / self.tick).to_integral_value(ROUND_FLOOR) * self.tick

    def ceil_price(self, value: Decimal) -> Decimal:
        return (value / self.tick).to_integral_value(ROUND_CEILING) * self.tick

    def size_for(self, notional: Decimal, price: Decimal) -> Decimal:
        """The smallest quantity on the lot grid worth at least `notional` at `price` (at least one lot)."""
        lots = max(Decimal(1), (notional / price / self.lot).to_integral_value(ROUND_CEILING))
        return lots * self.lot


class ReferencePrice:
    """The simulated feed's seeded GARCH random walk, followed in real time, scaled onto an anchor that
    moves when the venue's last price drifts too far from it (other traders move the market too)."""

    def __init__(self, instrument: Instrument, start: Decimal, *, seed: int, volatility: float) -> None:
        spec = FeedInstrument(
            symbol=instrument.symbol,
            start_price=start,
            tick_size=instrument.tick,
            lot_size=instrument.lot,
            annual_volatility=volatility,
            trades_per_second=4.0,
        )
        self._walk: Iterator[SimulatedTrade] = simulate([spec], seed=seed, start=datetime.now(UTC))
        self._next = next(self._walk)
        self._walk_price = start
        self._scale = Decimal(1)

    def now(self) -> Decimal:
        current = datetime.now(UTC)
        while self._next.time <= current:
            self._walk_price = self._next.price
            self._next = next(self._walk)
        return self._walk_price * self._scale

    def anchor(self, price: Decimal) -> None:
        self._scale = price / self._walk_price


@dataclass
class Quote:
    order_id: int
    side: str
    price: Decimal
    remaining: Decimal


@dataclass
class SymbolState:
    instrument: Instrument
    reference: ReferencePrice
    rng: random.Random
    last_price: Decimal | None
    quoted_reference: Decimal | None = None
    paused_until: float = 0.0
    stats: dict[str, int] = field(default_factory=lambda: {"placed": 0, "canceled": 0, "taken": 0})


class MarketMaker:
    def __init__(self, settings: MarketMakerSettings, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        self.settings, self.http, self.stop = settings, http, stop
        email = settings.email or (DEFAULT_EMAIL if settings.is_dev else None)
        password = settings.password or (SecretStr(DEFAULT_PASSWORD) if settings.is_dev else None)
        if email is None or password is None:
            raise Fatal("set MARKET_MAKER_EMAIL and MARKET_MAKER_PASSWORD (outside dev and test)")
        self.maker = Account(
            http, stop, name="maker", email=email, password=password, may_register=settings.is_dev
        )
        local, _, domain = email.partition("@")
        taker_email = settings.taker_email or (f"{local}+taker@{domain}" if settings.is_dev else None)
        taker_password = settings.taker_password or password
        self.taker: Account | None = (
            Account(
                http,
                stop,
                name="taker",
                email=taker_email,
                password=taker_password,
                may_register=settings.is_dev,
            )
            if taker_email is not None
            else None
        )
        self.states: dict[str, SymbolState] = {}
        self.needs: dict[str, Decimal] = {}
        self.funding_due = 0.0
        self._background: set[asyncio.Task[None]] = set()

    @property
    def accounts(self) -> list[Account]:
        return [self.maker] + ([self.taker] if self.taker is not None else [])

    async def run(self) -> int:
        try:
            await self.maker.sign_in()
            if self.taker is not None:
                try:
                    await self.taker.sign_in()
                except Fatal as error:
                    logger.warning(
                        "no taker account: taking liquidity from the maker account, which trades only "
                        "against other traders",
                        extra={"error": str(error)},
                    )
                    self.taker = None
            if self.stop.is_set():
                return 0
            await self.load_markets()
            await self.fund(force=True)
            tasks = [
                asyncio.create_task(self.quote_loop(state, i), name=f"mm-{symbol}")
                for i, (symbol, state) in enumerate(self.states.items())
            ]
            logger.info("market maker running", extra={"symbols": list(self.states)})
            await self.stop.wait()
            _, pending = await asyncio.wait(tasks, timeout=15)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        finally:
            ok = await self.shutdown()
        return 0 if ok else 1

    async def shutdown(self) -> bool:
        """Cancel every open order of the bot's accounts; True when that worked."""
        ok = True
        for account in self.accounts:
            account.stopping = True
            if account.access is None:
                continue
            response = await account.request("DELETE", f"{API}/orders", retries=3)
            if response is None or response.status_code != 200:
                ok = False
                logger.error(
                    "could not cancel open orders",
                    extra={"account": account.name, "status": getattr(response, "status_code", None)},
                )
            else:
                logger.info(
                    "open orders canceled",
                    extra={"account": account.name, "orders": len(response.json()["items"])},
                )
            with contextlib.suppress(httpx.HTTPError):
                await account.request("POST", f"{API}/auth/logout", retries=0)
        for symbol, state in self.states.items():
            logger.info("market maker stopped", extra={"symbol": symbol, **state.stats})
        return ok

    async def load_markets(self) -> None:
        response = await self.maker.request("GET", f"{API}/markets", retries=1000)
        if response is None:
            return
        if response.status_code != 200:
            raise Fatal(f"listing markets failed: {_problem(response)[1]}")
        items = {item["symbol"]: item for item in response.json()["items"]}
        wanted = self.settings.symbol_list() or sorted(items)
        for symbol in wanted:
            item = items.get(symbol)
            if item is None:
                logger.warning("unknown symbol skipped", extra={"symbol": symbol})
                continue
            instrument = Instrument.from_api(item)
            last = Decimal(item["last"]) if item.get("last") else None
            start = instrument.floor_price(last or START_PRICES.get(symbol, Decimal(100)))
            start = max(start, instrument.tick)
            self.states[symbol] = SymbolState(
                instrument=instrument,
                reference=ReferencePrice(
                    instrument, start, seed=self.settings.seed, volatility=self.settings.volatility
                ),
                rng=random.Random(f"tessera-market-maker:{self.settings.seed}:{symbol}"),
                last_price=last,
            )
            # Enough for the ladder and the taker's orders many times over.
            largest = instrument.size_for(instrument.min_notional * 4, start) * (self.settings.levels + 2)
            for asset, amount in ((instrument.base, largest * 20), (instrument.quote, largest * start * 20)):
                self.needs[asset] = self.needs.get(asset, Decimal(0)) + amount
        if not self.states:
            raise Fatal("no market to quote")

    async def fund(self, *, force: bool = False) -> None:
        """Dev and test only: top every asset the bot trades up to twice its need with the faucet."""
        if not self.settings.is_dev or (not force and time.monotonic() < self.funding_due):
            return
        self.funding_due = time.monotonic() + FUNDING_CHECK_SECONDS
        for account in self.accounts:
            response = await account.request("GET", f"{API}/balances")
            if response is None or response.status_code != 200:
                continue
            available = {row["asset"]: Decimal(row["available"]) for row in response.json()}
            for asset, need in self.needs.items():
                have = available.get(asset, Decimal(0))
                if have >= need:
                    continue
                amount = max(Decimal(1), (need * 2 - have).to_integral_value(ROUND_CEILING))
                credit = await account.request(
                    "POST", f"{API}/dev/faucet", json={"asset": asset, "amount": f"{amount:f}"}
                )
                if credit is not None and credit.status_code == 200:
                    logger.info(
                        "funded", extra={"account": account.name, "asset": asset, "amount": str(amount)}
                    )
                else:
                    logger.warning(
                        "faucet refused",
                        extra={
                            "account": account.name,
                            "asset": asset,
                            "status": getattr(credit, "status_code", None),
                        },
                    )

    async def quote_loop(self, state: SymbolState, index: int) -> None:
        interval = self.settings.interval_seconds
        # Spread the symbols over the interval so their requests do not arrive together.
        if await self.maker.pause(interval * index / max(1, len(self.states))):
            return
        while not self.stop.is_set():
            if time.monotonic() >= state.paused_until:
                try:
                    await self.cycle(state)
                except Exception:  # one bad answer must not end the bot
                    logger.exception("cycle failed", extra={"symbol": state.instrument.symbol})
                    state.paused_until = time.monotonic() + PAUSE_SECONDS
            if await self.maker.pause(interval * state.rng.uniform(0.8, 1.2)):
                return

    def ladder(self, state: SymbolState, reference: Decimal) -> tuple[list[Decimal], list[Decimal]]:
        inst = state.instrument
        half = max(inst.tick, reference * HALF_SPREAD)
        step = max(inst.tick, reference * LEVEL_STEP)
        bids = [inst.floor_price(reference - half - step * i) for i in range(self.settings.levels)]
        asks = [inst.ceil_price(reference + half + step * i) for i in range(self.settings.levels)]
        if state.last_price is not None:  # stay inside the price band around the last price
            band = state.last_price * inst.band_pct / 100 * Decimal("0.9")
            bids = [p for p in bids if p >= state.last_price - band]
            asks = [p for p in asks if p <= state.last_price + band]
        return [p for p in bids if p > 0], asks

    async def cycle(self, state: SymbolState) -> None:
        inst = state.instrument
        await self.fund()
        reference = state.reference.now()
        if state.last_price is not None:
            band = state.last_price * inst.band_pct / 100
            if abs(reference - state.last_price) > band / 2:  # the market moved away: follow it
                state.reference.anchor(state.last_price)
                reference = state.reference.now()
                logger.info("reference re-anchored", extra={"symbol": inst.symbol, "price": str(reference)})
        # Requote only when the reference moved by half a level, so quotes are not churned every cycle.
        threshold = max(inst.tick, reference * LEVEL_STEP / 2)
        if state.quoted_reference is None or abs(reference - state.quoted_reference) >= threshold:
            state.quoted_reference = reference
        bids, asks = self.ladder(state, state.quoted_reference)

        response = await self.maker.request(
            "GET",
            f"{API}/orders",
            params={"symbol": inst.symbol, "status": ["open", "partially_filled"], "limit": 200},
        )
        if response is None or not self._ok(response, state, "list orders"):
            return
        resting = [
            Quote(
                item["id"],
                item["side"],
                Decimal(item["price"]),
                Decimal(item["quantity"]) - Decimal(item["filled_quantity"]),
            )
            for item in response.json()["items"]
            if item["price"] is not None and item["quantity"] is not None
        ]
        wanted = {"buy": set(bids), "sell": set(asks)}
        stale: list[Quote] = []
        kept: dict[str, set[Decimal]] = {"buy": set(), "sell": set()}
        for quote in resting:
            # A partly filled quote whose rest is worth less than the minimum notional is replaced too.
            worth = quote.remaining * quote.price >= inst.min_notional
            if quote.price in wanted[quote.side] and quote.price not in kept[quote.side] and worth:
                kept[quote.side].add(quote.price)
            else:
                stale.append(quote)
        for quote in stale:  # cancels first, so a new quote never meets an old one of ours
            cancel = await self.maker.request("DELETE", f"{API}/orders/{quote.order_id}")
            if cancel is not None and (cancel.status_code == 200 or _problem(cancel)[0] == "order-not-open"):
                state.stats["canceled"] += 1
            elif cancel is not None:
                self._ok(cancel, state, "cancel")
        for side, prices in (("buy", bids), ("sell", asks)):
            for price in prices:
                if price in kept[side] or self.stop.is_set():
                    continue
                notional = inst.min_notional * Decimal(str(round(state.rng.uniform(1.2, 4.0), 2)))
                quantity = inst.size_for(notional or inst.lot * price * 10, price)
                body = {
                    "symbol": inst.symbol,
                    "side": side,
                    "type": "limit",
                    "price": f"{price:f}",
                    "quantity": f"{quantity:f}",
                    "time_in_force": "GTC",
                    "post_only": True,
                }
                if not await self.place(self.maker, state, body, "quote"):
                    return
                state.stats["placed"] += 1
        if state.rng.random() < self.settings.take_probability and not self.stop.is_set():
            await self.take(state, reference)

    async def take(self, state: SymbolState, reference: Decimal) -> None:
        """A small market order from the taker account, so a trade prints."""
        inst = state.instrument
        notional = inst.min_notional * Decimal(str(round(state.rng.uniform(1.5, 2.5), 2)))
        body: dict[str, Any] = {"symbol": inst.symbol, "type": "market", "time_in_force": "IOC"}
        if state.rng.random() < 0.5:
            unit = inst.tick * inst.lot
            budget = max(unit, (notional / unit).to_integral_value(ROUND_CEILING) * unit)
            body |= {"side": "buy", "quote_budget": f"{budget:f}"}
        else:
            body |= {"side": "sell", "quantity": f"{inst.size_for(notional, reference):f}"}
        placed = await self.place(self.taker or self.maker, state, body, "take")
        if placed is not None and placed.get("average_price"):
            state.last_price = Decimal(placed["average_price"])
            state.stats["taken"] += 1

    async def place(
        self, account: Account, state: SymbolState, body: dict[str, Any], what: str
    ) -> dict[str, Any] | None:
        """Place an order (retries reuse one Idempotency-Key, so they never make a second order)."""
        response = await account.request(
            "POST", f"{API}/orders", json=body, idempotency_key=f"mm-{uuid.uuid4().hex}"
        )
        if response is None or not self._ok(response, state, what):
            return None
        order: dict[str, Any] = response.json()
        return order

    def _ok(self, response: httpx.Response, state: SymbolState, what: str) -> bool:
        """True for a 2xx; otherwise logs the problem and pauses the symbol where waiting helps."""
        if response.is_success:
            return True
        symbol = state.instrument.symbol
        slug, detail = _problem(response)
        extra = {"symbol": symbol, "action": what, "status": response.status_code, "problem": slug}
        if slug == "market-halted":
            state.paused_until = time.monotonic() + PAUSE_SECONDS
            logger.warning("market halted; pausing", extra={**extra, "detail": detail})
        elif slug == "insufficient-funds":
            state.paused_until = time.monotonic() + PAUSE_SECONDS
            self.funding_due = 0.0  # dev: top up on the next cycle
            logger.warning("insufficient funds; pausing", extra={**extra, "detail": detail})
        elif "outside the price band" in response.text or "outside_price_band" in response.text:
            state.last_price = None  # learn the market's price again
            self._schedule_last_price(state)
            logger.warning("price outside the band; re-anchoring", extra={**extra, "detail": detail})
        else:
            logger.warning("request refused", extra={**extra, "detail": detail})
        return False

    def _schedule_last_price(self, state: SymbolState) -> None:
        async def learn() -> None:
            response = await self.maker.request("GET", f"{API}/markets/{state.instrument.symbol}")
            if response is not None and response.status_code == 200 and response.json().get("last"):
                state.last_price = Decimal(response.json()["last"])
                state.reference.anchor(state.last_price)

        task = asyncio.create_task(learn())
        self._background.add(task)
        task.add_done_callback(self._background.discard)


async def run(settings: MarketMakerSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with httpx.AsyncClient(
            base_url=settings.api_url.rstrip("/"),
            timeout=httpx.Timeout(10.0, connect=5.0),
            headers={"User-Agent": "tessera-market-maker/1"},
        ) as http:
            try:
                return await MarketMaker(settings, http, stop).run()
            except Fatal as error:
                logger.error("market maker cannot run", extra={"error": str(error)})
                return 2
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def main() -> int:
    from server_fastapi.core.logging import configure_logging

    settings = MarketMakerSettings()
    configure_logging(settings.log_level)
    logger.info(
        "market maker starting",
        extra={"api_url": settings.api_url, "env": settings.env, "seed": settings.seed},
    )
    code = asyncio.run(run(settings))
    logger.info("market maker exiting", extra={"exit_status": code})
    return code
