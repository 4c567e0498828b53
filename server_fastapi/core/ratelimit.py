"""Rate limits: GCRA (the generic cell rate algorithm) evaluated atomically in Redis by one Lua script.

`rate_limit("login", per="ip", rate=10, period_seconds=60, burst=10, fail="closed")` returns a dependency
that admits `burst` requests at once and then one every `period_seconds / rate`. The state is a single Redis
key holding the theoretical arrival time (TAT) in microseconds of Redis's own clock, so every API process
sharing the Redis sees exactly one limit, with no clock skew between processes.

Refused requests get `429` problem+json with `Retry-After` (whole seconds, rounded up) and the
`RateLimit-Policy` / `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers-09 (structured fields:
`RateLimit-Policy: "login";q=10;w=60`, `RateLimit: "login";r=0;t=6`). Admitted requests carry the same two
fields. When Redis cannot be reached the limiter follows its `fail` policy (`closed`: 503, for sign-in and
registration; `open`: admit, for everything else) and logs a warning.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import Request, Response

from server_fastapi.core.gcra import Decision, Limit, enforce, gcra, rate_limit_headers
from server_fastapi.core.security import CurrentUser, client_ip
from server_fastapi.core.state import AppState

__all__ = ["Decision", "Limit", "enforce", "gcra", "rate_limit", "rate_limit_headers"]


def rate_limit(
    name: str,
    *,
    per: Literal["ip", "account"],
    rate: int,
    period_seconds: float,
    burst: int,
    fail: Literal["open", "closed"],
) -> Callable[..., Awaitable[None]]:
    """A dependency limiting a route per client IP or per signed-in account.

    `per="account"` authenticates the caller first (it depends on `CurrentUser`), so put it beside the
    route's access dependency; FastAPI resolves the principal once per request."""
    limit = Limit(name=name, rate=rate, period_seconds=period_seconds, burst=burst)

    if per == "ip":

        async def by_ip(request: Request, response: Response) -> None:
            state: AppState = request.app.state.tessera
            ip = client_ip(request, state.settings)
            await enforce(state, f"{name}:ip:{ip}", limit, fail=fail, response=response)

        by_ip.__name__ = f"rate_limit_{name}_ip"
        return by_ip

    async def by_account(request: Request, response: Response, principal: CurrentUser) -> None:
        state: AppState = request.app.state.tessera
        await enforce(state, f"{name}:account:{principal.user_id}", limit, fail=fail, response=response)

    by_account.__name__ = f"rate_limit_{name}_account"
    return by_account
