"""Order entry with pre-trade risk, cancels, reads, the book and the kill switch.

Order entry is one transaction, the request's unit of work: validate against the instrument's grid (never
rounding), check the risk limits, hold the funds (available → held, double entry) and append the order's
`new` command to the symbol's log. After it commits the handler waits briefly for this process's runner to
match the order so the client sees immediate fills; when another process runs the symbol, the order comes
back as `new`. The kill switch halts a book and cancels its resting orders through the same command log.

Problems: off-grid or out-of-range values and risk limits are 422 with field pointers; an unknown symbol
404; a halted market, insufficient funds, a reused client order id or a finished order 409.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import asyncpg

from server_fastapi.compliance import service as compliance
from server_fastapi.core.audit import record_audit
from server_fastapi.core.db import Connection, UnitOfWork, acquire
from server_fastapi.core.pagination import before_id, invalid_cursor
from server_fastapi.core.principal import Principal
from server_fastapi.core.problems import Conflict, FieldError, InvalidInput, NotFound, TesseraError
from server_fastapi.core.settings import Settings
from server_fastapi.ledger import service as ledger
from server_fastapi.markets import service as markets
from server_fastapi.markets.schemas import Instrument, InstrumentStatus
from server_fastapi.trading import repository
from server_fastapi.trading.engine import (
    Cancel,
    CancelAll,
    CancelReason,
    NewOrder,
    OrderType,
    SetHalted,
    Side,
    StpMode,
    TimeInForce,
    command_to_dict,
)
from server_fastapi.trading.runner import Runtime, fill_view, order_view
from server_fastapi.trading.schemas import (
    BookLevel,
    FillPage,
    HaltRequest,
    HaltState,
    Order,
    OrderBook,
    OrderPage,
    OrderRequest,
    StatusName,
)

RESPONSE_WAIT_SECONDS = 1.0
MAX_UNITS = 2**62  # engine integers stay well inside PostgreSQL's bigint


class MarketHalted(TesseraError):
    status, slug, title = HTTPStatus.CONFLICT, "market-halted", "Market Halted"


class OrderNotOpen(TesseraError):
    status, slug, title = HTTPStatus.CONFLICT, "order-not-open", "Order Not Open"


@dataclass(frozen=True, slots=True)
class _Parsed:
    price_ticks: int | None
    qty_lots: int | None
    budget_units: int | None
    hold_asset: str
    hold_amount: Decimal
    notional: Decimal | None  # in quote; None for a market sell before the first trade


def _error(pointer: str, detail: str, code: str) -> FieldError:
    return FieldError(location="body", pointer=pointer, detail=detail, code=code)


def _to_units(value: Decimal, step: Decimal, pointer: str, errors: list[FieldError]) -> int:
    """`value` as a whole number of `step`s; an off-grid value is an error, never rounded."""
    if not value.is_finite() or value <= 0:
        errors.append(_error(pointer, "must be a positive decimal", "not_positive"))
        return 0
    units = value / step
    if units != units.to_integral_value() or units * step != value:
        errors.append(_error(pointer, f"must be a multiple of {step.normalize():f}", "off_grid"))
        return 0
    if units >= MAX_UNITS:
        errors.append(_error(pointer, "is too large", "too_large"))
        return 0
    return int(units)


def _parse(body: OrderRequest, instrument: Instrument, last_price: Decimal | None) -> _Parsed:
    errors: list[FieldError] = []
    tick, lot = instrument.tick_size, instrument.lot_size
    price_ticks = qty_lots = budget_units = None
    if body.type == "limit":
        for name in ("price", "quantity"):
            if getattr(body, name) is None:
                errors.append(_error(f"/{name}", "a limit order needs it", "missing"))
        if body.quote_budget is not None:
            errors.append(_error("/quote_budget", "only market buys have a quote budget", "not_allowed"))
    else:
        if body.price is not None:
            errors.append(_error("/price", "a market order has no price", "not_allowed"))
        if body.post_only:
            errors.append(_error("/post_only", "only GTC limit orders can be post-only", "not_allowed"))
        if body.side == "sell":
            if body.quantity is None:
                errors.append(_error("/quantity", "a market sell needs it", "missing"))
            if body.quote_budget is not None:
                errors.append(_error("/quote_budget", "only market buys have a quote budget", "not_allowed"))
        elif body.quote_budget is None:
            errors.append(
                _error("/quote_budget", "a market buy needs the most quote it may spend", "missing")
            )
        elif body.time_in_force == "FOK" and body.quantity is None:
            errors.append(_error("/quantity", "a fill-or-kill market buy needs a quantity", "missing"))
    if body.post_only and body.time_in_force != "GTC":
        errors.append(_error("/post_only", "only GTC limit orders can be post-only", "not_allowed"))
    if body.price is not None:
        price_ticks = _to_units(body.price, tick, "/price", errors)
    if body.quantity is not None:
        qty_lots = _to_units(body.quantity, lot, "/quantity", errors)
    if body.quote_budget is not None:
        budget_units = _to_units(body.quote_budget, tick * lot, "/quote_budget", errors)
    if errors:
        raise InvalidInput("The order does not fit the market's rules.", errors=errors)

    if body.type == "limit":
        assert body.price is not None
        assert body.quantity is not None
        notional: Decimal | None = body.price * body.quantity
        if body.side == "buy":
            hold_asset, hold_amount = instrument.quote_asset, body.price * body.quantity
        else:
            hold_asset, hold_amount = instrument.base_asset, body.quantity
    elif body.side == "buy":
        assert body.quote_budget is not None
        notional = body.quote_budget
        hold_asset, hold_amount = instrument.quote_asset, body.quote_budget
    else:
        assert body.quantity is not None
        notional = body.quantity * last_price if last_price is not None else None
        hold_asset, hold_amount = instrument.base_asset, body.quantity
    if notional is not None and notional < instrument.min_notional:
        pointer = "/quote_budget" if body.quote_budget is not None else "/quantity"
        raise InvalidInput(
            f"The order's value {notional.normalize():f} is below the minimum "
            f"{instrument.min_notional.normalize():f} {instrument.quote_asset}.",
            errors=[_error(pointer, "order value below the market's minimum notional", "below_min_notional")],
        )
    return _Parsed(price_ticks, qty_lots, budget_units, hold_asset, hold_amount, notional)


def _check_risk(body: OrderRequest, instrument: Instrument, parsed: _Parsed, risk: asyncpg.Record) -> None:
    if risk["halted"] or instrument.status is InstrumentStatus.HALTED:
        raise MarketHalted(f"Trading in {instrument.symbol} is halted.", symbol=instrument.symbol)
    last: Decimal | None = risk["last_price"]
    if body.price is not None and last is not None:
        band = last * instrument.price_band_pct / 100
        if abs(body.price - last) > band:
            raise InvalidInput(
                f"The price must be within {instrument.price_band_pct.normalize():f}% of the last price "
                f"{last.normalize():f}.",
                errors=[
                    _error("/price", "outside the price band around the last price", "outside_price_band")
                ],
            )
    cap: Decimal | None = risk["max_order_notional"]
    if cap is not None and parsed.notional is not None and parsed.notional > cap:
        raise InvalidInput(
            f"The order's value exceeds the per-order maximum of {cap.normalize():f} "
            f"{instrument.quote_asset}.",
            errors=[_error("/quantity", "order value above the account's maximum", "above_max_notional")],
        )


def _request_hash(body: OrderRequest) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


async def place_order(
    work: UnitOfWork,
    runtime: Runtime,
    settings: Settings,
    principal: Principal,
    body: OrderRequest,
    idempotency_key: str | None,
) -> Order:
    user_id = principal.user_id
    conn = work.connection
    if idempotency_key is not None:
        earlier = await repository.claim_idempotency_key(conn, user_id, idempotency_key, _request_hash(body))
        if earlier is not None:
            if earlier["request_hash"] != _request_hash(body):
                raise InvalidInput(
                    "This Idempotency-Key was used for a different request.",
                    errors=[
                        FieldError(
                            location="header",
                            pointer="/Idempotency-Key",
                            detail="already used with another body",
                            code="idempotency_key_reused",
                        )
                    ],
                )
            row = await repository.get_order(conn, earlier["order_id"])
            assert row is not None
            return order_view(row)
    instrument = await markets.get_instrument(conn, body.symbol)
    context = await repository.order_context(conn, user_id, instrument.symbol, instrument.quote_asset)
    parsed = _parse(body, instrument, context["last_price"])
    _check_risk(body, instrument, parsed, context)
    account_no: int = context["account_no"] or await repository.account_no(conn, user_id)
    order_id: int = context["order_id"]
    await ledger.hold(conn, user_id, parsed.hold_asset, parsed.hold_amount, f"order:{order_id}")
    command = NewOrder(
        order_id=order_id,
        account_id=account_no,
        side=Side(body.side),
        order_type=OrderType(body.type),
        qty_lots=parsed.qty_lots,
        price_ticks=parsed.price_ticks,
        quote_budget=parsed.budget_units,
        time_in_force=TimeInForce(body.time_in_force),
        post_only=body.post_only,
        stp=StpMode(body.stp) if body.stp else None,
    )
    values: dict[str, Any] = {
        "id": order_id,
        "symbol": instrument.symbol,
        "user_id": user_id,
        "account_no": account_no,
        "side": body.side,
        "type": body.type,
        "time_in_force": body.time_in_force,
        "post_only": body.post_only,
        "stp": body.stp or StpMode.CANCEL_INCOMING.value,
        "price": body.price,
        "quantity": body.quantity,
        "quote_budget": body.quote_budget,
        "price_ticks": parsed.price_ticks,
        "qty_lots": parsed.qty_lots,
        "budget_units": parsed.budget_units,
        "hold_asset": parsed.hold_asset,
        "hold_amount": parsed.hold_amount,
        "client_order_id": body.client_order_id,
    }
    # A runner in this process is woken directly after the commit; NOTIFY (which serializes committing
    # transactions on a database-wide lock) only when another process runs the symbol.
    local = runtime.runs(instrument.symbol)
    try:
        row = await repository.insert_order(conn, values, command_to_dict(command), notify=not local)
    except asyncpg.UniqueViolationError:
        raise Conflict(
            f"An order with client_order_id {body.client_order_id!r} exists already.",
            client_order_id=body.client_order_id,
        ) from None
    if idempotency_key is not None:
        await repository.set_idempotency_order(conn, user_id, idempotency_key, order_id)
    await compliance.audit_large_order(
        conn,
        settings,
        user_id=user_id,
        order_id=order_id,
        symbol=instrument.symbol,
        quote_asset=instrument.quote_asset,
        side=body.side,
        order_type=body.type,
        notional=parsed.notional,
    )
    return await _commit_and_wait(work, runtime, instrument.symbol, row["command_id"], order_id, row)


async def _commit_and_wait(
    work: UnitOfWork,
    runtime: Runtime,
    symbol: str,
    command_id: int,
    order_id: int,
    row: asyncpg.Record | None,
) -> Order:
    """Commit the unit of work, then give this process's runner a moment to apply the command; the order as
    the engine left it, else as committed (`row`, or read again)."""
    # Registered before the commit, so the runner cannot answer before anyone listens.
    future = runtime.expect(symbol, command_id)
    try:
        await work.commit()
    except BaseException:
        runtime.forget(symbol, command_id)
        raise
    runtime.wake(symbol)
    outcome = await runtime.outcome(symbol, command_id, future, RESPONSE_WAIT_SECONDS)
    if outcome and order_id in outcome:
        return outcome[order_id]
    if row is None:
        async with acquire(work.pool) as conn:
            row = await repository.get_order(conn, order_id)
    assert row is not None
    return order_view(row)


async def cancel_order(work: UnitOfWork, runtime: Runtime, principal: Principal, order_id: int) -> Order:
    conn = work.connection
    row = await repository.get_order(conn, order_id, principal.user_id)
    if row is None:
        raise NotFound(f"No order {order_id}.", order_id=order_id)
    if row["status"] not in ("new", "open", "partially_filled"):
        raise OrderNotOpen(f"Order {order_id} is {row['status']}.", order_id=order_id, status=row["status"])
    command = Cancel(order_id=order_id, account_id=row["account_no"])
    command_id = await repository.insert_command(
        conn, row["symbol"], "cancel", order_id, command_to_dict(command)
    )
    return await _commit_and_wait(work, runtime, row["symbol"], command_id, order_id, None)


async def cancel_all(
    work: UnitOfWork, runtime: Runtime, principal: Principal, symbol: str | None
) -> OrderPage:
    """Cancel every open order of the caller (in one market, or all); returns those orders afterwards."""
    conn = work.connection
    if symbol is not None:
        await markets.get_instrument(conn, symbol)
    active = await repository.active_symbols(conn, principal.user_id, symbol)
    account_no = await repository.account_no(conn, principal.user_id) if active else 0
    waits = [
        (
            row["symbol"],
            await repository.insert_command(
                conn, row["symbol"], "cancel_all", None, command_to_dict(CancelAll(account_id=account_no))
            ),
        )
        for row in active
    ]
    futures = [(market, command_id, runtime.expect(market, command_id)) for market, command_id in waits]
    try:
        await work.commit()
    except BaseException:
        for market, command_id, _ in futures:
            runtime.forget(market, command_id)
        raise
    for market, command_id, future in futures:
        runtime.wake(market)
        await runtime.outcome(market, command_id, future, RESPONSE_WAIT_SECONDS)
    ids = [order_id for row in active for order_id in row["ids"]]
    async with acquire(work.pool) as conn:
        rows = await repository.get_orders(conn, ids) if ids else []
    return OrderPage(items=[order_view(row) for row in sorted(rows, key=lambda r: r["id"], reverse=True)])


async def get_order(conn: Connection, principal: Principal, order_id: int) -> Order:
    row = await repository.get_order(conn, order_id, principal.user_id)
    if row is None:
        raise NotFound(f"No order {order_id}.", order_id=order_id)
    return order_view(row)


async def list_orders(
    conn: Connection,
    principal: Principal,
    *,
    symbol: str | None,
    status: list[StatusName] | None,
    cursor: str | None,
    limit: int,
) -> OrderPage:
    rows = await repository.list_orders(
        conn, principal.user_id, symbol=symbol, statuses=status, before_id=before_id(cursor), limit=limit + 1
    )
    items = [order_view(row) for row in rows[:limit]]
    return OrderPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)


async def list_fills(
    conn: Connection, principal: Principal, *, symbol: str | None, cursor: str | None, limit: int
) -> FillPage:
    before: tuple[str, int] | None = None
    if cursor is not None:
        market, _, trade_id = cursor.rpartition(":")
        if not market or not trade_id.isdigit():
            raise invalid_cursor()
        before = (market, int(trade_id))
    rows = await repository.list_fills(conn, principal.user_id, symbol=symbol, before=before, limit=limit + 1)
    items = [fill_view(row, is_maker=row["is_maker"]) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return FillPage(
        items=items, next_cursor=f"{last['symbol']}:{last['trade_id']}" if last is not None else None
    )


async def book(conn: Connection, symbol: str, depth: int) -> OrderBook:
    """The committed book, read from the open orders with the delta number it includes, so any API
    process serves the same answer whichever process runs the symbol's engine."""
    await markets.get_instrument(conn, symbol)
    seq, rows = await repository.book_levels(conn, symbol, depth)
    return OrderBook(
        symbol=symbol,
        seq=seq,
        bids=[BookLevel(price=r["price"], quantity=r["quantity"]) for r in rows if r["side"] == "buy"],
        asks=[BookLevel(price=r["price"], quantity=r["quantity"]) for r in rows if r["side"] == "sell"],
    )


async def set_halt(
    work: UnitOfWork, runtime: Runtime, principal: Principal, body: HaltRequest, ip: str | None
) -> HaltState:
    """The kill switch: record it, then halt (or resume) each affected book through its command log;
    halting also cancels every order resting in the book, so nothing trades when the market resumes."""
    conn = work.connection
    if body.symbol is not None:
        instruments = [await markets.get_instrument(conn, body.symbol)]
    else:
        instruments = await markets.list_instruments(conn)
    scope = body.symbol or "global"
    row = await repository.set_halt(conn, scope, body.halted, body.reason, principal.user_id)
    commands: list[tuple[str, int]] = []
    for instrument in sorted(instruments, key=lambda i: i.symbol):
        halted = (
            await repository.halted(conn, instrument.symbol) or instrument.status is InstrumentStatus.HALTED
        )
        symbol = instrument.symbol
        commands.append(
            (
                symbol,
                await repository.insert_command(
                    conn, symbol, "halt", None, command_to_dict(SetHalted(halted=halted))
                ),
            )
        )
        if halted:
            cancel = CancelAll(account_id=None, reason=CancelReason.ADMIN)
            commands.append(
                (
                    symbol,
                    await repository.insert_command(
                        conn, symbol, "cancel_all", None, command_to_dict(cancel)
                    ),
                )
            )
    await record_audit(
        conn,
        actor_id=principal.user_id,
        action="trading.halt" if body.halted else "trading.resume",
        subject=scope,
        details={"reason": body.reason},
        ip=ip,
    )
    await work.commit()
    for symbol, _ in commands:
        runtime.wake(symbol)
    return HaltState(
        scope=row["scope"], halted=row["halted"], reason=row["reason"], updated_at=row["updated_at"]
    )


async def halts(conn: Connection) -> list[HaltState]:
    return [
        HaltState(scope=r["scope"], halted=r["halted"], reason=r["reason"], updated_at=r["updated_at"])
        for r in await repository.halts(conn)
    ]
