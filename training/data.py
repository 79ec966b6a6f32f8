"""Readers for the datasets under ``../shared/data`` and for user-supplied files.

Each reader returns plain Python lists or NumPy arrays, so evaluation code does not
depend on pandas. Readers raise :class:`training.errors.DataError` with the file and
the line at fault when a file does not have the expected shape.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from nlp.labels import EMOTIONS
from training.errors import DataError

__all__ = ["LabelledTexts", "read_goemotions", "read_labelled_csv", "shared_data_dir"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with a multi-hot label matrix (``y[i, j] == 1`` if text i has label j)."""

    texts: list[str]
    y: np.ndarray


def shared_data_dir() -> Path:
    """Return the shared data folder that sits beside the repository."""
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def read_goemotions(path: Path) -> LabelledTexts:
    """Read a GoEmotions-format TSV: text, comma-separated label ids, comment id.

    Args:
        path: The TSV file.

    Returns:
        The texts and their 28-column multi-hot labels.

    Raises:
        DataError: If the file is missing, is not UTF-8, or a row is malformed.
    """
    texts: list[str] = []
    rows: list[list[int]] = []
    for line_no, row in _read_rows(path, delimiter="\t"):
        if len(row) < 2:
            raise DataError(
                f"{path}:{line_no}: expected at least 2 tab-separated columns "
                f"(text, label ids), got {len(row)}"
            )
        try:
            ids = [int(part) for part in row[1].split(",") if part.strip()]
        except ValueError:
            raise DataError(
                f"{path}:{line_no}: expected comma-separated label ids in column 2, "
                f"got {row[1]!r}"
            ) from None
        bad = [i for i in ids if not 0 <= i < len(EMOTIONS)]
        if bad or not ids:
            raise DataError(
                f"{path}:{line_no}: label ids must be in 0..{len(EMOTIONS) - 1}, "
                f"got {row[1]!r}"
            )
        texts.append(row[0])
        rows.append(ids)
    y = np.zeros((len(texts), len(EMOTIONS)), dtype=np.int8)
    for i, ids in enumerate(rows):
        y[i, ids] = 1
    return LabelledTexts(texts=texts, y=y)


def read_labelled_csv(
    path: Path, *, text_column: str, label_column: str, skip_malformed: bool = False
) -> tuple[list[str], list[str]]:
    """Read a CSV with a header row, returning the text and label columns.

    Rows whose text is empty are skipped: there is nothing to score.

    Args:
        path: The CSV file.
        text_column: Header of the text column.
        label_column: Header of the label column.
        skip_malformed: Skip rows with the wrong number of columns (logged as a
            warning) instead of failing; banking77's train.csv has three.

    Returns:
        The texts and their labels as strings.

    Raises:
        DataError: If the file is unreadable or a column is missing.
    """
    texts: list[str] = []
    labels: list[str] = []
    header: list[str] | None = None
    skipped = 0
    for line_no, row in _read_rows(path, delimiter=","):
        if header is None:
            header = row
            missing = [c for c in (text_column, label_column) if c not in header]
            if missing:
                raise DataError(
                    f"{path}: column {missing[0]!r} not found; the columns are "
                    f"{header!r}. Pass --text-column/--label-column."
                )
            text_at, label_at = header.index(text_column), header.index(label_column)
            continue
        if len(row) != len(header) and skip_malformed:
            skipped += 1
            continue
        if len(row) != len(header):
            raise DataError(
                f"{path}:{line_no}: expected {len(header)} columns, got {len(row)}"
            )
        if row[text_at].strip():
            texts.append(row[text_at])
            labels.append(row[label_at].strip())
    if header is None:
        raise DataError(f"{path}: the file is empty; expected a header row")
    if skipped:
        logger.warning("%s: skipped %d rows with the wrong column count", path, skipped)
    return texts, labels


def _read_rows(path: Path, *, delimiter: str) -> list[tuple[int, list[str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(
                handle, delimiter=delimiter, quoting=_quoting(delimiter)
            )
            return [(reader.line_num, row) for row in reader if row]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise DataError(
            f"{path}: not valid UTF-8 (byte {e.start}); re-encode the file as UTF-8"
        ) from None


def _quoting(delimiter: str) -> Literal[0, 3]:
    # GoEmotions TSVs contain bare double quotes inside texts; they are not quoting.
    return csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
