"""The HTML report of a rescoring run: one self-contained page, no scripts.

It shows the counts of :class:`service.rescore.summary.Summary` as tables with
proportional bars, so that it can be mailed or attached to a ticket as it is.
Every value is escaped; the page holds no feedback text.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from service.rescore.summary import Summary

__all__ = ["render_html", "write_html_report"]

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       color: #1d2330; padding: 0 1rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
td, th { padding: .25rem .5rem; text-align: left; border-bottom: 1px solid #e3e6ec; }
td.n { text-align: right; font-variant-numeric: tabular-nums; width: 7rem; }
.bar { background: #4f6bed; height: .7rem; border-radius: 2px; }
.facts td:first-child { color: #5b6475; width: 14rem; }
"""


def write_html_report(summary: Summary, path: Path, *, title: str) -> None:
    """Write the report of ``summary`` to ``path`` (UTF-8)."""
    path.write_text(render_html(summary, title=title), encoding="utf-8")


def render_html(summary: Summary, *, title: str) -> str:
    """Return the report page as a string."""
    rate = summary.rows_this_run / summary.elapsed_s if summary.elapsed_s else 0.0
    facts = {
        "rows": f"{summary.rows:,}",
        "scored": f"{summary.scored:,}",
        "rows with errors": f"{summary.error_rows:,}",
        "mean polarity score": (
            "n/a"
            if summary.mean_polarity_score is None
            else f"{summary.mean_polarity_score:+.3f}"
        ),
        "rate of this run": f"{rate:,.0f} rows/s" if rate else "n/a",
        **({"themes": summary.theme_note} if summary.theme_note else {}),
        "written": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **summary.outputs,
    }
    sections = [
        _section("Status", summary.statuses, summary.rows),
        _section("Errors", summary.errors, summary.rows),
        _section("Polarity", summary.polarity, summary.scored),
        _section("Customer-success emotions", summary.cs_emotions, summary.scored),
        _section("Emotions (28 labels)", summary.emotions, summary.scored),
        _section("Languages", summary.languages, summary.rows),
        _section("Top themes", summary.themes, summary.rows),
    ]
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in facts.items()
    )
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><table class=facts>{rows}</table>"
        + "".join(sections)
        + "</body></html>\n"
    )


def _section(heading: str, counts: dict[str, int], total: int) -> str:
    if not counts:
        return ""
    top = max(counts.values())
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td class=n>{count:,}</td>"
        f"<td class=n>{100 * count / total if total else 0:.1f}%</td>"
        f'<td><div class=bar style="width:{100 * count / top:.1f}%"></div></td></tr>'
        for name, count in counts.items()
    )
    head = "<tr><th></th><th class=n>rows</th><th class=n>share</th><th></th></tr>"
    return f"<h2>{html.escape(heading)}</h2><table>{head}{rows}</table>"
