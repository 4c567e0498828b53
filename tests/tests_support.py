"""Small helpers shared by tests (not fixtures)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from server_fastapi.core.settings import Environment, Settings

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ROOT = Path(__file__).resolve().parents[1]


def pg_binary(name: str) -> str:
    return str(PG_BIN / name)


def make_settings(database_url: str, redis_url: str, **overrides: Any) -> Settings:
    # Tests see the bare API unless they ask for a built web app (`web_dist=...`).
    values: dict[str, Any] = {
        "env": Environment.TEST,
        "database_url": database_url,
        "redis_url": redis_url,
        "web_dist": ROOT / ".state" / "no-web-app",
    }
    values.update(overrides)
    return Settings(**values)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now, for servers a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
