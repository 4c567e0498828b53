"""HTTP routes of the auth domain: accounts, sign-in, sessions, two-factor authentication, API keys.

Sign-in and refresh answer with the tokens in the body (mobile, scripts: `Authorization: Bearer`) and set
the same session as cookies for the web app: `tessera_access` and `tessera_refresh` are HttpOnly, Secure
(outside dev and test) and SameSite=Strict; `tessera_csrf` is readable by the page, which echoes it in
`X-CSRF-Token`. Strict rather than Lax because the web app is served from the API's own origin, so no
legitimate cross-site navigation needs an authenticated API call; a link from elsewhere loads the static
app, whose own requests are same-site.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from server_fastapi.auth import service
from server_fastapi.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPage,
    Email,
    LoginRequest,
    Me,
    RecoveryCodes,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    TotpCodeRequest,
    TotpEnrollment,
    User,
)
from server_fastapi.core.db import Db, transaction
from server_fastapi.core.problems import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    error_responses,
)
from server_fastapi.core.ratelimit import rate_limit
from server_fastapi.core.security import (
    ACCESS_COOKIE,
    CSRF_COOKIE,
    CSRF_HEADER,
    REFRESH_COOKIE,
    AdminUser,
    CsrfRejected,
    CurrentUser,
    SessionUser,
    client_ip,
)
from server_fastapi.core.settings import Settings
from server_fastapi.core.state import State

router = APIRouter(prefix="/api/v1", tags=["auth"])

# Per client address, failing closed: without Redis nobody may guess passwords unthrottled.
REGISTER_LIMIT = rate_limit("register", per="ip", rate=10, period_seconds=3600, burst=5, fail="closed")
LOGIN_BURST, LOGIN_RATE, LOGIN_PERIOD_SECONDS = 10, 10, 300.0
LOGIN_LIMIT = rate_limit(
    "login", per="ip", rate=LOGIN_RATE, period_seconds=LOGIN_PERIOD_SECONDS, burst=LOGIN_BURST, fail="closed"
)
REFRESH_LIMIT = rate_limit("refresh", per="ip", rate=60, period_seconds=60, burst=30, fail="closed")

REFRESH_COOKIE_PATH = "/api/v1/auth"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _set_session_cookies(response: Response, issued: service.IssuedSession, settings: Settings) -> None:
    secure = settings.secure_cookies
    refresh_max_age = max(0, int((issued.refresh_expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(
        ACCESS_COOKIE, issued.access_token, max_age=issued.expires_in, path="/",
        secure=secure, httponly=True, samesite="strict",
    )  # fmt: skip
    response.set_cookie(
        REFRESH_COOKIE, issued.refresh_token, max_age=refresh_max_age, path=REFRESH_COOKIE_PATH,
        secure=secure, httponly=True, samesite="strict",
    )  # fmt: skip
    response.set_cookie(
        CSRF_COOKIE, issued.csrf_token, max_age=refresh_max_age, path="/",
        secure=secure, httponly=False, samesite="strict",
    )  # fmt: skip
    response.headers.update(_NO_STORE)


def _clear_session_cookies(response: Response, settings: Settings) -> None:
    secure = settings.secure_cookies
    response.delete_cookie(ACCESS_COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
    response.delete_cookie(
        REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=secure, httponly=True, samesite="strict"
    )
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, httponly=False, samesite="strict")


def _token_pair(issued: service.IssuedSession) -> TokenPair:
    return TokenPair(
        access_token=issued.access_token, refresh_token=issued.refresh_token, expires_in=issued.expires_in
    )


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a trader account",
    dependencies=[Depends(REGISTER_LIMIT)],
    responses=error_responses(service.EmailTaken, InvalidInput, TooManyRequests, ServiceUnavailable),
)
async def register(body: RegisterRequest, request: Request, db: Db, state: State) -> User:
    return await service.create_user(
        db,
        state.settings,
        email=body.email,
        password=body.password.get_secret_value(),
        display_name=body.display_name,
        ip=client_ip(request, state.settings),
    )


@router.post(
    "/auth/login",
    summary="Sign in: tokens in the body and the same session as cookies",
    dependencies=[Depends(LOGIN_LIMIT)],
    responses=error_responses(service.InvalidCredentials, TooManyRequests, ServiceUnavailable),
)
async def login(body: LoginRequest, request: Request, response: Response, state: State) -> TokenPair:
    # Committed before answering, also when the answer is a refusal (failed attempts are counted).
    async with transaction(state.pool) as conn:
        outcome = await service.login(
            conn,
            state,
            email=body.email,
            password=body.password.get_secret_value(),
            code=body.totp,
            ip=client_ip(request, state.settings),
            user_agent=request.headers.get("user-agent"),
        )
    if isinstance(outcome, service.Refusal):
        raise outcome.error
    _set_session_cookies(response, outcome, state.settings)
    return _token_pair(outcome)


@router.post(
    "/auth/refresh",
    summary="Exchange a refresh token for new tokens (each refresh token works once)",
    dependencies=[Depends(REFRESH_LIMIT)],
    responses=error_responses(service.InvalidToken, CsrfRejected, TooManyRequests, ServiceUnavailable),
)
async def refresh(
    request: Request, response: Response, state: State, body: RefreshRequest | None = None
) -> TokenPair:
    token = body.refresh_token.get_secret_value() if body and body.refresh_token else None
    if token is None:
        token = request.cookies.get(REFRESH_COOKIE)
        if token is None:
            raise service.InvalidToken("Send the refresh token in the body or the refresh cookie.")
        header = request.headers.get(CSRF_HEADER, "")
        if not header or not hmac.compare_digest(
            header.encode(), request.cookies.get(CSRF_COOKIE, "").encode()
        ):
            raise CsrfRejected(
                f"Cookie refresh needs the {CSRF_HEADER} header equal to the {CSRF_COOKIE} cookie."
            )
    async with transaction(state.pool) as conn:
        outcome = await service.refresh(
            conn, state.settings, refresh_token=token, ip=client_ip(request, state.settings)
        )
    if isinstance(outcome, service.Refusal):
        _clear_session_cookies(response, state.settings)
        raise outcome.error
    _set_session_cookies(response, outcome, state.settings)
    return _token_pair(outcome)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this session: its access and refresh tokens stop working",
    responses=error_responses(Unauthorized, Forbidden),
)
async def logout(principal: SessionUser, request: Request, db: Db, state: State) -> Response:
    await service.logout(db, principal, ip=client_ip(request, state.settings))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    _clear_session_cookies(response, state.settings)
    return response


@router.get(
    "/admin/users",
    summary="Find an account by its email (administrators); audited",
    responses=error_responses(Unauthorized, Forbidden, NotFound, InvalidInput),
)
async def find_user(
    email: Annotated[Email, Query(max_length=320)],
    principal: AdminUser,
    db: Db,
    state: State,
    request: Request,
) -> User:
    return await service.find_user(
        db, email, admin_id=principal.user_id, ip=client_ip(request, state.settings)
    )


@router.get("/me", summary="The signed-in account", responses=error_responses(Unauthorized))
async def me(principal: CurrentUser, db: Db) -> Me:
    user = await service.get_user(db, principal.user_id)
    return Me(**user.model_dump(), auth_method=principal.auth_method, scopes=sorted(principal.scopes))


@router.post(
    "/auth/2fa/enroll",
    summary="Start two-factor enrolment: a new TOTP secret and its otpauth URI",
    responses=error_responses(Unauthorized, Forbidden, Conflict),
)
async def enroll_totp(principal: SessionUser, db: Db, state: State) -> TotpEnrollment:
    secret, uri = await service.begin_totp_enrollment(db, state.settings, principal)
    return TotpEnrollment(secret=secret, otpauth_uri=uri)


@router.post(
    "/auth/2fa/verify",
    summary="Finish enrolment with a code from the app; answers with the recovery codes, once",
    responses=error_responses(Unauthorized, Forbidden, Conflict),
)
async def verify_totp(
    body: TotpCodeRequest, principal: SessionUser, request: Request, db: Db, state: State
) -> RecoveryCodes:
    codes = await service.confirm_totp_enrollment(
        db, state.settings, principal, body.code, ip=client_ip(request, state.settings)
    )
    return RecoveryCodes(recovery_codes=codes)


@router.post(
    "/auth/2fa/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Turn two-factor authentication off (needs a current code)",
    responses=error_responses(Unauthorized, Forbidden, Conflict),
)
async def disable_totp(
    body: TotpCodeRequest, principal: SessionUser, request: Request, db: Db, state: State
) -> None:
    await service.disable_totp(
        db, state.settings, principal, body.code, ip=client_ip(request, state.settings)
    )


@router.get(
    "/api-keys",
    summary="This account's API keys (never their secrets)",
    responses=error_responses(Unauthorized, Forbidden),
)
async def list_api_keys(principal: SessionUser, db: Db) -> ApiKeyPage:
    return ApiKeyPage(items=await service.list_api_keys(db, principal))


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key (`read`, `trade`); the key is shown this once",
    responses=error_responses(Unauthorized, Forbidden, InvalidInput),
)
async def create_api_key(
    body: ApiKeyCreate, principal: SessionUser, request: Request, response: Response, db: Db, state: State
) -> ApiKeyCreated:
    response.headers.update(_NO_STORE)
    return await service.create_api_key(
        db, state.settings, principal, body, ip=client_ip(request, state.settings)
    )


@router.delete(
    "/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key; it stops working at once",
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def revoke_api_key(
    key_id: Annotated[UUID, Path(description="The key's id.")],
    principal: SessionUser,
    request: Request,
    db: Db,
    state: State,
) -> None:
    await service.revoke_api_key(db, principal, key_id, ip=client_ip(request, state.settings))
