"""The outermost middleware of our own: request ids, per-route metrics, security headers, and the last
line of defence that turns any unexpected exception into a 500 problem without internals."""

from __future__ import annotations

import logging
import re
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server_fastapi.core.context import reset_request_id, set_request_id
from server_fastapi.core.problems import internal_error_response

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "tessera_http_requests",
            "HTTP requests by route, method and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "tessera_http_request_duration_seconds",
            "HTTP request latency by route and method",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics, security_headers: dict[str, str]) -> None:
        self.app = app
        self.metrics = metrics
        self.security_headers = security_headers
        # The interactive API docs page loads Swagger UI from its CDN with an inline bootstrap script.
        self.docs_headers = security_headers | {"content-security-policy": DOCS_CONTENT_SECURITY_POLICY}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = next(
            (value.decode("latin-1") for key, value in scope["headers"] if key == b"x-request-id"), ""
        )
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = set_request_id(request_id)
        if scope["type"] == "websocket":
            try:
                await self.app(scope, receive, send)
            finally:
                reset_request_id(token)
            return

        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                extra = self.docs_headers if scope["path"] == "/docs" else self.security_headers
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unhandled exception", extra={"path": scope["path"], "method": scope["method"]})
            if response_started:
                raise
            await internal_error_response(scope["path"])(scope, receive, send_with_headers)
        finally:
            route = scope.get("route")
            route_label = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, route_label, str(status)).inc()
            self.metrics.latency.labels(method, route_label).observe(time.perf_counter() - started)
            reset_request_id(token)
