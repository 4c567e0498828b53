"""SQL of the auth domain: users, sessions and their refresh tokens, recovery codes, API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network
from uuid import UUID

import asyncpg

from server_fastapi.core.db import Connection

Record = asyncpg.Record


async def insert_user(
    conn: Connection, *, email: str, display_name: str | None, password_hash: str, role: str
) -> Record | None:
    """The new user, or None when the (normalised) email is taken."""
    return await conn.fetchrow(
        """
        INSERT INTO users (email, display_name, password_hash, role)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT ON CONSTRAINT users_email_key DO NOTHING
        RETURNING id, email, display_name, password_hash, role, totp_secret, totp_enabled_at, totp_last_step,
                  created_at, erased_at
        """,
        email,
        display_name,
        password_hash,
        role,
    )


async def user_by_email(conn: Connection, email: str) -> Record | None:
    return await conn.fetchrow(
        """
        SELECT id, email, display_name, password_hash, role, totp_secret, totp_enabled_at, totp_last_step,
               created_at, erased_at
        FROM users WHERE email = $1 AND erased_at IS NULL
        """,
        email,
    )


async def user_by_id(conn: Connection, user_id: UUID, *, for_update: bool = False) -> Record | None:
    query = """
        SELECT id, email, display_name, password_hash, role, totp_secret, totp_enabled_at, totp_last_step,
               created_at, erased_at
        FROM users WHERE id = $1 AND erased_at IS NULL
    """
    return await conn.fetchrow(query + (" FOR UPDATE" if for_update else ""), user_id)


async def update_password_hash(conn: Connection, user_id: UUID, password_hash: str) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", user_id, password_hash
    )


async def set_pending_totp(conn: Connection, user_id: UUID, secret: bytes) -> None:
    await conn.execute(
        """
        UPDATE users SET totp_secret = $2, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = now()
        WHERE id = $1
        """,
        user_id,
        secret,
    )


async def enable_totp(conn: Connection, user_id: UUID, step: int) -> None:
    await conn.execute(
        "UPDATE users SET totp_enabled_at = now(), totp_last_step = $2, updated_at = now() WHERE id = $1",
        user_id,
        step,
    )


async def disable_totp(conn: Connection, user_id: UUID) -> None:
    await conn.execute(
        """
        UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = now()
        WHERE id = $1
        """,
        user_id,
    )
    await conn.execute("DELETE FROM user_recovery_codes WHERE user_id = $1", user_id)


async def claim_totp_step(conn: Connection, user_id: UUID, step: int) -> bool:
    """Record that the code of `step` was used; False when it (or a later one) already was."""
    claimed = await conn.fetchval(
        """
        UPDATE users SET totp_last_step = $2
        WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)
        RETURNING true
        """,
        user_id,
        step,
    )
    return bool(claimed)


async def replace_recovery_codes(conn: Connection, user_id: UUID, code_hashes: Sequence[bytes]) -> None:
    await conn.execute("DELETE FROM user_recovery_codes WHERE user_id = $1", user_id)
    await conn.executemany(
        "INSERT INTO user_recovery_codes (user_id, code_hash) VALUES ($1, $2)",
        [(user_id, code_hash) for code_hash in code_hashes],
    )


async def use_recovery_code(conn: Connection, user_id: UUID, code_hash: bytes) -> bool:
    used = await conn.fetchval(
        """
        UPDATE user_recovery_codes SET used_at = now()
        WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
        RETURNING true
        """,
        user_id,
        code_hash,
    )
    return bool(used)


async def insert_session(
    conn: Connection, *, user_id: UUID, expires_at: datetime, ip: str | None, user_agent: str | None
) -> UUID:
    session_id: UUID = await conn.fetchval(
        """
        INSERT INTO auth_sessions (user_id, expires_at, ip, user_agent)
        VALUES ($1, $2, $3::inet, $4)
        RETURNING id
        """,
        user_id,
        expires_at,
        ip,
        user_agent,
    )
    return session_id


async def insert_refresh_token(
    conn: Connection, *, session_id: UUID, token_hash: bytes, parent_id: UUID | None, expires_at: datetime
) -> UUID:
    token_id: UUID = await conn.fetchval(
        """
        INSERT INTO refresh_tokens (session_id, token_hash, parent_id, expires_at)
        VALUES ($1, $2, $3, $4)
        RETURNING id
        """,
        session_id,
        token_hash,
        parent_id,
        expires_at,
    )
    return token_id


async def refresh_token_for_update(conn: Connection, token_hash: bytes) -> Record | None:
    """The token and its session, the token row locked so two concurrent uses cannot both rotate it."""
    return await conn.fetchrow(
        """
        SELECT t.id, t.session_id, t.expires_at, t.used_at,
               s.user_id, s.revoked_at AS session_revoked_at, s.expires_at AS session_expires_at,
               u.erased_at
        FROM refresh_tokens t
        JOIN auth_sessions s ON s.id = t.session_id
        JOIN users u ON u.id = s.user_id
        WHERE t.token_hash = $1
        FOR UPDATE OF t
        """,
        token_hash,
    )


async def mark_refresh_token_used(conn: Connection, token_id: UUID) -> None:
    await conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE id = $1", token_id)


async def revoke_session(conn: Connection, session_id: UUID, reason: str) -> bool:
    revoked = await conn.fetchval(
        """
        UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
        WHERE id = $1 AND revoked_at IS NULL
        RETURNING true
        """,
        session_id,
        reason,
    )
    return bool(revoked)


async def sessions_since(conn: Connection, user_ids: Sequence[UUID], since: datetime) -> list[Record]:
    return await conn.fetch(
        """
        SELECT id, user_id, created_at, host(ip) AS ip, user_agent FROM auth_sessions
         WHERE user_id = ANY($1::uuid[]) AND created_at > $2 AND ip IS NOT NULL
         ORDER BY created_at, id
        """,
        list(user_ids),
        since,
    )


async def revoke_user_sessions(conn: Connection, user_id: UUID, reason: str) -> int:
    rows = await conn.fetch(
        """
        UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
        WHERE user_id = $1 AND revoked_at IS NULL
        RETURNING id
        """,
        user_id,
        reason,
    )
    return len(rows)


async def session_holder(conn: Connection, session_id: UUID) -> Record | None:
    """The user behind a live session: role now (not when the token was issued), or None."""
    return await conn.fetchrow(
        """
        SELECT u.id AS user_id, u.role
        FROM auth_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.erased_at IS NULL
        """,
        session_id,
    )


async def insert_api_key(
    conn: Connection,
    *,
    user_id: UUID,
    name: str,
    prefix: str,
    secret_hash: bytes,
    scopes: Sequence[str],
    ip_allowlist: Sequence[IPv4Network | IPv6Network] | None,
    expires_at: datetime | None,
) -> Record:
    record = await conn.fetchrow(
        """
        INSERT INTO api_keys (user_id, name, prefix, secret_hash, scopes, ip_allowlist, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING id, name, prefix, scopes, ip_allowlist, created_at, expires_at, last_used_at, revoked_at
        """,
        user_id,
        name,
        prefix,
        secret_hash,
        list(scopes),
        list(ip_allowlist) if ip_allowlist is not None else None,
        expires_at,
    )
    assert record is not None
    return record


async def api_keys_of(conn: Connection, user_id: UUID) -> list[Record]:
    return await conn.fetch(
        """
        SELECT id, name, prefix, scopes, ip_allowlist, created_at, expires_at, last_used_at, revoked_at
        FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id
        """,
        user_id,
    )


async def revoke_api_key(conn: Connection, user_id: UUID, key_id: UUID) -> Record | None:
    """The revoked key, or None when the user has no such key (or it was already revoked)."""
    return await conn.fetchrow(
        """
        UPDATE api_keys SET revoked_at = now()
        WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL
        RETURNING id, name, prefix, scopes, ip_allowlist, created_at, expires_at, last_used_at, revoked_at
        """,
        user_id,
        key_id,
    )


async def api_key_holder(conn: Connection, secret_hash: bytes) -> Record | None:
    """A live key and its holder's current role."""
    return await conn.fetchrow(
        """
        SELECT k.id, k.user_id, k.scopes, k.ip_allowlist, k.last_used_at, u.role
        FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE k.secret_hash = $1 AND k.revoked_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > now()) AND u.erased_at IS NULL
        """,
        secret_hash,
    )


async def touch_api_key(conn: Connection, key_id: UUID) -> None:
    """Record use at most once a minute, so a busy trading key does not write on every request."""
    await conn.execute(
        """
        UPDATE api_keys SET last_used_at = now()
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
        """,
        key_id,
    )
