"""The application factory: Granian (and tests) call `create_app()`."""

from __future__ import annotations

import gc
import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from server_fastapi.assistant.router import router as assistant_router
from server_fastapi.auth.router import router as auth_router
from server_fastapi.auth.startup import start_auth
from server_fastapi.compliance.router import router as compliance_router
from server_fastapi.compliance.service import SentinelMetricsCollector, SentinelSubscriber
from server_fastapi.core import health, ws
from server_fastapi.core.bus import BusMetricsCollector, EventBus
from server_fastapi.core.bus_redis import RedisStreamBridge
from server_fastapi.core.db import create_pool
from server_fastapi.core.http import HttpMetrics, RequestContextMiddleware
from server_fastapi.core.logging import configure_logging
from server_fastapi.core.problems import Problem, install_problem_handlers
from server_fastapi.core.settings import Environment, Settings
from server_fastapi.core.state import AppState
from server_fastapi.core.telemetry import setup_telemetry
from server_fastapi.core.web import web_app
from server_fastapi.ledger.router import dev_router as ledger_dev_router
from server_fastapi.ledger.router import router as ledger_router
from server_fastapi.markets.events import bridge_channels as bridge_markets_channels
from server_fastapi.markets.router import admin_router as instruments_admin_router
from server_fastapi.markets.router import router as markets_router
from server_fastapi.markets.runtime import MarketsRuntime
from server_fastapi.markets.streams import register_channels
from server_fastapi.trading.events import bridge_channels as bridge_trading_channels
from server_fastapi.trading.router import register_channels as register_trading_channels
from server_fastapi.trading.router import router as trading_router
from server_fastapi.trading.runner import Runtime as TradingRuntime
from server_fastapi.wallets.processor import WithdrawalProcessor
from server_fastapi.wallets.router import router as wallets_router

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

BRIDGED_CHANNELS = (bridge_markets_channels, bridge_trading_channels)
"""Each domain names the bus channels that cross processes through Redis (its `events.bridge_channels`)."""

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "camera=(), microphone=(), usb=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
    "x-frame-options": "DENY",
}


def _operation_id(route: APIRoute) -> str:
    """Stable `{tag}-{name}` ids keep the generated hooks' names when handlers move."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    setup_telemetry(settings)
    registry = CollectorRegistry()
    http_metrics = HttpMetrics(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(settings)
        redis = Redis.from_url(
            settings.redis_url.get_secret_value(), socket_timeout=5, socket_connect_timeout=2
        )
        bus = EventBus(process_id=f"{os.getpid()}-{uuid.uuid4().hex[:8]}")
        registry.register(BusMetricsCollector(bus))
        bridge = RedisStreamBridge(bus, redis, read_block_ms=200)
        for bridge_channels in BRIDGED_CHANNELS:
            bridge_channels(bridge)
        await bridge.start()
        state = AppState(settings=settings, pool=pool, redis=redis, bus=bus, bridge=bridge, registry=registry)
        app.state.tessera = state
        await start_auth(state)  # signing keys (fail fast); demo accounts in dev
        app.state.ws_hub = hub = ws.Hub(state=state)
        registry.register(ws.HubMetricsCollector(hub))
        app.state.markets = markets = MarketsRuntime(state)
        register_channels(hub, markets)
        markets.start()
        app.state.trading = trading = TradingRuntime(pool, bus, settings.database_url.get_secret_value())
        register_trading_channels(hub, trading)
        await trading.start()
        app.state.sentinel = sentinel = SentinelSubscriber(pool, bus, settings)
        registry.register(SentinelMetricsCollector(sentinel))
        sentinel.start()
        app.state.withdrawals = withdrawals = WithdrawalProcessor.from_settings(pool, bus, settings)
        if settings.withdrawal_processor:
            withdrawals.start()
        # Everything built so far lives as long as the process: moving it out of the collector's reach keeps
        # each full collection from re-scanning the whole app (it showed up in fan-out profiles).
        gc.freeze()
        logger.info("tessera api started", extra={"env": settings.env.value, "process_id": bus.process_id})
        try:
            yield
        finally:
            await withdrawals.stop()
            await trading.stop()
            await markets.close()
            await bridge.close()
            await bus.close()
            await redis.aclose()
            await pool.close()
            logger.info("tessera api stopped")

    app = FastAPI(
        title="Tessera API",
        version="0.1.0",
        summary="A crypto trading venue a small firm can run itself.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(auth_router)
    app.include_router(markets_router, prefix=API_PREFIX)
    app.include_router(instruments_admin_router, prefix=API_PREFIX)
    app.include_router(ws.router)
    app.include_router(ledger_router, prefix=API_PREFIX)
    app.include_router(trading_router, prefix=API_PREFIX)
    app.include_router(assistant_router, prefix=API_PREFIX)
    app.include_router(compliance_router)
    app.include_router(wallets_router, prefix=API_PREFIX)
    if settings.env is not Environment.PRODUCTION:
        app.include_router(ledger_dev_router, prefix=API_PREFIX)
    _document_problem_schema(app)
    built_web_app = web_app(settings.web_dist)
    if built_web_app is not None:
        app.router.default = built_web_app

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["content-type", "x-csrf-token", "idempotency-key", "authorization"],
        )
    app.add_middleware(RequestContextMiddleware, metrics=http_metrics, security_headers=SECURITY_HEADERS)
    # One span per HTTP request, none per ASGI message and none for WebSocket connections (`^wss?://`): a
    # span lasting a connection's lifetime says little, and its per-frame bookkeeping cost more than the
    # frame itself when a trade fans out to hundreds of sockets.
    app.add_middleware(
        OpenTelemetryMiddleware,
        excluded_urls="healthz,metrics,^wss?://",
        exclude_spans=["receive", "send"],
    )
    return app


def _document_problem_schema(app: FastAPI) -> None:
    """Every route can answer with a problem; put the schema in the spec once so clients can type it."""
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(
                Problem.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {})
            )
            components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components["Problem"].pop("$defs", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
