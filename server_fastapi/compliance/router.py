"""HTTP routes of the compliance domain: IVMS101 validation, the KYC profile, erasure, audit verification and
the market-abuse alerts officers review."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.routing import APIRoute

from server_fastapi.compliance import service
from server_fastapi.compliance.schemas import (
    AlertDetail,
    AlertKindName,
    AlertPage,
    AlertResolution,
    AlertStatus,
    AuditEntryPage,
    AuditVerification,
    ErasureRequest,
    Ivms101Validated,
    KycProfile,
    KycProfileUpdate,
)
from server_fastapi.core.db import Db
from server_fastapi.core.problems import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    TesseraError,
    Unauthorized,
    error_responses,
)
from server_fastapi.core.security import ComplianceOfficer, CurrentUser, SessionUser
from server_fastapi.core.state import State

MAX_IVMS101_BYTES = 256 * 1024
"""A payload with a few persons and a transfer path is a few kilobytes; anything near this is abuse."""


class PayloadTooLarge(TesseraError):
    status, slug, title = status.HTTP_413_CONTENT_TOO_LARGE, "too-large", "Content Too Large"


MAX_KYC_BYTES = 16 * 1024
"""One natural person with a few names and addresses is about a kilobyte."""


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` (the declared length, else the
    bytes received so far), so an oversized body is never held in memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body must be at most {limit} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The body must be at most {limit} bytes.")
    return bytes(body)


class _BodyRead(Request):
    """A request whose body was read (within a limit) before FastAPI parses it."""

    def __init__(self, request: Request, body: bytes) -> None:
        super().__init__(request.scope, request.receive)
        self._read = body

    async def body(self) -> bytes:
        return self._read


class KycBodyLimitRoute(APIRoute):
    """Reads the body within `MAX_KYC_BYTES` before FastAPI does, so the route keeps its typed body (and
    its OpenAPI schema) while a too-large body is a 413 problem rather than FastAPI's generic 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            return await handler(_BodyRead(request, await _read_limited(request, MAX_KYC_BYTES)))

        return limited


router = APIRouter(prefix="/api/v1", tags=["compliance"])
kyc_router = APIRouter(tags=["compliance"], route_class=KycBodyLimitRoute)


async def _json_body(request: Request, limit: int) -> Any:
    body = await _read_limited(request, limit)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(
            "The body is not JSON.",
            errors=[FieldError(location="body", pointer="", detail=str(error), code="json_invalid")],
        ) from None


@router.post(
    "/compliance/ivms101/validate",
    summary="Validate an IVMS101 payload (2023 or 2020 edition); every violation is reported at once",
    responses=error_responses(Unauthorized, PayloadTooLarge, InvalidInput),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "An IVMS101 payload: originator, beneficiary, originatingVASP, beneficiaryVASP, "
            "optional transferPath and payloadMetadata, in the standard's camelCase form",
            "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
        }
    },
)
async def validate_ivms101(request: Request, principal: CurrentUser) -> Ivms101Validated:
    payload = await _json_body(request, MAX_IVMS101_BYTES)
    return service.validate_payload(payload)


@router.get(
    "/kyc",
    summary="Your KYC identity (IVMS101 natural person)",
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def get_kyc(principal: SessionUser, db: Db, state: State) -> KycProfile:
    return await service.get_profile(db, state.settings, principal.user_id)


@kyc_router.put(
    "/kyc",
    summary="Set your KYC identity (IVMS101 natural person); stored encrypted under your own data key",
    responses=error_responses(Unauthorized, Forbidden, Conflict, PayloadTooLarge, InvalidInput),
)
async def put_kyc(body: KycProfileUpdate, principal: SessionUser, db: Db, state: State) -> KycProfile:
    return await service.put_profile(db, state.settings, principal, body.natural_person)


router.include_router(kyc_router)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase your account: personal data destroyed (crypto-shredding), sessions ended, books kept",
    responses=error_responses(Unauthorized, Forbidden, NotFound, InvalidInput),
)
async def erase_me(body: ErasureRequest, principal: SessionUser, db: Db, state: State) -> Response:
    await service.erase_account(db, state.settings, principal, password=body.password, totp=body.totp)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/audit/verify",
    summary="Recompute the audit log's hash chain and report the first broken link",
    responses=error_responses(Unauthorized, Forbidden),
)
async def verify_audit(principal: ComplianceOfficer, db: Db) -> AuditVerification:
    return await service.audit_verification(db, principal)


@router.get(
    "/audit/entries",
    summary="The audit log, newest first",
    responses=error_responses(Unauthorized, Forbidden, InvalidInput),
)
async def list_audit_entries(
    principal: ComplianceOfficer,
    db: Db,
    action: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            pattern=r"^[a-z0-9_.]+$",
            description="Entries whose action starts with this (`wallets.withdrawal.`: each withdrawal step)",
        ),
    ] = None,
    subject: Annotated[
        str | None, Query(min_length=1, max_length=200, description="`withdrawal:42`, `user:<id>`, …")
    ] = None,
    actor_id: Annotated[UUID | None, Query(description="Entries of this user's doing")] = None,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditEntryPage:
    return await service.list_audit_entries(
        db, action=action, subject=subject, actor_id=actor_id, cursor=cursor, limit=limit
    )


AlertId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get(
    "/compliance/alerts",
    summary="Market-abuse alerts, newest first",
    responses=error_responses(Unauthorized, Forbidden, InvalidInput),
)
async def list_alerts(
    principal: ComplianceOfficer,
    db: Db,
    status: AlertStatus | None = None,
    kind: AlertKindName | None = None,
    symbol: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertPage:
    return await service.list_alerts(db, status=status, kind=kind, symbol=symbol, cursor=cursor, limit=limit)


@router.get(
    "/compliance/alerts/{alert_id}",
    summary="One alert with its evidence",
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def get_alert(alert_id: AlertId, principal: ComplianceOfficer, db: Db) -> AlertDetail:
    return await service.get_alert(db, alert_id)


@router.post(
    "/compliance/alerts/{alert_id}/acknowledge",
    summary="Take an alert into review",
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def acknowledge_alert(alert_id: AlertId, principal: ComplianceOfficer, db: Db) -> AlertDetail:
    return await service.acknowledge_alert(db, principal, alert_id)


@router.post(
    "/compliance/alerts/{alert_id}/resolve",
    summary="Close an alert with the officer's conclusion",
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def resolve_alert(
    alert_id: AlertId, body: AlertResolution, principal: ComplianceOfficer, db: Db
) -> AlertDetail:
    return await service.resolve_alert(db, principal, alert_id, body.comment)
