"""The versioned model artifact that ships with the package.

An artifact is a folder holding ``model.onnx`` (the int8 encoder with its emotion
head), ``tokenizer.json`` and ``meta.json``: the format version, labels, thresholds,
the polarity head's weights, the training config and the dev metrics. The folder name
is the version (``emotion-head.v1``); loading refuses a format it does not know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.errors import ModelError
from nlp.labels import CS_VIEW, EMOTIONS

__all__ = ["ARTIFACT_FORMAT", "Artifact", "default_artifact_dir", "load_artifact"]

ARTIFACT_FORMAT = "feedback-miner/emotion-head/1"
_DEFAULT_VERSION = "emotion-head.v1"


@dataclass(frozen=True)
class Artifact:
    """The parsed ``meta.json`` of an artifact and the folder it came from."""

    path: Path
    version: str
    max_tokens: int
    thresholds: dict[str, float]
    cs_thresholds: dict[str, float]
    polarity: dict[str, Any]
    meta: dict[str, Any]

    @property
    def model_path(self) -> Path:
        """The int8 ONNX graph."""
        return self.path / "model.onnx"

    @property
    def tokenizer_path(self) -> Path:
        """The word-piece tokenizer."""
        return self.path / "tokenizer.json"


def default_artifact_dir() -> Path:
    """Return the folder of the artifact bundled with the package."""
    return Path(__file__).resolve().parent / "models" / _DEFAULT_VERSION


def load_artifact(path: Path | None = None) -> Artifact:
    """Read and check an artifact folder.

    Args:
        path: The folder; defaults to the bundled artifact.

    Returns:
        The parsed artifact.

    Raises:
        ModelError: If a file is missing, the format is unknown or labels disagree.
    """
    path = path or default_artifact_dir()
    meta_path = path / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"no model artifact at {path}: meta.json is missing. Build it with "
            "'feedback-miner train emotions' or reinstall the package."
        ) from None
    except json.JSONDecodeError as e:
        raise ModelError(f"{meta_path} is not valid JSON: {e}") from None
    if meta.get("format") != ARTIFACT_FORMAT:
        raise ModelError(
            f"{meta_path}: expected format {ARTIFACT_FORMAT!r}, "
            f"got {meta.get('format')!r}"
        )
    if tuple(meta["labels"]) != EMOTIONS or set(meta["cs_view"]) != set(CS_VIEW):
        raise ModelError(f"{meta_path}: labels differ from nlp.labels")
    artifact = Artifact(
        path=path,
        version=meta["version"],
        max_tokens=int(meta["max_tokens"]),
        thresholds={k: float(v) for k, v in meta["thresholds"].items()},
        cs_thresholds={k: float(v) for k, v in meta["cs_thresholds"].items()},
        polarity=meta["polarity"],
        meta=meta,
    )
    for required in (artifact.model_path, artifact.tokenizer_path):
        if not required.is_file():
            raise ModelError(f"model artifact {path} lacks {required.name}")
    return artifact
