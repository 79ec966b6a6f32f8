"""Sentence embeddings from the int8 ONNX all-MiniLM-L6-v2, without torch.

The ``embedder`` artifact (``nlp/models/embedder.v1``) holds ``model.onnx``, whose
graph ends in mean pooling and L2 normalisation, ``tokenizer.json`` and
``meta.json`` (format, version, window, the cosine agreement with the float model).
:class:`Embedder` returns one unit-length 384-d vector per text. Texts are sorted
by token count and batched so that padding stays small, and the graph's int8 scales
are fixed at export, so a text gets the same vector alone or inside any batch.

Texts longer than the window (128 word pieces) are truncated: the vector describes
their beginning only. That is acceptable for themes, where feedback is mostly short
and the opening usually names the topic; split long texts first where it is not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nlp.artifact import ArtifactFolder, check_files, read_meta
from nlp.encoder import length_batches, load_tokenizer, open_session, pad_ids
from nlp.errors import InputError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "EMBEDDER_FORMAT",
    "Embedder",
    "EmbedderArtifact",
    "default_embedder_dir",
    "load_embedder_artifact",
]

logger = logging.getLogger(__name__)

EMBEDDER_FORMAT = "feedback-miner/embedder/1"
_DEFAULT_VERSION = "embedder.v1"

# Rows per ONNX call and an upper bound on padded tokens per call, as in
# nlp.emotions: short texts go in wide batches, long ones in narrow ones.
_MAX_ROWS = 32
_MAX_BATCH_TOKENS = 1024


@dataclass(frozen=True)
class EmbedderArtifact(ArtifactFolder):
    """The embedder artifact: the graph and the width of its vectors."""

    dimensions: int


def default_embedder_dir() -> Path:
    """Return the folder of the embedder artifact bundled with the package."""
    return Path(__file__).resolve().parent / "models" / _DEFAULT_VERSION


def load_embedder_artifact(path: Path | None = None) -> EmbedderArtifact:
    """Read and check an embedder artifact folder.

    Args:
        path: The folder; defaults to the bundled artifact.

    Returns:
        The parsed artifact.

    Raises:
        ModelError: If a file is missing or the format is unknown.
    """
    path = path or default_embedder_dir()
    meta = read_meta(path, expected_format=EMBEDDER_FORMAT, build_command="embedder")
    artifact = EmbedderArtifact(
        path=path,
        version=meta["version"],
        max_tokens=int(meta["max_tokens"]),
        dimensions=int(meta["dimensions"]),
        meta=meta,
    )
    check_files(path, "model.onnx", "tokenizer.json")
    return artifact


class Embedder:
    """The sentence encoder of an embedder artifact.

    Args:
        artifact: The loaded artifact.
        threads: CPU threads for onnxruntime; ``None`` lets it decide.
    """

    def __init__(self, artifact: EmbedderArtifact, *, threads: int | None = None):
        self._session = open_session(artifact.model_path, threads=threads)
        self._tokenizer = load_tokenizer(
            artifact.tokenizer_path, max_tokens=artifact.max_tokens
        )
        self.dimensions = artifact.dimensions
        self.version = artifact.version

    @classmethod
    def load(cls, path: Path | None = None, *, threads: int | None = None) -> Embedder:
        """Load the artifact at path (default: the bundled one)."""
        return cls(load_embedder_artifact(path), threads=threads)

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """Return one unit-length vector per text, in input order.

        Args:
            texts: The texts; an empty string gets the vector of the bare special
                tokens, and text past the 128-token window is ignored.

        Returns:
            An array of shape ``(len(texts), dimensions)``, float32.

        Raises:
            InputError: If an item is not a string.
        """
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(
                    f"expected texts[{i}] to be a string, got "
                    f"{type(text).__name__}; convert or drop it first",
                    field=f"texts[{i}]",
                    code="invalid_type",
                )
        ids = [e.ids for e in self._tokenizer.encode_batch(texts)]
        out = np.zeros((len(ids), self.dimensions), dtype=np.float32)
        batches = length_batches(
            [len(row) for row in ids],
            max_rows=_MAX_ROWS,
            max_batch_tokens=_MAX_BATCH_TOKENS,
        )
        for index in batches:
            input_ids, mask = pad_ids([ids[i] for i in index])
            out[index] = self._session.run(
                ["embeddings"], {"input_ids": input_ids, "attention_mask": mask}
            )[0]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        logger.debug("embedded %d texts in %d batches", len(ids), len(batches))
        return out
