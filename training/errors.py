"""Errors raised by the training and evaluation commands.

TrainingError
├── DataError      a dataset file is missing or has the wrong shape
└── ConfigError    a training or evaluation option is out of range
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "TrainingError"]


class TrainingError(Exception):
    """Base class for errors of the ``training`` package."""


class DataError(TrainingError):
    """A dataset file is missing, unreadable or malformed."""


class ConfigError(TrainingError):
    """A training or evaluation option is out of range."""
