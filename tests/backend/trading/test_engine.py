"""The engine's semantics, one scenario at a time, with the exact events expected."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from server_fastapi.trading.engine import (
    BookChanged,
    BookSnapshot,
    Cancel,
    CancelAll,
    CancelReason,
    CancelRejected,
    Command,
    Event,
    HaltChanged,
    MatchingEngine,
    NewOrder,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderType,
    RejectReason,
    RestingOrder,
    SetHalted,
    Side,
    StpMode,
    TimeInForce,
    TradeExecuted,
    canonical_event,
    command_from_dict,
    command_to_dict,
    event_to_dict,
)

BUY, SELL = Side.BUY, Side.SELL
MARKET = OrderType.MARKET


def limit(order_id: int, account_id: int, side: Side, qty: int, price: int, **kw: Any) -> NewOrder:
    return NewOrder(
        order_id=order_id, account_id=account_id, side=side, qty_lots=qty, price_ticks=price, **kw
    )


def market(
    order_id: int,
    account_id: int,
    side: Side,
    qty: int | None = None,
    budget: int | None = None,
    **kw: Any,
) -> NewOrder:
    return NewOrder(
        order_id=order_id,
        account_id=account_id,
        side=side,
        order_type=MARKET,
        qty_lots=qty,
        quote_budget=budget,
        **kw,
    )


def engine_with(*cmds: Command, **kw: Any) -> MatchingEngine:
    engine = MatchingEngine("BTC-USDT", **kw)
    for cmd in cmds:
        engine.process(cmd)
    return engine


def accepted(cmd: NewOrder) -> OrderAccepted:
    return OrderAccepted(
        cmd.order_id,
        cmd.account_id,
        cmd.side,
        cmd.order_type,
        cmd.price_ticks,
        cmd.qty_lots,
        cmd.quote_budget,
    )


# --- price-time priority, partial fills, maker price ----------------------------------------------


def test_price_then_time_priority_at_the_makers_price() -> None:
    engine = engine_with(limit(1, 10, SELL, 2, 101), limit(2, 11, SELL, 2, 101), limit(3, 12, SELL, 2, 100))
    taker = limit(4, 20, BUY, 5, 101)
    assert engine.process(taker) == [
        accepted(taker),
        TradeExecuted(1, 100, 2, BUY, 3, 12, 4, 20),
        OrderFilled(3, 12, SELL, 1, 100, 2, 0, 2, 200, True),
        OrderPartiallyFilled(4, 20, BUY, 1, 100, 2, 3, 2, 200, False),
        BookChanged(4, SELL, 100, 0),
        TradeExecuted(2, 101, 2, BUY, 1, 10, 4, 20),
        OrderFilled(1, 10, SELL, 2, 101, 2, 0, 2, 202, True),
        OrderPartiallyFilled(4, 20, BUY, 2, 101, 2, 1, 4, 402, False),
        TradeExecuted(3, 101, 1, BUY, 2, 11, 4, 20),
        OrderPartiallyFilled(2, 11, SELL, 3, 101, 1, 1, 1, 101, True),
        OrderFilled(4, 20, BUY, 3, 101, 1, 0, 5, 503, False),
        BookChanged(5, SELL, 101, 1),
    ]
    assert engine.snapshot() == BookSnapshot(seq=5, bids=(), asks=((101, 1),))
    assert engine.open_orders() == [
        RestingOrder(
            order_id=2,
            account_id=11,
            side=SELL,
            price_ticks=101,
            remaining_lots=1,
            filled_lots=1,
            filled_quote=101,
        )
    ]


def test_sell_taker_takes_highest_bid_first() -> None:
    engine = engine_with(limit(1, 10, BUY, 1, 99), limit(2, 11, BUY, 1, 100))
    events = engine.process(limit(3, 20, SELL, 2, 98))
    assert [(e.maker_order_id, e.price_ticks) for e in events if isinstance(e, TradeExecuted)] == [
        (2, 100),
        (1, 99),
    ]


def test_unfilled_remainder_of_a_gtc_limit_rests() -> None:
    engine = engine_with(limit(1, 10, SELL, 1, 100))
    taker = limit(2, 20, BUY, 3, 100)
    assert engine.process(taker) == [
        accepted(taker),
        TradeExecuted(1, 100, 1, BUY, 1, 10, 2, 20),
        OrderFilled(1, 10, SELL, 1, 100, 1, 0, 1, 100, True),
        OrderPartiallyFilled(2, 20, BUY, 1, 100, 1, 2, 1, 100, False),
        BookChanged(2, SELL, 100, 0),
        BookChanged(3, BUY, 100, 2),
    ]
    assert engine.order(2) == RestingOrder(
        order_id=2,
        account_id=20,
        side=BUY,
        price_ticks=100,
        remaining_lots=2,
        filled_lots=1,
        filled_quote=100,
    )


def test_passive_limit_rests_and_levels_aggregate() -> None:
    engine = MatchingEngine("BTC-USDT")
    first = limit(1, 10, BUY, 2, 100)
    assert engine.process(first) == [accepted(first), BookChanged(1, BUY, 100, 2)]
    assert engine.process(limit(2, 11, BUY, 3, 100))[-1] == BookChanged(2, BUY, 100, 5)
    assert engine.best_bid == 100
    assert engine.best_ask is None


# --- time in force and post-only ----------------------------------------------------------------


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    engine = engine_with(limit(1, 10, SELL, 1, 100), limit(2, 10, SELL, 1, 102))
    taker = limit(3, 20, BUY, 3, 101, time_in_force=TimeInForce.IOC)
    assert engine.process(taker) == [
        accepted(taker),
        TradeExecuted(1, 100, 1, BUY, 1, 10, 3, 20),
        OrderFilled(1, 10, SELL, 1, 100, 1, 0, 1, 100, True),
        OrderPartiallyFilled(3, 20, BUY, 1, 100, 1, 2, 1, 100, False),
        BookChanged(3, SELL, 100, 0),
        OrderCanceled(3, 20, BUY, 101, CancelReason.IOC, 2, 1, 100),
    ]
    assert engine.snapshot().bids == ()


def test_fok_that_cannot_fill_changes_nothing() -> None:
    engine = engine_with(limit(1, 10, SELL, 2, 100), limit(2, 11, SELL, 2, 101))
    before = (engine.snapshot(), engine.open_orders(), engine.next_trade_id)
    taker = limit(3, 20, BUY, 5, 101, time_in_force=TimeInForce.FOK)
    assert engine.process(taker) == [
        accepted(taker),
        OrderCanceled(3, 20, BUY, 101, CancelReason.FOK, 5, 0, 0),
    ]
    assert (engine.snapshot(), engine.open_orders(), engine.next_trade_id) == before


def test_fok_that_can_fill_fills_completely() -> None:
    engine = engine_with(limit(1, 10, SELL, 2, 100), limit(2, 11, SELL, 2, 101))
    events = engine.process(limit(3, 20, BUY, 4, 101, time_in_force=TimeInForce.FOK))
    assert events[-2:] == [OrderFilled(3, 20, BUY, 2, 101, 2, 0, 4, 402, False), BookChanged(4, SELL, 101, 0)]
    assert len(engine) == 0


def test_fok_counts_self_orders_as_unavailable() -> None:
    own = limit(1, 7, SELL, 2, 100)
    engine = engine_with(own, limit(2, 1, SELL, 2, 101))
    failed = limit(3, 7, BUY, 3, 101, time_in_force=TimeInForce.FOK, stp=StpMode.CANCEL_RESTING)
    assert engine.process(failed)[-1] == OrderCanceled(3, 7, BUY, 101, CancelReason.FOK, 3, 0, 0)
    assert 1 in engine, "a failed FOK must not cancel resting self orders either"
    ok = limit(4, 7, BUY, 2, 101, time_in_force=TimeInForce.FOK, stp=StpMode.CANCEL_RESTING)
    events = engine.process(ok)
    assert events[1] == OrderCanceled(1, 7, SELL, 100, CancelReason.STP, 2, 0, 0)
    assert events[-2] == OrderFilled(4, 7, BUY, 1, 101, 2, 0, 2, 202, False)
    assert len(engine) == 0


def test_post_only_that_would_take_is_rejected_not_repriced() -> None:
    engine = engine_with(limit(1, 10, BUY, 1, 100))
    before = engine.snapshot()
    assert engine.process(limit(2, 20, SELL, 1, 100, post_only=True)) == [
        OrderRejected(2, 20, RejectReason.POST_ONLY_WOULD_TAKE)
    ]
    assert engine.snapshot() == before
    maker = limit(3, 20, SELL, 1, 101, post_only=True)
    assert engine.process(maker) == [accepted(maker), BookChanged(2, SELL, 101, 1)]


# --- market orders and the quote budget ----------------------------------------------------------


def test_market_buy_never_exceeds_its_budget() -> None:
    engine = engine_with(limit(1, 10, SELL, 2, 100), limit(2, 11, SELL, 3, 110))
    taker = market(3, 20, BUY, budget=450)
    assert engine.process(taker) == [
        accepted(taker),
        TradeExecuted(1, 100, 2, BUY, 1, 10, 3, 20),
        OrderFilled(1, 10, SELL, 1, 100, 2, 0, 2, 200, True),
        OrderPartiallyFilled(3, 20, BUY, 1, 100, 2, None, 2, 200, False),
        BookChanged(3, SELL, 100, 0),
        TradeExecuted(2, 110, 2, BUY, 2, 11, 3, 20),
        OrderPartiallyFilled(2, 11, SELL, 2, 110, 2, 1, 2, 220, True),
        OrderPartiallyFilled(3, 20, BUY, 2, 110, 2, None, 4, 420, False),
        BookChanged(4, SELL, 110, 1),
        # 30 of the budget is left: not enough for one lot at 110. The ledger releases 450 - 420.
        OrderCanceled(3, 20, BUY, None, CancelReason.BUDGET, None, 4, 420),
    ]


def test_budget_only_buy_can_spend_its_whole_budget() -> None:
    engine = engine_with(limit(1, 10, SELL, 10, 1))
    events = engine.process(market(2, 20, BUY, budget=5))
    assert events[-1] == OrderCanceled(2, 20, BUY, None, CancelReason.BUDGET, None, 5, 5)
    assert engine.snapshot().asks == ((1, 5),)


def test_market_buy_with_quantity_and_budget_stops_at_whichever_comes_first() -> None:
    by_qty = engine_with(limit(1, 10, SELL, 5, 100))
    assert by_qty.process(market(2, 20, BUY, qty=3, budget=1_000))[-2] == OrderFilled(
        2, 20, BUY, 1, 100, 3, 0, 3, 300, False
    )
    by_budget = engine_with(limit(1, 10, SELL, 5, 100))
    assert by_budget.process(market(2, 20, BUY, qty=5, budget=250))[-1] == OrderCanceled(
        2, 20, BUY, None, CancelReason.BUDGET, 3, 2, 200
    )


def test_market_buy_whose_budget_cannot_pay_one_lot_trades_nothing() -> None:
    engine = engine_with(limit(1, 10, SELL, 5, 100))
    taker = market(2, 20, BUY, budget=99)
    assert engine.process(taker) == [
        accepted(taker),
        OrderCanceled(2, 20, BUY, None, CancelReason.BUDGET, None, 0, 0),
    ]


def test_market_sell_without_liquidity_is_canceled() -> None:
    engine = MatchingEngine("BTC-USDT")
    taker = market(1, 20, SELL, qty=5)
    assert engine.process(taker) == [
        accepted(taker),
        OrderCanceled(1, 20, SELL, None, CancelReason.IOC, 5, 0, 0),
    ]


def test_market_order_never_rests() -> None:
    engine = engine_with(limit(1, 10, BUY, 2, 100))
    events = engine.process(market(2, 20, SELL, qty=5, time_in_force=TimeInForce.GTC))
    assert events[-1] == OrderCanceled(2, 20, SELL, None, CancelReason.IOC, 3, 2, 200)
    assert len(engine) == 0


# --- self-trade prevention -----------------------------------------------------------------------


def test_stp_cancel_resting_cancels_the_maker_and_keeps_matching() -> None:
    engine = engine_with(limit(1, 7, SELL, 2, 100), limit(2, 1, SELL, 2, 100), limit(3, 7, SELL, 1, 101))
    taker = limit(4, 7, BUY, 3, 101, stp=StpMode.CANCEL_RESTING)
    assert engine.process(taker) == [
        accepted(taker),
        OrderCanceled(1, 7, SELL, 100, CancelReason.STP, 2, 0, 0),
        TradeExecuted(1, 100, 2, BUY, 2, 1, 4, 7),
        OrderFilled(2, 1, SELL, 1, 100, 2, 0, 2, 200, True),
        OrderPartiallyFilled(4, 7, BUY, 1, 100, 2, 1, 2, 200, False),
        BookChanged(4, SELL, 100, 0),
        OrderCanceled(3, 7, SELL, 101, CancelReason.STP, 1, 0, 0),
        BookChanged(5, SELL, 101, 0),
        BookChanged(6, BUY, 101, 1),
    ]


def test_stp_cancel_incoming_cancels_the_takers_remainder() -> None:
    engine = engine_with(limit(1, 1, SELL, 1, 100), limit(2, 7, SELL, 2, 100))
    taker = limit(3, 7, BUY, 3, 100, stp=StpMode.CANCEL_INCOMING)
    assert engine.process(taker) == [
        accepted(taker),
        TradeExecuted(1, 100, 1, BUY, 1, 1, 3, 7),
        OrderFilled(1, 1, SELL, 1, 100, 1, 0, 1, 100, True),
        OrderPartiallyFilled(3, 7, BUY, 1, 100, 1, 2, 1, 100, False),
        BookChanged(3, SELL, 100, 2),
        OrderCanceled(3, 7, BUY, 100, CancelReason.STP, 2, 1, 100),
    ]
    assert 2 in engine


def test_stp_cancel_both() -> None:
    engine = engine_with(limit(1, 7, SELL, 2, 100))
    taker = limit(2, 7, BUY, 3, 100, stp=StpMode.CANCEL_BOTH)
    assert engine.process(taker) == [
        accepted(taker),
        OrderCanceled(1, 7, SELL, 100, CancelReason.STP, 2, 0, 0),
        BookChanged(2, SELL, 100, 0),
        OrderCanceled(2, 7, BUY, 100, CancelReason.STP, 3, 0, 0),
    ]
    assert len(engine) == 0


@pytest.mark.parametrize(
    ("default", "survivor"),
    [(StpMode.CANCEL_RESTING, 2), (StpMode.CANCEL_INCOMING, 1)],
    ids=["resting", "incoming"],
)
def test_engine_default_stp_applies_when_the_order_sets_none(default: StpMode, survivor: int) -> None:
    engine = engine_with(limit(1, 7, SELL, 1, 100), default_stp=default)
    engine.process(limit(2, 7, BUY, 1, 100))
    assert [o.order_id for o in engine.open_orders()] == [survivor]


def test_stp_only_applies_to_the_same_account() -> None:
    engine = engine_with(limit(1, 7, SELL, 1, 100))
    events = engine.process(limit(2, 8, BUY, 1, 100, stp=StpMode.CANCEL_BOTH))
    assert any(isinstance(e, TradeExecuted) for e in events)


# --- cancels and cancel races --------------------------------------------------------------------


def test_cancel_reports_what_is_left_to_release() -> None:
    engine = engine_with(limit(1, 10, SELL, 5, 100), limit(2, 20, BUY, 2, 100))
    assert engine.process(Cancel(order_id=1, account_id=10)) == [
        OrderCanceled(1, 10, SELL, 100, CancelReason.USER, 3, 2, 200),
        BookChanged(3, SELL, 100, 0),
    ]


def test_cancel_after_fill_is_rejected() -> None:
    engine = engine_with(limit(1, 10, SELL, 1, 100), limit(2, 20, BUY, 1, 100))
    assert engine.process(Cancel(order_id=1)) == [CancelRejected(1, None, RejectReason.UNKNOWN_ORDER)]


def test_double_cancel_is_rejected_the_second_time() -> None:
    engine = engine_with(limit(1, 10, SELL, 1, 100))
    assert isinstance(engine.process(Cancel(order_id=1))[0], OrderCanceled)
    assert engine.process(Cancel(order_id=1)) == [CancelRejected(1, None, RejectReason.UNKNOWN_ORDER)]


def test_cancel_of_someone_elses_order_is_rejected_like_an_unknown_one() -> None:
    engine = engine_with(limit(1, 10, SELL, 1, 100))
    assert engine.process(Cancel(order_id=1, account_id=99)) == [
        CancelRejected(1, 99, RejectReason.UNKNOWN_ORDER)
    ]
    assert engine.process(Cancel(order_id=42)) == [CancelRejected(42, None, RejectReason.UNKNOWN_ORDER)]
    assert 1 in engine


def test_cancel_all_for_one_account_then_everyone() -> None:
    engine = engine_with(
        limit(1, 10, SELL, 1, 101),
        limit(2, 20, SELL, 1, 101),
        limit(3, 10, BUY, 1, 99),
        limit(4, 10, SELL, 2, 101),
    )
    assert engine.process(CancelAll(account_id=10)) == [
        OrderCanceled(1, 10, SELL, 101, CancelReason.USER, 1, 0, 0),
        BookChanged(5, SELL, 101, 3),
        OrderCanceled(3, 10, BUY, 99, CancelReason.USER, 1, 0, 0),
        BookChanged(6, BUY, 99, 0),
        OrderCanceled(4, 10, SELL, 101, CancelReason.USER, 2, 0, 0),
        BookChanged(7, SELL, 101, 1),
    ]
    assert engine.process(CancelAll(account_id=10)) == []
    assert engine.process(CancelAll(reason=CancelReason.ADMIN)) == [
        OrderCanceled(2, 20, SELL, 101, CancelReason.ADMIN, 1, 0, 0),
        BookChanged(8, SELL, 101, 0),
    ]
    assert len(engine) == 0


def test_many_cancels_inside_a_level_keep_time_priority() -> None:
    engine = engine_with(*(limit(i, 10 + i, SELL, 1, 100) for i in range(1, 41)))
    for i in range(2, 39):
        engine.process(Cancel(order_id=i))
    assert engine.snapshot().asks == ((100, 3),)
    events = engine.process(limit(99, 1, BUY, 3, 100))
    assert [e.maker_order_id for e in events if isinstance(e, TradeExecuted)] == [1, 39, 40]


# --- validation, halts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cmd", "reason"),
    [
        (limit(1, 1, BUY, 0, 100), RejectReason.INVALID_QUANTITY),
        (limit(1, 1, BUY, -1, 100), RejectReason.INVALID_QUANTITY),
        (limit(1, 1, BUY, 1, 0), RejectReason.INVALID_PRICE),
        (NewOrder(order_id=1, account_id=1, side=BUY, qty_lots=1), RejectReason.INVALID_PRICE),
        (limit(1, 1, BUY, 1, 100, quote_budget=100), RejectReason.INVALID_BUDGET),
        (
            limit(1, 1, BUY, 1, 100, post_only=True, time_in_force=TimeInForce.IOC),
            RejectReason.INVALID_POST_ONLY,
        ),
        (market(1, 1, BUY, qty=1, post_only=True), RejectReason.INVALID_POST_ONLY),
        (market(1, 1, BUY, qty=1, price_ticks=100), RejectReason.INVALID_PRICE),
        (market(1, 1, SELL), RejectReason.INVALID_QUANTITY),
        (market(1, 1, SELL, qty=1, budget=100), RejectReason.INVALID_BUDGET),
        (market(1, 1, BUY), RejectReason.INVALID_QUANTITY),
        (market(1, 1, BUY, qty=0, budget=100), RejectReason.INVALID_QUANTITY),
        (market(1, 1, BUY, budget=0), RejectReason.INVALID_BUDGET),
        (market(1, 1, BUY, budget=100, time_in_force=TimeInForce.FOK), RejectReason.INVALID_TIME_IN_FORCE),
    ],
)
def test_invalid_orders_are_rejected_before_touching_the_book(cmd: NewOrder, reason: RejectReason) -> None:
    engine = engine_with(limit(7, 2, SELL, 1, 100))
    before = engine.snapshot()
    assert engine.process(cmd) == [OrderRejected(cmd.order_id, cmd.account_id, reason)]
    assert engine.snapshot() == before


def test_an_open_order_id_cannot_be_reused() -> None:
    engine = engine_with(limit(1, 10, BUY, 1, 99))
    assert engine.process(limit(1, 10, SELL, 1, 120)) == [
        OrderRejected(1, 10, RejectReason.DUPLICATE_ORDER_ID)
    ]


def test_halted_book_rejects_orders_but_still_cancels() -> None:
    engine = engine_with(limit(1, 10, BUY, 1, 99))
    assert engine.process(SetHalted(halted=True)) == [HaltChanged(True)]
    assert engine.halted
    assert engine.process(limit(2, 10, BUY, 1, 99)) == [OrderRejected(2, 10, RejectReason.HALTED)]
    assert isinstance(engine.process(Cancel(order_id=1))[0], OrderCanceled)
    engine.process(SetHalted(halted=False))
    assert isinstance(engine.process(limit(3, 10, BUY, 1, 99))[0], OrderAccepted)


# --- snapshots and restore -----------------------------------------------------------------------


def test_snapshot_depth_is_best_first_and_carries_the_sequence() -> None:
    engine = engine_with(*(limit(i, 1, BUY, i, 100 - i) for i in range(1, 5)), limit(9, 2, SELL, 3, 105))
    assert engine.snapshot(2) == BookSnapshot(seq=5, bids=((99, 1), (98, 2)), asks=((105, 3),))
    assert engine.snapshot(0) == BookSnapshot(seq=5, bids=(), asks=())
    assert len(engine.snapshot().bids) == 4


def _busy_log() -> list[Command]:
    return [
        limit(1, 1, SELL, 3, 101),
        limit(2, 2, SELL, 2, 101),
        limit(3, 1, BUY, 4, 99),
        limit(4, 3, SELL, 5, 103),
        limit(5, 2, BUY, 2, 101),  # partly fills order 1
        limit(6, 3, BUY, 1, 98),
        limit(7, 2, BUY, 1, 99),
    ]


def test_restore_rebuilds_the_same_book_with_the_same_priority() -> None:
    original = engine_with(*_busy_log())
    restored = MatchingEngine("BTC-USDT", next_trade_id=original.next_trade_id, book_seq=original.book_seq)
    restored.restore(original.open_orders())
    assert restored.snapshot() == original.snapshot()
    assert restored.open_orders() == original.open_orders()
    for cmd in (market(10, 9, BUY, budget=1_000), market(11, 9, SELL, qty=6), CancelAll(account_id=2)):
        assert restored.process(cmd) == original.process(cmd)


def test_restore_keeps_the_given_time_order_within_a_level() -> None:
    engine = MatchingEngine("BTC-USDT")
    engine.restore(
        [
            RestingOrder(order_id=5, account_id=1, side=SELL, price_ticks=100, remaining_lots=1),
            RestingOrder(order_id=2, account_id=2, side=SELL, price_ticks=100, remaining_lots=1),
        ]
    )
    events = engine.process(limit(9, 3, BUY, 2, 100))
    assert [e.maker_order_id for e in events if isinstance(e, TradeExecuted)] == [5, 2]


@pytest.mark.parametrize(
    "orders",
    [
        [
            RestingOrder(order_id=1, account_id=1, side=BUY, price_ticks=100, remaining_lots=1),
            RestingOrder(order_id=2, account_id=1, side=SELL, price_ticks=100, remaining_lots=1),
        ],
        [
            RestingOrder(order_id=1, account_id=1, side=BUY, price_ticks=100, remaining_lots=1),
            RestingOrder(order_id=1, account_id=1, side=BUY, price_ticks=99, remaining_lots=1),
        ],
        [RestingOrder(order_id=1, account_id=1, side=BUY, price_ticks=100, remaining_lots=0)],
    ],
    ids=["crossed", "duplicate", "empty-order"],
)
def test_restore_refuses_corrupt_state(orders: list[RestingOrder]) -> None:
    with pytest.raises(ValueError, match=r"crossed|duplicate|invalid"):
        MatchingEngine("BTC-USDT").restore(orders)


def test_restore_needs_an_empty_book() -> None:
    engine = engine_with(limit(1, 1, BUY, 1, 100))
    with pytest.raises(ValueError, match="empty"):
        engine.restore([])


# --- values: immutable, typed, serialisable ------------------------------------------------------


def test_events_of_different_types_never_compare_equal() -> None:
    fields = (1, 2, BUY, 3, 100, 1, 0, 1, 100, False)
    partial: object = OrderPartiallyFilled(*fields)
    assert OrderFilled(*fields) != partial
    assert tuple(OrderFilled(*fields)) == tuple(OrderPartiallyFilled(*fields))
    assert OrderFilled(*fields) == OrderFilled(*fields)
    assert hash(OrderFilled(*fields)) == hash(OrderFilled(*fields))
    assert len({OrderFilled(*fields), OrderPartiallyFilled(*fields)}) == 2


def test_commands_and_events_are_immutable() -> None:
    cmd = limit(1, 1, BUY, 1, 100)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cmd.qty_lots = 2  # type: ignore[misc]
    event = BookChanged(1, BUY, 100, 1)
    with pytest.raises(AttributeError):
        event.qty_lots = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    "cmd",
    [
        limit(1, 2, SELL, 3, 4, post_only=True, stp=StpMode.CANCEL_BOTH),
        market(1, 2, BUY, budget=500, time_in_force=TimeInForce.IOC),
        Cancel(order_id=1, account_id=None),
        CancelAll(account_id=3, reason=CancelReason.ADMIN),
        SetHalted(halted=True),
    ],
)
def test_commands_round_trip_through_json(cmd: Command) -> None:
    assert command_from_dict(json.loads(json.dumps(command_to_dict(cmd)))) == cmd


def test_events_serialise_with_their_type() -> None:
    event: Event = OrderCanceled(1, 2, SELL, None, CancelReason.BUDGET, None, 3, 4)
    assert event_to_dict(event) == {
        "type": "OrderCanceled",
        "order_id": 1,
        "account_id": 2,
        "side": "sell",
        "price_ticks": None,
        "reason": "budget",
        "remaining_lots": None,
        "filled_lots": 3,
        "filled_quote": 4,
    }
    assert canonical_event(event) == b'["OrderCanceled",1,2,"sell",null,"budget",null,3,4]'
