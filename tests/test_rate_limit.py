"""Rate limits per API key: the token bucket, in memory and in Redis, and 429."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nlp.analysis import Analyzer
from service.config import Settings
from service.errors import RateLimited
from service.main import create_app
from service.rate_limit import (
    MemoryRateLimiter,
    RateDecision,
    RedisRateLimiter,
    TokenBucket,
    check_rate_limit,
    create_rate_limiter,
)
from service.redaction import Redactor
from service.storage.keys import create_tenant
from service.storage.session import (
    create_db_engine,
    create_session_factory,
    session_scope,
)

REDIS_URL = os.environ.get("FEEDBACK_MINER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_bucket_allows_the_burst_then_the_rate() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(TokenBucket(rate=2, burst=3), clock=clock)

    assert [limiter.hit("k").allowed for _ in range(4)] == [True, True, True, False]
    refused = limiter.hit("k")
    assert refused.retry_after_s == pytest.approx(0.5)
    assert limiter.hit("other").allowed  # each key has its own bucket

    clock.now += 0.5
    assert [limiter.hit("k").allowed for _ in range(2)] == [True, False]
    clock.now += 10  # a long pause refills only up to the burst
    assert [limiter.hit("k").allowed for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2")])
def test_retry_after_rounds_up_to_whole_seconds(wait: float, header: str) -> None:
    assert RateDecision(allowed=False, retry_after_s=wait).retry_after_header == header


def test_token_bucket_refuses_a_zero_rate() -> None:
    with pytest.raises(ValueError) as info:
        TokenBucket(rate=0, burst=1)
    assert str(info.value) == (
        "expected rate > 0 and burst >= 1, got rate=0, burst=1; set "
        "rate_limit_per_second to 0 to turn rate limits off instead"
    )


def test_check_rate_limit_raises_with_the_wait() -> None:
    limiter = MemoryRateLimiter(TokenBucket(rate=0.25, burst=1), clock=FakeClock())
    check_rate_limit(limiter, "k")
    with pytest.raises(RateLimited) as info:
        check_rate_limit(limiter, "k")
    assert info.value.retry_after == 4
    assert info.value.response_headers == {"Retry-After": "4"}
    check_rate_limit(None, "k")  # limits off


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """Redis at 127.0.0.1:6379 (database 15); skips locally, fails in CI."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as e:
        message = f"Redis at {REDIS_URL} is unreachable: {e}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI runs the rate-limit tests on Redis too")
        pytest.skip(f"{message}; start it to run the Redis variants")
    finally:
        client.close()
    yield REDIS_URL


def test_redis_bucket_is_shared_by_limiters_in_several_processes(
    redis_url: str,
) -> None:
    namespace = f"test:{uuid.uuid4().hex}"
    bucket = TokenBucket(rate=0.5, burst=3)
    import redis

    first = RedisRateLimiter(
        redis.Redis.from_url(redis_url), bucket, namespace=namespace
    )
    second = RedisRateLimiter(
        redis.Redis.from_url(redis_url), bucket, namespace=namespace
    )

    hits = [first.hit("k"), second.hit("k"), first.hit("k"), second.hit("k")]
    assert [h.allowed for h in hits] == [True, True, True, False]
    assert 1.5 < hits[-1].retry_after_s <= 2.0
    assert first.hit("other").allowed


def test_redis_limiter_lets_requests_through_when_redis_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = create_rate_limiter(
        rate=1,
        burst=1,
        redis_url="redis://127.0.0.1:1/0",  # nothing listens
    )
    assert isinstance(limiter, RedisRateLimiter)
    assert limiter.hit("k").allowed and limiter.hit("k").allowed
    assert "rate limit not enforced, Redis failed" in caplog.text


def test_create_rate_limiter_picks_the_backend() -> None:
    assert create_rate_limiter(rate=0, burst=5, redis_url=None) is None
    assert isinstance(
        create_rate_limiter(rate=1, burst=5, redis_url=None), MemoryRateLimiter
    )


# Through the API: 429 with Retry-After and the usual error body


@pytest.fixture(params=["memory", "redis"])
def limited_api(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    analyzer: Analyzer,
    redactor: Redactor,
) -> Iterator[tuple[TestClient, Callable[[], dict[str, str]]]]:
    redis_url = (
        request.getfixturevalue("redis_url") if request.param == "redis" else None
    )
    settings = Settings(
        environment="test",
        data_dir=tmp_path,
        rate_limit_per_second=0.1,
        rate_limit_burst=2,
        redis_url=redis_url,
        webhooks_enabled=False,
    )
    app = create_app(settings)
    app.state.analyzer = analyzer
    app.state.redactor = redactor

    def new_key() -> dict[str, str]:
        engine = create_db_engine(settings.resolved_database_url)
        try:
            with session_scope(create_session_factory(engine)) as session:
                _, issued = create_tenant(session, f"rl-{uuid.uuid4().hex[:8]}")
        finally:
            engine.dispose()
        return {"Authorization": f"Bearer {issued.plain}"}

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, new_key


def test_api_answers_429_with_retry_after_per_key(
    limited_api: tuple[TestClient, Callable[[], dict[str, str]]],
) -> None:
    client, new_key = limited_api
    key, other = new_key(), new_key()

    statuses = [client.get("/v1/feedback", headers=key).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.get("/v1/feedback", headers=key)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["errors"] == []
    assert body["detail"].startswith(
        "this API key has made more requests than its rate limit allows; retry in "
    )
    assert client.get("/v1/feedback", headers=other).status_code == 200
    assert client.get("/healthz").status_code == 200  # probes carry no key
