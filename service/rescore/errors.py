"""Errors of the rescoring job.

RescoreError
├── InputFileError   the input cannot be read: missing, unknown format or encoding
├── ColumnError      a named column is missing, or the text column is not obvious
├── ResumeError      the saved progress belongs to another input or other arguments
└── EngineError      the chosen engine is not installed or failed

A bad row is never an error of this kind: it is recorded in the output with its
reason, and the job goes on.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ColumnError",
    "EngineError",
    "InputFileError",
    "RescoreError",
    "ResumeError",
]


class RescoreError(Exception):
    """Base class of the errors that stop a rescoring job."""


class InputFileError(RescoreError):
    """The input file cannot be read at all."""


class ColumnError(RescoreError):
    """A column is missing or cannot be chosen.

    Attributes:
        columns: The input's columns, so that a caller can offer a choice.
        option: The command-line option that names the column (``--text-column``).
    """

    def __init__(
        self, message: str, *, columns: Sequence[str], option: str = "--text-column"
    ) -> None:
        super().__init__(message)
        self.columns = tuple(columns)
        self.option = option


class ResumeError(RescoreError):
    """The saved progress next to the output cannot be continued."""


class EngineError(RescoreError):
    """The engine is unavailable (not installed) or failed."""
