"""Random command logs: the engine must agree with the reference book event for event, its L2 deltas must
rebuild the reference's levels exactly, and a book restored mid-log must continue identically."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_book import ReferenceBook

from server_fastapi.trading.engine import (
    BookChanged,
    BookSnapshot,
    Cancel,
    CancelAll,
    CancelReason,
    Command,
    Event,
    MatchingEngine,
    NewOrder,
    OrderCanceled,
    OrderFilled,
    OrderType,
    SetHalted,
    Side,
    StpMode,
    TimeInForce,
    TradeExecuted,
)

ACCOUNTS = st.integers(1, 3)  # few accounts, so self-trades are frequent
PRICES = st.integers(96, 104)
QTYS = st.integers(1, 6)
STP_MODES = st.sampled_from([None, *StpMode])
SIDES = st.sampled_from(list(Side))


@st.composite
def command_logs(draw: st.DrawFn, max_size: int = 60) -> list[Command]:
    n = draw(st.integers(1, max_size))
    cmds: list[Command] = []
    next_id = 1

    def fresh_id() -> int:
        nonlocal next_id
        # Now and then reuse an earlier id: a duplicate if that order is still open.
        if next_id > 1 and draw(st.integers(0, 19)) == 0:
            return draw(st.integers(1, next_id - 1))
        next_id += 1
        return next_id - 1

    kinds = ["limit"] * 16 + ["ioc"] * 4 + ["fok", "post"] * 2 + ["market"] * 5 + ["cancel"] * 6
    kinds += ["cancel_all", "halt"] + ["invalid"] * 3
    for _ in range(n):
        kind = draw(st.sampled_from(kinds))
        account = draw(ACCOUNTS)
        side = draw(SIDES)
        stp = draw(STP_MODES)
        if kind in ("limit", "ioc", "fok", "post"):
            tif = {"ioc": TimeInForce.IOC, "fok": TimeInForce.FOK}.get(kind, TimeInForce.GTC)
            cmds.append(
                NewOrder(
                    order_id=fresh_id(),
                    account_id=account,
                    side=side,
                    qty_lots=draw(QTYS),
                    price_ticks=draw(PRICES),
                    time_in_force=tif,
                    post_only=kind == "post",
                    stp=stp,
                )
            )
        elif kind == "market":
            qty: int | None = draw(QTYS)
            budget: int | None = None
            if side is Side.BUY:
                qty, budget = draw(
                    st.sampled_from(
                        [(qty, None), (None, draw(st.integers(1, 1500))), (qty, draw(st.integers(1, 800)))]
                    )
                )
            tif = draw(st.sampled_from(list(TimeInForce))) if qty is not None else TimeInForce.IOC
            cmds.append(
                NewOrder(
                    order_id=fresh_id(),
                    account_id=account,
                    side=side,
                    order_type=OrderType.MARKET,
                    qty_lots=qty,
                    quote_budget=budget,
                    time_in_force=tif,
                    stp=stp,
                )
            )
        elif kind == "cancel":
            cmds.append(
                Cancel(
                    order_id=draw(st.integers(1, next_id)),
                    account_id=draw(st.one_of(st.none(), ACCOUNTS)),
                )
            )
        elif kind == "cancel_all":
            account_or_all = draw(st.one_of(st.none(), ACCOUNTS))
            cmds.append(
                CancelAll(
                    account_id=account_or_all,
                    reason=draw(st.sampled_from([CancelReason.USER, CancelReason.ADMIN])),
                )
            )
        elif kind == "halt":
            cmds.append(SetHalted(halted=draw(st.sampled_from([False, False, True]))))
        else:
            cmds.append(
                NewOrder(
                    order_id=fresh_id(),
                    account_id=account,
                    side=side,
                    order_type=draw(st.sampled_from(list(OrderType))),
                    qty_lots=draw(st.one_of(st.none(), st.integers(-1, 3))),
                    price_ticks=draw(st.one_of(st.none(), st.integers(-1, 100))),
                    quote_budget=draw(st.one_of(st.none(), st.integers(-1, 300))),
                    time_in_force=draw(st.sampled_from(list(TimeInForce))),
                    post_only=draw(st.booleans()),
                )
            )
    return cmds


def _apply_deltas(events: list[Event], mirror: dict[tuple[Side, int], int], seq: int) -> int:
    """Apply the BookChanged events to an L2 mirror; each must be the next number and change something."""
    for e in events:
        if isinstance(e, BookChanged):
            assert e.seq == seq + 1
            seq = e.seq
            assert mirror.get((e.side, e.price_ticks), 0) != e.qty_lots
            if e.qty_lots:
                mirror[e.side, e.price_ticks] = e.qty_lots
            else:
                del mirror[e.side, e.price_ticks]
    return seq


def _mirror_levels(
    mirror: dict[tuple[Side, int], int],
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    bids = sorted(((p, q) for (s, p), q in mirror.items() if s is Side.BUY), reverse=True)
    asks = sorted((p, q) for (s, p), q in mirror.items() if s is Side.SELL)
    return bids, asks


def _check_own_invariants(cmd: Command, events: list[Event]) -> None:
    """What the spec promises whatever the reference says: positive trades within the taker's limit,
    a budget never overspent."""
    for e in events:
        if isinstance(e, TradeExecuted):
            assert e.qty_lots > 0
            assert isinstance(cmd, NewOrder)
            if cmd.price_ticks is not None:
                if cmd.side is Side.BUY:
                    assert e.price_ticks <= cmd.price_ticks
                else:
                    assert e.price_ticks >= cmd.price_ticks
        if (
            isinstance(e, OrderCanceled | OrderFilled)
            and isinstance(cmd, NewOrder)
            and e.order_id == cmd.order_id
            and cmd.quote_budget is not None
        ):
            assert e.filled_quote <= cmd.quote_budget


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cmds=command_logs(), default_stp=st.sampled_from(list(StpMode)))
def test_engine_agrees_with_reference(cmds: list[Command], default_stp: StpMode) -> None:
    engine = MatchingEngine("TEST-USDT", default_stp=default_stp)
    ref = ReferenceBook(default_stp=default_stp)
    mirror: dict[tuple[Side, int], int] = {}
    seq = 0
    for cmd in cmds:
        events = engine.process(cmd)
        assert [e for e in events if not isinstance(e, BookChanged)] == ref.process(cmd), cmd
        _check_own_invariants(cmd, events)
        seq = _apply_deltas(events, mirror, seq)
        bids, asks = ref.levels()
        assert _mirror_levels(mirror) == (bids, asks)
        assert engine.snapshot() == BookSnapshot(seq=seq, bids=tuple(bids), asks=tuple(asks))
        assert engine.open_orders() == ref.open_orders()
        assert engine.next_trade_id == ref.next_trade_id
        if bids and asks:
            assert bids[0][0] < asks[0][0], "crossed book"


@settings(max_examples=150, deadline=None)
@given(cmds=command_logs(), data=st.data())
def test_restored_book_continues_identically(cmds: list[Command], data: st.DataObject) -> None:
    split = data.draw(st.integers(0, len(cmds)))
    original = MatchingEngine("TEST-USDT")
    for cmd in cmds[:split]:
        original.process(cmd)
    restored = MatchingEngine("TEST-USDT", next_trade_id=original.next_trade_id, book_seq=original.book_seq)
    restored.restore(original.open_orders())
    restored.process(SetHalted(halted=original.halted))
    assert restored.snapshot() == original.snapshot()
    assert restored.open_orders() == original.open_orders()
    for cmd in cmds[split:]:
        assert restored.process(cmd) == original.process(cmd)
