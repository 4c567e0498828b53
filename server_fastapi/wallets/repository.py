"""Withdrawals SQL: the withdrawal rows and the hot wallets' nonce counters."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import asyncpg

from server_fastapi.core.db import Connection

Record = asyncpg.Record

_COLUMNS = """
    id, user_id, asset, amount, fee, chain_id, destination, status, review_reasons, travel_rule, hot_key_id,
    from_address, nonce, tx_hash, raw_transaction, failure_reason, reviewed_by, review_comment, reviewed_at,
    created_at, updated_at
"""


async def insert_withdrawal(
    conn: Connection,
    *,
    user_id: UUID,
    asset: str,
    amount: Decimal,
    fee: Decimal,
    chain_id: int,
    destination: str,
    travel_rule: bytes,
    hot_key_id: str,
) -> int:
    withdrawal_id: int = await conn.fetchval(
        """
        INSERT INTO withdrawals (user_id, asset, amount, fee, chain_id, destination, status, travel_rule,
                                 hot_key_id)
        VALUES ($1, $2, $3, $4, $5, $6, 'requested', $7, $8)
        RETURNING id
        """,
        user_id,
        asset,
        amount,
        fee,
        chain_id,
        destination,
        travel_rule,
        hot_key_id,
    )
    return withdrawal_id


async def withdrawal(
    conn: Connection, withdrawal_id: int, *, user_id: UUID | None = None, for_update: bool = False
) -> Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM withdrawals
         WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2)
        {"FOR UPDATE" if for_update else ""}
        """,  # noqa: S608 (a constant column list)
        withdrawal_id,
        user_id,
    )


async def withdrawals(
    conn: Connection, *, user_id: UUID | None, status: str | None, before_id: int | None, limit: int
) -> list[Record]:
    return await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM withdrawals
         WHERE ($1::uuid IS NULL OR user_id = $1)
           AND ($2::text IS NULL OR status = $2)
           AND ($3::bigint IS NULL OR id < $3)
         ORDER BY id DESC
         LIMIT $4
        """,  # noqa: S608 (a constant column list)
        user_id,
        status,
        before_id,
        limit,
    )


async def has_confirmed_to(conn: Connection, user_id: UUID, chain_id: int, destination: str) -> bool:
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (
            SELECT 1 FROM withdrawals
             WHERE user_id = $1 AND chain_id = $2 AND destination = $3 AND status = 'confirmed'
        )
        """,
        user_id,
        chain_id,
        destination,
    )
    return found


async def set_status(
    conn: Connection,
    withdrawal_id: int,
    status: str,
    *,
    review_reasons: list[str] | None = None,
    failure_reason: str | None = None,
) -> None:
    await conn.execute(
        """
        UPDATE withdrawals
           SET status = $2,
               review_reasons = coalesce($3::text[], review_reasons),
               failure_reason = coalesce($4, failure_reason),
               updated_at = now()
         WHERE id = $1
        """,
        withdrawal_id,
        status,
        review_reasons,
        failure_reason,
    )


async def set_review(conn: Connection, withdrawal_id: int, status: str, reviewer: UUID, comment: str) -> None:
    await conn.execute(
        """
        UPDATE withdrawals
           SET status = $2, reviewed_by = $3, review_comment = $4, reviewed_at = now(), updated_at = now()
         WHERE id = $1
        """,
        withdrawal_id,
        status,
        reviewer,
        comment,
    )


async def set_signed(
    conn: Connection,
    withdrawal_id: int,
    *,
    from_address: str,
    nonce: int,
    raw_transaction: str,
    tx_hash: str,
) -> None:
    await conn.execute(
        """
        UPDATE withdrawals
           SET status = 'signed', from_address = $2, nonce = $3, raw_transaction = $4, tx_hash = $5,
               updated_at = now()
         WHERE id = $1
        """,
        withdrawal_id,
        from_address,
        nonce,
        raw_transaction,
        tx_hash,
    )


async def next_in_status(conn: Connection, status: str) -> Record | None:
    """The oldest withdrawal in `status` nobody else is working on, locked (SKIP LOCKED) for this
    transaction. A signed one only when it holds its hot wallet's lowest signed nonce: a node queues a
    transaction with a gap before its nonce instead of mining it, so they go out strictly in sequence."""
    if status == "signed":
        return await conn.fetchrow(
            f"""
            SELECT {_COLUMNS} FROM withdrawals w
             WHERE status = 'signed'
               AND NOT EXISTS (
                   SELECT 1 FROM withdrawals earlier
                    WHERE earlier.status = 'signed' AND earlier.hot_key_id = w.hot_key_id
                      AND earlier.chain_id = w.chain_id AND earlier.nonce < w.nonce)
             ORDER BY chain_id, hot_key_id, nonce
             LIMIT 1
             FOR UPDATE SKIP LOCKED
            """  # noqa: S608 (constant columns)
        )
    return await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM withdrawals
         WHERE status = $1
         ORDER BY id
         LIMIT 1
         FOR UPDATE SKIP LOCKED
        """,  # noqa: S608 (constant columns)
        status,
    )


async def unsign_after(conn: Connection, key_id: str, chain_id: int, nonce: int) -> list[Record]:
    """Send the signed, never broadcast withdrawals of `key_id` with a nonce above `nonce` back to
    `approved`, their signatures dropped; returns what they were (id, nonce, tx_hash)."""
    return await conn.fetch(
        """
        UPDATE withdrawals w
           SET status = 'approved', from_address = NULL, nonce = NULL, raw_transaction = NULL,
               tx_hash = NULL, updated_at = now()
          FROM withdrawals old
         WHERE old.id = w.id AND w.hot_key_id = $1 AND w.chain_id = $2 AND w.status = 'signed'
           AND w.nonce > $3
        RETURNING old.id, old.nonce, old.tx_hash
        """,
        key_id,
        chain_id,
        nonce,
    )


async def set_next_nonce(conn: Connection, key_id: str, chain_id: int, nonce: int) -> None:
    await conn.execute(
        "UPDATE wallet_nonces SET next_nonce = $3 WHERE key_id = $1 AND chain_id = $2",
        key_id,
        chain_id,
        nonce,
    )


async def ids_in_status(conn: Connection, status: str, limit: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT id FROM withdrawals WHERE status = $1 ORDER BY id LIMIT $2", status, limit
    )
    return [row["id"] for row in rows]


async def lock_nonce(conn: Connection, key_id: str, chain_id: int) -> int | None:
    """The next nonce of `key_id` on `chain_id`, its row locked until the transaction ends; None if new."""
    nonce: int | None = await conn.fetchval(
        "SELECT next_nonce FROM wallet_nonces WHERE key_id = $1 AND chain_id = $2 FOR UPDATE",
        key_id,
        chain_id,
    )
    return nonce


async def start_nonce(conn: Connection, key_id: str, chain_id: int, first: int) -> int:
    """Create the counter at `first` unless another process did first; either way lock it and return it."""
    await conn.execute(
        """
        INSERT INTO wallet_nonces (key_id, chain_id, next_nonce) VALUES ($1, $2, $3)
        ON CONFLICT (key_id, chain_id) DO NOTHING
        """,
        key_id,
        chain_id,
        first,
    )
    nonce = await lock_nonce(conn, key_id, chain_id)
    assert nonce is not None
    return nonce


async def advance_nonce(conn: Connection, key_id: str, chain_id: int, used: int) -> None:
    await conn.execute(
        "UPDATE wallet_nonces SET next_nonce = $3 + 1 WHERE key_id = $1 AND chain_id = $2",
        key_id,
        chain_id,
        used,
    )
