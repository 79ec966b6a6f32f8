"""Aggregation queries behind sentiment series, deltas and alert evidence.

Only ``scored`` items with a polarity score count. The database does the heavy
part: :func:`daily_sums` groups an account's items by UTC day, channel and
author role in one ``GROUP BY``; :func:`window_sums` sums scores per account over
two adjacent windows in another. Each returns count, sum and sum of squares of
the polarity score, from which the domain (:mod:`service.sentiment`) derives
means, variances and week roll-ups without reading the items.

Portability: the UTC day is ``date(occurred_at)`` on SQLite (which stores naive
UTC text, see :class:`~service.storage.models.UTCDateTime`) and
``(occurred_at AT TIME ZONE 'UTC')::date`` on PostgreSQL; emotion counts use the
same JSON-text ``LIKE '%"label"%'`` test as the feedback filter, which holds on
both backends for lists of plain lowercase names.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from service.storage.models import AuthorRole, Channel, FeedbackItem, FeedbackStatus

__all__ = [
    "DailySums",
    "ScoreSums",
    "daily_sums",
    "most_negative",
    "window_sums",
]

_IN_CHUNK = 900


@dataclass(frozen=True)
class ScoreSums:
    """Count, sum and sum of squares of polarity scores over a set of items."""

    count: int = 0
    total: float = 0.0
    total_sq: float = 0.0


@dataclass(frozen=True)
class DailySums:
    """One account's scored items of one UTC day, channel and author role."""

    day: dt.date
    channel: Channel
    author_role: AuthorRole | None
    scores: ScoreSums
    polarity: dict[str, int]
    emotions: dict[str, int]


def daily_sums(
    session: Session,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    since: dt.datetime,
    until: dt.datetime,
    polarities: Sequence[str],
    emotions: Sequence[str],
) -> list[DailySums]:
    """Sum an account's scored items per UTC day, channel and author role.

    Args:
        session: An open session.
        tenant_id: The tenant owning the account.
        account_id: The account's row id.
        since: Items occurred at or after this time count.
        until: Items occurred before this time count.
        polarities: The polarity labels to count.
        emotions: The CS-view labels to count (an item may have several).

    Returns:
        One entry per non-empty (day, channel, role), ordered by day.
    """
    day = _utc_day(session).label("day")
    score = FeedbackItem.polarity_score
    columns = [
        day,
        FeedbackItem.channel,
        FeedbackItem.author_role,
        func.count().label("n"),
        func.sum(score).label("total"),
        func.sum(score * score).label("total_sq"),
        *[_count_if(FeedbackItem.polarity == p) for p in polarities],
        *[_count_if(_has_cs_label(e)) for e in emotions],
    ]
    query = (
        select(*columns)
        .where(
            *_scored(tenant_id),
            FeedbackItem.account_id == account_id,
            FeedbackItem.occurred_at >= since,
            FeedbackItem.occurred_at < until,
        )
        .group_by(day, FeedbackItem.channel, FeedbackItem.author_role)
        .order_by(day)
    )
    found = []
    for row in session.execute(query):
        values: tuple[Any, ...] = tuple(row)
        counts = [int(v or 0) for v in values[6:]]
        found.append(
            DailySums(
                day=_as_date(row.day),
                channel=Channel(row.channel),
                author_role=AuthorRole(row.author_role) if row.author_role else None,
                scores=ScoreSums(row.n, float(row.total), float(row.total_sq)),
                polarity=dict(zip(polarities, counts[: len(polarities)], strict=True)),
                emotions=dict(zip(emotions, counts[len(polarities) :], strict=True)),
            )
        )
    return found


def window_sums(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    end: dt.datetime,
    window: dt.timedelta,
    account_ids: Collection[uuid.UUID] | None = None,
) -> dict[uuid.UUID, tuple[ScoreSums, ScoreSums]]:
    """Sum scores per account over the window before ``end`` and the one before it.

    Args:
        session: An open session.
        tenant_id: The tenant.
        end: The end (exclusive) of the current window.
        window: The length of each window.
        account_ids: Only these accounts; None for all of the tenant's.

    Returns:
        Account id → (current, previous); accounts without scored items in
        either window are absent.
    """
    middle = end - window
    current = FeedbackItem.occurred_at >= middle
    score = FeedbackItem.polarity_score
    query = (
        select(
            FeedbackItem.account_id,
            cast(case((current, 1), else_=0), Integer).label("is_current"),
            func.count().label("n"),
            func.sum(score).label("total"),
            func.sum(score * score).label("total_sq"),
        )
        .where(
            *_scored(tenant_id),
            FeedbackItem.occurred_at >= end - 2 * window,
            FeedbackItem.occurred_at < end,
        )
        .group_by(FeedbackItem.account_id, "is_current")
    )
    chunks: list[Sequence[uuid.UUID] | None] = [None]
    if account_ids is not None:
        wanted = sorted(set(account_ids))
        chunks = [wanted[i : i + _IN_CHUNK] for i in range(0, len(wanted), _IN_CHUNK)]
    found: dict[uuid.UUID, list[ScoreSums]] = {}
    for chunk in chunks:
        chunk_query = query
        if chunk is not None:
            chunk_query = query.where(FeedbackItem.account_id.in_(chunk))
        for row in session.execute(chunk_query):
            pair = found.setdefault(row.account_id, [ScoreSums(), ScoreSums()])
            sums = ScoreSums(row.n, float(row.total), float(row.total_sq))
            pair[0 if row.is_current else 1] = sums
    return {account: (pair[0], pair[1]) for account, pair in found.items()}


def most_negative(
    session: Session,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    since: dt.datetime,
    until: dt.datetime,
    limit: int,
) -> list[FeedbackItem]:
    """Return an account's lowest-scored items in ``[since, until)``, lowest first."""
    query = (
        select(FeedbackItem)
        .where(
            *_scored(tenant_id),
            FeedbackItem.account_id == account_id,
            FeedbackItem.occurred_at >= since,
            FeedbackItem.occurred_at < until,
        )
        .order_by(FeedbackItem.polarity_score, FeedbackItem.occurred_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _scored(tenant_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return [
        FeedbackItem.tenant_id == tenant_id,
        FeedbackItem.status == FeedbackStatus.SCORED,
        FeedbackItem.polarity_score.is_not(None),
    ]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _has_cs_label(label: str) -> ColumnElement[bool]:
    pattern = literal(f'%"{label}"%')
    return cast(FeedbackItem.cs_labels, String).like(pattern)


def _utc_day(session: Session) -> ColumnElement[object]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", FeedbackItem.occurred_at), Date)
    return func.date(FeedbackItem.occurred_at)


def _as_date(value: object) -> dt.date:
    # SQLite's date() answers 'YYYY-MM-DD' text; PostgreSQL a date.
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
