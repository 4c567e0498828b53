"""Helpers of the assistant tests: header sign-in, funded accounts, a last price, a scripted model server."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from fastapi import FastAPI, Request

from server_fastapi.core.principal import SESSION_SCOPES, Principal, Role
from server_fastapi.core.problems import Unauthorized
from server_fastapi.core.security import authenticated_principal

DISPLAY_NAME = "Ada Lovelace-Byron"


def use_header_auth(app: FastAPI) -> None:
    """Sign requests in by `X-Test-User`, so tests need no password hashing."""

    async def principal(request: Request) -> Principal:
        user = request.headers.get("x-test-user")
        if not user:
            raise Unauthorized("no test user")
        return Principal(user_id=UUID(user), role=Role.TRADER, scopes=SESSION_SCOPES, auth_method="bearer")

    app.dependency_overrides[authenticated_principal] = principal


async def make_user(conn: asyncpg.Connection[Any]) -> tuple[UUID, str]:
    email = f"trader-{uuid.uuid4().hex[:10]}@example.test"
    user_id: UUID = await conn.fetchval(
        "INSERT INTO users (email, display_name, role) VALUES ($1, $2, 'trader') RETURNING id",
        email,
        DISPLAY_NAME,
    )
    return user_id, email


def as_user(user_id: UUID) -> dict[str, str]:
    return {"x-test-user": str(user_id)}


async def fund(client: httpx.AsyncClient, user_id: UUID, asset: str, amount: str) -> None:
    response = await client.post(
        "/api/v1/dev/faucet", json={"asset": asset, "amount": amount}, headers=as_user(user_id)
    )
    assert response.status_code == 200, response.text


async def set_last_price(conn: asyncpg.Connection[Any], symbol: str, price: str) -> None:
    trade_id = await conn.fetchval(
        "SELECT coalesce(max(trade_id), 0) + 1 FROM ticks WHERE symbol = $1", symbol
    )
    await conn.execute(
        "INSERT INTO ticks (time, symbol, trade_id, price, quantity, taker_side)"
        " VALUES ($1, $2, $3, $4, 1, 'buy')",
        datetime.now(UTC),
        symbol,
        trade_id,
        Decimal(price),
    )


async def order_count(conn: asyncpg.Connection[Any]) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM orders")
    return count


def metric(app: FastAPI, name: str, **labels: str) -> float:
    value = app.state.tessera.registry.get_sample_value(name, labels)
    return float(value or 0.0)


async def draft(client: httpx.AsyncClient, user_id: UUID, text: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/assistant/order-draft", json={"text": text}, headers=as_user(user_id)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def answer(**fields: Any) -> str:
    """A model answer: the JSON object as text."""
    return json.dumps({"time_in_force": "GTC", "post_only": False, "confidence": 0.97, **fields})


@dataclass
class Scripted:
    """One scripted reply: chat-completion `content`, after `delay` seconds, with HTTP `status`."""

    content: str
    delay: float = 0.0
    status: int = 200


@dataclass
class ModelServer:
    """A local OpenAI-compatible `/v1/chat/completions` answering from a script, recording each request."""

    url: str = ""
    script: deque[Scripted] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def reply(self, *replies: str | Scripted) -> None:
        self.script.extend(r if isinstance(r, Scripted) else Scripted(r) for r in replies)


def start_model_server() -> tuple[ModelServer, ThreadingHTTPServer]:
    state = ModelServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length))
            state.requests.append(body)
            state.headers.append(dict(self.headers.items()))
            if self.path != "/v1/chat/completions":
                self.send_error(404)
                return
            scripted = state.script.popleft() if state.script else Scripted("{}", status=500)
            if scripted.delay:
                time.sleep(scripted.delay)
            payload = json.dumps(
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": scripted.content},
                        }
                    ],
                }
            ).encode()
            try:
                self.send_response(scripted.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, name="scripted-model", daemon=True).start()
    return state, server
