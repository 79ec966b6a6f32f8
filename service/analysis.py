"""Stateless analysis: from an ``AnalyzeRequest`` to the engine and back."""

from __future__ import annotations

import dataclasses

from nlp.analysis import Analysis, Analyzer, Turn
from service.api.schemas.analysis import AnalysesPublic, AnalysisPublic, AnalyzeRequest
from service.errors import RequestTooLarge

__all__ = ["analyze_request", "to_public"]


def analyze_request(
    body: AnalyzeRequest, analyzer: Analyzer, *, max_batch_texts: int
) -> AnalysesPublic:
    """Run the analyzer on whichever of text, texts or turns the request holds.

    Raises:
        RequestTooLarge: If ``texts`` holds more than ``max_batch_texts`` items.
        nlp.errors.InputError: If a text is over the length limit.
    """
    if body.texts is not None:
        if len(body.texts) > max_batch_texts:
            raise RequestTooLarge(
                f"texts: {len(body.texts)} items; the limit is {max_batch_texts} "
                "per call. Split the batch.",
                field="texts",
            )
        analyses = analyzer.analyze_many(body.texts)
    elif body.turns is not None:
        turns = [Turn(role=t.role, text=t.text) for t in body.turns]
        analyses = [analyzer.analyze_turns(turns)]
    else:
        assert body.text is not None  # the schema guarantees exactly one field
        analyses = [analyzer.analyze(body.text)]
    return AnalysesPublic(
        model_version=analyzer.model_version,
        items=[to_public(a) for a in analyses],
    )


def to_public(analysis: Analysis) -> AnalysisPublic:
    """Convert an engine result to its response schema."""
    return AnalysisPublic.model_validate(dataclasses.asdict(analysis))
