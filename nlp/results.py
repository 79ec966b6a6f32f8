"""The readings the text engine returns, and the turns it reads.

Plain frozen dataclasses, so that the service, the CLI and the batch job can turn
them into JSON with :func:`dataclasses.asdict`; :class:`nlp.analysis.Analyzer`
produces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nlp.sentiment import Polarity

__all__ = ["ROLES", "Analysis", "Segment", "Split", "Turn"]

ROLES: tuple[str, ...] = ("customer", "agent", "bot", "other")


@dataclass(frozen=True)
class Turn:
    """One turn of a transcript: who spoke (a role from :data:`ROLES`) and what."""

    role: str
    text: str


@dataclass(frozen=True)
class Split:
    """How a text was read: ``whole``, ``sentences`` or ``turns``, in how many
    pieces, over how many words."""

    method: str
    pieces: int
    words: int


@dataclass(frozen=True)
class Segment:
    """One step of the trajectory: a turn, or a group of sentences."""

    index: int
    role: str | None
    words: int
    polarity: Polarity
    top_emotion: str


@dataclass(frozen=True)
class Analysis:
    """The reading of one text.

    ``status`` is ``scored``, ``empty`` (nothing to score) or
    ``unsupported_language`` (flagged, not scored as if it were English); only a
    scored text has emotions and polarity.
    """

    status: str
    language: str
    language_confidence: float
    model_version: str
    split: Split
    emotions: dict[str, float] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    cs_emotions: dict[str, float] = field(default_factory=dict)
    cs_labels: list[str] = field(default_factory=list)
    polarity: Polarity | None = None
    trajectory: list[Segment] = field(default_factory=list)
    mood_shift: float | None = None
    cues: list[str] = field(default_factory=list)
