"""Small helpers shared by tests (not fixtures)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI

from server_fastapi.core.bus import Envelope, Overflow, Subscription
from server_fastapi.core.settings import Environment, Settings
from server_fastapi.ledger.events import BalanceChanged, balances_channel

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


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem of ours with this status (and slug, when given); its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:tessera:problem:")
    assert "Traceback" not in response.text
    if slug is not None:
        assert body["type"] == f"urn:tessera:problem:{slug}", body
    return body


def balance_news(app: FastAPI) -> Subscription[BalanceChanged]:
    """A subscription to the `balances` channel of a started app, read with `announced`."""
    channel = balances_channel(app.state.tessera.bus)
    return channel.subscribe("test", maxsize=1000, overflow=Overflow.DROP_OLDEST)


def announced(news: Subscription[BalanceChanged]) -> list[tuple[UUID, str, Decimal, Decimal]]:
    """The balance changes published since the last call: (user, asset, available, held)."""
    return [
        (d.event.user_id, d.event.asset, d.event.available, d.event.held)
        for d in news.drain_ready()
        if isinstance(d, Envelope)
    ]


class ApiServer:
    """An app factory under Granian, one worker, on a free port, in its own process group so that a signal
    reaches the worker too: for tests that need the API as a separate OS process."""

    def __init__(self, env: Mapping[str, str], *, factory: str = "server_fastapi.app:create_app") -> None:
        self.port = free_port()
        self.env = dict(env)
        self.factory = factory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        """Start the process and return at once."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--factory",
                "--workers",
                "1",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-log",
                self.factory,
            ],
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )

    async def wait_until_ok(self, path: str = "/healthz", seconds: float = 30.0) -> None:
        """Until `path` answers 200 (`/readyz` also waits for the database and migrations)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            for _ in range(int(seconds * 10)):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(path)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"the API did not answer 200 on {path}")

    async def start(self, ready_path: str = "/healthz") -> None:
        self.spawn()
        await self.wait_until_ok(ready_path)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """Signal the process group and wait for it; SIGKILL if it has not ended within `timeout`."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None
