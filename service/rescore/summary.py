"""What a rescoring run found: counts of rows, errors, polarity, emotions, themes.

:class:`SummaryCounter` reads the output tables as they are written, with Arrow's
compute functions (no per-row Python), and :func:`format_summary` renders the
result for the terminal; :mod:`service.rescore.report` renders it as HTML.
Shares of polarity and emotions are over the scored rows, shares of errors over
all rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Summary", "SummaryCounter", "format_summary"]

_TOP = 10


@dataclass
class Summary:
    """Counts over the whole output.

    Attributes:
        rows: Rows in the output (one per input record).
        statuses: Rows per status (``scored``, ``empty``, ``unsupported_language``,
            ``error``).
        errors: Bad rows per error code.
        polarity: Scored rows per polarity label.
        mean_polarity_score: Mean ``polarity_score`` of the scored rows.
        emotions: Rows per 28-label emotion among their labels, most first.
        cs_emotions: Rows per customer-success emotion, most first.
        languages: Rows per detected language (the ten most common).
        themes: Rows per theme label (the ten largest; outliers not counted).
        theme_note: Why a run asked for themes has none, else None.
        elapsed_s: Wall time of this run (a resumed run counts only its own).
        rows_this_run: Rows scored by this run, for the rate.
        outputs: What was written: output, error report, HTML report.
    """

    rows: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    polarity: dict[str, int] = field(default_factory=dict)
    mean_polarity_score: float | None = None
    emotions: dict[str, int] = field(default_factory=dict)
    cs_emotions: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    themes: dict[str, int] = field(default_factory=dict)
    theme_note: str | None = None
    elapsed_s: float = 0.0
    rows_this_run: int = 0
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def scored(self) -> int:
        """Rows with emotions and polarity."""
        return self.statuses.get("scored", 0)

    @property
    def error_rows(self) -> int:
        """Rows recorded with an error."""
        return sum(self.errors.values())


class SummaryCounter:
    """Accumulates a :class:`Summary` over output tables."""

    def __init__(self) -> None:
        self._counts: dict[str, Counter[str]] = {
            name: Counter()
            for name in (
                "status",
                "error",
                "polarity",
                "emotions",
                "cs_emotions",
                "language",
                "theme_label",
            )
        }
        self._rows = 0
        self._score_sum = 0.0
        self._score_n = 0

    def add(self, table: pa.Table) -> None:
        """Count one output table."""
        import pyarrow.compute as pc

        self._rows += table.num_rows
        for name, counter in self._counts.items():
            if name not in table.column_names:
                continue
            column = table.column(name)
            if name in {"emotions", "cs_emotions"}:
                column = pc.list_flatten(pc.split_pattern(column, ","))
            for item in pc.value_counts(column).to_pylist():
                if item["values"]:  # no label is "", not a label
                    counter[item["values"]] += item["counts"]
        scores = table.column("polarity_score")
        self._score_sum += float(pc.sum(scores).as_py() or 0.0)
        self._score_n += table.num_rows - scores.null_count

    def result(self) -> Summary:
        """The summary of everything counted so far."""
        counts = self._counts
        mean = self._score_sum / self._score_n if self._score_n else None
        return Summary(
            rows=self._rows,
            statuses=dict(counts["status"].most_common()),
            errors=dict(counts["error"].most_common()),
            polarity=dict(counts["polarity"].most_common()),
            mean_polarity_score=None if mean is None else round(mean, 4),
            emotions=dict(counts["emotions"].most_common()),
            cs_emotions=dict(counts["cs_emotions"].most_common()),
            languages=dict(counts["language"].most_common(_TOP)),
            themes=dict(counts["theme_label"].most_common(_TOP)),
        )


def format_summary(summary: Summary) -> str:
    """Render the summary as a few lines of plain text."""
    elapsed = summary.elapsed_s
    rate = summary.rows_this_run / elapsed if elapsed > 0 else 0.0
    others = {k: v for k, v in summary.statuses.items() if k not in {"scored", "error"}}
    lines = [
        f"rows: {summary.rows:,} ({summary.scored:,} scored"
        + "".join(f", {v:,} {k.replace('_', ' ')}" for k, v in others.items())
        + f", {summary.error_rows:,} error{'' if summary.error_rows == 1 else 's'})"
        + (f" in {_duration(summary.elapsed_s)}, {_rate(rate)} rows/s" if rate else ""),
    ]
    if summary.errors:
        lines.append("errors: " + _counts(summary.errors, summary.rows, share=False))
    if summary.scored:
        mean = summary.mean_polarity_score
        lines.append(
            "polarity: "
            + _counts(summary.polarity, summary.scored)
            + (f"; mean score {mean:+.3f}" if mean is not None else "")
        )
        lines.append("CS emotions: " + _counts(summary.cs_emotions, summary.scored))
        top = dict(list(summary.emotions.items())[:8])
        lines.append("top emotions: " + _counts(top, summary.scored))
    if summary.languages:
        lines.append("languages: " + _counts(summary.languages, summary.rows))
    if summary.themes:
        lines.append("top themes: " + _counts(summary.themes, summary.rows))
    if summary.theme_note:
        lines.append(f"themes: {summary.theme_note}")
    lines += [f"{name}: {path}" for name, path in summary.outputs.items()]
    return "\n".join(lines)


def _counts(counts: dict[str, int], total: int, *, share: bool = True) -> str:
    if not counts:
        return "none"
    if not share or not total:
        return ", ".join(f"{k} {v:,}" for k, v in counts.items())
    return ", ".join(f"{k} {100 * v / total:.1f}%" for k, v in counts.items())


def _rate(rows_per_s: float) -> str:
    return f"{rows_per_s:,.0f}" if rows_per_s >= 10 else f"{rows_per_s:.2g}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
