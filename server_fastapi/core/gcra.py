"""GCRA (the generic cell rate algorithm) evaluated atomically in Redis by one Lua script, and the 429
it answers with. The FastAPI dependency that applies it to routes is `core.ratelimit.rate_limit`."""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from typing import Literal

from fastapi import Response
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from server_fastapi.core.problems import ServiceUnavailable, TooManyRequests
from server_fastapi.core.state import AppState

logger = logging.getLogger(__name__)

KEY_PREFIX = "tessera:rl:"

# KEYS[1]: the limiter key. ARGV: emission interval T (µs), burst, cost, peek (1 = do not record).
# Returns {allowed (0|1), remaining, retry_after_us, reset_us}.
GCRA_LUA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local peek = ARGV[4] == '1'
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * cost
local allow_at = new_tat - interval * burst
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
if not peek then
  redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
end
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
"""
GCRA_SHA = hashlib.sha1(GCRA_LUA.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: float
    reset_after: float


@dataclass(frozen=True, slots=True)
class Limit:
    """`burst` requests at once, then `rate` per `period_seconds`."""

    name: str
    rate: int
    period_seconds: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate < 1 or self.burst < 1 or self.period_seconds <= 0:
            raise ValueError("a rate limit needs rate >= 1, burst >= 1 and a positive period")

    @property
    def interval_us(self) -> int:
        return max(1, round(self.period_seconds * 1_000_000 / self.rate))

    @property
    def window_seconds(self) -> int:
        """How long an exhausted limit takes to refill completely (the policy's `w`)."""
        return math.ceil(self.interval_us * self.burst / 1_000_000)


async def gcra(redis: Redis, key: str, limit: Limit, *, cost: int = 1, peek: bool = False) -> Decision:
    """Evaluate (and, unless `peek`, record) one request against `limit` under `key`. Raises RedisError
    or OSError when Redis cannot answer."""
    args = (limit.interval_us, limit.burst, cost, 1 if peek else 0)
    try:
        result = await redis.evalsha(GCRA_SHA, 1, KEY_PREFIX + key, *args)
    except NoScriptError:
        result = await redis.eval(GCRA_LUA, 1, KEY_PREFIX + key, *args)
    allowed, remaining, retry_us, reset_us = (int(value) for value in result)
    return Decision(
        allowed=bool(allowed),
        remaining=remaining,
        retry_after=retry_us / 1_000_000,
        reset_after=reset_us / 1_000_000,
    )


def rate_limit_headers(limit: Limit, decision: Decision) -> dict[str, str]:
    headers = {
        "RateLimit-Policy": f'"{limit.name}";q={limit.burst};w={limit.window_seconds}',
        "RateLimit": f'"{limit.name}";r={decision.remaining};t={math.ceil(decision.reset_after)}',
    }
    if not decision.allowed:
        headers["Retry-After"] = str(max(1, math.ceil(decision.retry_after)))
    return headers


async def enforce(
    state: AppState,
    key: str,
    limit: Limit,
    *,
    fail: Literal["open", "closed"],
    response: Response | None = None,
) -> None:
    """Count one request under `key`; raise 429 when over the limit, 503 when Redis is down and `fail` is
    closed. Services use this directly for limits keyed on something other than the caller (an email)."""
    try:
        decision = await gcra(state.redis, key, limit)
    except (RedisError, OSError) as error:
        logger.warning(
            "rate limiter unavailable",
            extra={"limit": limit.name, "policy": f"fail {fail}", "error_type": type(error).__name__},
        )
        if fail == "closed":
            raise ServiceUnavailable(
                "This action is temporarily unavailable; try again shortly.", headers={"Retry-After": "5"}
            ) from None
        return
    headers = rate_limit_headers(limit, decision)
    if not decision.allowed:
        raise TooManyRequests(
            f"Too many requests; retry in {headers['Retry-After']} seconds.",
            headers=headers,
            retry_after=int(headers["Retry-After"]),
        )
    if response is not None:
        response.headers.update(headers)
