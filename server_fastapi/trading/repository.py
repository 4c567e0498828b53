"""Trading SQL: orders, the per-symbol command log and cursor, trades, halts, risk limits, idempotency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from server_fastapi.core.db import Connection

OPEN_STATUSES = ("open", "partially_filled")
ENGINE_NOTIFY_CHANNEL = "tessera_engine"
ENGINE_LEASE_NAMESPACE = 0x7E55
"""First key of the two-int advisory lock that makes one process the engine of a symbol; the second is
`hashtext(symbol)`."""


async def account_no(conn: Connection, user_id: UUID) -> int:
    """The engine's integer account number of a user, created on first use."""
    number: int | None = await conn.fetchval(
        """
        INSERT INTO trading_accounts (user_id) VALUES ($1)
        ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id
        RETURNING id
        """,
        user_id,
    )
    assert number is not None
    return number


async def order_context(conn: Connection, user_id: UUID, symbol: str, quote_asset: str) -> asyncpg.Record:
    """What order entry needs in one round trip: halts, the last trade price and the notional cap (pre-trade
    risk), the user's engine account number (None before their first order) and a new order id."""
    row = await conn.fetchrow(
        """
        SELECT
            (SELECT coalesce(bool_or(halted), false) FROM trading_halts
              WHERE scope IN ('global', $1)) AS halted,
            (SELECT price FROM trades WHERE symbol = $1 ORDER BY trade_id DESC LIMIT 1) AS last_price,
            (SELECT max_order_notional FROM risk_limits WHERE quote_asset = $2) AS max_order_notional,
            (SELECT id FROM trading_accounts WHERE user_id = $3) AS account_no,
            nextval('orders_id_seq') AS order_id
        """,
        symbol,
        quote_asset,
        user_id,
    )
    assert row is not None
    return row


async def halted(conn: Connection, symbol: str) -> bool:
    """Whether a kill switch (the market's own or the global one) is on."""
    on: bool = await conn.fetchval(
        "SELECT coalesce(bool_or(halted), false) FROM trading_halts WHERE scope IN ('global', $1)", symbol
    )
    return on


async def claim_idempotency_key(
    conn: Connection, user_id: UUID, key: str, request_hash: str
) -> asyncpg.Record | None:
    """Claim the key for this request; if another request claimed it first (a concurrent duplicate
    waits here for that one's transaction), the earlier claim: its hash and order id."""
    inserted = await conn.fetchval(
        """
        INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
        ON CONFLICT (user_id, key) DO NOTHING
        RETURNING true
        """,
        user_id,
        key,
        request_hash,
    )
    if inserted:
        return None
    return await conn.fetchrow(
        "SELECT request_hash, order_id FROM idempotency_keys WHERE user_id = $1 AND key = $2", user_id, key
    )


async def set_idempotency_order(conn: Connection, user_id: UUID, key: str, order_id: int) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET order_id = $3 WHERE user_id = $1 AND key = $2", user_id, key, order_id
    )


async def insert_order(
    conn: Connection, values: dict[str, Any], command: dict[str, Any], *, notify: bool
) -> asyncpg.Record:
    """Store the order and its `new` command; with `notify`, signal the symbol's runner in whichever process
    runs it (NOTIFY is delivered at commit).
    Nothing is locked per symbol: the runner numbers commands in the order their transactions commit
    (see `claim_commands`), so order entry for one market runs fully in parallel."""
    row = await conn.fetchrow(
        """
        WITH o AS (
            INSERT INTO orders (id, symbol, user_id, account_no, side, type, time_in_force, post_only, stp,
                                price, quantity, quote_budget, price_ticks, qty_lots, budget_units,
                                hold_asset, hold_amount, client_order_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
            RETURNING *
        ), c AS (
            INSERT INTO engine_commands (symbol, kind, order_id, payload)
            SELECT o.symbol, 'new', o.id, $19::jsonb FROM o
            RETURNING id
        )
        SELECT o.*, c.id AS command_id, CASE WHEN $21::boolean THEN pg_notify($20, o.symbol) END FROM o, c
        """,
        values["id"],
        values["symbol"],
        values["user_id"],
        values["account_no"],
        values["side"],
        values["type"],
        values["time_in_force"],
        values["post_only"],
        values["stp"],
        values["price"],
        values["quantity"],
        values["quote_budget"],
        values["price_ticks"],
        values["qty_lots"],
        values["budget_units"],
        values["hold_asset"],
        values["hold_amount"],
        values["client_order_id"],
        command,
        ENGINE_NOTIFY_CHANNEL,
        notify,
    )
    assert row is not None
    return row


async def insert_command(
    conn: Connection, symbol: str, kind: str, order_id: int | None, payload: dict[str, Any]
) -> int:
    """Append a command (cancel, cancel_all, halt) to the symbol's queue; returns its id."""
    command_id: int = await conn.fetchval(
        """
        WITH c AS (
            INSERT INTO engine_commands (symbol, kind, order_id, payload) VALUES ($1, $2, $3, $4::jsonb)
            RETURNING id
        )
        SELECT c.id FROM c, (SELECT pg_notify($5, $1)) AS n
        """,
        symbol,
        kind,
        order_id,
        payload,
        ENGINE_NOTIFY_CHANNEL,
    )
    return command_id


async def get_order(conn: Connection, order_id: int, user_id: UUID | None = None) -> asyncpg.Record | None:
    if user_id is None:
        return await conn.fetchrow("SELECT * FROM orders WHERE id = $1", order_id)
    return await conn.fetchrow("SELECT * FROM orders WHERE id = $1 AND user_id = $2", order_id, user_id)


async def get_orders(conn: Connection, order_ids: Sequence[int]) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM orders WHERE id = ANY($1::bigint[])", list(order_ids))


async def list_orders(
    conn: Connection,
    user_id: UUID,
    *,
    symbol: str | None,
    statuses: Sequence[str] | None,
    before_id: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT * FROM orders
         WHERE user_id = $1 AND ($2::text IS NULL OR symbol = $2)
           AND ($3::text[] IS NULL OR status = ANY($3)) AND ($4::bigint IS NULL OR id < $4)
         ORDER BY id DESC LIMIT $5
        """,
        user_id,
        symbol,
        list(statuses) if statuses else None,
        before_id,
        limit,
    )


async def active_symbols(conn: Connection, user_id: UUID, symbol: str | None) -> list[asyncpg.Record]:
    """Symbols where the user has orders that are open or not yet processed, with their ids."""
    return await conn.fetch(
        """
        SELECT symbol, array_agg(id ORDER BY id) AS ids FROM orders
         WHERE user_id = $1 AND status IN ('new', 'open', 'partially_filled')
           AND ($2::text IS NULL OR symbol = $2)
         GROUP BY symbol ORDER BY symbol
        """,
        user_id,
        symbol,
    )


async def list_fills(
    conn: Connection, user_id: UUID, *, symbol: str | None, before: tuple[str, int] | None, limit: int
) -> list[asyncpg.Record]:
    """The user's side of each trade, newest first; a trade against oneself cannot happen (STP)."""
    return await conn.fetch(
        """
        SELECT t.*, (t.maker_user_id = $1) AS is_maker FROM trades t
         WHERE (t.maker_user_id = $1 OR t.taker_user_id = $1) AND ($2::text IS NULL OR t.symbol = $2)
           AND ($3::text IS NULL OR (t.created_at, t.symbol, t.trade_id) < (
                (SELECT created_at FROM trades WHERE symbol = $3 AND trade_id = $4), $3, $4))
         ORDER BY t.created_at DESC, t.symbol DESC, t.trade_id DESC LIMIT $5
        """,
        user_id,
        symbol,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )


async def book_levels(conn: Connection, symbol: str, depth: int) -> tuple[int, list[asyncpg.Record]]:
    """The committed L2 book and the number of the last book delta it includes, read in one statement so
    both come from one snapshot."""
    rows = await conn.fetch(
        """
        SELECT c.seq, l.side, l.price, l.quantity
          FROM (SELECT coalesce((SELECT book_seq FROM engine_cursor WHERE symbol = $1), 0) AS seq) AS c
          LEFT JOIN (
            (SELECT side, price, sum(quantity - filled_quantity) AS quantity FROM orders
              WHERE symbol = $1 AND side = 'buy' AND status IN ('open', 'partially_filled')
              GROUP BY side, price ORDER BY price DESC LIMIT $2)
            UNION ALL
            (SELECT side, price, sum(quantity - filled_quantity) AS quantity FROM orders
              WHERE symbol = $1 AND side = 'sell' AND status IN ('open', 'partially_filled')
              GROUP BY side, price ORDER BY price ASC LIMIT $2)
          ) AS l ON true
        """,
        symbol,
        depth,
    )
    return rows[0]["seq"], [row for row in rows if row["side"] is not None]


async def set_halt(
    conn: Connection, scope: str, halted: bool, reason: str | None, actor: UUID
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO trading_halts (scope, halted, reason, updated_by) VALUES ($1, $2, $3, $4)
        ON CONFLICT (scope) DO UPDATE SET halted = $2, reason = $3, updated_by = $4, updated_at = now()
        RETURNING *
        """,
        scope,
        halted,
        reason,
        actor,
    )
    assert row is not None
    return row


async def halts(conn: Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM trading_halts ORDER BY scope")


# --- the runner ----------------------------------------------------------------------------------


async def ensure_cursor(conn: Connection, symbol: str) -> None:
    """The symbol's cursor row (an instrument created after the migrations has none yet)."""
    await conn.execute("INSERT INTO engine_cursor (symbol) VALUES ($1) ON CONFLICT DO NOTHING", symbol)


async def try_engine_lease(conn: Connection, symbol: str) -> bool:
    """Take the symbol's engine lease for the session of `conn` if no other session holds it."""
    got: bool = await conn.fetchval(
        "SELECT pg_try_advisory_lock($1, hashtext($2))", ENGINE_LEASE_NAMESPACE, symbol
    )
    return got


async def lock_cursor(conn: Connection, symbol: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM engine_cursor WHERE symbol = $1 FOR UPDATE", symbol)
    assert row is not None
    return row


async def open_orders(conn: Connection, symbol: str) -> list[asyncpg.Record]:
    """The resting orders of a symbol in time priority (command sequence)."""
    return await conn.fetch(
        """
        SELECT id, account_no, side, price_ticks, qty_lots, filled_lots, filled_units FROM orders
         WHERE symbol = $1 AND status IN ('open', 'partially_filled') ORDER BY seq
        """,
        symbol,
    )


async def claim_commands(conn: Connection, symbol: str, after_seq: int, limit: int) -> list[asyncpg.Record]:
    """Number the next committed, unnumbered commands of the symbol `after_seq + 1, ...` in id order and
    return them in that order. A command becomes visible when its transaction commits; one that commits
    later than another simply gets a later number, so there are no gaps to wait for and the numbered log
    is exactly the order the engine saw (replayable). The caller holds the cursor row lock."""
    rows = await conn.fetch(
        """
        WITH pending AS (
            SELECT id, row_number() OVER (ORDER BY id) AS n FROM engine_commands
             WHERE symbol = $1 AND seq IS NULL ORDER BY id LIMIT $3
        )
        UPDATE engine_commands c SET seq = $2 + pending.n FROM pending WHERE c.id = pending.id
        RETURNING c.id, c.seq, c.kind, c.order_id, c.payload
        """,
        symbol,
        after_seq,
        limit,
    )
    return sorted(rows, key=lambda row: row["seq"])  # RETURNING promises no order


async def update_orders(conn: Connection, updates: Sequence[tuple[Any, ...]]) -> list[asyncpg.Record]:
    """Apply (id, seq, status, filled_lots, filled_units, filled_quantity, filled_quote, cancel_reason,
    reject_reason) to many orders in id order (seq None keeps the order's number); returns the rows."""
    if not updates:
        return []
    ordered = sorted(updates, key=lambda update: update[0])
    columns = list(zip(*ordered, strict=True))
    return await conn.fetch(
        """
        UPDATE orders o SET seq = coalesce(u.seq, o.seq), status = u.status, filled_lots = u.filled_lots,
               filled_units = u.filled_units,
               filled_quantity = u.filled_quantity, filled_quote = u.filled_quote,
               cancel_reason = coalesce(u.cancel_reason, o.cancel_reason),
               reject_reason = coalesce(u.reject_reason, o.reject_reason), updated_at = now()
          FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::numeric[],
                      $7::numeric[], $8::text[], $9::text[])
               AS u (id, seq, status, filled_lots, filled_units, filled_quantity, filled_quote,
                     cancel_reason, reject_reason)
         WHERE o.id = u.id
        RETURNING o.*
        """,
        *[list(column) for column in columns],
    )


TRADE_COLUMNS = (
    "symbol",
    "trade_id",
    "seq",
    "price",
    "quantity",
    "quote_amount",
    "taker_side",
    "maker_order_id",
    "taker_order_id",
    "maker_user_id",
    "taker_user_id",
    "maker_fee",
    "maker_fee_asset",
    "taker_fee",
    "taker_fee_asset",
)


async def insert_trades(conn: Connection, trades: Sequence[tuple[Any, ...]]) -> list[asyncpg.Record]:
    if not trades:
        return []
    columns = list(zip(*trades, strict=True))
    return await conn.fetch(
        f"""
        INSERT INTO trades ({", ".join(TRADE_COLUMNS)})
        SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::numeric[], $5::numeric[],
                             $6::numeric[],
                             $7::text[], $8::bigint[], $9::bigint[], $10::uuid[], $11::uuid[], $12::numeric[],
                             $13::text[], $14::numeric[], $15::text[])
        RETURNING *
        """,  # noqa: S608 (column names are constants)
        *[list(column) for column in columns],
    )


async def advance_cursor(
    conn: Connection, symbol: str, processed_seq: int, book_seq: int, next_trade_id: int, halted: bool
) -> None:
    await conn.execute(
        """
        UPDATE engine_cursor
           SET processed_seq = $2, book_seq = $3, next_trade_id = $4, halted = $5, updated_at = now()
         WHERE symbol = $1
        """,
        symbol,
        processed_seq,
        book_seq,
        next_trade_id,
        halted,
    )
