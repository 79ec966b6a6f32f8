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

__all__ = [
    "ARTIFACT_FORMAT",
    "Artifact",
    "ArtifactFolder",
    "check_files",
    "default_artifact_dir",
    "load_artifact",
    "read_meta",
]

ARTIFACT_FORMAT = "feedback-miner/emotion-head/1"
_DEFAULT_VERSION = "emotion-head.v1"


@dataclass(frozen=True)
class ArtifactFolder:
    """A versioned model folder: ``model.onnx``, ``tokenizer.json``, ``meta.json``."""

    path: Path
    version: str
    max_tokens: int
    meta: dict[str, Any]

    @property
    def model_path(self) -> Path:
        """The int8 ONNX graph."""
        return self.path / "model.onnx"

    @property
    def tokenizer_path(self) -> Path:
        """The word-piece tokenizer."""
        return self.path / "tokenizer.json"


@dataclass(frozen=True)
class Artifact(ArtifactFolder):
    """The emotion artifact: thresholds and the polarity head besides the graph."""

    thresholds: dict[str, float]
    cs_thresholds: dict[str, float]
    polarity: dict[str, Any]


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
    meta = read_meta(path, expected_format=ARTIFACT_FORMAT, build_command="emotions")
    if tuple(meta["labels"]) != EMOTIONS or set(meta["cs_view"]) != set(CS_VIEW):
        raise ModelError(f"{path / 'meta.json'}: labels differ from nlp.labels")
    artifact = Artifact(
        path=path,
        version=meta["version"],
        max_tokens=int(meta["max_tokens"]),
        thresholds={k: float(v) for k, v in meta["thresholds"].items()},
        cs_thresholds={k: float(v) for k, v in meta["cs_thresholds"].items()},
        polarity=meta["polarity"],
        meta=meta,
    )
    check_files(path, "model.onnx", "tokenizer.json")
    return artifact


def read_meta(
    path: Path, *, expected_format: str, build_command: str
) -> dict[str, Any]:
    """Read an artifact folder's ``meta.json`` and check its format.

    Args:
        path: The artifact folder.
        expected_format: The ``format`` value this loader understands.
        build_command: The ``feedback-miner train`` subcommand that builds it.

    Raises:
        ModelError: If the file is missing, is not JSON or has another format.
    """
    meta_path = path / "meta.json"
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"no model artifact at {path}: meta.json is missing. Build it with "
            f"'feedback-miner train {build_command}' or reinstall the package."
        ) from None
    except json.JSONDecodeError as e:
        raise ModelError(f"{meta_path} is not valid JSON: {e}") from None
    if meta.get("format") != expected_format:
        raise ModelError(
            f"{meta_path}: expected format {expected_format!r}, "
            f"got {meta.get('format')!r}"
        )
    return meta


def check_files(path: Path, *names: str) -> None:
    """Raise :class:`ModelError` naming the first of ``names`` missing in path."""
    for name in names:
        if not (path / name).is_file():
            raise ModelError(f"model artifact {path} lacks {name}")
