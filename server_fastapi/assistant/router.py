"""`POST /assistant/order-draft`: the trader's words in, a guarded draft (never an order) out.

Access: the `trade` scope (every signed-in session, and API keys granted `trade`). A draft reads only the
caller's own balances, but its one use is to be placed as an order, and with a model configured each call
spends model time: a read-only key (dashboards, accounting) has no business here. Rate-limited per account.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request

from server_fastapi.assistant.schemas import DraftRequest, DraftResponse
from server_fastapi.assistant.service import Assistant
from server_fastapi.core.db import Db
from server_fastapi.core.principal import Principal, Scope
from server_fastapi.core.problems import TooManyRequests, error_responses
from server_fastapi.core.ratelimit import rate_limit
from server_fastapi.core.security import require_scope
from server_fastapi.core.state import AppState


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: AppState = app.state.tessera
    app.state.assistant = assistant = Assistant(state.settings, state.registry)
    assistant.start()
    try:
        yield
    finally:
        await assistant.close()


async def _assistant(request: Request) -> Assistant:
    assistant: Assistant = request.app.state.assistant
    return assistant


Trader = Annotated[Principal, Depends(require_scope(Scope.TRADE))]
AssistantDep = Annotated[Assistant, Depends(_assistant)]

_draft_rate_limit = rate_limit("assistant", per="account", rate=30, period_seconds=60, burst=10, fail="open")

router = APIRouter(tags=["assistant"], lifespan=_lifespan)


@router.post(
    "/assistant/order-draft",
    dependencies=[Depends(_draft_rate_limit)],
    responses=error_responses(TooManyRequests),
)
async def order_draft(
    body: DraftRequest, principal: Trader, db: Db, assistant: AssistantDep
) -> DraftResponse:
    """Understand an order written in plain words and return a draft for the order ticket, with the checks it
    passed, or a refusal saying why. Nothing is placed: the trader reviews the draft and places it."""
    return await assistant.draft(db, principal, body.text)
