"""Password hashing (Argon2id through pwdlib) and the strength rule a new password must pass.

Hashing runs in a worker thread: Argon2id is deliberately slow and memory-hard, and the event loop must keep
serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from server_fastapi.core.settings import AuthSettings

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 5
COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common-passwords.txt"
_TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[\d\W_]+$")


@dataclass(frozen=True)
class PasswordHasher:
    hasher: PasswordHash
    dummy_hash: str
    """Verified against when the account does not exist, so the answer takes as long either way."""

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> PasswordHasher:
        hasher = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.argon2_time_cost,
                    memory_cost=settings.argon2_memory_kib,
                    parallelism=settings.argon2_parallelism,
                ),
            )
        )
        return cls(hasher=hasher, dummy_hash=hasher.hash("tessera-dummy-password-for-timing"))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """Whether the password matches, and a new hash when the stored one used older parameters."""
        if stored_hash is None:
            await asyncio.to_thread(self.hasher.verify, password, self.dummy_hash)
            return False, None
        return await asyncio.to_thread(self.hasher.verify_and_update, password, stored_hash)


_hashers: dict[tuple[int, int, int], PasswordHasher] = {}


def password_hasher(settings: AuthSettings) -> PasswordHasher:
    key = (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    if key not in _hashers:
        _hashers[key] = PasswordHasher.from_settings(settings)
    return _hashers[key]


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").split())


def normalise_password(password: str) -> str:
    """NFKC, as NIST SP 800-63B asks, so the same password typed on two keyboards hashes the same."""
    return unicodedata.normalize("NFKC", password)


def password_problems(password: str, *, email: str, display_name: str | None) -> list[str]:
    """Why a new password is refused (empty when it is acceptable)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters long")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        problems.append(f"must use at least {MIN_DISTINCT_CHARACTERS} different characters")
    lowered = password.lower()
    core = _TRAILING_DIGITS_AND_SYMBOLS.sub("", lowered)
    listed = common_passwords()
    if lowered in listed or (len(core) >= 4 and core in listed):
        problems.append("is one of the most common passwords")
    personal = [email.partition("@")[0], display_name or ""]
    if any(len(part) >= 4 and part.lower() in lowered for part in personal):
        problems.append("must not contain your email address or display name")
    return problems
