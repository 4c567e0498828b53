"""Orders, fills, the public book and the admin kill switch. Thin: the service does the work.

Order entry, cancels and the kill switch take the request's unit of work as `Work`: the service commits it
and then wakes the engine (and waits briefly for its outcome, so the client sees immediate fills)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status

from server_fastapi.core.db import Db, Work, acquire
from server_fastapi.core.principal import Principal, Scope
from server_fastapi.core.problems import (
    Conflict,
    InvalidInput,
    NotFound,
    TooManyRequests,
    error_responses,
)
from server_fastapi.core.ratelimit import rate_limit
from server_fastapi.core.security import AdminUser, client_ip, require_scope
from server_fastapi.core.state import State
from server_fastapi.core.ws import ChannelError, ChannelFeed, Hub, Session
from server_fastapi.ledger.events import balances_channel
from server_fastapi.ledger.service import InsufficientFunds
from server_fastapi.trading import service
from server_fastapi.trading.events import book_channel, fills_channel, orders_channel
from server_fastapi.trading.runner import Runtime
from server_fastapi.trading.schemas import (
    SYMBOL_PATTERN,
    FillPage,
    HaltRequest,
    HaltState,
    Order,
    OrderBook,
    OrderPage,
    OrderRequest,
    StatusName,
)
from server_fastapi.trading.service import MarketHalted, OrderNotOpen


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.trading
    return runtime


TradingRuntime = Annotated[Runtime, Depends(_runtime)]
Trader = Annotated[Principal, Depends(require_scope(Scope.TRADE))]
Reader = Annotated[Principal, Depends(require_scope(Scope.READ))]
Symbol = Annotated[str | None, Query(pattern=SYMBOL_PATTERN)]
Cursor = Annotated[str | None, Query(max_length=100)]
Limit = Annotated[int, Query(ge=1, le=200)]

_orders_rate_limit = rate_limit("orders", per="account", rate=100, period_seconds=1, burst=300, fail="open")

router = APIRouter(tags=["trading"])


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(_orders_rate_limit)],
    responses=error_responses(
        InvalidInput, NotFound, Conflict, MarketHalted, InsufficientFunds, TooManyRequests
    ),
)
async def place_order(
    body: OrderRequest,
    principal: Trader,
    work: Work,
    state: State,
    runtime: TradingRuntime,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
    ] = None,
) -> Order:
    """Place an order. With an `Idempotency-Key`, a retry returns the first order instead of a second one.
    The response reflects the engine's immediate outcome (fills) when it comes within a second."""
    return await service.place_order(work, runtime, state.settings, principal, body, idempotency_key)


@router.get("/orders", responses=error_responses(InvalidInput))
async def list_orders(
    principal: Reader,
    db: Db,
    symbol: Symbol = None,
    order_status: Annotated[list[StatusName] | None, Query(alias="status")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> OrderPage:
    """The caller's orders, newest first."""
    return await service.list_orders(
        db, principal, symbol=symbol, status=order_status, cursor=cursor, limit=limit
    )


@router.get("/orders/{order_id}", responses=error_responses(NotFound))
async def get_order(order_id: int, principal: Reader, db: Db) -> Order:
    return await service.get_order(db, principal, order_id)


@router.delete("/orders/{order_id}", responses=error_responses(NotFound, OrderNotOpen))
async def cancel_order(order_id: int, principal: Trader, work: Work, runtime: TradingRuntime) -> Order:
    """Cancel one order; the response shows it canceled unless it filled first."""
    return await service.cancel_order(work, runtime, principal, order_id)


@router.delete("/orders", responses=error_responses(NotFound))
async def cancel_all_orders(
    principal: Trader, work: Work, runtime: TradingRuntime, symbol: Symbol = None
) -> OrderPage:
    """Cancel every open order of the caller, optionally in one market; returns those orders."""
    return await service.cancel_all(work, runtime, principal, symbol)


@router.get("/fills", responses=error_responses(InvalidInput))
async def list_fills(
    principal: Reader, db: Db, symbol: Symbol = None, cursor: Cursor = None, limit: Limit = 50
) -> FillPage:
    """The caller's side of each trade, newest first."""
    return await service.list_fills(db, principal, symbol=symbol, cursor=cursor, limit=limit)


@router.get("/markets/{symbol}/book", responses=error_responses(NotFound))
async def get_book(
    symbol: str,
    db: Db,
    depth: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OrderBook:
    """L2 order book: price levels best first, valid as of book delta `seq`."""
    return await service.book(db, symbol, depth)


@router.post("/admin/trading/halts", responses=error_responses(NotFound))
async def set_halt(
    body: HaltRequest, principal: AdminUser, work: Work, runtime: TradingRuntime, request: Request
) -> HaltState:
    """Kill switch: halt or resume one market, or every market (`symbol` null); halting cancels the
    orders resting in the book. Audited."""
    ip = client_ip(request, request.app.state.tessera.settings)
    return await service.set_halt(work, runtime, principal, body, ip)


@router.get("/admin/trading/halts")
async def list_halts(_principal: AdminUser, db: Db) -> list[HaltState]:
    return await service.halts(db)


# --- WebSocket channels ---------------------------------------------------------------------------


class BookProvider:
    """`book:{symbol}`: the committed L2 snapshot, then deltas (`data.seq` numbers them per symbol; a
    delta with seq <= the snapshot's is already in it, a jump means a gap: resubscribe)."""

    requires_auth = False

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def open(self, channel: str, session: Session) -> ChannelFeed:
        _, _, symbol = channel.partition(":")
        source = book_channel(self.runtime.bus, symbol)
        try:
            async with acquire(self.runtime.pool) as conn:
                snapshot = await service.book(conn, symbol, 500)
        except NotFound:
            raise ChannelError(f"no market {symbol!r}", 404) from None
        return ChannelFeed(
            source=source,
            render=lambda delta: delta.model_dump(mode="json", exclude={"symbol"}),
            snapshot=snapshot.model_dump(mode="json"),
            update_type="delta",
        )


class _PrivateProvider:
    """A private channel: the authenticated account's own events only."""

    requires_auth = True

    def __init__(self, runtime: Runtime, name: str) -> None:
        self.runtime = runtime
        self.name = name

    async def open(self, channel: str, session: Session) -> ChannelFeed:
        if channel != self.name:
            raise ChannelError(f"bad channel name {channel!r}; expected {self.name!r}")
        user_id = session.principal.user_id
        bus = self.runtime.bus
        if self.name == "orders":
            return ChannelFeed(
                source=orders_channel(bus),
                render=lambda e: e.order.model_dump(mode="json") if e.user_id == user_id else None,
            )
        if self.name == "fills":
            return ChannelFeed(
                source=fills_channel(bus),
                render=lambda e: e.fill.model_dump(mode="json") if e.user_id == user_id else None,
            )
        return ChannelFeed(
            source=balances_channel(bus),
            render=lambda e: e.model_dump(mode="json", exclude={"user_id"}) if e.user_id == user_id else None,
        )


def register_channels(hub: Hub, runtime: Runtime) -> None:
    hub.register("book", BookProvider(runtime))
    for name in ("orders", "fills", "balances"):
        hub.register(name, _PrivateProvider(runtime, name))
