"""Webhook subscriptions, and the outbox queries of their delivery.

Subscriptions are tenant-scoped like every other row. Delivery works on the
``outbox`` table that event producers (alerts) write in their own transaction:

1. :func:`claim_due_events` takes due rows for one round: it counts the attempt
   and moves ``next_attempt_at`` a lease ahead, then the caller commits, so no
   other process takes the same rows while this one posts them. On PostgreSQL
   the rows are read ``FOR UPDATE SKIP LOCKED`` (processes pass over each
   other's rows instead of waiting); SQLite has one writer at a time and no row
   locks, so each row is claimed by an update conditional on the attempt count
   it was read with, and a process that lost the race skips it. A process that
   dies mid-round leaves its rows to come due again when the lease runs out.
2. :func:`delivery_targets` lists the live subscriptions that want the event,
   less those that have already acknowledged it in an earlier round.
3. :func:`record_attempts` logs every attempt; :func:`finish_event` marks the
   row delivered or schedules its next round.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.storage.models import (
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
    utcnow,
)

__all__ = [
    "AttemptRecord",
    "add_subscription",
    "claim_due_events",
    "delivery_targets",
    "finish_event",
    "get_subscription",
    "list_subscriptions",
    "outbox_backlog",
    "record_attempts",
    "remove_subscription",
]


@dataclass(frozen=True)
class AttemptRecord:
    """The outcome of posting one event to one subscription once."""

    subscription_id: uuid.UUID
    succeeded: bool
    status_code: int | None
    error: str | None
    duration_ms: float


def add_subscription(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    url: str,
    events: Sequence[str],
    secret: str,
    description: str | None = None,
) -> WebhookSubscription:
    """Store a new subscription; the caller commits."""
    subscription = WebhookSubscription(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        url=url,
        events=list(events),
        secret=secret,
        description=description,
    )
    session.add(subscription)
    session.flush()
    return subscription


def list_subscriptions(
    session: Session, tenant_id: uuid.UUID
) -> list[WebhookSubscription]:
    """Return a tenant's live subscriptions, oldest first."""
    rows = session.scalars(
        select(WebhookSubscription)
        .where(
            WebhookSubscription.tenant_id == tenant_id,
            WebhookSubscription.deleted_at.is_(None),
        )
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )
    return list(rows)


def get_subscription(
    session: Session, tenant_id: uuid.UUID, subscription_id: uuid.UUID
) -> WebhookSubscription | None:
    """Return one of a tenant's live subscriptions, or None."""
    return session.scalar(
        select(WebhookSubscription).where(
            WebhookSubscription.tenant_id == tenant_id,
            WebhookSubscription.id == subscription_id,
            WebhookSubscription.deleted_at.is_(None),
        )
    )


def remove_subscription(
    session: Session, tenant_id: uuid.UUID, subscription_id: uuid.UUID
) -> bool:
    """Stop deliveries to a subscription (its log stays); return whether it was live.

    The caller commits.
    """
    subscription = get_subscription(session, tenant_id, subscription_id)
    if subscription is None:
        return False
    subscription.deleted_at = utcnow()
    return True


def claim_due_events(
    session: Session,
    *,
    now: dt.datetime,
    limit: int,
    max_attempts: int,
    lease: dt.timedelta,
) -> list[OutboxEvent]:
    """Claim up to ``limit`` due, undelivered events for one delivery round.

    Each claimed row has its ``attempts`` counted and its ``next_attempt_at``
    moved to ``now + lease``; the caller commits to make the claim visible.

    Args:
        session: An open session.
        now: The current time.
        limit: The most rows to claim.
        max_attempts: Rows that have had this many rounds are left alone.
        lease: How long the claim holds before the rows come due again.

    Returns:
        The claimed rows, ``attempts`` already counting this round.
    """
    due = (
        select(OutboxEvent)
        .where(
            OutboxEvent.delivered_at.is_(None),
            OutboxEvent.attempts < max_attempts,
            OutboxEvent.next_attempt_at <= now,
        )
        .order_by(OutboxEvent.next_attempt_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        rows = list(session.scalars(due.with_for_update(skip_locked=True)))
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + lease
        session.flush()
        return rows
    return _claim_optimistically(session, list(session.scalars(due)), now + lease)


def _claim_optimistically(
    session: Session, candidates: list[OutboxEvent], until: dt.datetime
) -> list[OutboxEvent]:
    claimed = []
    for row in candidates:
        seen = row.attempts
        result = session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == row.id, OutboxEvent.attempts == seen)
            .values(attempts=seen + 1, next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            session.refresh(row)
            claimed.append(row)
    return claimed


def delivery_targets(session: Session, event: OutboxEvent) -> list[WebhookSubscription]:
    """Live subscriptions that want ``event`` and have not acknowledged it yet.

    A subscription made after the event was written does not receive it.
    """
    subscriptions = session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.tenant_id == event.tenant_id,
            WebhookSubscription.deleted_at.is_(None),
            WebhookSubscription.created_at <= event.created_at,
        )
    )
    done = set(
        session.scalars(
            select(WebhookDelivery.subscription_id).where(
                WebhookDelivery.outbox_id == event.id,
                WebhookDelivery.succeeded.is_(True),
            )
        )
    )
    # A tenant has a handful of subscriptions: filter the event list here rather
    # than with a JSON containment query that differs between the backends.
    return [
        s for s in subscriptions if event.event_type in s.events and s.id not in done
    ]


def record_attempts(
    session: Session,
    event: OutboxEvent,
    attempts: Iterable[AttemptRecord],
    *,
    at: dt.datetime,
) -> None:
    """Log the attempts of one round for ``event``; the caller commits."""
    for attempt in attempts:
        session.add(
            WebhookDelivery(
                id=uuid.uuid4(),
                tenant_id=event.tenant_id,
                subscription_id=attempt.subscription_id,
                outbox_id=event.id,
                event_type=event.event_type,
                attempt=event.attempts,
                succeeded=attempt.succeeded,
                status_code=attempt.status_code,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
                attempted_at=at,
            )
        )


def finish_event(
    session: Session,
    event_id: uuid.UUID,
    *,
    delivered_at: dt.datetime | None,
    next_attempt_at: dt.datetime | None = None,
    error: str | None = None,
) -> None:
    """Mark an event delivered, or keep its error and when to try next.

    The caller commits.
    """
    values: dict[str, object] = {"last_error": error}
    if delivered_at is not None:
        values["delivered_at"] = delivered_at
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def outbox_backlog(session: Session, *, max_attempts: int) -> int:
    """Count the events not yet delivered that will still be tried."""
    count = session.scalar(
        select(func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.delivered_at.is_(None), OutboxEvent.attempts < max_attempts)
    )
    return int(count or 0)
