"""Themes of an exported file: ``feedback-miner themes FILE``.

Reads a CSV or JSONL export, fits the theme engine on its text column and returns
a report: per theme its label, terms, size, quotes and, when a time column is
given, weekly counts. Rows that cannot be used — an empty or missing text (a NaN
cell in a spreadsheet export), a time that does not parse — are listed with their
reason instead of stopping the run.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp.embeddings import Embedder
from nlp.themes import ThemeModel

__all__ = ["ExportError", "RowProblem", "read_export", "theme_report"]

_MISSING = {"", "nan", "none", "null", "n/a"}


class ExportError(Exception):
    """The export cannot be read at all (missing file, column, encoding)."""


@dataclass(frozen=True)
class RowProblem:
    """A row left out or only partly used, and why."""

    row: int
    field: str
    reason: str


@dataclass
class _Rows:
    texts: list[str] = field(default_factory=list)
    times: list[dt.datetime | None] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def read_export(
    path: Path, *, text_column: str, time_column: str | None = None
) -> tuple[list[str], list[dt.datetime | None], list[RowProblem]]:
    """Read the text (and time) column of a CSV or JSONL export.

    Returns:
        The usable texts, their times (None where absent or unreadable), and the
        problems found, numbered by data row from 1.

    Raises:
        ExportError: If the file is missing, not UTF-8, or lacks the column.
    """
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise ExportError(
            f"{path}: not valid UTF-8 at byte {e.start}; re-encode the file as UTF-8"
        ) from None
    records = _jsonl(raw, path) if path.suffix.lower() == ".jsonl" else _csv(raw)
    rows = _Rows()
    for number, record in enumerate(records, start=1):
        if number == 1:
            _check_columns(path, record, text_column, time_column)
        text = record.get(text_column)
        if not isinstance(text, str) or text.strip().lower() in _MISSING:
            rows.problems.append(RowProblem(number, text_column, "no text"))
            continue
        rows.texts.append(text)
        rows.times.append(_time(record, time_column, number, rows.problems))
    return rows.texts, rows.times, rows.problems


def theme_report(
    texts: list[str],
    times: list[dt.datetime | None],
    *,
    min_cluster_size: int = 10,
    embedder: Embedder | None = None,
) -> dict[str, Any]:
    """Fit themes on texts and describe them.

    Returns:
        ``status``, ``texts``, ``outlier_share`` and ``themes``: id, label, terms,
        size, quotes and weekly counts (ISO week start → count).
    """
    model = ThemeModel(
        embedder=embedder or Embedder.load(), min_cluster_size=min_cluster_size
    )
    labels: list[int] = model.fit_transform(texts).tolist() if texts else []
    weeks: dict[int, Counter[str]] = {}
    for theme_id, when in zip(labels, times, strict=True):
        if when is not None and theme_id >= 0:
            start = (when - dt.timedelta(days=when.weekday())).date().isoformat()
            weeks.setdefault(theme_id, Counter())[start] += 1
    return {
        "status": model.status_ if texts else "no_text",
        "texts": len(texts),
        "outlier_share": round(float(model.outlier_share_), 4) if texts else 1.0,
        "themes": [
            {
                "id": theme.theme_id,
                "label": theme.label,
                "terms": list(theme.terms),
                "size": theme.size,
                "quotes": list(theme.representative_texts),
                "weekly_counts": dict(sorted(weeks.get(theme.theme_id, {}).items())),
            }
            for theme in (model.themes_ if texts else [])
        ],
    }


def _csv(raw: str) -> list[dict[str, Any]]:
    return list(csv.DictReader(raw.splitlines()))


def _jsonl(raw: str, path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise ExportError(f"{path}:{number}: not a JSON object: {e.msg}") from None
        if not isinstance(record, dict):
            raise ExportError(f"{path}:{number}: expected a JSON object per line")
        records.append(record)
    return records


def _check_columns(
    path: Path, record: dict[str, Any], text_column: str, time_column: str | None
) -> None:
    for column in (text_column, time_column):
        if column is not None and column not in record:
            raise ExportError(
                f"{path}: column {column!r} not found; the columns are "
                f"{sorted(record)!r}"
            )


def _time(
    record: dict[str, Any],
    column: str | None,
    number: int,
    problems: list[RowProblem],
) -> dt.datetime | None:
    if column is None:
        return None
    value = record.get(column)
    try:
        when = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(
            RowProblem(number, column, f"expected an ISO 8601 time, got {value!r}")
        )
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
