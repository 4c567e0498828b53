"""Ledger SQL. Balances change only through postings: a trigger applies each posting to its account, and
a deferred constraint trigger refuses, at commit, any entry whose postings do not sum to zero per asset."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

import asyncpg

from server_fastapi.core.db import Connection


class Posting(NamedTuple):
    account_id: int
    bucket: str  # 'available' | 'held'
    asset: str
    amount: Decimal


class EntryDraft(NamedTuple):
    kind: str
    reference: str
    postings: Sequence[Posting]


async def user_account(conn: Connection, owner_id: UUID, asset: str) -> int:
    """The id of the user's account in `asset`, created on first use."""
    account_id: int | None = await conn.fetchval(
        "SELECT id FROM ledger_accounts WHERE owner_id = $1 AND asset = $2 AND kind = 'user'", owner_id, asset
    )
    if account_id is None:
        account_id = await conn.fetchval(
            """
            INSERT INTO ledger_accounts (owner_id, asset, kind) VALUES ($1, $2, 'user')
            ON CONFLICT (owner_id, asset, kind) DO UPDATE SET kind = EXCLUDED.kind
            RETURNING id
            """,
            owner_id,
            asset,
        )
    assert account_id is not None
    return account_id


async def deposit_by_reference(conn: Connection, reference: str) -> asyncpg.Record | None:
    """The deposit credited under this external reference: its entry, when, and the user, asset and amount."""
    return await conn.fetchrow(
        """
        SELECT e.id, e.created_at, a.owner_id, p.asset, p.amount
          FROM ledger_entries e
          JOIN ledger_postings p ON p.entry_id = e.id
          JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'user'
         WHERE e.kind = 'deposit' AND e.reference = $1
        """,
        reference,
    )


async def user_accounts(conn: Connection, pairs: Sequence[tuple[UUID, str]]) -> dict[tuple[UUID, str], int]:
    """Account ids of many (owner, asset) pairs, creating the missing ones. Existing accounts are only read:
    an upsert would lock (and rewrite) every row, making the engine's settlement and order entry's holds
    wait on each other."""
    owners = [owner for owner, _ in pairs]
    assets = [asset for _, asset in pairs]
    rows = await conn.fetch(
        """
        SELECT a.id, a.owner_id, a.asset FROM unnest($1::uuid[], $2::text[]) AS p (owner_id, asset)
          JOIN ledger_accounts a ON a.owner_id = p.owner_id AND a.asset = p.asset AND a.kind = 'user'
        """,
        owners,
        assets,
    )
    found = {(row["owner_id"], row["asset"]): row["id"] for row in rows}
    missing = [pair for pair in pairs if pair not in found]
    if missing:
        rows = await conn.fetch(
            """
            INSERT INTO ledger_accounts (owner_id, asset, kind)
            SELECT owner_id, asset, 'user' FROM unnest($1::uuid[], $2::text[]) AS p (owner_id, asset)
            ORDER BY owner_id, asset
            ON CONFLICT (owner_id, asset, kind) DO UPDATE SET kind = EXCLUDED.kind
            RETURNING id, owner_id, asset
            """,
            [owner for owner, _ in missing],
            [asset for _, asset in missing],
        )
        found.update({(row["owner_id"], row["asset"]): row["id"] for row in rows})
    return found


async def system_account(conn: Connection, asset: str, kind: str) -> int:
    """The venue's `fees` or `external` account in `asset` (the external one is the other side of
    deposits and withdrawals, so its balance is minus what came in)."""
    account_id: int | None = await conn.fetchval(
        """
        INSERT INTO ledger_accounts (owner_id, asset, kind) VALUES (NULL, $1, $2)
        ON CONFLICT (owner_id, asset, kind) DO UPDATE SET kind = EXCLUDED.kind
        RETURNING id
        """,
        asset,
        kind,
    )
    assert account_id is not None
    return account_id


async def move_own_funds(
    conn: Connection, owner_id: UUID, asset: str, amount: Decimal, *, kind: str, reference: str, to_held: bool
) -> bool:
    """Move `amount` between the available and held buckets of one user account, in one statement.
    False (and nothing written) when the source bucket holds less than `amount`."""
    source, target = ("available", "held") if to_held else ("held", "available")
    entry_id = await conn.fetchval(
        f"""
        WITH account AS (
            SELECT id FROM ledger_accounts
             WHERE owner_id = $1 AND asset = $2 AND kind = 'user' AND {source} >= $3
             FOR UPDATE
        ), entry AS (
            INSERT INTO ledger_entries (kind, reference) SELECT $4, $5 FROM account RETURNING id
        ), postings AS (
            INSERT INTO ledger_postings (entry_id, account_id, bucket, asset, amount)
            SELECT entry.id, account.id, b.bucket, $2, b.amount
              FROM entry, account,
                   (VALUES ('{source}', -$3::numeric), ('{target}', $3::numeric)) AS b (bucket, amount)
        )
        SELECT id FROM entry
        """,  # noqa: S608 (bucket names are constants)
        owner_id,
        asset,
        amount,
        kind,
        reference,
    )
    return entry_id is not None


async def insert_entries(conn: Connection, entries: Sequence[EntryDraft]) -> None:
    """Write many balanced entries in three round trips. Postings are applied in account order, so
    concurrent writers lock accounts in the same order and cannot deadlock one another."""
    if not entries:
        return
    entry_ids: list[int] = [
        row[0]
        for row in await conn.fetch(
            "SELECT nextval('ledger_entries_id_seq') FROM generate_series(1, $1)", len(entries)
        )
    ]
    await conn.execute(
        """
        INSERT INTO ledger_entries (id, kind, reference)
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
        """,
        entry_ids,
        [entry.kind for entry in entries],
        [entry.reference for entry in entries],
    )
    rows = sorted(
        (
            (posting.account_id, entry_id, posting.bucket, posting.asset, posting.amount)
            for entry_id, entry in zip(entry_ids, entries, strict=True)
            for posting in entry.postings
            if posting.amount != 0
        ),
        key=lambda row: (row[0], row[1]),
    )
    await conn.execute(
        """
        INSERT INTO ledger_postings (account_id, entry_id, bucket, asset, amount)
        SELECT a, e, b, s, m
          FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::numeric[])
               WITH ORDINALITY AS p (a, e, b, s, m, n)
         ORDER BY n
        """,
        [row[0] for row in rows],
        [row[1] for row in rows],
        [row[2] for row in rows],
        [row[3] for row in rows],
        [row[4] for row in rows],
    )


async def balances(conn: Connection, owner_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT asset, available, held FROM ledger_accounts"
        " WHERE owner_id = $1 AND kind = 'user' ORDER BY asset",
        owner_id,
    )


async def balances_of(conn: Connection, account_ids: Sequence[int]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT owner_id, asset, available, held FROM ledger_accounts"
        " WHERE id = ANY($1::bigint[]) AND kind = 'user'",
        list(account_ids),
    )
