"""The audit chain's canonical serialisation and its verification, in Python.

The database computes each entry's hash in a trigger (`audit_entry_canonical` in migration 0005); this
module computes the same bytes independently, so verification does not trust the database's own function:
the text of the JSON array `[id, occurred_at, actor_id, action, subject, ip, request_id, details, prev_hash]`
rendered the way PostgreSQL renders `jsonb` (object keys ordered by byte length, then bytes; `", "` and
`": "` separators; only `"`, `\\` and control characters escaped; numbers as their `numeric` text).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One stored entry as verification reads it (`ip` as PostgreSQL's `inet::text`, `details` as the
    stored `jsonb` text)."""

    id: int
    occurred_at: datetime
    actor_id: str | None
    action: str
    subject: str | None
    ip: str | None
    request_id: str | None
    details_json: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    intact: bool
    entries: int
    first_broken_id: int | None = None
    reason: str | None = None


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _number(value: int | Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    text = format(value, "f")
    return text[1:] if value == 0 and text.startswith("-") else text


def jsonb_text(value: Any) -> str:
    """`value` as PostgreSQL prints it as `jsonb` (parse stored JSON with `parse_float=Decimal`)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int | Decimal):
        return _number(value)
    if isinstance(value, float):
        return _number(Decimal(repr(value)))
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return "{" + ", ".join(f"{_string(key)}: {jsonb_text(value[key])}" for key in keys) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    raise TypeError(f"not JSON: {type(value).__name__}")


def timestamp_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(
    *,
    entry_id: int,
    occurred_at: datetime,
    actor_id: str | None,
    action: str,
    subject: str | None,
    ip: str | None,
    request_id: str | None,
    details: Any,
    prev_hash: str,
) -> str:
    fields: list[Any] = [
        entry_id,
        timestamp_text(occurred_at),
        actor_id,
        action,
        subject,
        ip,
        request_id,
        details,
        prev_hash,
    ]
    return jsonb_text(fields)


def entry_hash(row: AuditRow, prev_hash: str) -> str:
    details = json.loads(row.details_json, parse_float=Decimal)
    text = canonical(
        entry_id=row.id,
        occurred_at=row.occurred_at,
        actor_id=row.actor_id,
        action=row.action,
        subject=row.subject,
        ip=row.ip,
        request_id=row.request_id,
        details=details,
        prev_hash=prev_hash,
    )
    return hashlib.sha256(text.encode()).hexdigest()


class ChainVerifier:
    """Feed entries in id order; the first broken link is kept. Also checks the chain head's record of the
    last entry, so removing entries at the end is found too."""

    def __init__(self) -> None:
        self.entries = 0
        self.previous = GENESIS_HASH
        self.last_id: int | None = None
        self.broken: ChainReport | None = None

    def feed(self, rows: Iterable[AuditRow]) -> None:
        for row in rows:
            self.entries += 1
            if self.broken is not None:
                continue
            if row.prev_hash != self.previous:
                self._break(
                    row.id,
                    "prev_hash does not match the previous entry's hash (an entry before "
                    "this one was removed or altered)",
                )
            elif entry_hash(row, row.prev_hash) != row.hash:
                self._break(row.id, "the entry's content does not match its hash (the entry was altered)")
            self.previous = row.hash
            self.last_id = row.id

    def _break(self, entry_id: int, reason: str) -> None:
        self.broken = ChainReport(False, 0, entry_id, reason)

    def finish(self, head_last_id: int | None, head_last_hash: str) -> ChainReport:
        if self.broken is not None:
            return ChainReport(False, self.entries, self.broken.first_broken_id, self.broken.reason)
        if head_last_id != self.last_id or head_last_hash != self.previous:
            return ChainReport(
                False,
                self.entries,
                head_last_id if head_last_id is not None else self.last_id,
                "the chain head does not match the last entry (entries at the end were removed or added "
                "around the trigger)",
            )
        return ChainReport(True, self.entries)
