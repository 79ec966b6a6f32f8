"""Reading stored feedback: one item, filtered pages, and the public shape of both.

Items are stored with their analysis flattened into queryable columns and the
rest in ``detail`` (see :mod:`service.ingest`); :func:`to_public` puts the
analysis back together in the shape ``POST /v1/analyze`` answers with.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from service.api.schemas.analysis import AnalysisPublic, TurnIn
from service.api.schemas.feedback import FeedbackPublic, FeedbackQuery, FeedbacksPublic
from service.errors import NotFound, check_time_range
from service.storage.accounts import account_external_ids, get_account
from service.storage.feedback import (
    FeedbackFilter,
    get_feedback,
    list_feedback,
)
from service.storage.models import FeedbackItem

__all__ = ["get_feedback_public", "list_feedback_public", "to_public"]


def get_feedback_public(
    session: Session, tenant_id: uuid.UUID, feedback_id: str
) -> FeedbackPublic:
    """Return one of the tenant's items.

    Args:
        session: An open session.
        tenant_id: The caller's tenant.
        feedback_id: The item's id, as the service returned it.

    Returns:
        The item.

    Raises:
        NotFound: If the tenant has no such item: another tenant's ids, and
            strings that are no id at all, read as absent.
    """
    try:
        parsed = uuid.UUID(feedback_id)
    except ValueError:
        parsed = None
    item = get_feedback(session, tenant_id, parsed) if parsed else None
    if item is None:
        raise NotFound(
            f"no feedback item with id {feedback_id!r}; use an id returned by "
            "POST /v1/feedback or GET /v1/feedback",
            field="feedback_id",
        )
    accounts = account_external_ids(session, tenant_id, [item.account_id])
    return to_public(item, accounts[item.account_id])


def list_feedback_public(
    session: Session, tenant_id: uuid.UUID, query: FeedbackQuery
) -> FeedbacksPublic:
    """Return one page of the tenant's items, newest first, after the filters.

    An ``account_id`` the tenant does not have gives an empty page.

    Raises:
        InvalidCursor: If ``query.cursor`` was not issued by the service.
        InvalidInput: If ``from`` is not before ``to``.
    """
    check_time_range(query.from_, query.to)
    account_uuid = None
    if query.account_id is not None:
        account = get_account(session, tenant_id, query.account_id)
        if account is None:
            return FeedbacksPublic(items=[], next_cursor=None)
        account_uuid = account.id
    filters = FeedbackFilter(
        account_id=account_uuid,
        channel=query.channel,
        author_role=query.role,
        since=query.from_,
        until=query.to,
        emotion=query.emotion,
        polarity=query.polarity,
    )
    page = list_feedback(
        session, tenant_id, filters, limit=query.limit, cursor=query.cursor
    )
    accounts = account_external_ids(
        session, tenant_id, {i.account_id for i in page.items}
    )
    return FeedbacksPublic(
        items=[to_public(item, accounts[item.account_id]) for item in page.items],
        next_cursor=page.next_cursor,
    )


def to_public(item: FeedbackItem, account_id: str) -> FeedbackPublic:
    """Convert a stored item to its response schema.

    Args:
        item: The stored item.
        account_id: The caller's id of the item's account.

    Returns:
        The item as the API shows it.
    """
    detail = item.detail or {}
    return FeedbackPublic(
        id=item.id,
        external_id=item.external_id,
        account_id=account_id,
        channel=item.channel,
        author_role=item.author_role,
        text=item.text,
        turns=[TurnIn.model_validate(t) for t in item.turns] if item.turns else None,
        redacted=list(detail.get("redacted", [])),
        occurred_at=item.occurred_at,
        received_at=item.received_at,
        source=item.source,
        rating=item.rating,
        nps_score=item.nps_score,
        metadata=item.metadata_ or {},
        analysis=AnalysisPublic.model_validate(_analysis(item, detail)),
    )


def _analysis(item: FeedbackItem, detail: dict[str, Any]) -> dict[str, Any]:
    polarity = None
    if item.polarity is not None:
        polarity = {
            "label": item.polarity,
            "score": item.polarity_score,
            "probabilities": detail.get("polarity_probabilities") or {},
        }
    return {
        "status": item.status.value,
        "language": item.language or "",
        "language_confidence": detail.get("language_confidence", 0.0),
        "model_version": item.model_version or "",
        "split": detail.get("split", {"method": "whole", "pieces": 0, "words": 0}),
        "emotions": item.emotions or {},
        "labels": item.labels or [],
        "cs_emotions": item.cs_emotions or {},
        "cs_labels": item.cs_labels or [],
        "polarity": polarity,
        "trajectory": detail.get("trajectory", []),
        "mood_shift": detail.get("mood_shift"),
        "cues": detail.get("cues", []),
    }
