"""Who may call what: one dependency per route declares it.

- `CurrentUser`: any authenticated principal (session cookie, bearer access token or API key); 401 otherwise.
- `SessionUser`: signed in interactively (cookie or bearer), never an API key: API-key management, 2FA.
- `require_role(*roles)`: the caller's role is one of these; compliance and admin routes also refuse API
  keys (administration needs a person at a keyboard). `AdminUser` and `ComplianceOfficer` are the two every
  domain uses (`require_admin` for a whole router).
- `require_scope(scope)`: the caller holds this scope (`read`, `trade`, `withdraw`); API keys hold at most
  `read` and `trade`.
- `PUBLIC_ROUTES`: the explicit list of routes that need no credentials; `tests/backend/auth` walks every
  route in the OpenAPI contract and fails if any other route answers without credentials.

Cookie-authenticated unsafe requests must carry the `X-CSRF-Token` header equal to the `tessera_csrf`
cookie (a signed double-submit token bound to the session); bearer and API-key requests need none, because
a browser never attaches those by itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from server_fastapi.auth import service as auth_service
from server_fastapi.auth.tokens import verify_csrf_token
from server_fastapi.core.db import Db, acquire
from server_fastapi.core.principal import (
    API_KEY_SCOPES,
    SESSION_SCOPES,
    AuthMethod,
    Principal,
    Role,
    Scope,
)
from server_fastapi.core.problems import Forbidden, Unauthorized
from server_fastapi.core.settings import AuthSettings
from server_fastapi.core.state import AppState

__all__ = [
    "ACCESS_COOKIE",
    "API_KEY_HEADER",
    "API_KEY_SCOPES",
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "PUBLIC_PREFIXES",
    "PUBLIC_ROUTES",
    "REFRESH_COOKIE",
    "SESSION_SCOPES",
    "AdminUser",
    "AuthMethod",
    "ComplianceOfficer",
    "CsrfRejected",
    "CurrentUser",
    "InsufficientScope",
    "Principal",
    "Role",
    "RouteAccess",
    "Scope",
    "SessionUser",
    "authenticate_websocket_cookie",
    "authenticate_websocket_token",
    "client_ip",
    "declared_access",
    "is_public_route",
    "require_admin",
    "require_role",
    "require_scope",
    "require_session",
    "route_access",
]

ACCESS_COOKIE = "tessera_access"
REFRESH_COOKIE = "tessera_refresh"
CSRF_COOKIE = "tessera_csrf"
CSRF_HEADER = "X-CSRF-Token"
API_KEY_HEADER = "X-API-Key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("GET", "/api/v1/markets"),
        ("GET", "/api/v1/markets/{symbol}"),
        ("GET", "/api/v1/markets/{symbol}/ticker"),
        ("GET", "/api/v1/markets/{symbol}/candles"),
        ("GET", "/api/v1/markets/{symbol}/trades"),
        ("GET", "/api/v1/markets/{symbol}/book"),
        ("GET", "/api/v1/markets/{symbol}/indicators"),
    }
)
"""Routes anyone may call. Everything else needs credentials."""

PUBLIC_PREFIXES: frozenset[tuple[str, str]] = frozenset({("GET", "/api/v1/markets/")})
"""Market data is public as a whole: any GET below `/api/v1/markets/` needs no credentials."""


def is_public_route(method: str, path: str) -> bool:
    method = method.upper()
    if (method, path) in PUBLIC_ROUTES:
        return True
    return any(method == m and path.startswith(prefix) for m, prefix in PUBLIC_PREFIXES)


class InvalidCredentials(Unauthorized):
    slug = "invalid-credentials"


class CsrfRejected(Forbidden):
    slug, title = "csrf", "CSRF Token Missing or Invalid"


class InsufficientScope(Forbidden):
    slug, title = "insufficient-scope", "Insufficient Scope"


class RoleRequired(Forbidden):
    slug, title = "role-required", "Role Required"


class SessionRequired(Forbidden):
    slug, title = "session-required", "Interactive Session Required"


_WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="tessera"'}

# Declared as security schemes so the contract (and /docs) show how to authenticate; every one is
# optional here and the dependency below decides.
_api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, scheme_name="ApiKey")
_bearer_scheme = HTTPBearer(auto_error=False, scheme_name="Bearer", bearerFormat="JWT")
_cookie_scheme = APIKeyCookie(name=ACCESS_COOKIE, auto_error=False, scheme_name="SessionCookie")


def client_ip(connection: HTTPConnection, settings: AuthSettings) -> str:
    """The caller's address: the ASGI peer, or, when the peer is a trusted proxy, the right-most address in
    `X-Forwarded-For` that is not itself a trusted proxy. Untrusted peers cannot choose their address."""
    peer = connection.client.host if connection.client else "0.0.0.0"  # noqa: S104 (an address, not a bind)
    if not settings.trusted_proxies or not _is_trusted(peer, settings):
        return peer
    forwarded = connection.headers.getlist("x-forwarded-for")
    hops = [hop.strip() for header in forwarded for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            return peer
        if not _is_trusted(hop, settings):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, settings: AuthSettings) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in settings.trusted_proxies)


def _state(connection: HTTPConnection) -> AppState:
    state: AppState = connection.app.state.tessera
    return state


async def authenticated_principal(
    request: Request,
    db: Db,
    api_key: Annotated[str | None, Security(_api_key_scheme)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer_scheme)],
    access_cookie: Annotated[str | None, Security(_cookie_scheme)],
) -> Principal:
    """Any authenticated caller. Precedence: API key, then bearer token, then the session cookie.

    It checks the session (or key) in the request's own unit of work (`Db`), so a handler that also takes
    `Db` shares the connection instead of holding two from the pool."""
    state = _state(request)
    if api_key:
        principal = await auth_service.authenticate_api_key(
            db, api_key, ip=client_ip(request, state.settings)
        )
    elif bearer is not None:
        principal = await auth_service.authenticate_access_token(
            db, state.settings, bearer.credentials, method="bearer"
        )
    elif request.headers.get("authorization"):
        raise InvalidCredentials(
            "Only the Bearer authorization scheme is accepted.", headers=_WWW_AUTHENTICATE
        )
    elif access_cookie:
        principal = await auth_service.authenticate_access_token(
            db, state.settings, access_cookie, method="session_cookie"
        )
        if request.method not in SAFE_METHODS:
            _check_csrf(request, principal, state.settings.secret_key.get_secret_value())
    else:
        raise Unauthorized("Sign in, or send a bearer token or an API key.", headers=_WWW_AUTHENTICATE)
    request.state.principal = principal
    return principal


def _check_csrf(request: Request, principal: Principal, secret: str) -> None:
    header = request.headers.get(CSRF_HEADER, "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if (
        not header
        or not hmac.compare_digest(header.encode(), cookie.encode())
        or principal.session_id is None
        or not verify_csrf_token(secret, principal.session_id, header)
    ):
        raise CsrfRejected(
            f"Cookie-authenticated {request.method} requests need the {CSRF_HEADER} header "
            f"equal to the {CSRF_COOKIE} cookie."
        )


CurrentUser = Annotated[Principal, Depends(authenticated_principal)]


@dataclass(frozen=True)
class RouteAccess:
    """What a route declares about its callers, read back from its dependencies (tests, docs)."""

    authenticated: bool
    roles: frozenset[Role] | None = None
    scopes: frozenset[str] = frozenset()
    session_only: bool = False


def _mark(
    dependency: Callable[..., Awaitable[Principal]], **access: Any
) -> Callable[..., Awaitable[Principal]]:
    dependency.__tessera_access__ = access  # type: ignore[attr-defined]
    return dependency


_mark(authenticated_principal)


async def require_session(principal: CurrentUser) -> Principal:
    if not principal.is_session:
        raise SessionRequired("API keys cannot call this route; sign in.")
    return principal


_mark(require_session, session_only=True)
SessionUser = Annotated[Principal, Depends(require_session)]


def require_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only these roles. Routes for compliance or admin also refuse API keys."""
    allowed = frozenset(roles)
    if not allowed:
        raise ValueError("require_role needs at least one role")
    administrative = Role.TRADER not in allowed

    async def dependency(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise RoleRequired(
                f"This route is for {', '.join(sorted(allowed))}.",
                required_roles=sorted(allowed),
            )
        if administrative and not principal.is_session:
            raise SessionRequired("Administrative routes cannot be called with an API key; sign in.")
        return principal

    dependency.__name__ = f"require_role_{'_'.join(sorted(allowed))}"
    return _mark(dependency, roles=allowed, session_only=administrative)


require_admin = require_role(Role.ADMIN)
AdminUser = Annotated[Principal, Depends(require_admin)]
ComplianceOfficer = Annotated[Principal, Depends(require_role(Role.COMPLIANCE))]


def require_scope(scope: Scope | str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only principals that hold `scope` (an API key with `read` cannot trade)."""
    wanted = Scope(scope)

    async def dependency(principal: CurrentUser) -> Principal:
        if wanted not in principal.scopes:
            raise InsufficientScope(
                f"This route needs the {wanted.value!r} scope.", required_scope=wanted.value
            )
        return principal

    dependency.__name__ = f"require_scope_{wanted.value}"
    return _mark(dependency, scopes=frozenset({wanted.value}))


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for child in dependant.dependencies:
        yield child
        yield from _walk(child)


def route_access(dependant: Dependant) -> RouteAccess:
    """The access a route declares through its dependencies (public routes declare none)."""
    marks = [getattr(d.call, "__tessera_access__", None) for d in _walk(dependant)]
    declared = [mark for mark in marks if mark is not None]
    if not declared:
        return RouteAccess(authenticated=False)
    roles: frozenset[Role] | None = None
    scopes: set[str] = set()
    session_only = False
    for mark in declared:
        if "roles" in mark:
            roles = mark["roles"] if roles is None else roles & mark["roles"]
        scopes |= mark.get("scopes", frozenset())
        session_only = session_only or bool(mark.get("session_only"))
    return RouteAccess(authenticated=True, roles=roles, scopes=frozenset(scopes), session_only=session_only)


def declared_access(app: FastAPI) -> list[tuple[str, str, RouteAccess]]:
    """(method, path template, access) of every HTTP route of the app, routers included."""
    found = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        access = route_access(context.dependant)
        found += [(method, str(context.path), access) for method in sorted(context.methods or ())]
    return found


async def authenticate_websocket_token(state: AppState, token: str, *, ip: str | None = None) -> Principal:
    """The principal behind a WebSocket `{"op": "auth", "token": ...}`: an access token or an API key."""
    async with acquire(state.pool) as conn:
        if token.startswith(auth_service.API_KEY_PREFIX):
            return await auth_service.authenticate_api_key(conn, token, ip=ip)
        return await auth_service.authenticate_access_token(conn, state.settings, token, method="bearer")


async def authenticate_websocket_cookie(state: AppState, websocket: WebSocket) -> Principal:
    """The principal behind the session cookie of a WebSocket handshake.

    Browsers send cookies on cross-site WebSocket handshakes too and CSRF headers cannot be added, so the
    handshake's `Origin` must be this host or a configured CORS origin."""
    token = websocket.cookies.get(ACCESS_COOKIE)
    if not token:
        raise Unauthorized('Sign in, or send {"op": "auth", "token": ...}.')
    origin = websocket.headers.get("origin")
    if origin is not None and not _same_or_allowed_origin(origin, websocket, state):
        raise CsrfRejected("Cookie sign-in over WebSocket is only accepted from this site's own pages.")
    async with acquire(state.pool) as conn:
        return await auth_service.authenticate_access_token(
            conn, state.settings, token, method="session_cookie"
        )


def _same_or_allowed_origin(origin: str, websocket: WebSocket, state: AppState) -> bool:
    if origin in state.settings.cors_origins:
        return True
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc == host and bool(host)
