"""``/v1/feedback``: ingest one item or a batch, list and read stored items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from service.api.deps import (
    AnalyzerDep,
    EmbedderDep,
    IngestCallerDep,
    ReadCallerDep,
    RedactorDep,
    SessionDep,
    SettingsDep,
)
from service.api.schemas.feedback import (
    FeedbackBatchCreate,
    FeedbackBatchPublic,
    FeedbackCreate,
    FeedbackPublic,
    FeedbackQuery,
    FeedbacksPublic,
)
from service.feedback import get_feedback_public, list_feedback_public
from service.ingest import ingest_batch, ingest_one

__all__ = [
    "create_feedback",
    "create_feedback_batch",
    "read_feedback",
    "read_feedbacks",
    "router",
]

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": FeedbackPublic, "description": "Stored before."}},
)
def create_feedback(
    body: FeedbackCreate,
    response: Response,
    caller: IngestCallerDep,
    session: SessionDep,
    redactor: RedactorDep,
    analyzer: AnalyzerDep,
    settings: SettingsDep,
    embedder: EmbedderDep,
) -> FeedbackPublic:
    """Store one item (201); its external_id posted again returns it (200)."""
    item, created = ingest_one(
        session,
        caller,
        body,
        redactor=redactor,
        analyzer=analyzer,
        max_text_chars=settings.max_text_chars,
        embedder=embedder,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return item


@router.post("/feedback:batch")
def create_feedback_batch(
    body: FeedbackBatchCreate,
    caller: IngestCallerDep,
    session: SessionDep,
    redactor: RedactorDep,
    analyzer: AnalyzerDep,
    settings: SettingsDep,
    embedder: EmbedderDep,
) -> FeedbackBatchPublic:
    """Store many items; each is reported as created, duplicate or error."""
    return ingest_batch(
        session,
        caller,
        body,
        redactor=redactor,
        analyzer=analyzer,
        max_items=settings.max_ingest_items,
        max_text_chars=settings.max_text_chars,
        embedder=embedder,
    )


@router.get("/feedback")
def read_feedbacks(
    query: Annotated[FeedbackQuery, Query()],
    caller: ReadCallerDep,
    session: SessionDep,
) -> FeedbacksPublic:
    """List stored items, newest first, filtered and paginated by cursor."""
    return list_feedback_public(session, caller.tenant_id, query)


@router.get("/feedback/{feedback_id}")
def read_feedback(
    feedback_id: str, caller: ReadCallerDep, session: SessionDep
) -> FeedbackPublic:
    """Read one stored item by the id the service gave it."""
    return get_feedback_public(session, caller.tenant_id, feedback_id)
