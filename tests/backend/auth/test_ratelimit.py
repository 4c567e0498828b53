"""GCRA rate limits in Redis: exact counts, 429 problems with Retry-After and RateLimit fields, sign-in
floods, client addresses behind proxies, two API processes sharing one limit, and Redis being down."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from auth_support import client_from, make_account
from fastapi import Depends, FastAPI
from ratelimit_peer import PEER_LIMIT
from redis.asyncio import Redis
from tests_support import assert_problem, free_port

from server_fastapi.auth.router import LOGIN_BURST, LOGIN_PERIOD_SECONDS, LOGIN_RATE
from server_fastapi.core.gcra import Limit, gcra
from server_fastapi.core.problems import install_problem_handlers
from server_fastapi.core.ratelimit import rate_limit
from server_fastapi.core.settings import AuthSettings, Settings

HERE = Path(__file__).parent


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_gcra_admits_the_burst_then_one_per_interval(redis: Redis) -> None:
    limit = Limit(name="unit", rate=2, period_seconds=1.0, burst=3)
    decisions = [await gcra(redis, "unit:a", limit) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert 0.45 < decisions[3].retry_after <= 0.5  # one emission interval (0.5 s) minus the time spent
    assert (await gcra(redis, "unit:b", limit)).allowed  # keys are independent
    # Peeking does not spend.
    assert not (await gcra(redis, "unit:a", limit, peek=True)).allowed
    await asyncio.sleep(decisions[3].retry_after + 0.02)
    assert (await gcra(redis, "unit:a", limit)).allowed
    assert not (await gcra(redis, "unit:a", limit)).allowed
    ttl = await redis.pttl("tessera:rl:unit:a")
    assert 0 < ttl <= 1600  # the key expires once the limit has refilled


async def test_gcra_is_exact_under_concurrency(redis: Redis) -> None:
    limit = Limit(name="concurrent", rate=1, period_seconds=3600, burst=17)
    decisions = await asyncio.gather(*(gcra(redis, "concurrent", limit) for _ in range(100)))
    assert sum(d.allowed for d in decisions) == 17


async def test_a_login_flood_from_one_address_is_throttled_while_another_address_signs_in(
    app: FastAPI, settings: Settings
) -> None:
    account = await make_account(settings)
    async with client_from(app, "198.51.100.66") as attacker, client_from(app, "203.0.113.5") as owner:
        statuses = []
        started = time.monotonic()
        for attempt in range(50):
            response = await attacker.post(
                "/api/v1/auth/login", json={"email": account.email, "password": f"guess-number-{attempt}"}
            )
            statuses.append(response.status_code)
            if response.status_code == 429:
                body = assert_problem(response, 429, "rate-limited")
                assert int(response.headers["retry-after"]) >= 1
                assert body["retry_after"] == int(response.headers["retry-after"])
                assert re.fullmatch(r'"login";q=\d+;w=\d+', response.headers["ratelimit-policy"])
                assert re.fullmatch(r'"login";r=0;t=\d+', response.headers["ratelimit"])
            else:
                assert_problem(response, 401, "invalid-credentials")
        elapsed = time.monotonic() - started
        assert statuses[: LOGIN_BURST + 1] == [401] * LOGIN_BURST + [429]
        # GCRA refills one attempt per emission interval; a slow machine may see one or two of those.
        refilled = int(elapsed // (LOGIN_PERIOD_SECONDS / LOGIN_RATE)) + 1
        assert LOGIN_BURST <= statuses.count(401) <= LOGIN_BURST + refilled
        assert statuses.count(429) >= 50 - LOGIN_BURST - refilled

        good = await owner.post(
            "/api/v1/auth/login", json={"email": account.email, "password": account.password}
        )
        assert good.status_code == 200, good.text
        assert good.headers["ratelimit"].startswith('"login";r=')


async def test_spoofed_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    database_url: str, redis_url: str, redis: Redis
) -> None:
    from tests_support import make_settings

    from server_fastapi.app import create_app

    settings = make_settings(
        database_url,
        redis_url,
        trusted_proxies="10.0.0.0/8",
        argon2_time_cost=2,
        argon2_memory_kib=19456,
        argon2_parallelism=1,
    )
    app = create_app(settings)
    body = {"email": "nobody@example.test", "password": "whatever-it-is"}

    async def limited_addresses() -> set[str]:
        keys = await redis.keys("tessera:rl:login:ip:*")
        return {key.decode().removeprefix("tessera:rl:login:ip:") for key in keys}

    async with app.router.lifespan_context(app):
        async with client_from(app, "198.51.100.70") as direct:
            # A client talking to us directly cannot pick a fresh address per request.
            for n in range(3):
                await direct.post(
                    "/api/v1/auth/login", json=body, headers={"X-Forwarded-For": f"192.0.2.{n}"}
                )
        assert await limited_addresses() == {"198.51.100.70"}
        async with client_from(app, "10.1.2.3") as proxy:
            # Behind our proxy the right-most untrusted hop is the client; what it prepended is ignored.
            for n in range(3):
                await proxy.post(
                    "/api/v1/auth/login",
                    json=body,
                    headers={"X-Forwarded-For": f"6.6.6.{n}, 192.0.2.44, 10.9.9.9"},
                )
        assert await limited_addresses() == {"198.51.100.70", "192.0.2.44"}
    decision = await gcra(
        redis, "login:ip:192.0.2.44", Limit("login", LOGIN_RATE, LOGIN_PERIOD_SECONDS, LOGIN_BURST), peek=True
    )
    assert decision.remaining == LOGIN_BURST - 4  # three counted, and this peek's own request


@pytest.fixture
def two_api_processes(redis_url: str) -> Iterator[list[str]]:
    """Two Granian servers, each its own OS process, sharing the test Redis."""
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "PEER_REDIS_URL": redis_url,
        "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--no-log",
                "ratelimit_peer:create_app",
            ],
            env=env,
            cwd=HERE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 30
        for url, server in zip(urls, servers, strict=True):
            while True:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                try:
                    if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the API process did not start"
                time.sleep(0.1)
        yield urls
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(10)


async def test_the_limit_is_exact_across_two_api_processes(two_api_processes: list[str]) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        pids = {url: (await http.get(f"{url}/ready")).status_code for url in two_api_processes}  # both up
        assert len(pids) == 2

        async def hit(url: str) -> httpx.Response:
            return await http.get(f"{url}/limited")

        responses = await asyncio.gather(*(hit(url) for _ in range(40) for url in two_api_processes))
    admitted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(admitted) == PEER_LIMIT["burst"]
    assert len(refused) == 80 - PEER_LIMIT["burst"]
    assert len({r.json()["pid"] for r in admitted}) == 2, "both processes must have admitted some"
    assert all(r.headers["content-type"] == "application/problem+json" for r in refused)
    assert all(int(r.headers["retry-after"]) > 0 for r in refused)


def limiter_app(redis_url: str) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.tessera = SimpleNamespace(
        redis=Redis.from_url(redis_url, socket_connect_timeout=1), settings=AuthSettings()
    )
    closed = rate_limit("closed-probe", per="ip", rate=1, period_seconds=60, burst=1, fail="closed")
    opened = rate_limit("open-probe", per="ip", rate=1, period_seconds=60, burst=1, fail="open")

    @app.get("/closed", dependencies=[Depends(closed)])
    async def closed_route() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/open", dependencies=[Depends(opened)])
    async def open_route() -> dict[str, bool]:
        return {"ok": True}

    return app


async def test_when_redis_is_down_closed_limits_refuse_and_open_limits_admit_and_both_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = limiter_app(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as client:
        with caplog.at_level(logging.WARNING, logger="server_fastapi.core.gcra"):
            closed = await client.get("/closed")
            opened = [await client.get("/open") for _ in range(3)]
    assert_problem(closed, 503, "unavailable")
    assert closed.headers["retry-after"] == "5"
    assert [r.status_code for r in opened] == [200, 200, 200]
    policies = [getattr(record, "policy", None) for record in caplog.records]
    assert "fail closed" in policies
    assert "fail open" in policies


async def test_sign_in_fails_closed_without_redis(database_url: str) -> None:
    from tests_support import make_settings

    from server_fastapi.app import create_app

    app = create_app(make_settings(database_url, f"redis://127.0.0.1:{free_port()}/0"))
    async with app.router.lifespan_context(app), client_from(app) as client:
        response = await client.post(
            "/api/v1/auth/login", json={"email": "a@example.test", "password": "x" * 12}
        )
    assert_problem(response, 503, "unavailable")
