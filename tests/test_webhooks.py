"""Webhook delivery: signatures, backoff, the worker, and survival of restarts."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from nlp.analysis import Analyzer
from service.config import Settings
from service.main import create_app
from service.redaction import Redactor
from service.storage import webhooks as store
from service.storage.keys import create_tenant
from service.storage.models import OutboxEvent, WebhookDelivery, utcnow
from service.storage.session import create_session_factory, session_scope
from service.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    WebhookWorker,
    backoff_delay,
    sign_payload,
    verify_signature,
)

SECRET = "whsec_test-secret"
BODY = b'{"id":"e1","type":"alert.raised","data":{"delta":-0.5}}'


# Signatures


def test_sign_payload_is_hmac_of_timestamp_and_body() -> None:
    header = sign_payload(SECRET, BODY, timestamp=1_700_000_000)
    digest = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256)
    assert header == f"t=1700000000,v1={digest.hexdigest()}"
    assert verify_signature(SECRET, BODY, header, now=1_700_000_100)


@pytest.mark.parametrize(
    ("secret", "body", "now", "header_of"),
    [
        ("whsec_other", BODY, 1_700_000_000, lambda h: h),
        (SECRET, BODY + b" ", 1_700_000_000, lambda h: h),
        (SECRET, BODY, 1_700_000_301, lambda h: h),
        (SECRET, BODY, 1_699_999_699, lambda h: h),
        (SECRET, BODY, 1_700_000_000, lambda h: h.replace("t=", "x=")),
        (SECRET, BODY, 1_700_000_000, lambda h: h.split(",")[0]),
        (SECRET, BODY, 1_700_000_000, lambda h: "garbage"),
        (SECRET, BODY, 1_700_000_000, lambda h: h + ",t=1700000000"),
    ],
    ids=[
        "wrong-secret",
        "changed-body",
        "too-old",
        "too-far-ahead",
        "no-timestamp",
        "no-signature",
        "malformed",
        "two-timestamps",
    ],
)
def test_verify_signature_refuses(
    secret: str, body: bytes, now: int, header_of: Callable[[str], str]
) -> None:
    header = header_of(sign_payload(SECRET, BODY, timestamp=1_700_000_000))
    assert not verify_signature(secret, body, header, now=now)


def test_verify_signature_accepts_any_of_several_signatures() -> None:
    good = sign_payload(SECRET, BODY, timestamp=1_700_000_000)
    header = "t=1700000000,v1=" + "0" * 64 + "," + good.split(",")[1]
    assert verify_signature(SECRET, BODY, header, now=1_700_000_000)


# Backoff


class _Fixed(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(("draw", "factor"), [(0.0, 0.5), (1.0, 1.0), (0.5, 0.75)])
def test_backoff_delay_doubles_up_to_the_cap_with_jitter(
    draw: float, factor: float
) -> None:
    delays = [
        backoff_delay(attempt, base=10, cap=60, rng=_Fixed(draw))
        for attempt in range(1, 7)
    ]
    assert delays == pytest.approx([f * factor for f in (10, 20, 40, 60, 60, 60)])


def test_backoff_delay_spreads_retries() -> None:
    rng = random.Random(3)
    delays = [backoff_delay(3, base=10, cap=600, rng=rng) for _ in range(200)]
    assert min(delays) >= 20 and max(delays) <= 40
    assert len({round(d, 3) for d in delays}) > 150


# The worker, on each backend


class Receiver:
    """A fake receiver: answers each request with the next planned status."""

    def __init__(self, *statuses: int | Exception) -> None:
        self.plan = list(statuses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.plan.pop(0) if len(self.plan) > 1 else self.plan[0]
        if isinstance(outcome, Exception):
            raise outcome
        return httpx.Response(outcome)

    def to(self, url: str) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url) == url]


@pytest.fixture
def worker_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path,
        database_url=database_url,
        webhook_backoff_base_s=10,
        webhook_max_attempts=3,
        webhook_timeout_s=2,
    )


@pytest.fixture
def hook_tenant(engine: Engine) -> uuid.UUID:
    with session_scope(create_session_factory(engine)) as session:
        tenant, _ = create_tenant(session, f"hooks-{uuid.uuid4().hex[:8]}")
    return tenant.id


def _subscribe(engine: Engine, tenant_id: uuid.UUID, *, events: list[str]) -> str:
    url = f"http://receiver.test/{uuid.uuid4().hex[:8]}"
    with session_scope(create_session_factory(engine)) as session:
        store.add_subscription(
            session, tenant_id, url=url, events=events, secret=SECRET
        )
    return url


def _raise_event(engine: Engine, tenant_id: uuid.UUID) -> uuid.UUID:
    event_id = uuid.uuid4()
    with session_scope(create_session_factory(engine)) as session:
        session.add(
            OutboxEvent(
                id=event_id,
                tenant_id=tenant_id,
                event_type="alert.raised",
                payload={"account_id": "globex", "delta": -0.42},
            )
        )
    return event_id


def _event(engine: Engine, event_id: uuid.UUID) -> OutboxEvent:
    with create_session_factory(engine)() as session:
        event = session.get(OutboxEvent, event_id)
        assert event is not None
        return event


def _deliveries(engine: Engine, event_id: uuid.UUID) -> list[WebhookDelivery]:
    with create_session_factory(engine)() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.outbox_id == event_id)
                .order_by(WebhookDelivery.attempt, WebhookDelivery.attempted_at)
            )
        )


def _make_due(engine: Engine, event_id: uuid.UUID) -> None:
    with session_scope(create_session_factory(engine)) as session:
        event = session.get(OutboxEvent, event_id)
        assert event is not None
        event.next_attempt_at = utcnow() - dt.timedelta(seconds=1)


def _run_once(engine: Engine, settings: Settings, receiver: Receiver) -> int:
    worker = WebhookWorker(
        create_session_factory(engine),
        settings,
        transport=httpx.MockTransport(receiver),
    )
    return asyncio.run(worker.run_once())


def test_worker_delivers_a_signed_event(
    engine: Engine, worker_settings: Settings, hook_tenant: uuid.UUID
) -> None:
    url = _subscribe(engine, hook_tenant, events=["alert.raised"])
    event_id = _raise_event(engine, hook_tenant)
    receiver = Receiver(200)

    assert _run_once(engine, worker_settings, receiver) >= 1

    (request,) = receiver.to(url)
    assert request.headers[EVENT_HEADER] == "alert.raised"
    assert request.headers[DELIVERY_HEADER] == str(event_id)
    assert verify_signature(SECRET, request.content, request.headers[SIGNATURE_HEADER])
    body = json.loads(request.content)
    assert body["id"] == str(event_id)
    assert body["type"] == "alert.raised"
    assert body["data"] == {"account_id": "globex", "delta": -0.42}
    event = _event(engine, event_id)
    assert event.delivered_at is not None
    assert event.attempts == 1
    (delivery,) = _deliveries(engine, event_id)
    assert (delivery.attempt, delivery.succeeded, delivery.status_code) == (
        1,
        True,
        200,
    )
    assert delivery.error is None
    assert delivery.duration_ms >= 0


def test_worker_retries_with_backoff_and_records_each_attempt(
    engine: Engine, worker_settings: Settings, hook_tenant: uuid.UUID
) -> None:
    flaky = _subscribe(engine, hook_tenant, events=["alert.raised"])
    steady = _subscribe(engine, hook_tenant, events=["alert.raised"])
    event_id = _raise_event(engine, hook_tenant)
    posted: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        posted.append(str(request.url))
        first_to_flaky = posted.count(flaky) == 1 and posted[-1] == flaky
        return httpx.Response(503 if first_to_flaky else 200)

    before = utcnow()
    worker = WebhookWorker(
        create_session_factory(engine),
        worker_settings,
        transport=httpx.MockTransport(answer),
    )
    asyncio.run(worker.run_once())

    event = _event(engine, event_id)
    assert event.delivered_at is None
    assert event.attempts == 1
    assert event.last_error is not None and "answered HTTP 503" in event.last_error
    wait = (event.next_attempt_at - before).total_seconds()
    assert 5 - 1 <= wait <= 10 + 1  # base 10 s, equal jitter: 5 to 10 s
    asyncio.run(worker.run_once())  # not due yet: nothing happens
    assert _event(engine, event_id).attempts == 1

    _make_due(engine, event_id)
    asyncio.run(worker.run_once())

    assert _event(engine, event_id).delivered_at is not None
    # The subscription that acknowledged the first round is not posted again.
    assert (posted.count(flaky), posted.count(steady)) == (2, 1)
    log = [
        (d.attempt, d.succeeded, d.status_code) for d in _deliveries(engine, event_id)
    ]
    assert sorted(log) == [(1, False, 503), (1, True, 200), (2, True, 200)]


def test_worker_gives_up_after_max_attempts(
    engine: Engine, worker_settings: Settings, hook_tenant: uuid.UUID
) -> None:
    url = _subscribe(engine, hook_tenant, events=["alert.raised"])
    event_id = _raise_event(engine, hook_tenant)
    receiver = Receiver(httpx.ConnectError("connection refused"))

    for _ in range(worker_settings.webhook_max_attempts + 1):
        _make_due(engine, event_id)
        _run_once(engine, worker_settings, receiver)

    assert len(receiver.to(url)) == worker_settings.webhook_max_attempts
    event = _event(engine, event_id)
    assert (event.attempts, event.delivered_at) == (3, None)
    assert event.last_error is not None and "ConnectError" in event.last_error
    errors = {d.error for d in _deliveries(engine, event_id)}
    assert errors == {"ConnectError: connection refused"}


def test_worker_skips_deleted_and_uninterested_subscriptions(
    engine: Engine, worker_settings: Settings, hook_tenant: uuid.UUID
) -> None:
    gone = _subscribe(engine, hook_tenant, events=["alert.raised"])
    other = _subscribe(engine, hook_tenant, events=["alert.resolved"])
    with session_scope(create_session_factory(engine)) as session:
        (sub,) = [
            s for s in store.list_subscriptions(session, hook_tenant) if s.url == gone
        ]
        assert store.remove_subscription(session, hook_tenant, sub.id)
    event_id = _raise_event(engine, hook_tenant)
    receiver = Receiver(200)

    _run_once(engine, worker_settings, receiver)

    assert receiver.to(gone) == [] and receiver.to(other) == []
    assert _event(engine, event_id).delivered_at is not None
    assert _deliveries(engine, event_id) == []


def test_claimed_events_are_not_claimed_again(
    engine: Engine, hook_tenant: uuid.UUID
) -> None:
    event_id = _raise_event(engine, hook_tenant)
    factory = create_session_factory(engine)
    claim = {
        "now": utcnow(),
        "limit": 1000,
        "max_attempts": 5,
        "lease": dt.timedelta(minutes=1),
    }
    with session_scope(factory) as session:
        first = {e.id for e in store.claim_due_events(session, **claim)}
    with session_scope(factory) as session:
        second = {e.id for e in store.claim_due_events(session, **claim)}
    assert event_id in first
    assert event_id not in second


def test_postgresql_claims_skip_rows_locked_by_another_process(
    engine: Engine, hook_tenant: uuid.UUID
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL feature; SQLite is covered above")
    event_id = _raise_event(engine, hook_tenant)
    factory = create_session_factory(engine)
    claim: dict[str, Any] = {
        "now": utcnow(),
        "limit": 1000,
        "max_attempts": 5,
        "lease": dt.timedelta(minutes=1),
    }
    with factory() as first, factory() as second:
        mine = {e.id for e in store.claim_due_events(first, **claim)}
        # The first claim is not committed: its rows are locked, not yet moved.
        theirs = {e.id for e in store.claim_due_events(second, **claim)}
        first.commit()
        second.commit()
    assert event_id in mine
    assert event_id not in theirs


# Restarts: an event left in the outbox is delivered by the next process


@pytest.fixture
def app_factory(
    database_url: str, tmp_path: Path, analyzer: Analyzer, redactor: Redactor
) -> Callable[[Receiver], TestClient]:
    def make(receiver: Receiver) -> TestClient:
        settings = Settings(
            environment="test",
            data_dir=tmp_path,
            database_url=database_url,
            webhook_poll_interval_s=0.05,
            webhook_backoff_base_s=0.05,
            webhook_backoff_max_s=0.1,
            webhook_max_attempts=100,
        )
        app = create_app(settings)
        app.state.analyzer = analyzer
        app.state.redactor = redactor
        app.state.webhook_transport = httpx.MockTransport(receiver)
        return TestClient(app)

    return make


def _wait_for(condition: Callable[[], bool], *, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_event_survives_a_restart_of_the_service(
    engine: Engine,
    hook_tenant: uuid.UUID,
    app_factory: Callable[[Receiver], TestClient],
) -> None:
    url = _subscribe(engine, hook_tenant, events=["alert.raised"])
    event_id = _raise_event(engine, hook_tenant)

    down = Receiver(httpx.ConnectError("receiver down"))
    with app_factory(down):
        assert _wait_for(lambda: _event(engine, event_id).attempts >= 1)
    assert _event(engine, event_id).delivered_at is None

    up = Receiver(200)
    with app_factory(up):
        assert _wait_for(lambda: _event(engine, event_id).delivered_at is not None)
    (request,) = up.to(url)
    assert verify_signature(SECRET, request.content, request.headers[SIGNATURE_HEADER])
    log = _deliveries(engine, event_id)
    assert log[-1].succeeded and not any(d.succeeded for d in log[:-1])
