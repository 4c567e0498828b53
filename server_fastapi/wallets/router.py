"""Withdrawals: the trader's requests and the compliance review queue. Thin: the service does the work.

The review routes live here (under /compliance/withdrawals) because the withdrawal is this domain's; the
compliance role guards them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from server_fastapi.auth.service import SecondFactorNotEnrolled, SecondFactorRejected, SecondFactorRequired
from server_fastapi.compliance.service import KycProfileMissing, PersonalDataErased
from server_fastapi.core.db import Db
from server_fastapi.core.principal import Principal, Scope
from server_fastapi.core.problems import InvalidInput, error_responses
from server_fastapi.core.security import ComplianceOfficer, require_scope
from server_fastapi.core.state import State
from server_fastapi.ledger.service import InsufficientFunds
from server_fastapi.wallets import service
from server_fastapi.wallets.schemas import (
    Withdrawal,
    WithdrawalDecision,
    WithdrawalForReview,
    WithdrawalPage,
    WithdrawalRequest,
    WithdrawalReviewPage,
    WithdrawalRoute,
    WithdrawalStatus,
)
from server_fastapi.wallets.service import WithdrawalNotFound, WithdrawalNotReviewable

Withdrawer = Annotated[Principal, Depends(require_scope(Scope.WITHDRAW))]
Reader = Annotated[Principal, Depends(require_scope(Scope.READ))]
Cursor = Annotated[str | None, Query(max_length=100)]
Limit = Annotated[int, Query(ge=1, le=200)]

router = APIRouter(tags=["wallets"])


@router.post(
    "/withdrawals",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        InvalidInput,
        InsufficientFunds,
        SecondFactorNotEnrolled,
        SecondFactorRequired,
        SecondFactorRejected,
        KycProfileMissing,
        PersonalDataErased,
    ),
)
async def request_withdrawal(
    body: WithdrawalRequest, principal: Withdrawer, db: Db, state: State
) -> Withdrawal:
    """Request a withdrawal: amount plus fee are held at once; review rules decide whether compliance looks
    at it first (`pending_review`) or it goes straight to signing (`approved`)."""
    return await service.request_withdrawal(db, state.settings, state.bus, principal, body)


@router.get("/withdrawals/routes")
async def list_withdrawal_routes(_principal: Reader, state: State) -> list[WithdrawalRoute]:
    """The assets and chains withdrawals are offered on, with their fees."""
    return service.routes(state.settings)


@router.get("/withdrawals", responses=error_responses(InvalidInput))
async def list_withdrawals(
    principal: Reader, db: Db, cursor: Cursor = None, limit: Limit = 50
) -> WithdrawalPage:
    """The caller's withdrawals, newest first."""
    return await service.list_withdrawals(db, principal, cursor=cursor, limit=limit)


@router.get("/withdrawals/{withdrawal_id}", responses=error_responses(WithdrawalNotFound))
async def get_withdrawal(withdrawal_id: int, principal: Reader, db: Db) -> Withdrawal:
    return await service.get_withdrawal(db, principal, withdrawal_id)


@router.get("/compliance/withdrawals", responses=error_responses(InvalidInput))
async def list_withdrawals_for_review(
    _principal: ComplianceOfficer,
    db: Db,
    state: State,
    withdrawal_status: Annotated[WithdrawalStatus | None, Query(alias="status")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> WithdrawalReviewPage:
    """Every trader's withdrawals, newest first; `status=pending_review` is the review queue."""
    return await service.list_for_review(
        db, state.settings, status=withdrawal_status, cursor=cursor, limit=limit
    )


@router.post(
    "/compliance/withdrawals/{withdrawal_id}/approve",
    responses=error_responses(WithdrawalNotFound, WithdrawalNotReviewable),
)
async def approve_withdrawal(
    withdrawal_id: int, body: WithdrawalDecision, principal: ComplianceOfficer, db: Db, state: State
) -> WithdrawalForReview:
    """Release a withdrawal under review for signing."""
    return await service.approve(db, state.settings, principal, withdrawal_id, body.comment)


@router.post(
    "/compliance/withdrawals/{withdrawal_id}/reject",
    responses=error_responses(WithdrawalNotFound, WithdrawalNotReviewable),
)
async def reject_withdrawal(
    withdrawal_id: int, body: WithdrawalDecision, principal: ComplianceOfficer, db: Db, state: State
) -> WithdrawalForReview:
    """Refuse a withdrawal before it is signed; the held amount and fee go back to the trader."""
    return await service.reject(db, state.settings, state.bus, principal, withdrawal_id, body.comment)
