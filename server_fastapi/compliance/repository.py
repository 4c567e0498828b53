"""SQL of the compliance domain: the KYC key store and profiles, erasure of an account's personal fields,
the audit chain as verification reads it, and market-abuse alerts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from server_fastapi.compliance.audit_chain import AuditRow
from server_fastapi.core.db import Connection

Record = asyncpg.Record

# --- key store and profiles -------------------------------------------------------------------------------


async def data_key_for_update(conn: Connection, user_id: UUID) -> Record | None:
    return await conn.fetchrow(
        "SELECT wrapped_key, master_key_id, destroyed_at FROM kyc_data_keys WHERE user_id = $1 FOR UPDATE",
        user_id,
    )


async def data_key(conn: Connection, user_id: UUID) -> Record | None:
    return await conn.fetchrow(
        "SELECT wrapped_key, master_key_id, destroyed_at FROM kyc_data_keys WHERE user_id = $1", user_id
    )


async def insert_data_key(conn: Connection, user_id: UUID, wrapped: bytes, master_key_id: str) -> None:
    await conn.execute(
        "INSERT INTO kyc_data_keys (user_id, wrapped_key, master_key_id) VALUES ($1, $2, $3)",
        user_id,
        wrapped,
        master_key_id,
    )


async def destroy_data_key(conn: Connection, user_id: UUID) -> None:
    """Crypto-shredding: the wrapped key is overwritten; the row stays as the record that it happened."""
    await conn.execute(
        """
        INSERT INTO kyc_data_keys (user_id, wrapped_key, master_key_id, destroyed_at)
        VALUES ($1, NULL, NULL, now())
        ON CONFLICT (user_id) DO UPDATE
           SET wrapped_key = NULL,
               master_key_id = NULL,
               destroyed_at = coalesce(kyc_data_keys.destroyed_at, now())
        """,
        user_id,
    )


async def upsert_profile(conn: Connection, user_id: UUID, kind: str, ciphertext: bytes) -> datetime:
    updated_at: datetime = await conn.fetchval(
        """
        INSERT INTO kyc_profiles (user_id, kind, ciphertext) VALUES ($1, $2, $3)
        ON CONFLICT (user_id) DO UPDATE SET kind = $2, ciphertext = $3, updated_at = now()
        RETURNING updated_at
        """,
        user_id,
        kind,
        ciphertext,
    )
    return updated_at


async def profile(conn: Connection, user_id: UUID) -> Record | None:
    return await conn.fetchrow(
        "SELECT kind, ciphertext, updated_at FROM kyc_profiles WHERE user_id = $1", user_id
    )


async def delete_profile(conn: Connection, user_id: UUID) -> None:
    await conn.execute("DELETE FROM kyc_profiles WHERE user_id = $1", user_id)


# --- erasure ----------------------------------------------------------------------------------------------


async def user_for_erasure(conn: Connection, user_id: UUID) -> Record | None:
    return await conn.fetchrow(
        "SELECT id, password_hash, erased_at FROM users WHERE id = $1 FOR UPDATE", user_id
    )


async def blank_user(conn: Connection, user_id: UUID) -> None:
    """Personal fields of `users` blanked; the row stays because balances, trades and the audit log refer
    to it. The address becomes one that cannot collide with a real one or be signed in with."""
    await conn.execute(
        """
        UPDATE users
           SET email = 'erased-' || id::text || '@erased.invalid',
               display_name = NULL,
               password_hash = NULL,
               totp_secret = NULL,
               totp_enabled_at = NULL,
               totp_last_step = NULL,
               erased_at = now(),
               updated_at = now()
         WHERE id = $1
        """,
        user_id,
    )
    await conn.execute("DELETE FROM user_recovery_codes WHERE user_id = $1", user_id)
    # Free text a person typed (key names) and what identifies their devices go too.
    await conn.execute(
        """
        UPDATE api_keys SET name = 'erased', ip_allowlist = NULL, revoked_at = coalesce(revoked_at, now())
         WHERE user_id = $1
        """,
        user_id,
    )
    await conn.execute("UPDATE auth_sessions SET user_agent = NULL, ip = NULL WHERE user_id = $1", user_id)


# --- audit chain ----------------------------------------------------------------------------------------


async def audit_rows(conn: Connection, *, up_to: int, batch: int = 2000) -> AsyncIterator[list[AuditRow]]:
    """Every entry up to id `up_to`, in id order, in batches."""
    after = 0
    while True:
        rows = await conn.fetch(
            """
            SELECT id, occurred_at, actor_id::text AS actor_id, action, subject, ip::text AS ip, request_id,
                   details::text AS details_json, prev_hash, hash
              FROM audit_log WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3
            """,
            after,
            up_to,
            batch,
        )
        if not rows:
            return
        yield [AuditRow(**dict(row)) for row in rows]
        after = rows[-1]["id"]


async def audit_head(conn: Connection) -> Record | None:
    return await conn.fetchrow("SELECT last_id, last_hash, entries FROM audit_chain_head")


async def audit_entries(
    conn: Connection,
    *,
    action_prefix: str | None,
    subject: str | None,
    actor_id: UUID | None,
    before_id: int | None,
    limit: int,
) -> list[Record]:
    """Entries newest first; with `action_prefix`, those whose action starts with it (`wallets.`)."""
    return await conn.fetch(
        """
        SELECT id, occurred_at, actor_id, action, subject, abbrev(ip) AS ip, request_id, details, hash
          FROM audit_log
         WHERE ($1::text IS NULL OR starts_with(action, $1))
           AND ($2::text IS NULL OR subject = $2)
           AND ($3::uuid IS NULL OR actor_id = $3)
           AND ($4::bigint IS NULL OR id < $4)
         ORDER BY id DESC
         LIMIT $5
        """,
        action_prefix,
        subject,
        actor_id,
        before_id,
        limit,
    )


# --- alerts -----------------------------------------------------------------------------------------------

_ALERT_COLUMNS = """
    id, kind, symbol, accounts, severity, summary, status, window_start, window_end, detected_at, created_at,
    acknowledged_by, acknowledged_at, resolved_by, resolved_at, resolution_comment
"""


async def insert_alert(
    conn: Connection,
    *,
    fingerprint: str,
    kind: str,
    symbol: str,
    accounts: list[UUID],
    severity: str,
    summary: str,
    evidence: dict[str, Any],
    window_start: datetime,
    window_end: datetime,
    detected_at: datetime,
) -> int | None:
    """The new alert's id, or None when an alert with this fingerprint exists already."""
    alert_id: int | None = await conn.fetchval(
        """
        INSERT INTO compliance_alerts (
            fingerprint, kind, symbol, accounts, severity, summary, evidence, window_start, window_end,
            detected_at
        ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (fingerprint) DO NOTHING
        RETURNING id
        """,
        fingerprint,
        kind,
        symbol,
        accounts,
        severity,
        summary,
        evidence,
        window_start,
        window_end,
        detected_at,
    )
    return alert_id


async def alerts(
    conn: Connection,
    *,
    status: str | None,
    kind: str | None,
    symbol: str | None,
    before_id: int | None,
    limit: int,
) -> list[Record]:
    return await conn.fetch(
        f"""
        SELECT {_ALERT_COLUMNS} FROM compliance_alerts
         WHERE ($1::text IS NULL OR status = $1)
           AND ($2::text IS NULL OR kind = $2)
           AND ($3::text IS NULL OR symbol = $3)
           AND ($4::bigint IS NULL OR id < $4)
         ORDER BY id DESC
         LIMIT $5
        """,  # noqa: S608 (a constant column list)
        status,
        kind,
        symbol,
        before_id,
        limit,
    )


async def alert(conn: Connection, alert_id: int, *, for_update: bool = False) -> Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {_ALERT_COLUMNS}, evidence FROM compliance_alerts WHERE id = $1{lock}",  # noqa: S608
        alert_id,
    )


async def acknowledge_alert(conn: Connection, alert_id: int, officer_id: UUID) -> None:
    await conn.execute(
        """
        UPDATE compliance_alerts SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = now()
         WHERE id = $1
        """,
        alert_id,
        officer_id,
    )


async def resolve_alert(conn: Connection, alert_id: int, officer_id: UUID, comment: str) -> None:
    await conn.execute(
        """
        UPDATE compliance_alerts
           SET status = 'resolved', resolved_by = $2, resolved_at = now(), resolution_comment = $3
         WHERE id = $1
        """,
        alert_id,
        officer_id,
        comment,
    )


async def has_open_alert(conn: Connection, user_id: UUID) -> bool:
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (
            SELECT 1 FROM compliance_alerts
             WHERE status IN ('open', 'acknowledged') AND accounts @> ARRAY[$1::uuid]
        )
        """,
        user_id,
    )
    return found
