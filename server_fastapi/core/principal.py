"""Who is calling: the principal every protected route receives. Pure data, so any module may import it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal
from uuid import UUID


class Role(StrEnum):
    TRADER = "trader"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


class Scope(StrEnum):
    READ = "read"
    TRADE = "trade"
    WITHDRAW = "withdraw"


AuthMethod = Literal["session_cookie", "bearer", "api_key"]

SESSION_SCOPES: frozenset[str] = frozenset({Scope.READ, Scope.TRADE, Scope.WITHDRAW})
"""A signed-in person may do everything their role allows."""
API_KEY_SCOPES: frozenset[str] = frozenset({Scope.READ, Scope.TRADE})
"""What an API key may be granted: never withdrawal."""


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: UUID
    role: Role
    scopes: frozenset[str]
    auth_method: AuthMethod
    session_id: UUID | None = None
    key_id: UUID | None = None

    @property
    def is_session(self) -> bool:
        """Signed in interactively (cookie or bearer access token), as opposed to an API key."""
        return self.auth_method != "api_key"
