"""The one entry point of the text engine: :class:`Analyzer`.

For each text (or speaker-tagged transcript) it returns the 28 emotion scores and the
labels over their thresholds, the customer-success view, polarity, the detected
language and the model version. Texts longer than the encoder's window are split on
sentences (transcripts on turns, then sentences), every piece is scored and the pieces
are aggregated; the result says how the text was split and carries the per-piece
trajectory. Nothing is truncated.

All pieces of all texts in one call go through the encoder together, sorted by
length, so a batch costs little more than its longest texts; a text scores the same
alone or in any batch.

Aggregation of a text read in several pieces:

- emotion scores are the maximum over pieces (an emotion expressed anywhere in a
  transcript is present in it);
- polarity probabilities are the word-weighted mean over pieces;
- in a transcript, only the customer's turns count when there are any, since agents'
  apologies and greetings say nothing of how the customer feels.

The CS view of each piece is the folded 28-label scores, with frustration raised to
the score of the support-register cues of :mod:`nlp.cues` where they are stronger;
the cues found are reported in ``cues``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nlp.artifact import Artifact, load_artifact
from nlp.cues import frustration_cues
from nlp.emotions import EmotionModel
from nlp.errors import InputError
from nlp.labels import CS_VIEW, EMOTIONS, fold_labels
from nlp.language import LanguageGuess, detect_language
from nlp.results import ROLES, Analysis, Segment, Split, Turn
from nlp.sentiment import PolarityHead
from nlp.text import pack_sentences, prepare_for_model, split_sentences

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "ROLES",
    "Analysis",
    "Analyzer",
    "Segment",
    "Split",
    "Turn",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_CHARS = 200_000
# Pieces are packed to this many words first; a piece that still exceeds the token
# window (long numbers, URLs, code) is halved until it fits.
_PIECE_WORDS = 80


@dataclass
class _Piece:
    text: str  # prepared for the model
    source: str  # as given, for re-splitting on sentences
    role: str | None
    turn: int
    ids: list[int] = field(default_factory=list)

    @property
    def words(self) -> int:
        return max(1, len(self.text.split()))


@dataclass
class _Plan:
    """The pieces of one document and where their scores land."""

    method: str
    pieces: list[_Piece]
    language: LanguageGuess
    first: int = 0  # index of the first piece in the call's flat piece list


class Analyzer:
    """Emotion, CS-view, polarity and language analysis of texts and transcripts.

    Args:
        artifact: A loaded model artifact (default: the bundled one).
        threads: CPU threads for the encoder; ``None`` lets onnxruntime decide.
        max_chars: Longest accepted text (or transcript, all turns together).
    """

    def __init__(
        self,
        artifact: Artifact | None = None,
        *,
        threads: int | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self.artifact = artifact or load_artifact()
        self.model = EmotionModel(self.artifact, threads=threads)
        self.polarity_head = PolarityHead(self.artifact.polarity)
        self.max_chars = max_chars
        self.model_version = self.artifact.version
        self._thresholds = np.array([self.artifact.thresholds[e] for e in EMOTIONS])
        self._cs_thresholds = np.array(
            [self.artifact.cs_thresholds[c] for c in CS_VIEW]
        )

    @classmethod
    def load(cls, path: Path | None = None, *, threads: int | None = None) -> Analyzer:
        """Load the artifact at ``path`` (default: bundled) and build an analyzer."""
        return cls(load_artifact(path), threads=threads)

    def analyze(self, text: str) -> Analysis:
        """Analyse one text."""
        self._check_text(text, "text")
        return self.analyze_documents([text])[0]

    def analyze_turns(self, turns: Sequence[Turn]) -> Analysis:
        """Analyse one transcript given as speaker-tagged turns."""
        return self.analyze_documents([list(turns)])[0]

    def analyze_many(self, texts: Sequence[str]) -> list[Analysis]:
        """Analyse many texts in one encoder pass; results are in input order."""
        self.check_texts(texts)
        return self.analyze_documents(list(texts))

    def check_texts(self, texts: Sequence[object], *, field: str = "texts") -> None:
        """Raise :class:`InputError` for the first text that would be refused,
        naming it ``field[i]``; callers that batch requests check each first."""
        for i, text in enumerate(texts):
            self._check_text(text, f"{field}[{i}]")

    def check_text(self, text: object, *, field: str = "text") -> None:
        """Raise :class:`InputError` if one text would be refused."""
        self._check_text(text, field)

    def check_turns(self, turns: Sequence[object]) -> None:
        """Raise :class:`InputError` if a transcript would be refused."""
        self._check_turns(turns)

    def analyze_documents(
        self, documents: Sequence[str | Sequence[Turn]]
    ) -> list[Analysis]:
        """Analyse a mix of plain texts and transcripts.

        Args:
            documents: Each a text, or a sequence of :class:`Turn`.

        Returns:
            One :class:`Analysis` per document, in order.

        Raises:
            InputError: If a document is not a string or a list of turns, a role is
                unknown, or a document is longer than ``max_chars``.
        """
        plans = [self._plan(doc) for doc in documents]
        self._fit_to_window(plans)
        pieces: list[_Piece] = []
        for plan in plans:
            plan.first = len(pieces)
            pieces.extend(plan.pieces)
        output = self.model.encode_ids([p.ids for p in pieces])
        polarity = self.polarity_head.probabilities(output.pooled, output.probs)
        cs, cues = self._cs_view(pieces, output.probs)
        logger.debug("scored %d pieces of %d documents", len(pieces), len(plans))
        return [
            self._aggregate(plan, output.probs, polarity, cs, cues) for plan in plans
        ]

    # Planning: validate, detect language, split into pieces that fit the window.

    def _plan(self, document: str | Sequence[Turn]) -> _Plan:
        if isinstance(document, str):
            self._check_text(document, "text")
            language = detect_language(document)
            units: list[tuple[str | None, int, str]] = [(None, 0, document)]
            method = "whole"
        elif isinstance(document, Sequence) and not isinstance(
            document, (bytes, bytearray)
        ):
            turns = self._check_turns(document)
            customer = [t.text for t in turns if t.role == "customer"]
            language = detect_language("\n".join(customer or [t.text for t in turns]))
            units = [(t.role, i, t.text) for i, t in enumerate(turns)]
            method = "turns"
        else:
            raise InputError(
                f"expected a text (string) or a list of turns, got "
                f"{type(document).__name__}",
                field="text",
                code="invalid_type",
            )
        if not language.is_english:
            return _Plan(method=method, pieces=[], language=language)
        pieces = [
            _Piece(text=prepared, source=text, role=role, turn=turn)
            for role, turn, text in units
            if (prepared := prepare_for_model(text))
        ]
        return _Plan(method=method, pieces=pieces, language=language)

    def _fit_to_window(self, plans: list[_Plan]) -> None:
        # One tokenizer call for every piece of every document; the rare piece
        # longer than the window is re-split on sentences, then on words.
        pieces = [p for plan in plans for p in plan.pieces]
        all_ids = self.model.tokenize([p.text for p in pieces])
        for piece, ids in zip(pieces, all_ids, strict=True):
            piece.ids = ids
        for plan in plans:
            if all(len(p.ids) <= self.model.max_tokens for p in plan.pieces):
                continue
            fitted: list[_Piece] = []
            for piece in plan.pieces:
                if len(piece.ids) <= self.model.max_tokens:
                    fitted.append(piece)
                    continue
                fitted.extend(
                    _Piece(text=t, source=t, role=piece.role, turn=piece.turn, ids=i)
                    for t, i in self._split(piece.source)
                )
            if plan.method == "whole":
                plan.method = "sentences"
                for number, piece in enumerate(fitted):
                    piece.turn = number
            plan.pieces = fitted

    def _check_text(self, text: object, field_name: str) -> None:
        if not isinstance(text, str):
            raise InputError(
                f"{field_name}: expected a string, got {type(text).__name__}",
                field=field_name,
                code="invalid_type",
            )
        if len(text) > self.max_chars:
            raise InputError(
                f"{field_name}: text is {len(text):,} characters; the limit is "
                f"{self.max_chars:,}. Split it into several items.",
                field=field_name,
                code="text_too_long",
            )

    def _check_turns(self, turns: Sequence[object]) -> list[Turn]:
        checked: list[Turn] = []
        for i, turn in enumerate(turns):
            if not isinstance(turn, Turn):
                raise InputError(
                    f"turns[{i}]: expected a Turn, got {type(turn).__name__}",
                    field=f"turns[{i}]",
                    code="invalid_type",
                )
            if turn.role not in ROLES:
                raise InputError(
                    f"turns[{i}].role: expected one of {', '.join(ROLES)}; "
                    f"got {turn.role!r}",
                    field=f"turns[{i}].role",
                    code="invalid_role",
                )
            self._check_text(turn.text, f"turns[{i}].text")
            checked.append(turn)
        total = sum(len(t.text) for t in checked)
        if total > self.max_chars:
            raise InputError(
                f"turns: the transcript is {total:,} characters; the limit is "
                f"{self.max_chars:,}. Send it as several items.",
                field="turns",
                code="text_too_long",
            )
        return checked

    def _split(self, text: str) -> list[tuple[str, list[int]]]:
        sentences = [prepare_for_model(s) for s in split_sentences(text)]
        pieces = pack_sentences([s for s in sentences if s], max_words=_PIECE_WORDS)
        return self._halve_until_fit(pieces)

    def _halve_until_fit(self, pieces: list[str]) -> list[tuple[str, list[int]]]:
        fitted: list[tuple[str, list[int]]] = []
        for piece, ids in zip(pieces, self.model.tokenize(pieces), strict=True):
            if len(ids) <= self.model.max_tokens or len(piece) < 2:
                fitted.append((piece, ids))
                continue
            words = piece.split()
            if len(words) >= 2:
                halves = [
                    " ".join(words[: len(words) // 2]),
                    " ".join(words[len(words) // 2 :]),
                ]
            else:
                # One "word" of many word pieces ("a,b,c,..."): cut it by characters.
                halves = [piece[: len(piece) // 2], piece[len(piece) // 2 :]]
            fitted.extend(self._halve_until_fit(halves))
        return fitted

    # Aggregation: from piece scores to one reading per document.

    def _aggregate(
        self,
        plan: _Plan,
        probs: NDArray[np.float32],
        polarity: NDArray[np.float32],
        cs: NDArray[np.float32],
        cues: list[list[str]],
    ) -> Analysis:
        words = sum(p.words for p in plan.pieces)
        split = Split(method=plan.method, pieces=len(plan.pieces), words=words)
        base = Analysis(
            status="scored",
            language=plan.language.language,
            language_confidence=plan.language.confidence,
            model_version=self.model_version,
            split=split,
        )
        if not plan.language.is_english:
            return dataclasses.replace(base, status="unsupported_language")
        if not plan.pieces:
            return dataclasses.replace(
                base, status="empty", language="und", language_confidence=0.0
            )

        rows = np.arange(plan.first, plan.first + len(plan.pieces))
        counted = [i for i, p in enumerate(plan.pieces) if p.role == "customer"]
        counted = counted or list(range(len(plan.pieces)))
        weights = np.array([plan.pieces[i].words for i in counted], dtype=np.float32)
        doc_probs = probs[rows[counted]].max(axis=0)
        doc_polarity = _weighted_mean(polarity[rows[counted]], weights)
        reading = self.polarity_head.read(doc_polarity, pieces=polarity[rows[counted]])
        doc_cs = cs[rows[counted]].max(axis=0)
        trajectory = self._trajectory(plan, cs[rows], polarity[rows])
        customer_steps = [s for s in trajectory if s.role in (None, "customer")]
        shift = (
            round(
                customer_steps[-1].polarity.score - customer_steps[0].polarity.score, 4
            )
            if len(customer_steps) > 1
            else None
        )
        return dataclasses.replace(
            base,
            emotions=_named(EMOTIONS, doc_probs),
            labels=self._labels(doc_probs),
            cs_emotions=_named(tuple(CS_VIEW), doc_cs),
            cs_labels=self._cs_labels(doc_cs),
            cues=sorted({c for i in rows[counted] for c in cues[i]}),
            polarity=reading,
            trajectory=trajectory,
            mood_shift=shift,
        )

    def _labels(self, probs: NDArray[np.float32]) -> list[str]:
        over = np.flatnonzero(probs >= self._thresholds)
        if len(over) == 0:
            # GoEmotions gives every text at least one label; so do we.
            over = np.array([int(np.argmax(probs))])
        return [EMOTIONS[i] for i in over[np.argsort(-probs[over])]]

    def _cs_view(
        self, pieces: list[_Piece], probs: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], list[list[str]]]:
        cs = fold_labels(probs)
        names = tuple(CS_VIEW)
        frustration = names.index("frustration")
        positive = [names.index("gratitude"), names.index("delight")]
        found: list[list[str]] = []
        for row, piece in enumerate(pieces):
            cues, score = frustration_cues(piece.text)
            grateful = (cs[row, positive] >= self._cs_thresholds[positive]).any()
            if grateful:
                cues, score = [], 0.0
            cs[row, frustration] = max(cs[row, frustration], score)
            found.append(cues)
        return cs, found

    def _cs_labels(self, scores: NDArray[np.float32]) -> list[str]:
        over = np.flatnonzero(scores >= self._cs_thresholds)
        names = tuple(CS_VIEW)
        return [names[i] for i in over[np.argsort(-scores[over])]]

    def _trajectory(
        self,
        plan: _Plan,
        cs: NDArray[np.float32],
        polarity: NDArray[np.float32],
    ) -> list[Segment]:
        segments: list[Segment] = []
        names = tuple(CS_VIEW)
        for step in sorted({p.turn for p in plan.pieces}):
            members = [i for i, p in enumerate(plan.pieces) if p.turn == step]
            weights = np.array(
                [plan.pieces[i].words for i in members], dtype=np.float32
            )
            step_polarity = _weighted_mean(polarity[members], weights)
            step_cs = cs[members].max(axis=0)
            segments.append(
                Segment(
                    index=step,
                    role=plan.pieces[members[0]].role,
                    words=int(weights.sum()),
                    polarity=self.polarity_head.read(step_polarity),
                    top_emotion=names[int(np.argmax(step_cs))],
                )
            )
        return segments


def _weighted_mean(
    rows: NDArray[np.float32], weights: NDArray[np.float32]
) -> NDArray[np.float32]:
    mean: NDArray[np.float32] = (rows * weights[:, None]).sum(axis=0) / weights.sum()
    return mean


def _named(names: tuple[str, ...], values: NDArray[np.float32]) -> dict[str, float]:
    return dict(
        zip(names, np.round(values.astype(np.float64), 4).tolist(), strict=True)
    )
