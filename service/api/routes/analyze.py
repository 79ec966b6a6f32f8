"""``POST /v1/analyze``: stateless analysis of texts or a transcript."""

from __future__ import annotations

from fastapi import APIRouter

from service.analysis import analyze_request
from service.api.deps import BatcherDep, SettingsDep
from service.api.schemas.analysis import AnalysesPublic, AnalyzeRequest

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["analysis"])


@router.post("/analyze")
async def analyze(
    body: AnalyzeRequest, batcher: BatcherDep, settings: SettingsDep
) -> AnalysesPublic:
    """Analyse one text, many texts, or one speaker-tagged transcript."""
    return await analyze_request(
        body,
        batcher,
        max_batch_texts=settings.max_batch_texts,
        max_chars=settings.max_analyze_chars,
    )
