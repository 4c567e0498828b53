"""`/readyz` follows PostgreSQL going away and coming back without an API restart.

It runs against a throwaway PostgreSQL cluster of its own (same binaries and TimescaleDB as the project's),
so stopping it disturbs nothing else."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from tests_support import free_port, make_settings, pg_binary

from server_fastapi.app import create_app
from server_fastapi.migrations import upgrade


class PrivateCluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        shutil.chown(self.root, "postgres", "postgres")

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True)

    def init(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text("tessera\n")
        shutil.chown(pwfile, "postgres", "postgres")
        self._as_postgres(
            pg_binary("initdb"),
            "-D",
            str(self.data),
            "-U",
            "tessera",
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=scram-sha-256",
            "-E",
            "UTF8",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nshared_preload_libraries = 'timescaledb'\n"
                "timescaledb.telemetry_level = off\n"
            )

    def start(self) -> None:
        self._as_postgres(
            pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._as_postgres(pg_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://tessera:tessera@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                pg_binary("pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    private = PrivateCluster()
    private.init()
    private.start()
    yield private
    private.destroy()


@pytest.fixture
async def private_client(cluster: PrivateCluster, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    await asyncio.to_thread(upgrade, cluster.dsn())
    app = create_app(make_settings(cluster.dsn(), redis_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as client:
            yield client


async def test_readyz_is_503_while_postgres_is_down_and_200_once_it_is_back(
    cluster: PrivateCluster, private_client: httpx.AsyncClient
) -> None:
    ready = await private_client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}

    cluster.stop()
    down = await private_client.get("/readyz")
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    body = down.json()
    assert body["checks"]["postgres"].startswith("unreachable")
    assert body["checks"]["redis"] == "ok"
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()

    cluster.start()
    again = await private_client.get("/readyz")
    assert again.status_code == 200, again.text


async def test_readyz_is_503_when_migrations_are_behind(cluster: PrivateCluster, redis_url: str) -> None:
    app = create_app(make_settings(cluster.dsn(), redis_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert "postgres" in response.json()["checks"]
