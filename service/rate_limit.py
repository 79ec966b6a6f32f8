"""Rate limits per API key: a token bucket, in this process or in Redis.

Each key may make ``rate`` requests per second on average and ``burst`` at once.
The bucket is kept as GCRA state (the generic cell rate algorithm of ATM
traffic policing, ITU-T I.371): one "theoretical arrival time" per key instead
of a token count and a timestamp. It admits
exactly what a token bucket of the same rate and size admits, and needs one
number per key, so the Redis variant is one atomic script with no read-modify-
write race between processes.

    MemoryRateLimiter   the embedded default; state lives in this process
    RedisRateLimiter    several processes behind a load balancer share Redis

The ``limits`` package was considered: it offers fixed, moving and sliding
windows but no token bucket, and a window cannot express "N per second with a
burst of B" without admitting up to 2B at a window edge.

When Redis cannot be reached, requests are let through with a WARNING: the
limit protects the service, and refusing all traffic because its own helper is
down would do more harm than a short stretch without limits.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from service.errors import RateLimited
from service.metrics import RATE_LIMITED

if TYPE_CHECKING:
    import redis

__all__ = [
    "MemoryRateLimiter",
    "RateDecision",
    "RateLimiter",
    "RedisRateLimiter",
    "TokenBucket",
    "check_rate_limit",
    "create_rate_limiter",
]

logger = logging.getLogger(__name__)

# KEYS[1]: the key's state; ARGV[1]: emission interval, ARGV[2]: burst tolerance,
# both in microseconds. Redis's own clock, so processes need not agree on time.
_GCRA_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, 0}
"""

_MICROS = 1_000_000
# The in-process table is pruned of idle keys once it holds this many.
_PRUNE_AT = 10_000


@dataclass(frozen=True)
class TokenBucket:
    """The size of every key's bucket.

    Args:
        rate: Tokens added per second (the sustained request rate); above zero.
        burst: Tokens the bucket holds (requests allowed at once); at least one.
    """

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if not self.rate > 0 or self.burst < 1:
            raise ValueError(
                f"expected rate > 0 and burst >= 1, got rate={self.rate!r}, "
                f"burst={self.burst!r}; set rate_limit_per_second to 0 to turn "
                "rate limits off instead"
            )

    @property
    def interval(self) -> float:
        """Seconds between tokens."""
        return 1.0 / self.rate

    @property
    def tolerance(self) -> float:
        """Seconds of credit a full bucket holds."""
        return self.burst * self.interval


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may go on, and if not, when to try again."""

    allowed: bool
    retry_after_s: float = 0.0

    @property
    def retry_after_header(self) -> str:
        """The ``Retry-After`` value: whole seconds, rounded up, at least one."""
        return str(max(1, math.ceil(self.retry_after_s)))


class RateLimiter(Protocol):
    """Takes one token from a key's bucket."""

    def hit(self, key: str) -> RateDecision:
        """Take a token for ``key``; refuse when the bucket is empty."""
        ...


class MemoryRateLimiter:
    """Token buckets kept in this process (one process, or a test).

    Args:
        bucket: Rate and burst of every key.
        clock: Seconds from a monotonic clock; tests pass a fake one.
    """

    def __init__(
        self, bucket: TokenBucket, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.bucket = bucket
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> RateDecision:
        """Take a token for ``key``; refuse when the bucket is empty."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat.get(key, now), now)
            new_tat = tat + self.bucket.interval
            allow_at = new_tat - self.bucket.tolerance
            if now < allow_at:
                return RateDecision(allowed=False, retry_after_s=allow_at - now)
            self._tat[key] = new_tat
            if len(self._tat) >= _PRUNE_AT:
                self._tat = {k: t for k, t in self._tat.items() if t > now}
            return RateDecision(allowed=True)


class RedisRateLimiter:
    """Token buckets in Redis, shared by every process that uses the same server.

    Args:
        client: A Redis client.
        bucket: Rate and burst of every key.
        namespace: Prefix of the Redis keys.
    """

    def __init__(
        self,
        client: redis.Redis,
        bucket: TokenBucket,
        *,
        namespace: str = "feedback-miner:rate",
    ) -> None:
        self.bucket = bucket
        self.namespace = namespace
        self._client = client
        self._script = client.register_script(_GCRA_SCRIPT)

    def hit(self, key: str) -> RateDecision:
        """Take a token for ``key``; let the request through if Redis is down."""
        import redis

        interval = max(1, round(self.bucket.interval * _MICROS))
        try:
            allowed, wait = self._script(
                keys=[f"{self.namespace}:{key}"],
                args=[interval, interval * self.bucket.burst],
            )
        except redis.RedisError as e:
            logger.warning("rate limit not enforced, Redis failed: %s", e)
            return RateDecision(allowed=True)
        if int(allowed):
            return RateDecision(allowed=True)
        return RateDecision(allowed=False, retry_after_s=int(wait) / _MICROS)


def create_rate_limiter(
    *, rate: float, burst: int, redis_url: str | None
) -> RateLimiter | None:
    """Build the limiter the settings ask for.

    Args:
        rate: Requests per second per key; 0 turns rate limits off.
        burst: Requests a key may make at once.
        redis_url: Redis to share state through (``redis://host:port/db``), or
            None to keep it in this process.

    Returns:
        The limiter, or None when rate limits are off.
    """
    if rate == 0:
        return None
    bucket = TokenBucket(rate=rate, burst=burst)
    if redis_url is None:
        return MemoryRateLimiter(bucket)
    import redis

    client = redis.Redis.from_url(
        redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
    )
    return RedisRateLimiter(client, bucket)


def check_rate_limit(limiter: RateLimiter | None, key: str) -> None:
    """Take a token for API key ``key``; refuse the request when none is left.

    Args:
        limiter: The process's limiter, or None when rate limits are off.
        key: Identifies the API key (its id), never the secret itself.

    Raises:
        RateLimited: If the key's bucket is empty.
    """
    if limiter is None:
        return
    decision = limiter.hit(key)
    if decision.allowed:
        return
    RATE_LIMITED.inc()
    wait = decision.retry_after_header
    raise RateLimited(
        f"this API key has made more requests than its rate limit allows; retry "
        f"in {wait} s, or spread requests out (batch endpoints take many items "
        "per request)",
        retry_after=int(wait),
    )
