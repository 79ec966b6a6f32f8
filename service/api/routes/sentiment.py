"""``/v1/accounts/{account_id}/sentiment``: an account's sentiment over time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import ReadCallerDep, SessionDep
from service.api.schemas.sentiment import SentimentPublic, SentimentQuery
from service.sentiment import account_sentiment

__all__ = ["read_sentiment", "router"]

router = APIRouter(prefix="/v1/accounts", tags=["sentiment"])


@router.get("/{account_id}/sentiment", response_model_by_alias=True)
def read_sentiment(
    account_id: str,
    query: Annotated[SentimentQuery, Query()],
    caller: ReadCallerDep,
    session: SessionDep,
) -> SentimentPublic:
    """Sentiment per day or week, by channel and role, and the window delta."""
    return account_sentiment(session, caller.tenant_id, account_id, query)
