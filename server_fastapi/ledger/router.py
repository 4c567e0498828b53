"""Balances, admin deposits and (dev and test only) the faucet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from server_fastapi.core.db import Db
from server_fastapi.core.principal import Principal, Scope
from server_fastapi.core.problems import InvalidInput, error_responses
from server_fastapi.core.security import AdminUser, CurrentUser, client_ip, require_scope
from server_fastapi.core.state import State
from server_fastapi.ledger import service
from server_fastapi.ledger.schemas import Balance, Credit, Deposit, DepositReceipt
from server_fastapi.ledger.service import DepositReferenceUsed

Reader = Annotated[Principal, Depends(require_scope(Scope.READ))]

router = APIRouter(tags=["ledger"])


@router.get("/balances")
async def list_balances(principal: Reader, db: Db) -> list[Balance]:
    """The caller's balance in each asset it has held: `available` to trade or withdraw, `held` reserved."""
    return await service.balances(db, principal.user_id)


@router.post(
    "/admin/deposits",
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_200_OK: {
            "model": DepositReceipt,
            "description": "Credited before under this reference: nothing moved",
        },
        **error_responses(InvalidInput, DepositReferenceUsed),
    },
)
async def create_deposit(
    body: Deposit, principal: AdminUser, db: Db, state: State, request: Request, response: Response
) -> DepositReceipt:
    """Credit an account with funds received outside Tessera, once per external `reference`: a retry with the
    same reference, account, asset and amount credits nothing again (200). Audited."""
    receipt = await service.deposit(
        db, state.bus, admin_id=principal.user_id, body=body, ip=client_ip(request, state.settings)
    )
    if not receipt.credited:
        response.status_code = status.HTTP_200_OK
    return receipt


dev_router = APIRouter(tags=["dev"])
"""Registered only when TESSERA_ENV is dev or test: absent from the production app and its contract."""


@dev_router.post("/dev/faucet", responses=error_responses(InvalidInput))
async def faucet(body: Credit, principal: CurrentUser, db: Db, state: State) -> Balance:
    """Credit yourself test funds (development and test environments only)."""
    balance = await service.credit(
        db, principal.user_id, body.asset, body.amount, kind="faucet", reference=f"faucet:{principal.user_id}"
    )
    service.announce_balances(db, state.bus, principal.user_id, [body.asset])
    return balance
