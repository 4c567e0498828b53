"""The matching engine of one symbol: synchronous, pure, integers only.

One `MatchingEngine` per symbol, driven by one writer: a command goes in, a list of events comes out.
The engine does no I/O and reads no clock or randomness, so the same commands in the same order always
give the same events; persistence, holds, fees and transport belong to the caller, which derives them
from the events. Prices are integer ticks and quantities integer lots; decimals are converted once, at
the boundary.

What a NewOrder yields, in order: either one OrderRejected (nothing happened), or OrderAccepted, then
for each trade TradeExecuted, the maker's fill and the taker's fill (OrderFilled for the fill that
completes an order, OrderPartiallyFilled otherwise), OrderCanceled(stp) for makers removed by
self-trade prevention, one BookChanged per price level touched, and last the taker's outcome: nothing
more if it filled, a BookChanged if its remainder rests (GTC limit), else OrderCanceled with the
reason (ioc, fok, stp, budget). An order is finished exactly when an OrderFilled or OrderCanceled
names it. Trades execute at the maker's price.

Quote budget (market buys): `quote_budget` is the largest allowed sum of `price_ticks * qty_lots` over
the order's fills. In money it is `quote_budget * tick_size * lot_size`; a caller that floors a decimal
budget to that grid can only make the engine spend less than it holds, never more. Fill and cancel
events carry the cumulative `filled_lots` and `filled_quote` (same unit), so releasing a hold is exact:
a market buy releases `quote_budget - filled_quote`, a limit buy `price * qty - filled_quote` once
finished, a sell its `remaining_lots`.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, NamedTuple


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class StpMode(StrEnum):
    """What happens when an incoming order would trade with a resting order of the same account."""

    CANCEL_RESTING = "cancel_resting"  # cancel the maker, keep matching
    CANCEL_INCOMING = "cancel_incoming"  # cancel the taker's remainder, leave the maker
    CANCEL_BOTH = "cancel_both"


class CancelReason(StrEnum):
    USER = "user"
    ADMIN = "admin"
    IOC = "ioc"  # unfilled remainder of an immediate order: IOC limits and every market order
    FOK = "fok"  # a fill-or-kill order that could not fill completely; nothing traded
    STP = "stp"  # self-trade prevention
    BUDGET = "budget"  # market buy: what is left of the budget cannot pay one lot at the next price


class RejectReason(StrEnum):
    HALTED = "halted"
    DUPLICATE_ORDER_ID = "duplicate_order_id"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_PRICE = "invalid_price"
    INVALID_BUDGET = "invalid_budget"
    INVALID_TIME_IN_FORCE = "invalid_time_in_force"
    INVALID_POST_ONLY = "invalid_post_only"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    UNKNOWN_ORDER = "unknown_order"  # cancel of an order that is not open (never was, filled, canceled)


# --- commands: immutable and plain (ints, str enums, None), so the caller can log and replay them ---


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrder:
    """A new order. Limit: `qty_lots` and `price_ticks`; post-only needs GTC. Market sell: `qty_lots`.
    Market buy: `qty_lots` and/or `quote_budget`, whichever runs out first stops it. Market orders
    never rest (GTC acts as IOC; FOK needs `qty_lots`). Self-trade prevention follows the incoming
    order's `stp`, or the engine's default when None."""

    order_id: int
    account_id: int
    side: Side
    order_type: OrderType = OrderType.LIMIT
    qty_lots: int | None = None
    price_ticks: int | None = None
    quote_budget: int | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    stp: StpMode | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancel:
    """Cancel one open order; with `account_id`, only if that account owns it."""

    order_id: int
    account_id: int | None = None
    reason: CancelReason = CancelReason.USER


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAll:
    """Cancel every open order of one account, or of everyone when `account_id` is None."""

    account_id: int | None = None
    reason: CancelReason = CancelReason.USER


@dataclass(frozen=True, slots=True, kw_only=True)
class SetHalted:
    """Halt (kill switch) or resume the book: a halted book rejects new orders but still cancels."""

    halted: bool


Command = NewOrder | Cancel | CancelAll | SetHalted


# --- events --------------------------------------------------------------------------------------
# NamedTuples rather than frozen dataclasses: equally immutable and slotted, but about three times
# cheaper to build (frozen dataclasses set each field through object.__setattr__), and the engine
# builds several per command. Equality is made type-aware below, so OrderFilled(...) never equals an
# OrderPartiallyFilled(...) with the same fields.


class OrderAccepted(NamedTuple):
    order_id: int
    account_id: int
    side: Side
    order_type: OrderType
    price_ticks: int | None
    qty_lots: int | None
    quote_budget: int | None


class OrderRejected(NamedTuple):
    """The order never entered the engine: the caller releases its whole hold."""

    order_id: int
    account_id: int
    reason: RejectReason


class CancelRejected(NamedTuple):
    """A cancel that found no open order (cancel races). Separate from OrderRejected so that a late
    cancel can never be mistaken for a rejected order whose hold must be released."""

    order_id: int
    account_id: int | None
    reason: RejectReason


class TradeExecuted(NamedTuple):
    """One trade, always at the maker's price."""

    trade_id: int
    price_ticks: int
    qty_lots: int
    taker_side: Side
    maker_order_id: int
    maker_account_id: int
    taker_order_id: int
    taker_account_id: int


class OrderPartiallyFilled(NamedTuple):
    """One fill of one order that stays open. `filled_*` are cumulative; `filled_quote` is the sum of
    price_ticks * qty_lots over the order's fills. `remaining_lots` is None for a budget-only buy."""

    order_id: int
    account_id: int
    side: Side
    trade_id: int
    price_ticks: int
    qty_lots: int
    remaining_lots: int | None
    filled_lots: int
    filled_quote: int
    is_maker: bool


class OrderFilled(NamedTuple):
    """The fill that completes an order (`remaining_lots == 0`); fields as in OrderPartiallyFilled."""

    order_id: int
    account_id: int
    side: Side
    trade_id: int
    price_ticks: int
    qty_lots: int
    remaining_lots: int | None
    filled_lots: int
    filled_quote: int
    is_maker: bool


class OrderCanceled(NamedTuple):
    """The end of an order that did not fill completely. `remaining_lots` (None for a budget-only buy)
    and the cumulative `filled_*` let the ledger release exactly what is still held."""

    order_id: int
    account_id: int
    side: Side
    price_ticks: int | None
    reason: CancelReason
    remaining_lots: int | None
    filled_lots: int
    filled_quote: int


class BookChanged(NamedTuple):
    """An L2 delta: the new total at one price level (0: the level is gone). `seq` counts deltas of this
    symbol, one by one, so a client applies those after its snapshot's `seq` and detects gaps."""

    seq: int
    side: Side
    price_ticks: int
    qty_lots: int


class HaltChanged(NamedTuple):
    halted: bool


Event = (
    OrderAccepted
    | OrderRejected
    | CancelRejected
    | TradeExecuted
    | OrderPartiallyFilled
    | OrderFilled
    | OrderCanceled
    | BookChanged
    | HaltChanged
)

EVENT_TYPES: tuple[type[Event], ...] = (
    OrderAccepted,
    OrderRejected,
    CancelRejected,
    TradeExecuted,
    OrderPartiallyFilled,
    OrderFilled,
    OrderCanceled,
    BookChanged,
    HaltChanged,
)


def _typed_eq(self: tuple[Any, ...], other: object) -> bool:
    return type(self) is type(other) and tuple.__eq__(self, other)


def _typed_ne(self: tuple[Any, ...], other: object) -> bool:
    return not _typed_eq(self, other)


def _typed_hash(self: tuple[Any, ...]) -> int:
    return hash((type(self).__name__, tuple(self)))


for _event_type in EVENT_TYPES:
    setattr(_event_type, "__eq__", _typed_eq)  # noqa: B010 - mypy rejects dunders in NamedTuple bodies
    setattr(_event_type, "__ne__", _typed_ne)  # noqa: B010
    setattr(_event_type, "__hash__", _typed_hash)  # noqa: B010


# --- snapshots and restore -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RestingOrder:
    """An open order as the book holds it: what `open_orders()` returns and `restore()` takes."""

    order_id: int
    account_id: int
    side: Side
    price_ticks: int
    remaining_lots: int
    filled_lots: int = 0
    filled_quote: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSnapshot:
    """L2 levels, best first, as (price_ticks, qty_lots); valid as of BookChanged number `seq`."""

    seq: int
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]


# --- the book ------------------------------------------------------------------------------------

# Hot paths build events with tuple.__new__, skipping the NamedTuple's Python-level __new__.
_new = tuple.__new__
_BUY = Side.BUY
_SELL = Side.SELL
_LIMIT = OrderType.LIMIT
_GTC = TimeInForce.GTC
_FOK = TimeInForce.FOK
_CANCEL_RESTING = StpMode.CANCEL_RESTING
_CANCEL_INCOMING = StpMode.CANCEL_INCOMING
_CANCEL_BOTH = StpMode.CANCEL_BOTH
_STP = CancelReason.STP
_BUDGET = CancelReason.BUDGET
_IOC = CancelReason.IOC


class _Order:
    """A resting order. Mutable, engine-private; `remaining == 0` marks one canceled in place."""

    __slots__ = ("account_id", "filled", "filled_quote", "level", "order_id", "remaining", "side")

    def __init__(
        self,
        order_id: int,
        account_id: int,
        side: Side,
        remaining: int,
        filled: int,
        filled_quote: int,
        level: _Level,
    ) -> None:
        self.order_id = order_id
        self.account_id = account_id
        self.side = side
        self.remaining = remaining
        self.filled = filled
        self.filled_quote = filled_quote
        self.level = level


class _Level:
    """One price level: a FIFO of orders. Cancels only mark an order dead (O(1)); matching skips and
    drops dead entries at the front, and the queue is compacted when dead entries pile up."""

    __slots__ = ("key", "live", "orders", "price", "total")

    def __init__(self, price: int, key: int) -> None:
        self.price = price
        self.key = key  # price for bids, -price for asks: on both sides the best level has the largest key
        self.total = 0
        self.live = 0
        self.orders: deque[_Order] = deque()


class MatchingEngine:
    """Price-time priority matching for one symbol. Not thread-safe by design: one writer."""

    __slots__ = (
        "_ask_keys",
        "_asks",
        "_bid_keys",
        "_bids",
        "_by_account",
        "_halted",
        "_next_trade_id",
        "_orders",
        "_seq",
        "default_stp",
        "symbol",
    )

    def __init__(
        self,
        symbol: str,
        *,
        default_stp: StpMode = StpMode.CANCEL_INCOMING,
        next_trade_id: int = 1,
        book_seq: int = 0,
    ) -> None:
        self.symbol = symbol
        self.default_stp = default_stp
        self._next_trade_id = next_trade_id
        self._seq = book_seq
        self._halted = False
        # Each side: key -> level, plus the keys sorted ascending, so the best level is always last.
        self._bids: dict[int, _Level] = {}
        self._bid_keys: list[int] = []
        self._asks: dict[int, _Level] = {}
        self._ask_keys: list[int] = []
        # Open orders in arrival order, which is also their time priority.
        self._orders: dict[int, _Order] = {}
        self._by_account: dict[int, dict[int, _Order]] = {}

    # --- state -----------------------------------------------------------------------------------

    @property
    def book_seq(self) -> int:
        """Number of the last BookChanged emitted."""
        return self._seq

    @property
    def next_trade_id(self) -> int:
        return self._next_trade_id

    @property
    def halted(self) -> bool:
        return self._halted

    @property
    def best_bid(self) -> int | None:
        return self._bid_keys[-1] if self._bid_keys else None

    @property
    def best_ask(self) -> int | None:
        return -self._ask_keys[-1] if self._ask_keys else None

    def __len__(self) -> int:
        """Number of open orders."""
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def order(self, order_id: int) -> RestingOrder | None:
        o = self._orders.get(order_id)
        return None if o is None else _public(o)

    def open_orders(self) -> list[RestingOrder]:
        """Open orders in time priority: feeding them to `restore()` rebuilds this very book."""
        return [_public(o) for o in self._orders.values()]

    def snapshot(self, depth: int | None = None) -> BookSnapshot:
        """L2 snapshot, `depth` levels a side (all when None)."""
        return BookSnapshot(
            seq=self._seq,
            bids=_depth(self._bids, self._bid_keys, depth),
            asks=_depth(self._asks, self._ask_keys, depth),
        )

    def restore(self, orders: Iterable[RestingOrder]) -> None:
        """Rebuild the book after a restart, without matching and emitting nothing. Any order of the
        list that keeps each price level in time order rebuilds the same book; ascending per-symbol
        sequence also reproduces `open_orders()` and CancelAll exactly. A crossed or invalid list is
        corrupt state: ValueError (discard the engine)."""
        if self._orders:
            raise ValueError("restore() needs an empty book")
        for r in orders:
            if r.order_id in self._orders:
                raise ValueError(f"duplicate open order {r.order_id}")
            if r.remaining_lots <= 0 or r.price_ticks <= 0 or r.filled_lots < 0 or r.filled_quote < 0:
                raise ValueError(f"invalid open order {r.order_id}")
            self._rest(
                r.order_id,
                r.account_id,
                r.side,
                r.price_ticks,
                r.remaining_lots,
                r.filled_lots,
                r.filled_quote,
            )
        if self._bid_keys and self._ask_keys and self._bid_keys[-1] >= -self._ask_keys[-1]:
            raise ValueError("restored book is crossed")

    # --- commands --------------------------------------------------------------------------------

    def process(self, cmd: Command) -> list[Event]:
        """Apply one command; the events say everything that happened, in order."""
        if isinstance(cmd, NewOrder):
            return self.new_order(cmd)
        if isinstance(cmd, Cancel):
            return self.cancel(cmd)
        if isinstance(cmd, CancelAll):
            return self.cancel_all(cmd)
        self._halted = cmd.halted
        return [HaltChanged(cmd.halted)]

    def run(self, cmds: Iterable[Command]) -> Iterator[Event]:
        """All events of a command log, in order (replays, tests)."""
        for cmd in cmds:
            yield from self.process(cmd)

    def cancel(self, cmd: Cancel) -> list[Event]:
        order = self._orders.get(cmd.order_id)
        if order is None or (cmd.account_id is not None and order.account_id != cmd.account_id):
            return [CancelRejected(cmd.order_id, cmd.account_id, RejectReason.UNKNOWN_ORDER)]
        events: list[Event] = []
        self._cancel_resting(order, cmd.reason, events)
        return events

    def cancel_all(self, cmd: CancelAll) -> list[Event]:
        """Cancels in time priority; nothing to cancel gives no events."""
        if cmd.account_id is None:
            victims = list(self._orders.values())
        else:
            victims = list(self._by_account.get(cmd.account_id, {}).values())
        events: list[Event] = []
        for order in victims:
            self._cancel_resting(order, cmd.reason, events)
        return events

    def new_order(self, cmd: NewOrder) -> list[Event]:
        order_id = cmd.order_id
        account_id = cmd.account_id
        reject = self._check(cmd)
        if reject is not None:
            return [OrderRejected(order_id, account_id, reject)]

        side = cmd.side
        price = cmd.price_ticks
        qty = cmd.qty_lots
        budget = cmd.quote_budget
        is_buy = side is _BUY
        if is_buy:
            opp_keys, opp_levels = self._ask_keys, self._asks
            limit_key = None if price is None else -price
        else:
            opp_keys, opp_levels = self._bid_keys, self._bids
            limit_key = price
        # A level crosses when its key >= limit_key (keys grow towards the best price on both sides).
        if (
            price is not None
            and qty is not None
            and cmd.time_in_force is _GTC
            and (not opp_keys or opp_keys[-1] < (-price if is_buy else price))
        ):
            # The common case, a passive limit: it rests whole, nothing to match.
            level = self._rest(order_id, account_id, side, price, qty, 0, 0)
            self._seq += 1
            return [
                _new(OrderAccepted, (order_id, account_id, side, cmd.order_type, price, qty, budget)),
                _new(BookChanged, (self._seq, side, price, level.total)),
            ]
        if cmd.post_only:  # a post-only order is a GTC limit: here it crosses
            return [OrderRejected(order_id, account_id, RejectReason.POST_ONLY_WOULD_TAKE)]

        opp_side = _SELL if is_buy else _BUY

        stp = cmd.stp or self.default_stp
        # Internally a budget-only buy gets a lot cap it can never reach (every lot costs >= 1 tick).
        capped = qty is not None
        if qty is not None:
            rem = qty
        else:
            assert budget is not None  # _check: a buy without a quantity has a budget
            rem = budget + 1
        budget_left = -1 if budget is None else budget  # -1: no budget limit
        events: list[Event] = [
            _new(OrderAccepted, (order_id, account_id, side, cmd.order_type, price, qty, budget))
        ]
        emit = events.append

        if cmd.time_in_force is _FOK and not self._fok_fillable(
            opp_keys, opp_levels, limit_key, account_id, stp, rem, budget_left
        ):
            emit(_new(OrderCanceled, (order_id, account_id, side, price, CancelReason.FOK, qty, 0, 0)))
            return events

        filled = 0
        filled_quote = 0
        stop: CancelReason | None = None
        trade_id = self._next_trade_id
        orders_by_id = self._orders
        by_account = self._by_account
        while opp_keys:
            key = opp_keys[-1]
            if limit_key is not None and key < limit_key:
                break
            level = opp_levels[key]
            lprice = level.price
            queue = level.orders
            total_before = level.total
            while True:
                if budget_left >= 0 and budget_left < lprice:
                    stop = _BUDGET
                    break
                maker = queue[0]
                mrem = maker.remaining
                if mrem == 0:  # canceled in place earlier
                    queue.popleft()
                    continue
                if maker.account_id == account_id:
                    if stp is _CANCEL_INCOMING:
                        stop = _STP
                        break
                    self._cancel_resting(maker, _STP, events, book_event=False)
                    if stp is _CANCEL_BOTH:
                        stop = _STP
                        break
                    if level.live == 0:
                        break
                    continue
                q = rem if rem < mrem else mrem
                if budget_left >= 0:
                    afford = budget_left // lprice
                    if afford < q:
                        q = afford
                    budget_left -= q * lprice
                cost = q * lprice
                rem -= q
                filled += q
                filled_quote += cost
                mrem -= q
                m_filled = maker.filled + q
                m_quote = maker.filled_quote + cost
                maker.remaining = mrem
                maker.filled = m_filled
                maker.filled_quote = m_quote
                level.total -= q
                m_id = maker.order_id
                m_account = maker.account_id
                emit(_new(TradeExecuted, (trade_id, lprice, q, side, m_id, m_account, order_id, account_id)))
                if mrem == 0:
                    queue.popleft()
                    level.live -= 1
                    del orders_by_id[m_id]
                    acct_orders = by_account[m_account]
                    del acct_orders[m_id]
                    if not acct_orders:
                        del by_account[m_account]
                    maker_event: type[OrderFilled | OrderPartiallyFilled] = OrderFilled
                else:
                    maker_event = OrderPartiallyFilled
                emit(
                    _new(
                        maker_event,
                        (m_id, m_account, opp_side, trade_id, lprice, q, mrem, m_filled, m_quote, True),
                    )
                )
                if capped:
                    left: int | None = rem
                    taker_event: type[OrderFilled | OrderPartiallyFilled] = (
                        OrderFilled if rem == 0 else OrderPartiallyFilled
                    )
                else:
                    left, taker_event = None, OrderPartiallyFilled
                emit(
                    _new(
                        taker_event,
                        (order_id, account_id, side, trade_id, lprice, q, left, filled, filled_quote, False),
                    )
                )
                trade_id += 1
                if rem == 0 or level.live == 0:
                    break
            if level.live == 0:
                opp_keys.pop()
                del opp_levels[key]
                self._seq += 1
                emit(_new(BookChanged, (self._seq, opp_side, lprice, 0)))
            elif level.total != total_before:
                self._seq += 1
                emit(_new(BookChanged, (self._seq, opp_side, lprice, level.total)))
            if stop is not None or rem == 0:
                break
        self._next_trade_id = trade_id

        if rem == 0 and capped:
            return events
        left = rem if capped else None
        if stop is not None:
            emit(_new(OrderCanceled, (order_id, account_id, side, price, stop, left, filled, filled_quote)))
        elif price is not None and cmd.time_in_force is _GTC:  # a GTC limit rests what is left
            level = self._rest(order_id, account_id, side, price, rem, filled, filled_quote)
            self._seq += 1
            emit(_new(BookChanged, (self._seq, side, level.price, level.total)))
        else:
            emit(_new(OrderCanceled, (order_id, account_id, side, price, _IOC, left, filled, filled_quote)))
        return events

    # --- internals -------------------------------------------------------------------------------

    def _check(self, cmd: NewOrder) -> RejectReason | None:
        """Why the order cannot enter the book, checked before it touches any state."""
        if self._halted:
            return RejectReason.HALTED
        if cmd.order_id in self._orders:
            return RejectReason.DUPLICATE_ORDER_ID
        qty = cmd.qty_lots
        budget = cmd.quote_budget
        if cmd.order_type is _LIMIT:
            if cmd.price_ticks is None or cmd.price_ticks <= 0:
                return RejectReason.INVALID_PRICE
            if qty is None or qty <= 0:
                return RejectReason.INVALID_QUANTITY
            if budget is not None:
                return RejectReason.INVALID_BUDGET
            if cmd.post_only and cmd.time_in_force is not _GTC:
                return RejectReason.INVALID_POST_ONLY
            return None
        if cmd.price_ticks is not None:
            return RejectReason.INVALID_PRICE
        if cmd.post_only:
            return RejectReason.INVALID_POST_ONLY
        if qty is not None and qty <= 0:
            return RejectReason.INVALID_QUANTITY
        if cmd.side is _SELL:
            if qty is None:
                return RejectReason.INVALID_QUANTITY
            if budget is not None:
                return RejectReason.INVALID_BUDGET
            return None
        if budget is not None and budget <= 0:
            return RejectReason.INVALID_BUDGET
        if qty is None:
            if budget is None:
                return RejectReason.INVALID_QUANTITY
            if cmd.time_in_force is _FOK:  # all-or-nothing needs a quantity to be all of
                return RejectReason.INVALID_TIME_IN_FORCE
        return None

    @staticmethod
    def _fok_fillable(
        opp_keys: list[int],
        opp_levels: dict[int, _Level],
        limit_key: int | None,
        account_id: int,
        stp: StpMode,
        qty: int,
        budget_left: int,
    ) -> bool:
        """Dry run of the matching loop, changing nothing: would `qty` fill completely?"""
        for key in reversed(opp_keys):
            if limit_key is not None and key < limit_key:
                return False
            level = opp_levels[key]
            price = level.price
            for maker in level.orders:
                if maker.remaining == 0:
                    continue
                if budget_left >= 0 and budget_left < price:
                    return False
                if maker.account_id == account_id:
                    if stp is _CANCEL_RESTING:
                        continue
                    return False
                q = min(qty, maker.remaining)
                if budget_left >= 0:
                    q = min(q, budget_left // price)
                    budget_left -= q * price
                qty -= q
                if qty == 0:
                    return True
        return False

    def _rest(
        self,
        order_id: int,
        account_id: int,
        side: Side,
        price: int,
        qty: int,
        filled: int,
        filled_quote: int,
    ) -> _Level:
        if side is _BUY:
            keys, levels, key = self._bid_keys, self._bids, price
        else:
            keys, levels, key = self._ask_keys, self._asks, -price
        level = levels.get(key)
        if level is None:
            level = levels[key] = _Level(price, key)
            if not keys or key > keys[-1]:
                keys.append(key)
            else:
                insort(keys, key)
        order = _Order(order_id, account_id, side, qty, filled, filled_quote, level)
        level.orders.append(order)
        level.total += qty
        level.live += 1
        self._orders[order_id] = order
        acct_orders = self._by_account.get(account_id)
        if acct_orders is None:
            self._by_account[account_id] = {order_id: order}
        else:
            acct_orders[order_id] = order
        return level

    def _cancel_resting(
        self, order: _Order, reason: CancelReason, events: list[Event], *, book_event: bool = True
    ) -> None:
        """Take a resting order out of the book. Inside the matching loop (`book_event=False`) the
        loop owns the level: it reports the level's new total and drops an emptied level itself."""
        rem = order.remaining
        order.remaining = 0
        level = order.level
        level.total -= rem
        level.live -= 1
        order_id = order.order_id
        account_id = order.account_id
        del self._orders[order_id]
        acct_orders = self._by_account[account_id]
        del acct_orders[order_id]
        if not acct_orders:
            del self._by_account[account_id]
        queue = level.orders
        if queue[0] is order:
            queue.popleft()
        elif len(queue) > 2 * level.live + 16:
            level.orders = deque(o for o in queue if o.remaining)
        events.append(
            _new(
                OrderCanceled,
                (
                    order_id,
                    account_id,
                    order.side,
                    level.price,
                    reason,
                    rem,
                    order.filled,
                    order.filled_quote,
                ),
            )
        )
        if not book_event:
            return
        if level.live == 0:
            keys, levels = (
                (self._bid_keys, self._bids) if order.side is _BUY else (self._ask_keys, self._asks)
            )
            if keys[-1] == level.key:
                keys.pop()
            else:
                del keys[bisect_left(keys, level.key)]
            del levels[level.key]
        self._seq += 1
        events.append(_new(BookChanged, (self._seq, order.side, level.price, level.total)))


def _public(o: _Order) -> RestingOrder:
    return RestingOrder(
        order_id=o.order_id,
        account_id=o.account_id,
        side=o.side,
        price_ticks=o.level.price,
        remaining_lots=o.remaining,
        filled_lots=o.filled,
        filled_quote=o.filled_quote,
    )


def _depth(levels: dict[int, _Level], keys: list[int], depth: int | None) -> tuple[tuple[int, int], ...]:
    best_first = reversed(keys) if depth is None else reversed(keys[-depth:] if depth > 0 else [])
    return tuple((levels[k].price, levels[k].total) for k in best_first)


# --- serialisation and hashing -------------------------------------------------------------------

_COMMAND_TYPES: dict[str, type[Command]] = {t.__name__: t for t in (NewOrder, Cancel, CancelAll, SetHalted)}
_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "side": Side,
    "order_type": OrderType,
    "time_in_force": TimeInForce,
    "stp": StpMode,
    "reason": CancelReason,
}


def command_to_dict(cmd: Command) -> dict[str, Any]:
    """A JSON-ready dict with a `type` key; `command_from_dict` inverts it."""
    return {"type": type(cmd).__name__, **{k: _plain(v) for k, v in asdict(cmd).items()}}


def command_from_dict(data: dict[str, Any]) -> Command:
    fields = dict(data)
    cls = _COMMAND_TYPES[fields.pop("type")]
    for name, enum_type in _ENUM_FIELDS.items():
        if fields.get(name) is not None:
            fields[name] = enum_type(fields[name])
    return cls(**fields)


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dict with a `type` key (enums as their string values)."""
    return {"type": type(event).__name__, **{k: _plain(v) for k, v in event._asdict().items()}}


def canonical_event(event: Event) -> bytes:
    """One event as canonical bytes: a compact JSON array of the type name and the fields in order."""
    return json.dumps([type(event).__name__, *map(_plain, event)], separators=(",", ":")).encode()


def log_hash(events: Iterable[Event]) -> str:
    """sha256 (hex) of an event log, one canonical event per line; filter first for a trade-log hash."""
    h = hashlib.sha256()
    for event in events:
        h.update(canonical_event(event))
        h.update(b"\n")
    return h.hexdigest()


def trade_log_hash(events: Iterable[Event]) -> str:
    """log_hash over the TradeExecuted events only."""
    return log_hash(e for e in events if isinstance(e, TradeExecuted))


def _plain(v: object) -> object:
    return v.value if isinstance(v, StrEnum) else v
