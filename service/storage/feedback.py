"""Feedback items: idempotent insertion, lookup, filtered keyset pagination.

Idempotency: an item's ``external_id`` is unique per tenant. :func:`add_feedback`
inserts with ``ON CONFLICT DO NOTHING`` and reads back what is stored, so an item
posted twice — in one batch, in a retried batch, or by two processes at once —
is stored once, and every post of it gets that stored item back.

Pagination is by keyset on ``(occurred_at, id)``, newest first: the cursor is an
opaque token of the last item seen, so pages stay stable while items arrive.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from service.storage._upsert import insert_ignoring_conflicts
from service.storage.cursors import InvalidCursor, decode_cursor, encode_cursor
from service.storage.models import (
    Account,
    AuthorRole,
    Channel,
    Contact,
    FeedbackItem,
    FeedbackStatus,
    utcnow,
)

__all__ = [
    "FeedbackFilter",
    "FeedbackPage",
    "InvalidCursor",
    "NewFeedback",
    "StoredFeedback",
    "add_feedback",
    "find_feedback",
    "get_feedback",
    "list_feedback",
]

_IN_CHUNK = 900
_LABEL = re.compile(r"^[a-z_]+$")


@dataclass(frozen=True)
class NewFeedback:
    """One item to store: redacted content, its context and its analysis.

    Attribute names are those of :class:`FeedbackItem`.
    """

    account_id: uuid.UUID
    channel: Channel
    occurred_at: dt.datetime
    status: FeedbackStatus
    text: str | None = None
    turns: list[dict[str, str]] | None = None
    raw_text: str | None = None
    external_id: str | None = None
    contact_id: uuid.UUID | None = None
    author_role: AuthorRole | None = None
    source: str | None = None
    rating: float | None = None
    nps_score: int | None = None
    metadata_: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    polarity: str | None = None
    polarity_score: float | None = None
    emotions: dict[str, float] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    cs_emotions: dict[str, float] = field(default_factory=dict)
    cs_labels: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    model_version: str | None = None


@dataclass(frozen=True)
class StoredFeedback:
    """The stored item for one :class:`NewFeedback`, and whether this call made it."""

    item: FeedbackItem
    created: bool


@dataclass(frozen=True)
class FeedbackFilter:
    """Filters of :func:`list_feedback`; None means no filter."""

    account_id: uuid.UUID | None = None
    channel: Channel | None = None
    author_role: AuthorRole | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    emotion: str | None = None
    polarity: str | None = None


@dataclass(frozen=True)
class FeedbackPage:
    """One page of items and the cursor of the next page (None at the end)."""

    items: list[FeedbackItem]
    next_cursor: str | None


def add_feedback(
    session: Session, tenant_id: uuid.UUID, items: Sequence[NewFeedback]
) -> list[StoredFeedback]:
    """Store items, skipping those whose ``external_id`` is already stored.

    Args:
        session: An open session; the caller commits.
        tenant_id: The tenant that owns the items (and their accounts).
        items: The items, in the caller's order.

    Returns:
        For each input item, in order, the stored item and whether it is new.

    Raises:
        ValueError: If an item names an account or contact of another tenant
            (or none at all).
    """
    _check_owned(session, tenant_id, Account, {i.account_id for i in items})
    contact_ids = {i.contact_id for i in items if i.contact_id is not None}
    _check_owned(session, tenant_id, Contact, contact_ids)
    received_at = utcnow()
    rows = [
        {
            **_fields(item),
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "received_at": received_at,
        }
        for item in items
    ]
    insert_ignoring_conflicts(
        session, FeedbackItem, rows, conflict_columns=("tenant_id", "external_id")
    )
    stored = _load(session, tenant_id, rows)
    results = []
    for row in rows:
        key = row["external_id"] if row["external_id"] is not None else row["id"]
        item = stored[key]
        results.append(StoredFeedback(item=item, created=item.id == row["id"]))
    return results


def find_feedback(
    session: Session, tenant_id: uuid.UUID, external_ids: Sequence[str]
) -> dict[str, FeedbackItem]:
    """Return the tenant's stored items among ``external_ids``, keyed by them.

    Ingestion asks this first, so that a retried batch skips the work of
    redacting and analysing what is already stored.
    """
    wanted = sorted(set(external_ids))
    return {
        item.external_id: item
        for item in _select_in(session, tenant_id, FeedbackItem.external_id, wanted)
        if item.external_id is not None
    }


def get_feedback(
    session: Session, tenant_id: uuid.UUID, feedback_id: uuid.UUID
) -> FeedbackItem | None:
    """Return one of the tenant's items, or None (also for another tenant's)."""
    return session.scalar(
        select(FeedbackItem).where(
            FeedbackItem.tenant_id == tenant_id, FeedbackItem.id == feedback_id
        )
    )


def list_feedback(
    session: Session,
    tenant_id: uuid.UUID,
    filters: FeedbackFilter | None = None,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> FeedbackPage:
    """Return one page of the tenant's items, newest first.

    Args:
        session: An open session.
        tenant_id: The tenant whose items to list.
        filters: What to keep.
        limit: The most items on the page.
        cursor: The ``next_cursor`` of the previous page, if any.

    Returns:
        The page.

    Raises:
        InvalidCursor: If ``cursor`` was not issued by this function.
        ValueError: If ``filters.emotion`` is not a lowercase label name.
    """
    query = _filtered(select(FeedbackItem), tenant_id, filters or FeedbackFilter())
    if cursor is not None:
        occurred_at, last_id = decode_cursor(cursor)
        query = query.where(
            or_(
                FeedbackItem.occurred_at < occurred_at,
                and_(
                    FeedbackItem.occurred_at == occurred_at, FeedbackItem.id < last_id
                ),
            )
        )
    query = query.order_by(FeedbackItem.occurred_at.desc(), FeedbackItem.id.desc())
    items = list(session.scalars(query.limit(limit + 1)))
    if len(items) <= limit:
        return FeedbackPage(items=items, next_cursor=None)
    last = items[limit - 1]
    return FeedbackPage(
        items=items[:limit], next_cursor=encode_cursor(last.occurred_at, last.id)
    )


def _check_owned(
    session: Session,
    tenant_id: uuid.UUID,
    model: type[Account] | type[Contact],
    ids: set[uuid.UUID],
) -> None:
    # The foreign keys alone would accept another tenant's account.
    wanted = sorted(ids)
    owned: set[uuid.UUID] = set()
    for start in range(0, len(wanted), _IN_CHUNK):
        owned.update(
            session.scalars(
                select(model.id).where(
                    model.tenant_id == tenant_id,
                    model.id.in_(wanted[start : start + _IN_CHUNK]),
                )
            )
        )
    missing = [str(i) for i in wanted if i not in owned]
    if missing:
        raise ValueError(
            f"expected {model.__tablename__} of tenant {tenant_id}, got ids that "
            f"are not among them: {missing[:5]!r}; resolve them with "
            "ensure_accounts (or add_contact) for this tenant first"
        )


def _fields(item: NewFeedback) -> dict[str, Any]:
    # Shallow on purpose: dataclasses.asdict would deep-copy every JSON payload.
    return {name: getattr(item, name) for name in item.__dataclass_fields__}


def _load(
    session: Session, tenant_id: uuid.UUID, rows: list[dict[str, Any]]
) -> dict[object, FeedbackItem]:
    """The stored items for ``rows``: by external id where given, else by id."""
    external_ids = sorted({r["external_id"] for r in rows if r["external_id"]})
    ids = [r["id"] for r in rows if r["external_id"] is None]
    found: dict[object, FeedbackItem] = {}
    for item in _select_in(session, tenant_id, FeedbackItem.external_id, external_ids):
        found[item.external_id] = item
    for item in _select_in(session, tenant_id, FeedbackItem.id, ids):
        found[item.id] = item
    return found


def _select_in(
    session: Session,
    tenant_id: uuid.UUID,
    column: InstrumentedAttribute[Any],
    values: Sequence[object],
) -> Iterator[FeedbackItem]:
    for start in range(0, len(values), _IN_CHUNK):
        yield from session.scalars(
            select(FeedbackItem).where(
                FeedbackItem.tenant_id == tenant_id,
                column.in_(values[start : start + _IN_CHUNK]),
            )
        )


def _filtered(
    query: Select[FeedbackItem], tenant_id: uuid.UUID, filters: FeedbackFilter
) -> Select[FeedbackItem]:
    conditions: list[ColumnElement[bool]] = [FeedbackItem.tenant_id == tenant_id]
    if filters.account_id is not None:
        conditions.append(FeedbackItem.account_id == filters.account_id)
    if filters.channel is not None:
        conditions.append(FeedbackItem.channel == filters.channel)
    if filters.author_role is not None:
        conditions.append(FeedbackItem.author_role == filters.author_role)
    if filters.since is not None:
        conditions.append(FeedbackItem.occurred_at >= filters.since)
    if filters.until is not None:
        conditions.append(FeedbackItem.occurred_at < filters.until)
    if filters.polarity is not None:
        conditions.append(FeedbackItem.polarity == filters.polarity)
    if filters.emotion is not None:
        conditions.append(_has_label(filters.emotion))
    return query.where(*conditions)


def _has_label(label: str) -> ColumnElement[bool]:
    """True where ``label`` is among the item's labels or CS labels.

    JSON containment differs between the backends (jsonb ``@>`` against
    ``json_each``); the JSON text of a list of plain lowercase names contains
    ``"name"`` exactly when the list holds that name, on both. The tenant and
    account filters keep the scanned set small.
    """
    if not _LABEL.match(label):
        raise ValueError(
            f"expected an emotion label of lowercase letters and '_', got {label!r}"
        )
    pattern = f'%"{label}"%'
    return or_(
        cast(FeedbackItem.cs_labels, String).like(pattern),
        cast(FeedbackItem.labels, String).like(pattern),
    )
