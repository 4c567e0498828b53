"""A small, obviously correct order book to check the engine against.

It shares only the vocabulary (commands, events) with the engine, not its logic: one flat list of resting
orders in arrival order, the best maker found by a linear scan, fill-or-kill decided by matching on a deep
copy and keeping the copy only if the order filled. Slow on purpose. It emits every event the engine
emits except BookChanged; tests compare L2 through `levels()` instead.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from server_fastapi.trading.engine import (
    Cancel,
    CancelAll,
    CancelReason,
    CancelRejected,
    Command,
    Event,
    HaltChanged,
    NewOrder,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderType,
    RejectReason,
    RestingOrder,
    Side,
    StpMode,
    TimeInForce,
    TradeExecuted,
)


@dataclass
class _Resting:
    order_id: int
    account_id: int
    side: Side
    price: int
    remaining: int
    filled: int = 0
    filled_quote: int = 0


@dataclass
class _Taker:
    remaining: int | None  # None: no quantity cap (budget-only market buy)
    budget_left: int | None  # None: no budget cap
    filled: int = 0
    filled_quote: int = 0


class ReferenceBook:
    def __init__(self, default_stp: StpMode = StpMode.CANCEL_INCOMING, next_trade_id: int = 1) -> None:
        self.default_stp = default_stp
        self.next_trade_id = next_trade_id
        self.halted = False
        self.resting: list[_Resting] = []  # arrival order

    # --- views -----------------------------------------------------------------------------------

    def open_orders(self) -> list[RestingOrder]:
        return [
            RestingOrder(
                order_id=o.order_id,
                account_id=o.account_id,
                side=o.side,
                price_ticks=o.price,
                remaining_lots=o.remaining,
                filled_lots=o.filled,
                filled_quote=o.filled_quote,
            )
            for o in self.resting
        ]

    def levels(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids, asks) as (price, total) lists, best first."""
        totals: dict[tuple[Side, int], int] = {}
        for o in self.resting:
            totals[o.side, o.price] = totals.get((o.side, o.price), 0) + o.remaining
        bids = sorted(((p, q) for (s, p), q in totals.items() if s is Side.BUY), reverse=True)
        asks = sorted((p, q) for (s, p), q in totals.items() if s is Side.SELL)
        return bids, asks

    # --- commands --------------------------------------------------------------------------------

    def process(self, cmd: Command) -> list[Event]:
        if isinstance(cmd, NewOrder):
            return self._new_order(cmd)
        if isinstance(cmd, Cancel):
            for o in self.resting:
                if o.order_id == cmd.order_id and cmd.account_id in (None, o.account_id):
                    return [self._remove(o, cmd.reason)]
            return [CancelRejected(cmd.order_id, cmd.account_id, RejectReason.UNKNOWN_ORDER)]
        if isinstance(cmd, CancelAll):
            victims = [o for o in self.resting if cmd.account_id in (None, o.account_id)]
            return [self._remove(o, cmd.reason) for o in victims]
        self.halted = cmd.halted
        return [HaltChanged(cmd.halted)]

    def _remove(self, o: _Resting, reason: CancelReason) -> OrderCanceled:
        self.resting.remove(o)
        return OrderCanceled(
            o.order_id, o.account_id, o.side, o.price, reason, o.remaining, o.filled, o.filled_quote
        )

    def _reject_reason(self, cmd: NewOrder) -> RejectReason | None:
        if self.halted:
            return RejectReason.HALTED
        if any(o.order_id == cmd.order_id for o in self.resting):
            return RejectReason.DUPLICATE_ORDER_ID
        qty, price, budget = cmd.qty_lots, cmd.price_ticks, cmd.quote_budget
        if cmd.order_type is OrderType.LIMIT:
            if price is None or price <= 0:
                return RejectReason.INVALID_PRICE
            if qty is None or qty <= 0:
                return RejectReason.INVALID_QUANTITY
            if budget is not None:
                return RejectReason.INVALID_BUDGET
            if cmd.post_only and cmd.time_in_force is not TimeInForce.GTC:
                return RejectReason.INVALID_POST_ONLY
            return None
        if price is not None:
            return RejectReason.INVALID_PRICE
        if cmd.post_only:
            return RejectReason.INVALID_POST_ONLY
        if qty is not None and qty <= 0:
            return RejectReason.INVALID_QUANTITY
        if cmd.side is Side.SELL:
            if qty is None:
                return RejectReason.INVALID_QUANTITY
            return RejectReason.INVALID_BUDGET if budget is not None else None
        if budget is not None and budget <= 0:
            return RejectReason.INVALID_BUDGET
        if qty is None and budget is None:
            return RejectReason.INVALID_QUANTITY
        if qty is None and cmd.time_in_force is TimeInForce.FOK:
            return RejectReason.INVALID_TIME_IN_FORCE
        return None

    def _crosses(self, cmd: NewOrder, maker: _Resting) -> bool:
        if maker.side is cmd.side:
            return False
        if cmd.price_ticks is None:
            return True
        return maker.price <= cmd.price_ticks if cmd.side is Side.BUY else maker.price >= cmd.price_ticks

    def _new_order(self, cmd: NewOrder) -> list[Event]:
        reason = self._reject_reason(cmd)
        if reason is not None:
            return [OrderRejected(cmd.order_id, cmd.account_id, reason)]
        if cmd.post_only and any(self._crosses(cmd, o) for o in self.resting):
            return [OrderRejected(cmd.order_id, cmd.account_id, RejectReason.POST_ONLY_WOULD_TAKE)]
        accepted = OrderAccepted(
            cmd.order_id,
            cmd.account_id,
            cmd.side,
            cmd.order_type,
            cmd.price_ticks,
            cmd.qty_lots,
            cmd.quote_budget,
        )
        if cmd.time_in_force is TimeInForce.FOK:
            trial = copy.deepcopy(self)
            events, taker, _ = trial._match(cmd)
            if taker.remaining != 0:
                canceled = OrderCanceled(
                    cmd.order_id,
                    cmd.account_id,
                    cmd.side,
                    cmd.price_ticks,
                    CancelReason.FOK,
                    cmd.qty_lots,
                    0,
                    0,
                )
                return [accepted, canceled]
            self.__dict__.update(trial.__dict__)
            return [accepted, *events]
        events, taker, stop = self._match(cmd)
        if taker.remaining == 0:
            return [accepted, *events]
        if stop is None and cmd.order_type is OrderType.LIMIT and cmd.time_in_force is TimeInForce.GTC:
            assert cmd.price_ticks is not None
            assert taker.remaining is not None
            rest = _Resting(
                cmd.order_id,
                cmd.account_id,
                cmd.side,
                cmd.price_ticks,
                taker.remaining,
                taker.filled,
                taker.filled_quote,
            )
            self.resting.append(rest)
            return [accepted, *events]
        canceled = OrderCanceled(
            cmd.order_id,
            cmd.account_id,
            cmd.side,
            cmd.price_ticks,
            stop or CancelReason.IOC,
            taker.remaining,
            taker.filled,
            taker.filled_quote,
        )
        return [accepted, *events, canceled]

    def _match(self, cmd: NewOrder) -> tuple[list[Event], _Taker, CancelReason | None]:
        """Trade against the best crossing maker until the order is done; say why it stopped early."""
        stp = cmd.stp or self.default_stp
        taker = _Taker(remaining=cmd.qty_lots, budget_left=cmd.quote_budget)
        events: list[Event] = []
        while taker.remaining != 0:
            crossing = [o for o in self.resting if self._crosses(cmd, o)]
            if not crossing:
                return events, taker, None
            # Price first (lowest ask for a buy, highest bid for a sell), then arrival: list order.
            best = min(crossing, key=lambda o: o.price if cmd.side is Side.BUY else -o.price)
            if taker.budget_left is not None and taker.budget_left < best.price:
                return events, taker, CancelReason.BUDGET
            if best.account_id == cmd.account_id:
                if stp in (StpMode.CANCEL_RESTING, StpMode.CANCEL_BOTH):
                    events.append(self._remove(best, CancelReason.STP))
                if stp in (StpMode.CANCEL_INCOMING, StpMode.CANCEL_BOTH):
                    return events, taker, CancelReason.STP
                continue
            q = best.remaining
            if taker.remaining is not None:
                q = min(q, taker.remaining)
            if taker.budget_left is not None:
                q = min(q, taker.budget_left // best.price)
                taker.budget_left -= q * best.price
            trade_id = self.next_trade_id
            self.next_trade_id += 1
            best.remaining -= q
            best.filled += q
            best.filled_quote += q * best.price
            taker.filled += q
            taker.filled_quote += q * best.price
            if taker.remaining is not None:
                taker.remaining -= q
            events.append(
                TradeExecuted(
                    trade_id,
                    best.price,
                    q,
                    cmd.side,
                    best.order_id,
                    best.account_id,
                    cmd.order_id,
                    cmd.account_id,
                )
            )
            maker_event = OrderFilled if best.remaining == 0 else OrderPartiallyFilled
            events.append(
                maker_event(
                    best.order_id,
                    best.account_id,
                    best.side,
                    trade_id,
                    best.price,
                    q,
                    best.remaining,
                    best.filled,
                    best.filled_quote,
                    True,
                )
            )
            if best.remaining == 0:
                self.resting.remove(best)
            taker_event = OrderFilled if taker.remaining == 0 else OrderPartiallyFilled
            events.append(
                taker_event(
                    cmd.order_id,
                    cmd.account_id,
                    cmd.side,
                    trade_id,
                    best.price,
                    q,
                    taker.remaining,
                    taker.filled,
                    taker.filled_quote,
                    False,
                )
            )
        return events, taker, None
