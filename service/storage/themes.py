"""Themes, theme assignments, theme edits and refresh jobs, within one tenant.

A refresh job is claimed by one UPDATE from ``queued`` to ``running`` (the row
count says whether this process won), so two processes never run one job; a job
left ``running`` past a deadline is queued again by :func:`requeue_stale_jobs`.

Theme sizes: :func:`recount_sizes` sets each theme's ``size`` from its
assignments in one ``GROUP BY`` after a refit or an edit; ingest only adds new
items, so :func:`grow_sizes` adds them in SQL instead of recounting the tenant.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from service.storage.models import (
    Account,
    Channel,
    FeedbackItem,
    Segment,
    Theme,
    ThemeAssignment,
    ThemeEdit,
    ThemeEditAction,
    ThemeJob,
    ThemeJobStatus,
    ThemeState,
    utcnow,
)

__all__ = [
    "FeedbackScope",
    "ScopedText",
    "ThemeItem",
    "active_themes",
    "add_edit",
    "add_job",
    "claim_job",
    "finish_job",
    "get_job",
    "get_theme",
    "grow_sizes",
    "matchable_themes",
    "move_assignments",
    "queued_job_ids",
    "queued_job_like",
    "recount_sizes",
    "replace_assignments",
    "requeue_stale_jobs",
    "scoped_texts",
    "set_assignments",
    "theme_counts",
    "theme_items",
]

_IN_CHUNK = 900


@dataclass(frozen=True)
class FeedbackScope:
    """Which of a tenant's items a refresh or a read covers; None: no filter."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    channel: Channel | None = None
    segment: Segment | None = None
    account_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ScopedText:
    """One item in a refresh's scope: its id, redacted text, and its lock.

    ``assigned`` tells whether the item has a place yet (a theme, or outlier).
    """

    feedback_id: uuid.UUID
    text: str
    locked_theme: uuid.UUID | None
    locked: bool
    assigned: bool = True


@dataclass(frozen=True)
class ThemeItem:
    """The columns of one theme member that a theme's report reads."""

    feedback_id: uuid.UUID
    account_id: uuid.UUID
    channel: Channel
    occurred_at: dt.datetime
    polarity: str | None
    cs_labels: list[str]


# Jobs


def add_job(session: Session, tenant_id: uuid.UUID, **fields: Any) -> ThemeJob:
    """Queue a refresh job; the caller commits."""
    job = ThemeJob(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        status=ThemeJobStatus.QUEUED,
        created_at=utcnow(),
        **fields,
    )
    session.add(job)
    session.flush()
    return job


def queued_job_like(
    session: Session, tenant_id: uuid.UUID, **fields: Any
) -> ThemeJob | None:
    """The tenant's oldest queued job with exactly these fields, if any."""
    query = (
        select(ThemeJob)
        .where(
            ThemeJob.tenant_id == tenant_id,
            ThemeJob.status == ThemeJobStatus.QUEUED,
            *(
                getattr(ThemeJob, name).is_(None)
                if value is None
                else getattr(ThemeJob, name) == value
                for name, value in fields.items()
            ),
        )
        .order_by(ThemeJob.created_at)
        .limit(1)
    )
    return session.scalars(query).first()


def get_job(
    session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID
) -> ThemeJob | None:
    """Return one of the tenant's jobs, or None (also for another tenant's)."""
    return session.scalar(
        select(ThemeJob).where(ThemeJob.tenant_id == tenant_id, ThemeJob.id == job_id)
    )


def claim_job(session: Session, job_id: uuid.UUID) -> ThemeJob | None:
    """Move a queued job to running; None if another worker has it. Commits."""
    claimed = session.execute(
        update(ThemeJob)
        .where(ThemeJob.id == job_id, ThemeJob.status == ThemeJobStatus.QUEUED)
        .values(status=ThemeJobStatus.RUNNING, started_at=utcnow())
    )
    session.commit()
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    return session.get(ThemeJob, job_id, populate_existing=True)


def finish_job(
    session: Session, job_id: uuid.UUID, status: ThemeJobStatus, **fields: Any
) -> None:
    """Record a job's end (done or failed) and its counts; commits."""
    session.execute(
        update(ThemeJob)
        .where(ThemeJob.id == job_id)
        .values(status=status, finished_at=utcnow(), **fields)
    )
    session.commit()


def requeue_stale_jobs(session: Session, *, started_before: dt.datetime) -> int:
    """Queue again the jobs left running since before ``started_before``; commits.

    Returns:
        How many jobs were queued again.
    """
    result = session.execute(
        update(ThemeJob)
        .where(
            ThemeJob.status == ThemeJobStatus.RUNNING,
            ThemeJob.started_at < started_before,
        )
        .values(status=ThemeJobStatus.QUEUED, started_at=None)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0))


def queued_job_ids(session: Session) -> list[uuid.UUID]:
    """Return every tenant's queued jobs, oldest first (for a starting worker)."""
    return list(
        session.scalars(
            select(ThemeJob.id)
            .where(ThemeJob.status == ThemeJobStatus.QUEUED)
            .order_by(ThemeJob.created_at)
        )
    )


# Themes


def get_theme(
    session: Session, tenant_id: uuid.UUID, theme_id: uuid.UUID
) -> Theme | None:
    """Return one of the tenant's themes, or None (also for another tenant's)."""
    return session.scalar(
        select(Theme).where(Theme.tenant_id == tenant_id, Theme.id == theme_id)
    )


def active_themes(session: Session, tenant_id: uuid.UUID) -> list[Theme]:
    """Return the tenant's active themes with members, largest first."""
    return list(
        session.scalars(
            select(Theme)
            .where(
                Theme.tenant_id == tenant_id,
                Theme.state == ThemeState.ACTIVE,
                Theme.size > 0,
            )
            .order_by(Theme.size.desc(), Theme.created_at, Theme.id)
        )
    )


def matchable_themes(session: Session, tenant_id: uuid.UUID) -> list[Theme]:
    """Return every theme a refit may continue: active (even empty) and merged."""
    return list(
        session.scalars(
            select(Theme)
            .where(Theme.tenant_id == tenant_id)
            .order_by(Theme.created_at, Theme.id)
        )
    )


def add_edit(
    session: Session,
    tenant_id: uuid.UUID,
    theme_id: uuid.UUID,
    action: ThemeEditAction,
    detail: dict[str, Any],
    *,
    api_key_id: uuid.UUID | None,
) -> None:
    """Log one human edit; the caller commits."""
    session.add(
        ThemeEdit(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            theme_id=theme_id,
            action=action,
            detail=detail,
            api_key_id=api_key_id,
            created_at=utcnow(),
        )
    )


# Assignments


def scoped_texts(
    session: Session, tenant_id: uuid.UUID, scope: FeedbackScope
) -> list[ScopedText]:
    """Return the redacted texts of the tenant's items in ``scope``, oldest first.

    A transcript reads as its customer turns (all turns when none is the
    customer's), joined by newlines.
    """
    query = (
        select(
            FeedbackItem.id,
            FeedbackItem.text,
            FeedbackItem.turns,
            ThemeAssignment.theme_id,
            ThemeAssignment.locked,
        )
        .outerjoin(ThemeAssignment, ThemeAssignment.feedback_id == FeedbackItem.id)
        .where(*_scope_conditions(tenant_id, scope))
        .order_by(FeedbackItem.occurred_at, FeedbackItem.id)
    )
    if scope.segment is not None:
        query = query.join(Account, Account.id == FeedbackItem.account_id)
    return [
        ScopedText(
            feedback_id=row.id,
            text=row.text if row.turns is None else _turns_text(row.turns),
            locked_theme=row.theme_id if row.locked else None,
            locked=bool(row.locked),
            assigned=row.locked is not None,
        )
        for row in session.execute(query)
    ]


def replace_assignments(
    session: Session,
    tenant_id: uuid.UUID,
    assignments: dict[uuid.UUID, uuid.UUID | None],
) -> None:
    """Replace the unlocked assignments of these items; the caller commits."""
    ids = sorted(assignments)
    for chunk in _chunks(ids):
        session.execute(
            delete(ThemeAssignment).where(
                ThemeAssignment.tenant_id == tenant_id,
                ThemeAssignment.feedback_id.in_(chunk),
                ThemeAssignment.locked.is_(False),
            )
        )
    now = utcnow()
    session.add_all(
        ThemeAssignment(
            feedback_id=feedback_id,
            tenant_id=tenant_id,
            theme_id=assignments[feedback_id],
            locked=False,
            assigned_at=now,
        )
        for feedback_id in ids
    )
    session.flush()


def set_assignments(
    session: Session,
    tenant_id: uuid.UUID,
    feedback_ids: Sequence[uuid.UUID],
    theme_id: uuid.UUID | None,
    *,
    locked: bool,
) -> None:
    """Assign items to one theme, replacing what they had; the caller commits."""
    for chunk in _chunks(sorted(set(feedback_ids))):
        session.execute(
            delete(ThemeAssignment).where(
                ThemeAssignment.tenant_id == tenant_id,
                ThemeAssignment.feedback_id.in_(chunk),
            )
        )
    now = utcnow()
    session.add_all(
        ThemeAssignment(
            feedback_id=feedback_id,
            tenant_id=tenant_id,
            theme_id=theme_id,
            locked=locked,
            assigned_at=now,
        )
        for feedback_id in sorted(set(feedback_ids))
    )
    session.flush()


def move_assignments(
    session: Session, tenant_id: uuid.UUID, source: uuid.UUID, target: uuid.UUID
) -> None:
    """Move every item of theme ``source`` to ``target``; the caller commits."""
    session.execute(
        update(ThemeAssignment)
        .where(
            ThemeAssignment.tenant_id == tenant_id,
            ThemeAssignment.theme_id == source,
        )
        .values(theme_id=target)
    )


def recount_sizes(session: Session, tenant_id: uuid.UUID) -> None:
    """Set every theme's ``size`` from its assignments; the caller commits."""
    query = (
        select(ThemeAssignment.theme_id, func.count())
        .where(
            ThemeAssignment.tenant_id == tenant_id,
            ThemeAssignment.theme_id.is_not(None),
        )
        .group_by(ThemeAssignment.theme_id)
    )
    counts = {theme_id: int(n) for theme_id, n in session.execute(query)}
    for theme in session.scalars(select(Theme).where(Theme.tenant_id == tenant_id)):
        size = int(counts.get(theme.id, 0))
        if theme.size != size:
            theme.size = size
    session.flush()


def grow_sizes(session: Session, sizes: dict[uuid.UUID, int]) -> None:
    """Add newly assigned items to their themes' sizes; the caller commits.

    Only for items that had no theme before (new feedback): each theme's row is
    updated in SQL (``size = size + n``), so concurrent ingests add up.
    """
    for theme_id, added in sorted(sizes.items()):
        session.execute(
            update(Theme).where(Theme.id == theme_id).values(size=Theme.size + added)
        )
    session.flush()


def theme_counts(
    session: Session, tenant_id: uuid.UUID, scope: FeedbackScope
) -> dict[uuid.UUID | None, int]:
    """Count the tenant's assigned items in ``scope`` per theme (None: outliers)."""
    query = (
        select(ThemeAssignment.theme_id, func.count())
        .join(FeedbackItem, FeedbackItem.id == ThemeAssignment.feedback_id)
        .where(*_scope_conditions(tenant_id, scope))
        .group_by(ThemeAssignment.theme_id)
    )
    if scope.segment is not None:
        query = query.join(Account, Account.id == FeedbackItem.account_id)
    return {theme_id: int(n) for theme_id, n in session.execute(query)}


def theme_items(
    session: Session, tenant_id: uuid.UUID, theme_id: uuid.UUID
) -> list[ThemeItem]:
    """Return the report columns of a theme's items, oldest first."""
    query = (
        select(
            FeedbackItem.id,
            FeedbackItem.account_id,
            FeedbackItem.channel,
            FeedbackItem.occurred_at,
            FeedbackItem.polarity,
            FeedbackItem.cs_labels,
        )
        .join(ThemeAssignment, ThemeAssignment.feedback_id == FeedbackItem.id)
        .where(
            ThemeAssignment.tenant_id == tenant_id,
            ThemeAssignment.theme_id == theme_id,
        )
        .order_by(FeedbackItem.occurred_at, FeedbackItem.id)
    )
    return [
        ThemeItem(
            feedback_id=row.id,
            account_id=row.account_id,
            channel=row.channel,
            occurred_at=row.occurred_at,
            polarity=row.polarity,
            cs_labels=list(row.cs_labels or []),
        )
        for row in session.execute(query)
    ]


def _scope_conditions(
    tenant_id: uuid.UUID, scope: FeedbackScope
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [FeedbackItem.tenant_id == tenant_id]
    if scope.since is not None:
        conditions.append(FeedbackItem.occurred_at >= scope.since)
    if scope.until is not None:
        conditions.append(FeedbackItem.occurred_at < scope.until)
    if scope.channel is not None:
        conditions.append(FeedbackItem.channel == scope.channel)
    if scope.account_id is not None:
        conditions.append(FeedbackItem.account_id == scope.account_id)
    if scope.segment is not None:
        conditions.append(Account.segment == scope.segment)
    return conditions


def _turns_text(turns: list[dict[str, str]]) -> str:
    customer = [t["text"] for t in turns if t.get("role") == "customer"]
    return "\n".join(customer or [t["text"] for t in turns])


def _chunks(values: Sequence[uuid.UUID]) -> Iterator[Sequence[uuid.UUID]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]
