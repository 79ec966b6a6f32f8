"""Themes of an exported file: ``feedback-miner themes FILE``.

Reads an export (CSV or TSV in any delimiter and encoding, JSON Lines or Parquet,
with the readers of ``feedback-miner rescore``), fits the theme engine on its text
column and returns a report: per theme its label, terms, size, quotes, the shares
of its texts by customer-success emotion and by polarity and, when a time column is
given, weekly counts and whether it is emerging. Rows that cannot be used — an empty
or missing text (a NaN cell in a spreadsheet export), a record that does not parse —
are listed with their reason instead of stopping the run, and so is a time that does
not parse (the row is kept without a time).

Emerging compares the last :data:`WINDOW_DAYS` days of the data (up to its latest
time) with all the earlier data, using :func:`nlp.themes.trends.compare_windows`;
a theme new in the window counts as emerging. When all the data lies in the window
there is nothing to compare with, and no theme gets a call (``trend`` is null)
rather than every theme reading as new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp.analysis import Analysis, Analyzer
from nlp.embeddings import Embedder, load_embedder_artifact
from nlp.errors import InputError
from nlp.themes import (
    Emergence,
    ThemeModel,
    compare_windows,
    save_theme_model,
    window_counts,
)
from nlp.themes import weekly_counts as count_weeks
from service.redaction import Redactor, strip_placeholders

__all__ = [
    "MAX_CHARS",
    "WINDOW_DAYS",
    "ExportError",
    "RowProblem",
    "read_export",
    "theme_report",
]

logger = logging.getLogger(__name__)

WINDOW_DAYS = 28
_BATCH = 256  # texts per encoder call when scoring the emotion and polarity mix
# Far above any review or ticket (rescore's default too); a longer text is listed
# as a problem.
MAX_CHARS = 20_000


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
    path: Path,
    *,
    text_column: str,
    time_column: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_chars: int = MAX_CHARS,
    header: bool = True,
) -> tuple[list[str], list[dt.datetime | None], list[RowProblem]]:
    """Read the text (and time) column of an export, as ``feedback-miner rescore``
    reads it: CSV or TSV with any delimiter and encoding, JSON Lines or Parquet.

    Args:
        path: The export.
        text_column: The column of the texts.
        time_column: The column of ISO 8601 times, if any.
        encoding: The text encoding, when known; detected otherwise.
        delimiter: The delimiter of delimited text; sniffed otherwise.
        max_chars: Longer texts are problems (``text_too_long``), not themed.
        header: Whether delimited text has a line of column names (else the
            columns are ``column_1``, ``column_2``, ...).

    Returns:
        The usable texts, their times (None where absent or unreadable), and the
        problems found, numbered by data row from 1.

    Raises:
        ExportError: If the file is missing or unreadable, or lacks a column.
    """
    from service.rescore import sniff
    from service.rescore.errors import RescoreError
    from service.rescore.readers import iter_chunks, open_source
    from service.rescore.rows import check_text
    from service.rescore.sniff import require_column

    try:
        source = open_source(
            path, encoding=encoding, delimiter=delimiter, header=header
        )
        try:
            require_column(
                text_column, source.columns, path=path, option="--text-column"
            )
        except RescoreError as e:
            if sniff.no_header_hint(source.format, source.columns, header=header):
                raise ExportError(f"{e} {sniff.NO_HEADER_ADVICE}") from None
            raise
        if time_column is not None:
            require_column(
                time_column, source.columns, path=path, option="--time-column"
            )
    except RescoreError as e:
        raise ExportError(str(e)) from None
    rows = _Rows()
    others = [time_column] if time_column is not None else []
    for chunk in iter_chunks(source, text_column, others):
        times = _column_values(chunk.values[time_column]) if time_column else None
        for offset, value in enumerate(chunk.texts):
            number = chunk.first_row + offset + 1
            text, code, message = check_text(
                value, max_chars=max_chars, encoding=source.encoding
            )
            if text is None:
                where = "record" if code == "invalid_record" else text_column
                rows.problems.append(RowProblem(number, where, f"{code}: {message}"))
                continue
            rows.texts.append(text)
            when = None if times is None else times[offset]
            rows.times.append(_time(when, time_column, number, rows.problems))
    return rows.texts, rows.times, rows.problems


def theme_report(
    texts: list[str],
    times: list[dt.datetime | None],
    *,
    min_cluster_size: int = 10,
    embedder: Embedder | None = None,
    analyzer: Analyzer | None = None,
    redactor: Redactor | None = None,
    save_model: Path | None = None,
) -> dict[str, Any]:
    """Fit themes on texts and describe them.

    An export holds raw text, so the texts are redacted (persons, e-mail
    addresses, phone numbers, ...: :mod:`service.redaction`) before the themes
    are fitted, as the service redacts feedback before storing it: quotes, labels
    and terms come from redacted text (its cost is measured in BENCHMARKS.md).

    Args:
        texts: The texts.
        times: Their times, aligned with ``texts`` (None where unknown).
        min_cluster_size: Fewest texts a theme may have.
        embedder: The sentence encoder (default: the bundled one).
        analyzer: The emotion and polarity analyzer (default: the bundled one).
        redactor: Redacts the texts (default: the bundled spaCy pipeline).
        save_model: Write the fitted model here (:mod:`nlp.themes.saved`), for
            ``feedback-miner rescore --themes FILE``; only when themes were found.

    Returns:
        ``status``, ``texts``, ``outlier_share``, ``window_days``, ``window_end``
        and ``baseline_days`` (null: all earlier data), and ``themes``: id, label,
        terms, size, quotes, weekly counts (ISO week start → count), ``cs_emotions``
        and ``polarity`` (share of the theme's texts with each label; a text may
        have several CS labels), ``emerging`` and ``trend`` (both windows' counts
        and z; null without times).
    """
    if not texts:
        return _report("no_text", 0, 1.0, [], None)
    # Themes are fitted on the redacted texts, placeholders left out, so that no
    # name or address removed from the quotes comes back in a label or a term.
    redacted = [r.text for r in (redactor or Redactor.load()).redact_many(texts)]
    fitted = [strip_placeholders(t) for t in redacted]
    model = ThemeModel(
        embedder=embedder or Embedder.load(), min_cluster_size=min_cluster_size
    )
    labels: list[int] = model.fit_transform(fitted).tolist()
    if save_model is not None and model.themes_:
        version = getattr(model.embedder, "version", None)
        save_theme_model(
            model,
            save_model,
            embedder_version=version or load_embedder_artifact().version,
        )
    analyses = _analyses(analyzer or Analyzer.load(), texts)
    end = max((when for when in times if when is not None), default=None)
    trends = _trends(labels, times, end) if end is not None else {}
    quote_of = dict(zip(reversed(fitted), reversed(redacted), strict=True))
    quotes = {
        theme.theme_id: [quote_of[t] for t in theme.representative_texts]
        for theme in model.themes_
    }
    themes = []
    for theme in model.themes_:
        members = [i for i, label in enumerate(labels) if label == theme.theme_id]
        trend = trends.get(theme.theme_id)
        themes.append(
            {
                "id": theme.theme_id,
                "label": theme.label,
                "terms": list(theme.terms),
                "size": theme.size,
                "quotes": quotes[theme.theme_id],
                "weekly_counts": {
                    week.isoformat(): n
                    for week, n in count_weeks(times[i] for i in members).items()
                },
                **_mixes([analyses[i] for i in members]),
                "emerging": bool(trend and trend.emerging),
                "trend": dataclasses.asdict(trend) if trend else None,
            }
        )
    outliers = round(float(model.outlier_share_), 4)
    return _report(model.status_, len(texts), outliers, themes, end)


def _report(
    status: str,
    texts: int,
    outlier_share: float,
    themes: list[dict[str, Any]],
    end: dt.datetime | None,
) -> dict[str, Any]:
    return {
        "status": status,
        "texts": texts,
        "outlier_share": outlier_share,
        "window_days": WINDOW_DAYS if end else None,
        "window_end": end.isoformat() if end else None,
        "baseline_days": None,
        "themes": themes,
    }


def _analyses(analyzer: Analyzer, texts: Sequence[str]) -> list[Analysis | None]:
    # A text the analyzer refuses (longer than its limit) stays out of the mixes.
    usable = []
    for i, text in enumerate(texts):
        try:
            analyzer.check_text(text, field=f"texts[{i}]")
        except InputError as e:
            logger.warning("text %d left out of the emotion mix: %s", i + 1, e.code)
            continue
        usable.append(i)
    found: list[Analysis | None] = [None] * len(texts)
    for start in range(0, len(usable), _BATCH):
        batch = usable[start : start + _BATCH]
        for i, analysis in zip(
            batch, analyzer.analyze_many([texts[i] for i in batch]), strict=True
        ):
            found[i] = analysis
    logger.info("scored %d texts for the emotion and polarity mix", len(usable))
    return found


def _mixes(analyses: list[Analysis | None]) -> dict[str, dict[str, float]]:
    n = max(len(analyses), 1)
    polarity = Counter(a.polarity.label for a in analyses if a and a.polarity)
    emotions = Counter(label for a in analyses if a for label in a.cs_labels)
    return {
        "cs_emotions": {k: round(v / n, 4) for k, v in emotions.most_common()},
        "polarity": {k: round(v / n, 4) for k, v in sorted(polarity.items())},
    }


def _trends(
    labels: list[int], times: list[dt.datetime | None], end: dt.datetime
) -> dict[int, Emergence]:
    themes = [label if label >= 0 else None for label in labels]
    current, baseline = window_counts(themes, times, end=end, window_days=WINDOW_DAYS)
    return compare_windows(current, baseline) if baseline else {}


def _column_values(values: Any) -> list[object]:
    # Text formats give lists of strings, Parquet gives an Arrow array.
    return list(values) if isinstance(values, list) else list(values.to_pylist())


def _time(
    value: object,
    column: str | None,
    number: int,
    problems: list[RowProblem],
) -> dt.datetime | None:
    if column is None:
        return None
    if isinstance(value, dt.datetime):  # a Parquet timestamp column
        when = value
    else:
        try:
            when = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            problems.append(
                RowProblem(number, column, f"expected an ISO 8601 time, got {value!r}")
            )
            return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
