"""The long-lived things the lifespan owns, as one typed object handlers reach through `State`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from server_fastapi.core.bus import EventBus
from server_fastapi.core.bus_redis import RedisStreamBridge
from server_fastapi.core.db import Pool
from server_fastapi.core.settings import Settings


@dataclass
class AppState:
    settings: Settings
    pool: Pool
    redis: Redis
    bus: EventBus
    bridge: RedisStreamBridge
    registry: CollectorRegistry


async def _app_state(request: Request) -> AppState:
    state: AppState = request.app.state.tessera
    return state


State = Annotated[AppState, Depends(_app_state)]
