"""Emotion scoring with the int8 ONNX encoder.

:class:`EmotionModel` turns texts into the 28 sigmoid probabilities and the pooled
sentence vector in one encoder pass. Texts are sorted by token count and batched so
that padding stays small; the results come back in input order. Each text is scored
with the same graph whatever batch it lands in, and the tests check that a text
scores the same alone and inside a batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.artifact import Artifact
from nlp.encoder import length_batches, load_tokenizer, open_session, pad_ids
from nlp.labels import EMOTIONS

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["EmotionModel", "EncoderOutput"]

logger = logging.getLogger(__name__)

# Rows per ONNX call and an upper bound on padded tokens per call; short texts are
# batched widely, long ones narrowly, which keeps each call's working set in cache.
_MAX_ROWS = 16
_MAX_BATCH_TOKENS = 512


@dataclass(frozen=True)
class EncoderOutput:
    """Per-text emotion probabilities (n, 28) and pooled vectors (n, 384)."""

    probs: NDArray[np.float32]
    pooled: NDArray[np.float32]


class EmotionModel:
    """The emotion encoder of an artifact, ready to score prepared texts.

    Args:
        artifact: The loaded artifact.
        threads: CPU threads for onnxruntime; ``None`` lets it decide.
    """

    def __init__(self, artifact: Artifact, *, threads: int | None = None) -> None:
        self._session = open_session(artifact.model_path, threads=threads)
        self._tokenizer = load_tokenizer(artifact.tokenizer_path)
        self._tokenizer.no_truncation()
        self.max_tokens = artifact.max_tokens
        self.version = artifact.version

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """Return the word-piece ids of prepared texts, special tokens included and
        nothing truncated."""
        return [e.ids for e in self._tokenizer.encode_batch(texts)]

    def encode(self, texts: list[str]) -> EncoderOutput:
        """Score prepared texts (see :func:`nlp.text.prepare_for_model`).

        Texts longer than the model's window are truncated here; callers that must
        not lose words split them first, as :class:`nlp.analysis.Analyzer` does.
        """
        return self.encode_ids(self.tokenize(texts))

    def encode_ids(self, ids: list[list[int]]) -> EncoderOutput:
        """Score texts given as word-piece ids (from :meth:`tokenize`)."""
        n = len(ids)
        probs = np.zeros((n, len(EMOTIONS)), dtype=np.float32)
        pooled = np.zeros((n, 384), dtype=np.float32)
        ids = [self._truncate(row) for row in ids]
        batches = length_batches(
            [len(row) for row in ids],
            max_rows=_MAX_ROWS,
            max_batch_tokens=_MAX_BATCH_TOKENS,
        )
        for index in batches:
            input_ids, mask = pad_ids([ids[i] for i in index])
            vectors, logits = self._run(input_ids, mask)
            pooled[index] = vectors
            probs[index] = 1.0 / (1.0 + np.exp(-logits))
        return EncoderOutput(probs=probs, pooled=pooled)

    def _truncate(self, row: list[int]) -> list[int]:
        # Keep the closing [SEP], as the tokenizer's own truncation does.
        if len(row) <= self.max_tokens:
            return row
        return [*row[: self.max_tokens - 1], row[-1]]

    def _run(self, input_ids: NDArray[np.int64], mask: NDArray[np.int64]) -> Any:
        return self._session.run(
            ["pooled", "logits"], {"input_ids": input_ids, "attention_mask": mask}
        )
