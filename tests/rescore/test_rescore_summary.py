"""The summary of a run, its HTML report, and the progress display."""

from __future__ import annotations

import io

import pyarrow as pa

from service.rescore.progress import PlainProgress, SilentProgress, make_progress
from service.rescore.report import render_html
from service.rescore.summary import Summary, SummaryCounter, format_summary


def _output(rows: list[tuple[str, str | None, str | None, float | None, str]]):
    status, error, polarity, score, cs = zip(*rows, strict=True)
    return pa.table(
        {
            "status": pa.array(status, pa.string()),
            "error": pa.array(error, pa.string()),
            "polarity": pa.array(polarity, pa.string()),
            "polarity_score": pa.array(score, pa.float64()),
            "emotions": pa.array([c and "neutral" for c in cs], pa.string()),
            "cs_emotions": pa.array(cs, pa.string()),
            "language": pa.array(["en"] * len(rows), pa.string()),
        }
    )


def test_summary_counter_counts_over_tables() -> None:
    counter = SummaryCounter()
    counter.add(
        _output(
            [
                ("scored", None, "positive", 0.8, "delight,gratitude"),
                ("scored", None, "negative", -0.6, "frustration"),
            ]
        )
    )
    counter.add(
        _output(
            [
                ("scored", None, "positive", 0.4, ""),  # no CS label over threshold
                ("error", "empty_text", None, None, None),
            ]
        )
    )
    summary = counter.result()
    assert summary.rows == 4
    assert summary.statuses == {"scored": 3, "error": 1}
    assert summary.errors == {"empty_text": 1}
    assert summary.polarity == {"positive": 2, "negative": 1}
    assert summary.cs_emotions == {"delight": 1, "gratitude": 1, "frustration": 1}
    assert summary.mean_polarity_score == 0.2


def test_format_summary_renders_counts_and_shares() -> None:
    summary = Summary(
        rows=4,
        statuses={"scored": 3, "error": 1},
        errors={"empty_text": 1},
        polarity={"positive": 2, "negative": 1},
        mean_polarity_score=0.2,
        cs_emotions={"delight": 2},
        emotions={"joy": 3},
        elapsed_s=2.0,
        rows_this_run=4,
        outputs={"output": "out.csv"},
    )
    assert format_summary(summary).splitlines() == [
        "rows: 4 (3 scored, 1 error) in 2s, 2 rows/s",
        "errors: empty_text 1",
        "polarity: positive 66.7%, negative 33.3%; mean score +0.200",
        "CS emotions: delight 66.7%",
        "top emotions: joy 100.0%",
        "output: out.csv",
    ]


def test_render_html_escapes_values() -> None:
    summary = Summary(rows=1, statuses={"scored": 1}, themes={"<b>billing</b>": 1})
    page = render_html(summary, title="Rescoring of a&b.csv")
    assert "<title>Rescoring of a&amp;b.csv</title>" in page
    assert "&lt;b&gt;billing&lt;/b&gt;" in page and "<b>billing" not in page


def test_plain_progress_writes_lines_with_rate_and_time_left() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream, total=1000, every_s=0.0)
    progress.update(250, 500)
    line = stream.getvalue()
    assert line.startswith("rescore: 500 rows, 25% of the input, ")
    assert "rows/s, about " in line and line.endswith(" left\n")


def test_make_progress_is_silent_when_quiet_and_plain_off_a_terminal() -> None:
    assert isinstance(make_progress(io.StringIO(), total=1, quiet=True), SilentProgress)
    assert isinstance(make_progress(io.StringIO(), total=1), PlainProgress)
