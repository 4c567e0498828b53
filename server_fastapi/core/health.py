"""Liveness, readiness and Prometheus metrics for operators and Kubernetes probes."""

from __future__ import annotations

import asyncio

import asyncpg
from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.responses import Response

from server_fastapi.core.db import Pool
from server_fastapi.core.problems import ServiceUnavailable, error_responses
from server_fastapi.core.state import State
from server_fastapi.migrations import head_revision

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 2.0
_HEAD_REVISION = head_revision()


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


async def _migration_revision(pool: Pool) -> str | None:
    async with pool.acquire(timeout=CHECK_TIMEOUT_SECONDS) as connection:
        revision: str | None = await connection.fetchval(
            "SELECT version_num FROM alembic_version LIMIT 1", timeout=CHECK_TIMEOUT_SECONDS
        )
        return revision


@router.get("/healthz", summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="PostgreSQL and Redis answer and migrations are at head",
    responses=error_responses(ServiceUnavailable),
)
async def readyz(state: State) -> Readiness:
    checks: dict[str, str] = {}
    try:
        revision = await asyncio.wait_for(_migration_revision(state.pool), CHECK_TIMEOUT_SECONDS * 2)
        checks["postgres"] = (
            "ok" if revision == _HEAD_REVISION else f"migrations at {revision}, head is {_HEAD_REVISION}"
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        checks["postgres"] = f"unreachable: {type(error).__name__}"
    try:
        await asyncio.wait_for(state.redis.ping(), CHECK_TIMEOUT_SECONDS)
        checks["redis"] = "ok"
    except Exception as error:
        checks["redis"] = f"unreachable: {type(error).__name__}"
    if any(result != "ok" for result in checks.values()):
        failing = ", ".join(f"{name}: {result}" for name, result in checks.items() if result != "ok")
        raise ServiceUnavailable(f"Not ready ({failing}).", headers={"Retry-After": "5"}, checks=checks)
    return Readiness(status="ready", checks=checks)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def prometheus_metrics(state: State) -> Response:
    return Response(generate_latest(state.registry), media_type=CONTENT_TYPE_LATEST)
