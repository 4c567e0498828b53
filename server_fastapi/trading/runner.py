"""The engine runner: one single-writer task per symbol, in exactly one process at a time.

The database is the command log. Order entry appends `engine_commands` rows (numbered per symbol) and
wakes the runner (directly in this process, else by NOTIFY; a market created since the start gets its
runner then); the runner that holds the symbol's lease (a PostgreSQL advisory lock on a dedicated
connection) reads the commands after `engine_cursor.processed_seq` in order, runs them through the pure
`MatchingEngine`, and commits for each batch, in ONE transaction, the orders' new state, the trades, the
ledger entries (fills, fees, exact hold releases) and the advanced cursor. Only then does it publish bus
events. Any failure discards the in-memory engine and rebuilds it from the open orders in the database,
so the book is always what the committed state says; a crash (even SIGKILL) loses nothing that committed
and redoes nothing twice. Processes without the lease retry to take it, and take over when its holder dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from server_fastapi.core.bus import EventBus
from server_fastapi.core.db import Connection, Pool, acquire, connect, transaction
from server_fastapi.ledger import service as ledger
from server_fastapi.ledger.events import BalanceChanged, balances_channel
from server_fastapi.ledger.schemas import Balance
from server_fastapi.markets import service as markets
from server_fastapi.markets.events import TradeTick, ticks_channel
from server_fastapi.markets.schemas import Instrument
from server_fastapi.trading import repository
from server_fastapi.trading.engine import (
    BookChanged,
    CancelRejected,
    Event,
    HaltChanged,
    MatchingEngine,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    RestingOrder,
    SetHalted,
    Side,
    TradeExecuted,
    command_from_dict,
)
from server_fastapi.trading.events import (
    BookDelta,
    FillCreated,
    OrderUpdated,
    book_channel,
    fills_channel,
    orders_channel,
)
from server_fastapi.trading.schemas import Fill, Order

logger = logging.getLogger(__name__)

BATCH_SIZE = 256


class LeaseLostError(RuntimeError):
    """The cursor moved under us: another process runs this symbol now."""


def order_view(row: asyncpg.Record) -> Order:
    filled = row["filled_quantity"]
    return Order(
        id=row["id"],
        symbol=row["symbol"],
        side=row["side"],
        type=row["type"],
        status=row["status"],
        quantity=row["quantity"],
        price=row["price"],
        quote_budget=row["quote_budget"],
        filled_quantity=filled,
        filled_quote=row["filled_quote"],
        average_price=(row["filled_quote"] / filled) if filled else None,
        time_in_force=row["time_in_force"],
        post_only=row["post_only"],
        stp=row["stp"],
        client_order_id=row["client_order_id"],
        cancel_reason=row["cancel_reason"],
        reject_reason=row["reject_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


@dataclass
class _OrderState:
    """What a batch learns about one order; written back in one UPDATE."""

    row: asyncpg.Record
    status: str
    filled_lots: int
    filled_units: int
    cancel_reason: str | None = None
    reject_reason: str | None = None
    finished: bool = False


@dataclass
class _Batch:
    orders: dict[int, _OrderState] = field(default_factory=dict)
    trades: list[tuple[Any, ...]] = field(default_factory=list)
    entries: list[ledger.EntryDraft] = field(default_factory=list)
    book: list[BookChanged] = field(default_factory=list)


class Runtime:
    """The runners of this process and the order-entry waiters they wake. Lives on `app.state.trading`."""

    def __init__(self, pool: Pool, bus: EventBus, dsn: str, *, retry_seconds: float = 1.0) -> None:
        self.pool = pool
        self.bus = bus
        self.dsn = dsn
        self.retry_seconds = retry_seconds
        self.runners: dict[str, SymbolRunner] = {}
        self.stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start a runner per instrument. While the database is unreachable or not migrated yet, keep
        trying in the background so the API still starts and `/readyz` can say what is wrong."""
        try:
            await self._start_runners()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("trading engines waiting for the database", extra={"error": type(error).__name__})
            self._tasks.append(asyncio.create_task(self._start_when_ready(), name="engine:startup"))

    async def _start_runners(self) -> None:
        async with acquire(self.pool) as conn:
            symbols = [instrument.symbol for instrument in await markets.list_instruments(conn)]
        for symbol in symbols:
            self._start_runner(symbol)

    def _start_runner(self, symbol: str) -> SymbolRunner:
        runner = self.runners.get(symbol)
        if runner is None:
            runner = self.runners[symbol] = SymbolRunner(self, symbol)
            self._tasks.append(asyncio.create_task(runner.run(), name=f"engine:{symbol}"))
        return runner

    def runs(self, symbol: str) -> bool:
        """Whether this process runs the symbol's engine now."""
        runner = self.runners.get(symbol)
        return runner is not None and runner.owned

    def wake(self, symbol: str) -> None:
        """A command of the symbol committed: its runner here looks now; a market created since this
        process started gets its runner (which takes the lease unless another process holds it)."""
        if not self.stopping:
            self._start_runner(symbol).wake()

    async def _start_when_ready(self) -> None:
        while True:
            await asyncio.sleep(self.retry_seconds)
            try:
                await self._start_runners()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                continue
            logger.info("trading engines started")
            return

    async def stop(self) -> None:
        self.stopping = True
        for runner in self.runners.values():
            runner.stopping = True
            runner.wake()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def expect(self, symbol: str, command_id: int) -> asyncio.Future[dict[int, Order]] | None:
        """Register, before the command commits, interest in its outcome: a future the runner resolves
        with the orders its batch updated. None when another process runs the symbol."""
        runner = self.runners.get(symbol)
        if runner is None or not runner.owned:
            return None
        future: asyncio.Future[dict[int, Order]] = asyncio.get_running_loop().create_future()
        runner.waiters[command_id] = future
        return future

    def forget(self, symbol: str, command_id: int) -> None:
        runner = self.runners.get(symbol)
        if runner is not None:
            runner.waiters.pop(command_id, None)

    async def outcome(
        self, symbol: str, command_id: int, future: asyncio.Future[dict[int, Order]] | None, within: float
    ) -> dict[int, Order] | None:
        """The orders updated with the command's batch, or None if it did not come within `within`."""
        if future is None:
            return None
        try:
            return await asyncio.wait_for(future, within)
        except TimeoutError:
            return None
        finally:
            self.forget(symbol, command_id)

    def engine(self, symbol: str) -> MatchingEngine | None:
        runner = self.runners.get(symbol)
        return runner.engine if runner is not None and runner.owned else None


class SymbolRunner:
    def __init__(self, runtime: Runtime, symbol: str) -> None:
        self.runtime = runtime
        self.symbol = symbol
        self.engine: MatchingEngine | None = None
        self.instrument: Instrument | None = None
        self.owned = False
        self.stopping = False
        self.processed_seq = 0
        self._wake = asyncio.Event()
        self.waiters: dict[int, asyncio.Future[dict[int, Order]]] = {}
        self._fee_accounts: dict[str, int] = {}
        self.batches = 0

    def wake(self, *_: object) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Take the lease (retrying), then process commands until stopped; start over on any failure."""
        pool = self.runtime.pool
        while not self.stopping:
            lease: Connection | None = None
            try:
                lease = await connect(self.runtime.dsn)
                # Waiting replicas keep asking on the one connection: a fresh connection per try would cost
                # a SCRAM handshake per symbol every `retry_seconds` on both sides.
                while not await repository.try_engine_lease(lease, self.symbol):
                    if self.stopping:
                        return
                    await asyncio.sleep(self.runtime.retry_seconds)
                await lease.add_listener(repository.ENGINE_NOTIFY_CHANNEL, self._on_notify)
                self.owned = True
                logger.info("engine lease taken", extra={"symbol": self.symbol})
                await self.rebuild(pool)
                while not self.stopping:
                    if lease.is_closed():
                        raise LeaseLostError("lease connection closed")
                    # Cleared before looking, so a NOTIFY that lands during an empty look is not lost.
                    self._wake.clear()
                    if not await self._process_batch(pool):
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), 0.5)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("engine runner failed; rebuilding", extra={"symbol": self.symbol})
                await asyncio.sleep(self.runtime.retry_seconds)
            finally:
                self.owned = False
                self.engine = None
                if lease is not None and not lease.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(lease.close())

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if payload == self.symbol:
            self._wake.set()

    async def rebuild(self, pool: Pool) -> None:
        async with transaction(pool, isolation="repeatable_read") as conn:
            self.instrument = await markets.get_instrument(conn, self.symbol)
            await repository.ensure_cursor(conn, self.symbol)
            cursor = await repository.lock_cursor(conn, self.symbol)
            rows = await repository.open_orders(conn, self.symbol)
        engine = MatchingEngine(
            self.symbol, next_trade_id=cursor["next_trade_id"], book_seq=cursor["book_seq"]
        )
        engine.restore(
            RestingOrder(
                order_id=row["id"],
                account_id=row["account_no"],
                side=Side(row["side"]),
                price_ticks=row["price_ticks"],
                remaining_lots=row["qty_lots"] - row["filled_lots"],
                filled_lots=row["filled_lots"],
                filled_quote=row["filled_units"],
            )
            for row in rows
        )
        if cursor["halted"]:
            engine.process(SetHalted(halted=True))
        self.engine = engine
        self.processed_seq = cursor["processed_seq"]
        self._wake.set()

    async def _process_batch(self, pool: Pool) -> bool:
        """One batch of commands in one transaction; False when there was nothing to do."""
        engine = self.engine
        assert engine is not None
        async with transaction(pool) as conn:
            cursor = await repository.lock_cursor(conn, self.symbol)
            if cursor["processed_seq"] != self.processed_seq:
                raise LeaseLostError(
                    f"{self.symbol}: cursor at {cursor['processed_seq']}, expected {self.processed_seq}"
                )
            commands = await repository.claim_commands(conn, self.symbol, self.processed_seq, BATCH_SIZE)
            if not commands:
                return False
            instrument = self.instrument = await markets.get_instrument(conn, self.symbol)
            processed = [
                (command["seq"], engine.process(command_from_dict(command["payload"])))
                for command in commands
            ]
            last_seq = commands[-1]["seq"]
            numbers = {c["order_id"]: c["seq"] for c in commands if c["kind"] == "new"}
            batch = await self._settle(conn, instrument, processed)
            updated = await repository.update_orders(
                conn,
                [
                    (
                        order_id,
                        numbers.get(order_id),
                        state.status,
                        state.filled_lots,
                        state.filled_units,
                        state.filled_lots * instrument.lot_size,
                        state.filled_units * instrument.tick_size * instrument.lot_size,
                        state.cancel_reason,
                        state.reject_reason,
                    )
                    for order_id, state in batch.orders.items()
                ],
            )
            trades = await repository.insert_trades(conn, batch.trades)
            balances = await ledger.post_entries(conn, batch.entries)
            await repository.advance_cursor(
                conn, self.symbol, last_seq, engine.book_seq, engine.next_trade_id, engine.halted
            )
        self.processed_seq = last_seq
        self.batches += 1
        orders = {row["id"]: order_view(row) for row in updated}
        owners: dict[int, UUID] = {row["id"]: row["user_id"] for row in updated}
        self._resolve([command["id"] for command in commands], orders)
        await self._publish(instrument, orders, owners, trades, balances, batch.book)
        return True

    def _resolve(self, command_ids: Sequence[int], orders: dict[int, Order]) -> None:
        for command_id in command_ids:
            future = self.waiters.pop(command_id, None)
            if future is not None and not future.done():
                future.set_result(orders)

    async def _settle(
        self, conn: Connection, instrument: Instrument, processed: Sequence[tuple[int, list[Event]]]
    ) -> _Batch:
        """Turn the engine's events into order updates, trades and balanced ledger entries."""
        ids: set[int] = set()
        for _seq, events in processed:
            for event in events:
                if isinstance(event, TradeExecuted):
                    ids.add(event.maker_order_id)
                    ids.add(event.taker_order_id)
                elif isinstance(event, OrderAccepted | OrderRejected | OrderCanceled):
                    ids.add(event.order_id)
        rows = {row["id"]: row for row in await repository.get_orders(conn, sorted(ids))} if ids else {}

        base, quote = instrument.base_asset, instrument.quote_asset
        lot, tick = instrument.lot_size, instrument.tick_size
        unit = tick * lot  # the quote value of one tick x one lot
        pairs = sorted({(row["user_id"], asset) for row in rows.values() for asset in (base, quote)})
        accounts = await ledger.user_accounts(conn, pairs) if pairs else {}
        fees = {asset: await self._fees_account(conn, asset) for asset in (base, quote)}

        batch = _Batch()
        states = batch.orders

        def state(order_id: int) -> _OrderState:
            current = states.get(order_id)
            if current is None:
                row = rows[order_id]
                current = states[order_id] = _OrderState(
                    row, row["status"], row["filled_lots"], row["filled_units"]
                )
            return current

        def release(order: _OrderState, consumed: Decimal, reference: str) -> None:
            row = order.row
            left = row["hold_amount"] - consumed
            if left < 0:
                raise RuntimeError(f"order {row['id']} consumed more than it held")
            if left:
                account = accounts[(row["user_id"], row["hold_asset"])]
                batch.entries.append(
                    ledger.EntryDraft(
                        "release",
                        reference,
                        [
                            ledger.Posting(account, "held", row["hold_asset"], -left),
                            ledger.Posting(account, "available", row["hold_asset"], left),
                        ],
                    )
                )

        def finish(order: _OrderState) -> None:
            order.finished = True
            consumed = order.filled_units * unit if order.row["side"] == "buy" else order.filled_lots * lot
            release(order, consumed, f"order:{order.row['id']}")

        for seq, events in processed:
            for event in events:
                if isinstance(event, OrderAccepted):
                    state(event.order_id).status = "open"
                elif isinstance(event, OrderRejected):
                    order = state(event.order_id)
                    order.status, order.reject_reason = "rejected", event.reason.value
                    finish(order)
                elif isinstance(event, TradeExecuted):
                    batch.trades.append(self._trade(event, seq, rows, instrument, accounts, fees, batch))
                elif isinstance(event, OrderPartiallyFilled | OrderFilled):
                    order = state(event.order_id)
                    order.filled_lots, order.filled_units = event.filled_lots, event.filled_quote
                    if isinstance(event, OrderFilled):
                        order.status = "filled"
                        finish(order)
                    else:
                        order.status = "partially_filled"
                elif isinstance(event, OrderCanceled):
                    order = state(event.order_id)
                    order.filled_lots, order.filled_units = event.filled_lots, event.filled_quote
                    order.status, order.cancel_reason = "canceled", event.reason.value
                    finish(order)
                elif isinstance(event, BookChanged):
                    batch.book.append(event)
                elif isinstance(event, CancelRejected | HaltChanged):
                    pass
        return batch

    def _trade(
        self,
        event: TradeExecuted,
        seq: int,
        rows: dict[int, asyncpg.Record],
        instrument: Instrument,
        accounts: dict[tuple[UUID, str], int],
        fees: dict[str, int],
        batch: _Batch,
    ) -> tuple[Any, ...]:
        """One trade: the buyer's held quote pays the seller, the seller's held base goes to the buyer;
        each side's fee comes out of what it receives (buyer: base, seller: quote) into the fees account."""
        base, quote = instrument.base_asset, instrument.quote_asset
        price = event.price_ticks * instrument.tick_size
        quantity = event.qty_lots * instrument.lot_size
        quote_amount = event.price_ticks * event.qty_lots * instrument.tick_size * instrument.lot_size
        maker, taker = rows[event.maker_order_id], rows[event.taker_order_id]
        taker_buys = event.taker_side is Side.BUY
        buyer, seller = (taker, maker) if taker_buys else (maker, taker)
        maker_rate, taker_rate = instrument.maker_fee_rate, instrument.taker_fee_rate
        buyer_fee = quantity * (taker_rate if taker_buys else maker_rate)
        seller_fee = quote_amount * (maker_rate if taker_buys else taker_rate)
        b, s = buyer["user_id"], seller["user_id"]
        batch.entries.append(
            ledger.EntryDraft(
                "trade",
                f"{self.symbol}:{event.trade_id}",
                [
                    ledger.Posting(accounts[(b, quote)], "held", quote, -quote_amount),
                    ledger.Posting(accounts[(s, quote)], "available", quote, quote_amount - seller_fee),
                    ledger.Posting(fees[quote], "available", quote, seller_fee),
                    ledger.Posting(accounts[(s, base)], "held", base, -quantity),
                    ledger.Posting(accounts[(b, base)], "available", base, quantity - buyer_fee),
                    ledger.Posting(fees[base], "available", base, buyer_fee),
                ],
            )
        )
        maker_fee, maker_fee_asset = (seller_fee, quote) if taker_buys else (buyer_fee, base)
        taker_fee, taker_fee_asset = (buyer_fee, base) if taker_buys else (seller_fee, quote)
        return (
            self.symbol,
            event.trade_id,
            seq,
            price,
            quantity,
            quote_amount,
            event.taker_side.value,
            maker["id"],
            taker["id"],
            maker["user_id"],
            taker["user_id"],
            maker_fee,
            maker_fee_asset,
            taker_fee,
            taker_fee_asset,
        )

    async def _fees_account(self, conn: Connection, asset: str) -> int:
        account = self._fee_accounts.get(asset)
        if account is None:
            account = self._fee_accounts[asset] = await ledger.fees_account(conn, asset)
        return account

    async def _publish(
        self,
        instrument: Instrument,
        orders: dict[int, Order],
        owners: dict[int, UUID],
        trades: Sequence[asyncpg.Record],
        balances: Sequence[tuple[UUID, Balance]],
        book: Sequence[BookChanged],
    ) -> None:
        """After commit: market data, book deltas and the private updates. A failure here loses only
        notifications (the state committed), so it is logged, never allowed to stop the runner."""
        bus = self.runtime.bus
        try:
            ticks = ticks_channel(bus, self.symbol)
            fills = fills_channel(bus)
            for trade in trades:
                await ticks.publish(
                    TradeTick(
                        symbol=self.symbol,
                        trade_id=trade["trade_id"],
                        time=trade["created_at"],
                        price=trade["price"],
                        quantity=trade["quantity"],
                        taker_side=trade["taker_side"],
                    )
                )
                for is_maker in (True, False):
                    await fills.publish(
                        FillCreated(
                            user_id=trade["maker_user_id" if is_maker else "taker_user_id"],
                            fill=fill_view(trade, is_maker=is_maker),
                        )
                    )
            deltas = book_channel(bus, self.symbol)
            for change in book:
                await deltas.publish(
                    BookDelta(
                        symbol=self.symbol,
                        seq=change.seq,
                        side=change.side.value,
                        price=change.price_ticks * instrument.tick_size,
                        quantity=change.qty_lots * instrument.lot_size,
                    )
                )
            updates = orders_channel(bus)
            for order_id, order in orders.items():
                await updates.publish(OrderUpdated(user_id=owners[order_id], order=order))
            balance_updates = balances_channel(bus)
            for user_id, balance in balances:
                await balance_updates.publish(
                    BalanceChanged(
                        user_id=user_id, asset=balance.asset, available=balance.available, held=balance.held
                    )
                )
        except Exception:
            logger.exception("publishing engine events failed", extra={"symbol": self.symbol})


def fill_view(trade: asyncpg.Record, *, is_maker: bool) -> Fill:
    taker_side = trade["taker_side"]
    side = taker_side if not is_maker else ("sell" if taker_side == "buy" else "buy")
    return Fill(
        trade_id=trade["trade_id"],
        symbol=trade["symbol"],
        order_id=trade["maker_order_id" if is_maker else "taker_order_id"],
        side=side,
        price=trade["price"],
        quantity=trade["quantity"],
        quote_amount=trade["quote_amount"],
        fee=trade["maker_fee" if is_maker else "taker_fee"],
        fee_asset=trade["maker_fee_asset" if is_maker else "taker_fee_asset"],
        liquidity="maker" if is_maker else "taker",
        time=trade["created_at"],
    )
