"""Webhook delivery: signed POSTs of outbox events, retried with backoff.

Every delivery is one JSON body::

    {"id": "<event id>", "type": "alert.raised", "created_at": "...", "data": {...}}

sent with ``X-Feedback-Miner-Event`` (the type), ``X-Feedback-Miner-Delivery``
(the event id: delivery is at-least-once, so receivers drop ids they have seen)
and ``X-Feedback-Miner-Signature: t=<unix seconds>,v1=<hex>``, where the hex is
the HMAC-SHA256, keyed with the subscription's secret, of ``"<t>.<raw body>"``
(the scheme Stripe documents for its webhooks). Receivers check it with
:func:`verify_signature`, which also refuses old timestamps against replays.

:class:`WebhookWorker` runs in every service process as a background task. Each
round it claims due outbox rows (see :mod:`service.storage.webhooks` for how
processes sharing one database avoid taking the same row), posts each event to
every subscription that wants it, and records every attempt. A 2xx answer
acknowledges; anything else, a timeout or a refused connection is retried after
:func:`backoff_delay`, up to ``max_attempts`` rounds, after which the row stays
in the outbox, undelivered, with its last error. An event is removed from the
schedule only once delivered, so it survives restarts of the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings
from service.metrics import WEBHOOK_ATTEMPTS
from service.storage import webhooks as store
from service.storage.models import OutboxEvent, utcnow
from service.storage.session import session_scope

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "WebhookWorker",
    "backoff_delay",
    "sign_payload",
    "verify_signature",
]

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Feedback-Miner-Signature"
EVENT_HEADER = "X-Feedback-Miner-Event"
DELIVERY_HEADER = "X-Feedback-Miner-Delivery"
_USER_AGENT = "feedback-miner-webhooks/1"
_ERROR_CHARS = 500


def sign_payload(secret: str, body: bytes, *, timestamp: int) -> str:
    """Return the signature header value for ``body`` sent at ``timestamp``.

    Args:
        secret: The subscription's secret.
        body: The exact bytes of the request body.
        timestamp: Unix seconds of sending.

    Returns:
        ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``.
    """
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    body: bytes,
    header: str,
    *,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """Check a delivery's signature header, as a receiver should.

    Args:
        secret: The subscription's secret, as shown when it was created.
        body: The raw request body, before any JSON parsing.
        header: The ``X-Feedback-Miner-Signature`` value.
        tolerance_s: The oldest (or furthest ahead) timestamp accepted, in seconds.
        now: Unix seconds to check against; default: the clock.

    Returns:
        Whether the header is well formed, recent and signs ``body`` with
        ``secret`` (any of several ``v1`` entries may match).
    """
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [v.strip() for k, v in fields if k.strip() == "t"]
    signatures = [v.strip() for k, v in fields if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        return False
    timestamp = int(stamps[0])
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in signatures)


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait after failed round ``attempt`` (1 for the first).

    The nominal delay doubles each round from ``base`` up to ``cap``; the actual
    one is drawn between half the nominal and the nominal ("equal jitter"), so
    that receivers that failed together are not retried in lockstep.

    Args:
        attempt: The round that failed, counting from 1.
        base: The nominal delay after the first failure.
        cap: The longest nominal delay.
        rng: Source of the jitter; default: the ``random`` module's.

    Returns:
        The delay in seconds.
    """
    nominal = min(cap, base * 2.0 ** max(0, attempt - 1))
    draw = (rng or random).random()
    return nominal * (0.5 + 0.5 * draw)


@dataclass(frozen=True)
class _Target:
    subscription_id: uuid.UUID
    url: str
    secret: str


@dataclass(frozen=True)
class _Round:
    """One claimed event, read out of its session, with whom to post it to."""

    event_id: uuid.UUID
    event_type: str
    attempt: int
    body: bytes
    targets: list[_Target]


class WebhookWorker:
    """Delivers outbox events to webhook subscriptions, in rounds.

    Args:
        session_factory: Sessions on the service's database.
        settings: Timeout, attempts, backoff, polling and batch size.
        transport: An httpx transport to post through (tests pass a mock);
            default: the network.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.transport = transport
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start delivering in the background, on the running event loop."""
        self._stop.clear()
        self._task = asyncio.create_task(self.run(), name="webhook-worker")

    async def stop(self) -> None:
        """Finish the round in progress (bounded by the timeout), then stop."""
        self._stop.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, self.settings.webhook_timeout_s + 5)
        except TimeoutError:
            logger.warning("webhook worker did not stop in time; cancelled")
        self._task = None

    async def run(self) -> None:
        """Deliver rounds until :meth:`stop`; idle between empty rounds."""
        logger.info("webhook worker started")
        while not self._stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                # A database outage must not end delivery for the process'
                # lifetime: log it, wait a poll interval, try again.
                logger.exception("webhook delivery round failed; retrying")
                handled = 0
            if handled == 0:
                await self._idle()
        logger.info("webhook worker stopped")

    async def run_once(self) -> int:
        """Claim the due events, deliver them, record the outcome.

        Returns:
            How many events this round handled.
        """
        rounds = await asyncio.to_thread(self._claim)
        if not rounds:
            return 0
        timeout = httpx.Timeout(self.settings.webhook_timeout_s)
        async with httpx.AsyncClient(
            transport=self.transport, timeout=timeout, follow_redirects=False
        ) as client:
            await asyncio.gather(*(self._deliver(client, r) for r in rounds))
        return len(rounds)

    async def _idle(self) -> None:
        # A timeout means it is time for the next round.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self._stop.wait(), self.settings.webhook_poll_interval_s
            )

    def _claim(self) -> list[_Round]:
        settings = self.settings
        # Posting is concurrent, so a round takes about one timeout; the margin
        # covers recording the outcome.
        lease = dt.timedelta(seconds=2 * settings.webhook_timeout_s + 30)
        with session_scope(self.session_factory) as session:
            events = store.claim_due_events(
                session,
                now=utcnow(),
                limit=settings.webhook_batch_size,
                max_attempts=settings.webhook_max_attempts,
                lease=lease,
            )
            return [self._round(session, event) for event in events]

    def _round(self, session: Session, event: OutboxEvent) -> _Round:
        targets = [
            _Target(s.id, s.url, s.secret)
            for s in store.delivery_targets(session, event)
        ]
        return _Round(
            event_id=event.id,
            event_type=event.event_type,
            attempt=event.attempts,
            body=_body(event),
            targets=targets,
        )

    async def _deliver(self, client: httpx.AsyncClient, claimed: _Round) -> None:
        attempts = await asyncio.gather(
            *(self._post(client, claimed, target) for target in claimed.targets)
        )
        await asyncio.to_thread(self._finish, claimed, list(attempts))

    async def _post(
        self, client: httpx.AsyncClient, claimed: _Round, target: _Target
    ) -> store.AttemptRecord:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": _USER_AGENT,
            EVENT_HEADER: claimed.event_type,
            DELIVERY_HEADER: str(claimed.event_id),
            SIGNATURE_HEADER: sign_payload(
                target.secret, claimed.body, timestamp=int(time.time())
            ),
        }
        start = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            response = await client.post(
                target.url, content=claimed.body, headers=headers
            )
            status = response.status_code
            if not response.is_success:
                error = f"answered HTTP {status}"
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"[:_ERROR_CHARS]
        succeeded = error is None
        WEBHOOK_ATTEMPTS.labels("delivered" if succeeded else "failed").inc()
        return store.AttemptRecord(
            subscription_id=target.subscription_id,
            succeeded=succeeded,
            status_code=status,
            error=error,
            duration_ms=(time.perf_counter() - start) * 1000,
        )

    def _finish(self, claimed: _Round, attempts: list[store.AttemptRecord]) -> None:
        now = utcnow()
        failed = [a for a in attempts if not a.succeeded]
        with session_scope(self.session_factory) as session:
            event = session.get(OutboxEvent, claimed.event_id)
            if event is None:
                return  # its tenant was deleted meanwhile
            store.record_attempts(session, event, attempts, at=now)
            if not failed:
                store.finish_event(session, event.id, delivered_at=now)
                return
            error = "; ".join(f"{a.subscription_id}: {a.error}" for a in failed)
            self._schedule_retry(session, claimed, now, error[:_ERROR_CHARS])

    def _schedule_retry(
        self, session: Session, claimed: _Round, now: dt.datetime, error: str
    ) -> None:
        settings = self.settings
        if claimed.attempt >= settings.webhook_max_attempts:
            logger.warning(
                "giving up on event %s after %d attempts",
                claimed.event_id,
                claimed.attempt,
            )
            store.finish_event(
                session, claimed.event_id, delivered_at=None, error=error
            )
            return
        delay = backoff_delay(
            claimed.attempt,
            base=settings.webhook_backoff_base_s,
            cap=settings.webhook_backoff_max_s,
        )
        logger.info(
            "event %s: attempt %d failed, next in %.0f s",
            claimed.event_id,
            claimed.attempt,
            delay,
        )
        store.finish_event(
            session,
            claimed.event_id,
            delivered_at=None,
            next_attempt_at=now + dt.timedelta(seconds=delay),
            error=error,
        )


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _body(event: OutboxEvent) -> bytes:
    document = {
        "id": str(event.id),
        "type": event.event_type,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), default=str).encode("utf-8")
