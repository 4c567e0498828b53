"""A small API that a separate Granian process serves for the cross-process rate-limit test: one route
behind the real `rate_limit` dependency, the Redis from `PEER_REDIS_URL`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

from fastapi import Depends, FastAPI
from redis.asyncio import Redis

from server_fastapi.core.problems import install_problem_handlers
from server_fastapi.core.ratelimit import rate_limit
from server_fastapi.core.settings import AuthSettings

PEER_LIMIT = {"rate": 1, "period_seconds": 3600.0, "burst": 25}


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = Redis.from_url(os.environ["PEER_REDIS_URL"])
        app.state.tessera = SimpleNamespace(redis=redis, settings=AuthSettings())
        yield
        await redis.aclose()

    app = FastAPI(lifespan=lifespan)
    install_problem_handlers(app)
    limited = rate_limit("peer", per="ip", fail="closed", **PEER_LIMIT)  # type: ignore[arg-type]

    @app.get("/limited", dependencies=[Depends(limited)])
    async def limited_route() -> dict[str, int]:
        return {"pid": os.getpid()}

    @app.get("/ready")
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    return app
