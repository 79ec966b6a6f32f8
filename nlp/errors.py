"""Errors raised by the text engine.

NlpError
├── InputError     a text or a turn list is not what the engine accepts
└── ModelError     a model artifact is missing, corrupt or of an unknown version
"""

from __future__ import annotations

__all__ = ["InputError", "ModelError", "NlpError"]


class NlpError(Exception):
    """Base class for errors of the ``nlp`` package."""


class InputError(NlpError, ValueError):
    """An input is not what the engine accepts.

    Attributes:
        field: The input field at fault (``"text"``, ``"turns[3].text"``, ...).
        code: A stable machine-readable code, e.g. ``"text_too_long"``.
    """

    def __init__(self, message: str, *, field: str, code: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class ModelError(NlpError):
    """A model artifact is missing, corrupt or of an unknown version."""
