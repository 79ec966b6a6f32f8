"""Stateless analysis: from an ``AnalyzeRequest`` to the engine and back."""

from __future__ import annotations

import dataclasses

from nlp.analysis import Analysis, Analyzer, Turn
from service.api.schemas.analysis import AnalysesPublic, AnalysisPublic, AnalyzeRequest
from service.batching import AnalysisBatcher, Document
from service.errors import RequestTooLarge
from service.metrics import ANALYSIS_SECONDS

__all__ = ["analyze_request", "to_public"]


async def analyze_request(
    body: AnalyzeRequest,
    batcher: AnalysisBatcher,
    *,
    max_batch_texts: int,
    max_chars: int,
) -> AnalysesPublic:
    """Run the analyzer on whichever of text, texts or turns the request holds.

    Raises:
        RequestTooLarge: If ``texts`` holds more than ``max_batch_texts`` items,
            or all texts together exceed ``max_chars`` characters.
        nlp.errors.InputError: If a text is over the length limit.
    """
    if body.texts is not None and len(body.texts) > max_batch_texts:
        raise RequestTooLarge(
            f"texts: {len(body.texts)} items; the limit is {max_batch_texts} "
            "per call. Split the batch.",
            field="texts",
        )
    total = _total_chars(body)
    if total > max_chars:
        raise RequestTooLarge(
            f"the texts of this call hold {total:,} characters; the limit is "
            f"{max_chars:,} per call. Send them in several calls.",
            field="texts"
            if body.texts is not None
            else "turns"
            if body.turns
            else "text",
        )
    with ANALYSIS_SECONDS.labels("analyze").time():
        analyses = await batcher.analyze_documents_async(
            _documents(body, batcher.analyzer)
        )
    return AnalysesPublic(
        model_version=batcher.analyzer.model_version,
        items=[to_public(a) for a in analyses],
    )


def _documents(body: AnalyzeRequest, analyzer: Analyzer) -> list[Document]:
    # Checked here, per request, so that one bad request never fails a shared pass.
    if body.texts is not None:
        analyzer.check_texts(body.texts)
        return list(body.texts)
    if body.turns is not None:
        turns = [Turn(role=t.role, text=t.text) for t in body.turns]
        analyzer.check_turns(turns)
        return [turns]
    assert body.text is not None  # the schema guarantees exactly one field
    analyzer.check_text(body.text)
    return [body.text]


def _total_chars(body: AnalyzeRequest) -> int:
    if body.texts is not None:
        return sum(len(t) for t in body.texts)
    if body.turns is not None:
        return sum(len(t.text) for t in body.turns)
    return len(body.text or "")


def to_public(analysis: Analysis) -> AnalysisPublic:
    """Convert an engine result to its response schema."""
    return AnalysisPublic.model_validate(dataclasses.asdict(analysis))
