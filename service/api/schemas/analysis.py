"""Request and response schemas of ``POST /v1/analyze``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

__all__ = [
    "AnalysesPublic",
    "AnalysisPublic",
    "AnalyzeRequest",
    "PolarityPublic",
    "SegmentPublic",
    "SplitPublic",
    "TurnIn",
]

Role = Literal["customer", "agent", "bot", "other"]


class TurnIn(BaseModel):
    """One turn of a transcript."""

    model_config = ConfigDict(extra="forbid")

    role: Role = Field(description="Who spoke.")
    text: StrictStr


class AnalyzeRequest(BaseModel):
    """Exactly one of ``text``, ``texts`` or ``turns``."""

    model_config = ConfigDict(extra="forbid")

    text: StrictStr | None = None
    texts: list[StrictStr] | None = Field(default=None, min_length=1)
    turns: list[TurnIn] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> AnalyzeRequest:
        given = [n for n in ("text", "texts", "turns") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of 'text', 'texts' or 'turns', got "
                + (", ".join(repr(n) for n in given) or "none")
            )
        return self


class PolarityPublic(BaseModel):
    label: Literal["negative", "neutral", "positive", "mixed"]
    score: float = Field(ge=-1, le=1)
    probabilities: dict[str, float]


class SplitPublic(BaseModel):
    method: Literal["whole", "sentences", "turns"]
    pieces: int
    words: int


class SegmentPublic(BaseModel):
    index: int
    role: Role | None
    words: int
    polarity: PolarityPublic
    top_emotion: str


class AnalysisPublic(BaseModel):
    status: Literal["scored", "empty", "unsupported_language"]
    language: str
    language_confidence: float
    model_version: str
    split: SplitPublic
    emotions: dict[str, float]
    labels: list[str]
    cs_emotions: dict[str, float]
    cs_labels: list[str]
    polarity: PolarityPublic | None
    trajectory: list[SegmentPublic]
    mood_shift: float | None
    cues: list[str]


class AnalysesPublic(BaseModel):
    model_version: str
    items: list[AnalysisPublic]
