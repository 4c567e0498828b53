"""Accounts, sign-in, sessions, two-factor authentication and API keys.

Sign-in and refresh return a `Refusal` instead of raising when the refusal itself must be stored (the audit
entry of a failed sign-in, the revoked family of a replayed refresh token): the handler commits, then
raises the refusal's error. Everything else raises `TesseraError`s directly.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from uuid import UUID

from redis.exceptions import RedisError

from server_fastapi.auth import repository as repo
from server_fastapi.auth import totp
from server_fastapi.auth.passwords import normalise_password, password_hasher, password_problems
from server_fastapi.auth.schemas import ApiKey, ApiKeyCreate, ApiKeyCreated, User
from server_fastapi.auth.tokens import (
    API_KEY_PREFIX,
    REFRESH_TOKEN_PREFIX,
    TokenRejected,
    decode_access_token,
    issue_access_token,
    load_keyring,
    new_csrf_token,
    new_opaque_token,
    token_hash,
)
from server_fastapi.core.audit import record_audit
from server_fastapi.core.db import Connection
from server_fastapi.core.gcra import Limit, enforce, gcra, rate_limit_headers
from server_fastapi.core.principal import API_KEY_SCOPES, SESSION_SCOPES, AuthMethod, Principal, Role
from server_fastapi.core.problems import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    TesseraError,
    TooManyRequests,
    Unauthorized,
)
from server_fastapi.core.settings import Environment, Settings
from server_fastapi.core.state import AppState

__all__ = [
    "API_KEY_PREFIX",
    "authenticate_access_token",
    "authenticate_api_key",
    "require_second_factor",
    "revoke_all_sessions",
]

logger = logging.getLogger(__name__)

# Failed sign-ins per account, from any address: slows a distributed guess at one password (or one TOTP
# code) without letting one flooding address lock the owner out (the per-IP limit stops it far earlier).
ACCOUNT_FAILURES = Limit(name="login-account", rate=20, period_seconds=900, burst=20)


class InvalidToken(Unauthorized):
    slug, title = "invalid-token", "Invalid Token"


class InvalidCredentials(Unauthorized):
    slug, title = "invalid-credentials", "Invalid Credentials"


class TotpRequired(Unauthorized):
    slug, title = "totp-required", "Two-Factor Code Required"


class TotpRejected(Unauthorized):
    slug, title = "totp-invalid", "Two-Factor Code Invalid"


class SecondFactorRequired(Forbidden):
    slug, title = "totp-required", "Two-Factor Code Required"


class SecondFactorRejected(Forbidden):
    slug, title = "totp-invalid", "Two-Factor Code Invalid"


class SecondFactorNotEnrolled(Forbidden):
    slug, title = "totp-not-enrolled", "Two-Factor Authentication Needed"


class ApiKeyAddressRefused(Forbidden):
    slug, title = "api-key-address", "API Key Not Allowed From This Address"


class EmailTaken(Conflict):
    slug, title = "email-taken", "Email Already Registered"


@dataclass(frozen=True)
class Refusal:
    error: TesseraError


@dataclass(frozen=True)
class IssuedSession:
    session_id: UUID
    user_id: UUID
    access_token: str
    refresh_token: str
    csrf_token: str
    expires_in: int
    refresh_expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _user(record: repo.Record) -> User:
    return User(
        id=record["id"],
        email=record["email"],
        display_name=record["display_name"],
        role=Role(record["role"]),
        totp_enabled=record["totp_enabled_at"] is not None,
        created_at=record["created_at"],
    )


def _email_key(email: str) -> str:
    """Limiter keys name an account without putting its address into Redis."""
    return hashlib.sha256(email.encode()).hexdigest()[:32]


# --- accounts -------------------------------------------------------------------------------------------


async def create_user(
    conn: Connection,
    settings: Settings,
    *,
    email: str,
    password: str,
    display_name: str | None,
    role: Role = Role.TRADER,
    ip: str | None = None,
    actor_id: UUID | None = None,
) -> User:
    password = normalise_password(password)
    problems = password_problems(password, email=email, display_name=display_name)
    if problems:
        raise InvalidInput(
            "The password is too weak.",
            errors=[
                FieldError(
                    location="body", pointer="/password", detail=f"Password {p}.", code="weak_password"
                )
                for p in problems
            ],
        )
    password_hash = await password_hasher(settings).hash(password)
    record = await repo.insert_user(
        conn, email=email, display_name=display_name, password_hash=password_hash, role=role.value
    )
    if record is None:
        raise EmailTaken("An account with this email already exists.")
    await record_audit(
        conn,
        actor_id=actor_id or record["id"],
        action="auth.user.registered",
        subject=f"user:{record['id']}",
        details={"role": role.value},
        ip=ip,
    )
    return _user(record)


async def get_user(conn: Connection, user_id: UUID) -> User:
    record = await repo.user_by_id(conn, user_id)
    if record is None:
        raise NotFound("No such account.")
    return _user(record)


async def find_user(conn: Connection, email: str, *, admin_id: UUID, ip: str | None) -> User:
    """The account behind an email, for an administrator (crediting a deposit, say); audited, as it reads
    someone's personal data."""
    record = await repo.user_by_email(conn, email)
    if record is None:
        raise NotFound("No account has this email.")
    await record_audit(
        conn, actor_id=admin_id, action="auth.user.looked_up", subject=f"user:{record['id']}", ip=ip
    )
    return _user(record)


# --- sign-in and sessions -------------------------------------------------------------------------------


async def login(
    conn: Connection,
    state: AppState,
    *,
    email: str,
    password: str,
    code: str | None,
    ip: str,
    user_agent: str | None,
) -> IssuedSession | Refusal:
    settings = state.settings
    account_key = f"login-failures:{_email_key(email)}"
    budget = await _peek_budget(state, account_key)
    if budget is not None:
        await _audit_failure(conn, None, "account_throttled", ip)
        return Refusal(budget)

    record = await repo.user_by_email(conn, email)
    matches, new_hash = await password_hasher(settings).verify(
        normalise_password(password), record["password_hash"] if record else None
    )
    if record is None or not matches:
        await _spend_budget(state, account_key)
        await _audit_failure(conn, record["id"] if record else None, "bad_password", ip)
        return Refusal(InvalidCredentials("The email or password is wrong."))
    user_id: UUID = record["id"]

    if record["totp_enabled_at"] is not None:
        if not code:
            await _audit_failure(conn, user_id, "totp_missing", ip)
            return Refusal(TotpRequired("Enter the code from your authenticator app."))
        if not await _accept_second_factor(conn, settings, record, code):
            await _spend_budget(state, account_key)
            await _audit_failure(conn, user_id, "totp_invalid", ip)
            return Refusal(TotpRejected("The two-factor code is wrong or was already used."))

    if new_hash is not None:
        await repo.update_password_hash(conn, user_id, new_hash)
    issued = await _start_session(conn, settings, user_id=user_id, ip=ip, user_agent=user_agent)
    await record_audit(
        conn,
        actor_id=user_id,
        action="auth.login.succeeded",
        subject=f"session:{issued.session_id}",
        details={"second_factor": record["totp_enabled_at"] is not None},
        ip=ip,
    )
    return issued


async def _peek_budget(state: AppState, key: str) -> TesseraError | None:
    """The refusal when this account has no failed sign-ins left, without spending one."""
    try:
        decision = await gcra(state.redis, key, ACCOUNT_FAILURES, peek=True)
    except (RedisError, OSError) as error:
        # The per-IP limit in front of sign-in fails closed, so this one may fail open.
        logger.warning(
            "rate limiter unavailable",
            extra={"limit": ACCOUNT_FAILURES.name, "policy": "fail open", "error_type": type(error).__name__},
        )
        return None
    if decision.allowed:
        return None
    headers = rate_limit_headers(ACCOUNT_FAILURES, decision)
    return TooManyRequests(
        "Too many failed sign-ins for this account; try again later.",
        headers=headers,
        retry_after=int(headers["Retry-After"]),
    )


async def _spend_budget(state: AppState, key: str) -> None:
    # Already over budget: the next attempt is refused before its password is checked.
    with contextlib.suppress(TesseraError):
        await enforce(state, key, ACCOUNT_FAILURES, fail="open")


async def _audit_failure(conn: Connection, user_id: UUID | None, reason: str, ip: str) -> None:
    await record_audit(
        conn,
        actor_id=None,
        action="auth.login.failed",
        subject=f"user:{user_id}" if user_id else None,
        details={"reason": reason},
        ip=ip,
    )


async def _start_session(
    conn: Connection, settings: Settings, *, user_id: UUID, ip: str | None, user_agent: str | None
) -> IssuedSession:
    now = _now()
    session_expires = now + timedelta(seconds=settings.session_max_age_seconds)
    session_id = await repo.insert_session(
        conn, user_id=user_id, expires_at=session_expires, ip=ip, user_agent=(user_agent or "")[:300] or None
    )
    return await _issue(
        conn,
        settings,
        user_id=user_id,
        session_id=session_id,
        parent_id=None,
        session_expires=session_expires,
    )


async def _issue(
    conn: Connection,
    settings: Settings,
    *,
    user_id: UUID,
    session_id: UUID,
    parent_id: UUID | None,
    session_expires: datetime,
) -> IssuedSession:
    refresh_token = new_opaque_token(REFRESH_TOKEN_PREFIX)
    refresh_expires = min(_now() + timedelta(seconds=settings.refresh_token_ttl_seconds), session_expires)
    await repo.insert_refresh_token(
        conn,
        session_id=session_id,
        token_hash=token_hash(refresh_token),
        parent_id=parent_id,
        expires_at=refresh_expires,
    )
    keyring = load_keyring(settings, generate=settings.env is not Environment.PRODUCTION)
    access_token, expires_in = issue_access_token(keyring, settings, user_id=user_id, session_id=session_id)
    return IssuedSession(
        session_id=session_id,
        user_id=user_id,
        access_token=access_token,
        refresh_token=refresh_token,
        csrf_token=new_csrf_token(settings.secret_key.get_secret_value(), session_id),
        expires_in=expires_in,
        refresh_expires_at=refresh_expires,
    )


async def refresh(
    conn: Connection, settings: Settings, *, refresh_token: str, ip: str
) -> IssuedSession | Refusal:
    """Rotate: the presented token is spent and a new one issued in the same session. A spent token
    presented again means it was copied: the whole session (every token of the family) is revoked."""
    invalid = Refusal(InvalidToken("The refresh token is invalid or expired; sign in again."))
    if not refresh_token.startswith(REFRESH_TOKEN_PREFIX):
        return invalid
    record = await repo.refresh_token_for_update(conn, token_hash(refresh_token))
    if record is None:
        return invalid
    session_id: UUID = record["session_id"]
    user_id: UUID = record["user_id"]
    if record["used_at"] is not None:
        if await repo.revoke_session(conn, session_id, "reuse"):
            await record_audit(
                conn,
                actor_id=None,
                action="auth.refresh.reused",
                subject=f"session:{session_id}",
                details={"user_id": str(user_id), "token_id": str(record["id"])},
                ip=ip,
            )
            logger.warning("refresh token reused; session revoked", extra={"session_id": str(session_id)})
        return Refusal(InvalidToken("This refresh token was already used; the session has been ended."))
    now = _now()
    if (
        record["session_revoked_at"] is not None
        or record["erased_at"] is not None
        or record["expires_at"] <= now
        or record["session_expires_at"] <= now
    ):
        return invalid
    await repo.mark_refresh_token_used(conn, record["id"])
    return await _issue(
        conn,
        settings,
        user_id=user_id,
        session_id=session_id,
        parent_id=record["id"],
        session_expires=record["session_expires_at"],
    )


async def logout(conn: Connection, principal: Principal, *, ip: str) -> None:
    if principal.session_id is None:
        return
    if await repo.revoke_session(conn, principal.session_id, "logout"):
        await record_audit(
            conn,
            actor_id=principal.user_id,
            action="auth.logout",
            subject=f"session:{principal.session_id}",
            ip=ip,
        )


async def revoke_all_sessions(conn: Connection, user_id: UUID, *, reason: str) -> int:
    """End every session of a user (erasure, password change, an administrator's decision)."""
    return await repo.revoke_user_sessions(conn, user_id, reason)


@dataclass(frozen=True, slots=True)
class SignInOrigin:
    """Where one sign-in came from: the client address and user agent its session recorded."""

    user_id: UUID
    session_id: UUID
    signed_in_at: datetime
    ip: str
    user_agent: str | None


async def sign_in_origins(
    conn: Connection, user_ids: Sequence[UUID], *, since: datetime
) -> list[SignInOrigin]:
    """The users' sign-ins after `since`, oldest first, ended sessions included (the market-abuse sentinel
    links accounts that signed in from one address). Erased accounts have none: erasure blanks them."""
    return [
        SignInOrigin(
            user_id=record["user_id"],
            session_id=record["id"],
            signed_in_at=record["created_at"],
            ip=record["ip"],
            user_agent=record["user_agent"],
        )
        for record in await repo.sessions_since(conn, user_ids, since)
    ]


# --- authentication of requests ---------------------------------------------------------------------------


async def authenticate_access_token(
    conn: Connection, settings: Settings, token: str, *, method: AuthMethod
) -> Principal:
    keyring = load_keyring(settings, generate=settings.env is not Environment.PRODUCTION)
    try:
        claims = decode_access_token(keyring, settings, token)
    except TokenRejected:
        raise InvalidToken(
            "The access token is invalid or expired.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    holder = await repo.session_holder(conn, claims.session_id)
    if holder is None or holder["user_id"] != claims.user_id:
        raise InvalidToken(
            "The session has ended; sign in again.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return Principal(
        user_id=claims.user_id,
        role=Role(holder["role"]),
        scopes=SESSION_SCOPES,
        auth_method=method,
        session_id=claims.session_id,
    )


async def authenticate_api_key(conn: Connection, raw_key: str, *, ip: str | None) -> Principal:
    invalid = InvalidToken("The API key is invalid, expired or revoked.")
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 200:
        raise invalid
    record = await repo.api_key_holder(conn, token_hash(raw_key))
    if record is None:
        raise invalid
    allowlist = record["ip_allowlist"]
    if allowlist:
        address = ip_address(ip) if ip else None
        if address is None or not any(address in network for network in allowlist):
            raise ApiKeyAddressRefused("This API key cannot be used from your address.")
    await repo.touch_api_key(conn, record["id"])
    return Principal(
        user_id=record["user_id"],
        role=Role(record["role"]),
        scopes=frozenset(record["scopes"]) & API_KEY_SCOPES,
        auth_method="api_key",
        key_id=record["id"],
    )


# --- two-factor authentication ---------------------------------------------------------------------------


async def _accept_second_factor(conn: Connection, settings: Settings, record: repo.Record, code: str) -> bool:
    """A current TOTP code (each accepted once) or an unused recovery code (spent now)."""
    secret_key = settings.secret_key.get_secret_value()
    user_id: UUID = record["id"]
    secret = totp.decrypt_secret(secret_key, user_id, record["totp_secret"])
    step = totp.matching_step(secret, code, after_step=record["totp_last_step"])
    if step is not None:
        return await repo.claim_totp_step(conn, user_id, step)
    if totp.looks_like_recovery_code(code):
        used = await repo.use_recovery_code(conn, user_id, totp.recovery_code_hash(secret_key, code))
        if used:
            await record_audit(
                conn, actor_id=user_id, action="auth.2fa.recovery_code_used", subject=f"user:{user_id}"
            )
        return used
    return False


async def require_second_factor(
    conn: Connection, settings: Settings, user_id: UUID, code: str | None, *, enrolled: bool = False
) -> None:
    """For sensitive actions: when the user has enabled 2FA, `code` must be a valid TOTP or recovery code;
    403 otherwise. A user without 2FA passes, unless the action needs `enrolled` 2FA (withdrawals)."""
    record = await repo.user_by_id(conn, user_id, for_update=True)
    if record is None:
        raise NotFound("No such account.")
    if record["totp_enabled_at"] is None:
        if enrolled:
            raise SecondFactorNotEnrolled("Turn on two-factor authentication in Settings first.")
        return
    if not code:
        raise SecondFactorRequired("Enter the code from your authenticator app.")
    if not await _accept_second_factor(conn, settings, record, code):
        raise SecondFactorRejected("The two-factor code is wrong or was already used.")


async def begin_totp_enrollment(
    conn: Connection, settings: Settings, principal: Principal
) -> tuple[str, str]:
    """A new secret and its otpauth URI; 2FA is on only once a code from it is verified."""
    record = await repo.user_by_id(conn, principal.user_id, for_update=True)
    if record is None:
        raise NotFound("No such account.")
    if record["totp_enabled_at"] is not None:
        raise Conflict("Two-factor authentication is already enabled; disable it first to enrol again.")
    secret = totp.new_secret()
    encrypted = totp.encrypt_secret(settings.secret_key.get_secret_value(), principal.user_id, secret)
    await repo.set_pending_totp(conn, principal.user_id, encrypted)
    return secret, totp.provisioning_uri(secret, record["email"])


async def confirm_totp_enrollment(
    conn: Connection, settings: Settings, principal: Principal, code: str, *, ip: str
) -> list[str]:
    """Enable 2FA when `code` matches the pending secret; returns the recovery codes (shown once)."""
    record = await repo.user_by_id(conn, principal.user_id, for_update=True)
    if record is None:
        raise NotFound("No such account.")
    if record["totp_enabled_at"] is not None:
        raise Conflict("Two-factor authentication is already enabled.")
    if record["totp_secret"] is None:
        raise Conflict("Start enrolment first (POST /api/v1/auth/2fa/enroll).")
    secret_key = settings.secret_key.get_secret_value()
    secret = totp.decrypt_secret(secret_key, principal.user_id, record["totp_secret"])
    step = totp.matching_step(secret, code, after_step=None)
    if step is None:
        raise SecondFactorRejected("The code does not match; check the authenticator app's clock.")
    await repo.enable_totp(conn, principal.user_id, step)
    codes = totp.new_recovery_codes()
    await repo.replace_recovery_codes(
        conn, principal.user_id, [totp.recovery_code_hash(secret_key, c) for c in codes]
    )
    await record_audit(
        conn,
        actor_id=principal.user_id,
        action="auth.2fa.enabled",
        subject=f"user:{principal.user_id}",
        ip=ip,
    )
    return codes


async def disable_totp(
    conn: Connection, settings: Settings, principal: Principal, code: str, *, ip: str
) -> None:
    record = await repo.user_by_id(conn, principal.user_id, for_update=True)
    if record is None:
        raise NotFound("No such account.")
    if record["totp_enabled_at"] is None:
        raise Conflict("Two-factor authentication is not enabled.")
    if not await _accept_second_factor(conn, settings, record, code):
        raise SecondFactorRejected("The two-factor code is wrong or was already used.")
    await repo.disable_totp(conn, principal.user_id)
    await record_audit(
        conn,
        actor_id=principal.user_id,
        action="auth.2fa.disabled",
        subject=f"user:{principal.user_id}",
        ip=ip,
    )


# --- API keys -------------------------------------------------------------------------------------------


def _api_key(record: repo.Record) -> ApiKey:
    return ApiKey(
        id=record["id"],
        name=record["name"],
        prefix=record["prefix"],
        scopes=list(record["scopes"]),
        ip_allowlist=list(record["ip_allowlist"]) if record["ip_allowlist"] is not None else None,
        created_at=record["created_at"],
        expires_at=record["expires_at"],
        last_used_at=record["last_used_at"],
        revoked_at=record["revoked_at"],
    )


async def create_api_key(
    conn: Connection, settings: Settings, principal: Principal, request: ApiKeyCreate, *, ip: str
) -> ApiKeyCreated:
    await require_second_factor(conn, settings, principal.user_id, request.totp)
    scopes = sorted(set(request.scopes))
    raw_key = new_opaque_token(API_KEY_PREFIX)
    expires_at = _now() + timedelta(days=request.expires_in_days) if request.expires_in_days else None
    record = await repo.insert_api_key(
        conn,
        user_id=principal.user_id,
        name=request.name,
        prefix=raw_key[: len(API_KEY_PREFIX) + 8],
        secret_hash=token_hash(raw_key),
        scopes=scopes,
        ip_allowlist=request.ip_allowlist,
        expires_at=expires_at,
    )
    await record_audit(
        conn,
        actor_id=principal.user_id,
        action="auth.api_key.created",
        subject=f"api_key:{record['id']}",
        details={"scopes": scopes, "name": request.name, "ip_allowlist": bool(request.ip_allowlist)},
        ip=ip,
    )
    return ApiKeyCreated(**_api_key(record).model_dump(), key=raw_key)


async def list_api_keys(conn: Connection, principal: Principal) -> list[ApiKey]:
    return [_api_key(record) for record in await repo.api_keys_of(conn, principal.user_id)]


async def revoke_api_key(conn: Connection, principal: Principal, key_id: UUID, *, ip: str) -> None:
    record = await repo.revoke_api_key(conn, principal.user_id, key_id)
    if record is None:
        raise NotFound("No such active API key.")
    await record_audit(
        conn, actor_id=principal.user_id, action="auth.api_key.revoked", subject=f"api_key:{key_id}", ip=ip
    )
