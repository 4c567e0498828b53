"""The one way every domain writes the audit log: `await record_audit(conn, actor_id=..., action=...)`.

The entry joins the caller's transaction, so it commits or rolls back with the change it describes. An entry
that must survive a failed request (a refused sign-in, a replayed refresh token) is written in a transaction
the handler commits before it answers with the error.

Actions are dotted, domain first: `auth.login.succeeded`, `auth.api_key.created`,
`wallets.withdrawal.approved`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from server_fastapi.core.context import current_request_id
from server_fastapi.core.db import Connection


async def record_audit(
    conn: Connection,
    *,
    actor_id: UUID | None,
    action: str,
    subject: str | None = None,
    details: Mapping[str, Any] | None = None,
    ip: str | None = None,
) -> int:
    """Append one entry and return its id. Never put secrets (passwords, tokens, codes) in `details`."""
    request_id = current_request_id()
    entry_id: int = await conn.fetchval(
        """
        INSERT INTO audit_log (actor_id, action, subject, ip, request_id, details)
        VALUES ($1, $2, $3, $4::inet, $5, $6)
        RETURNING id
        """,
        actor_id,
        action,
        subject,
        ip,
        None if request_id == "-" else request_id,
        dict(details or {}),
    )
    return entry_id
