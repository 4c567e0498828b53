"""The framework's own cost of the order route: `POST /api/v1/orders` with Tessera's request and response
models and a bearer-token dependency, answering at once (no database, Redis, engine, token check or
middleware). `bench_orders_http.py` serves it under the same Granian settings and drives it with the same
clients, so its orders/s is the ceiling this machine allows that route shape whatever Tessera does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import count
from typing import Annotated

from fastapi import Depends, FastAPI, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server_fastapi.trading.schemas import Order, OrderRequest

_bearer = HTTPBearer()


async def _caller(credentials: Annotated[HTTPAuthorizationCredentials, Depends(_bearer)]) -> str:
    return credentials.credentials


def create_app() -> FastAPI:
    app = FastAPI()
    ids = count(1)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/orders", status_code=status.HTTP_201_CREATED)
    async def place_order(body: OrderRequest, _caller: Annotated[str, Depends(_caller)]) -> Order:
        now = datetime.now(UTC)
        return Order(
            id=next(ids),
            symbol=body.symbol,
            side=body.side,
            type=body.type,
            status="new",
            quantity=body.quantity,
            price=body.price,
            quote_budget=body.quote_budget,
            filled_quantity=Decimal(0),
            filled_quote=Decimal(0),
            average_price=None,
            time_in_force=body.time_in_force,
            post_only=body.post_only,
            stp=body.stp or "cancel_incoming",
            client_order_id=body.client_order_id,
            cancel_reason=None,
            reject_reason=None,
            created_at=now,
            updated_at=now,
        )

    return app
