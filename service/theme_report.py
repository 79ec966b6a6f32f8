"""The theme report as one self-contained HTML page, with Plotly charts.

:func:`render_theme_report` reads the report data that ``feedback-miner themes``
writes as JSON (and that :func:`service.theme_views.report_data` gathers for the
service)::

    status, texts, outlier_share, window_days, window_end, baseline_days, filters,
    themes: [{id, label, terms, size, quotes, weekly_counts, cs_emotions,
              polarity, emerging, trend}]

where a quote is a string or ``{"text", "source"}``; everything but ``themes`` is
optional. The page has four charts (theme sizes, weekly trends with the emerging
themes highlighted, CS-emotion mix, polarity mix) and a card per theme. Every
text is HTML-escaped: the template autoescapes, the chart data is embedded as
escaped JSON, and the strings Plotly draws are entity-escaped because Plotly reads
a few HTML tags in them. Nothing is fetched from the network: plotly.js is
inlined, or served by the service at a URL the caller gives.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
from collections.abc import Mapping
from typing import Any

import jinja2

from nlp.labels import CS_VIEW

__all__ = ["plotly_js", "plotly_version", "render_theme_report"]

_EMERGING = "#d9480f"
_THEME = "#4263eb"
_OTHER = "#adb5bd"
_EMOTION_COLOURS = {
    "frustration": "#e8590c",
    "anger": "#c92a2a",
    "disappointment": "#9c36b5",
    "confusion": "#f59f00",
    "anxiety": "#5f3dc4",
    "delight": "#2b8a3e",
    "gratitude": "#0ca678",
    "satisfaction": "#74b816",
    "neutral": "#ced4da",
}
_POLARITY_COLOURS = {
    "negative": "#e03131",
    "mixed": "#f08c00",
    "neutral": "#ced4da",
    "positive": "#2f9e44",
}
_EMPTY = {
    "no_text": "The data has no usable text.",
    "too_few_texts": "There are too few texts to find themes in.",
    "no_themes": "No themes yet: no themed feedback matches this selection.",
}
_TOP_LEGEND = {
    "orientation": "h",
    "x": 0,
    "y": 1.0,
    "yanchor": "bottom",
    "traceorder": "normal",
}
_LEGEND_THEMES = 10  # beyond these, grey trend lines stay out of the legend
_LABEL_CHARS = 48


def render_theme_report(
    report: Mapping[str, Any],
    *,
    plotly_src: str | None = None,
    title: str = "Theme report",
) -> str:
    """Render report data as a self-contained HTML page.

    Args:
        report: The report data (see the module docstring).
        plotly_src: URL of plotly.js for a ``<script src>``; None inlines the
            bundle, so the file works offline on its own (about 5 MB).
        title: The page title.

    Returns:
        The HTML page.
    """
    themes = [_theme(t) for t in report.get("themes", [])]
    charts = _charts(themes) if themes else {}
    summary = {
        "texts": int(report.get("texts") or 0),
        "outlier_share": float(report.get("outlier_share") or 0.0),
        "filters": dict(report.get("filters") or {}),
    }
    status = str(report.get("status", "themed"))
    template = _environment().get_template("theme_report.html")
    return template.render(
        title=title,
        summary=summary,
        themes=themes,
        charts=charts,
        empty_note=_EMPTY.get(status, _EMPTY["no_themes"]),
        window_note=_window_note(report, themes),
        plotly_src=plotly_src,
        plotly_inline=plotly_js() if plotly_src is None and charts else None,
    )


@functools.cache
def plotly_js() -> str:
    """Return the minified plotly.js bundle that ships with the plotly package."""
    from plotly.offline import get_plotlyjs

    # Inlined in a <script> element, the bundle must not close it early.
    bundle: str = get_plotlyjs()
    return bundle.replace("</script", "<\\/script")


def plotly_version() -> str:
    """Return the version of the plotly package, which names its bundle."""
    import plotly

    version: str = plotly.__version__
    return version


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("service", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _theme(raw: Mapping[str, Any]) -> dict[str, Any]:
    quotes = [
        {"text": q, "source": None} if isinstance(q, str) else dict(q)
        for q in raw.get("quotes", [])
    ]
    emotions = dict(raw.get("cs_emotions") or {})
    return {
        **raw,
        "label": str(raw.get("label") or f"Theme {raw.get('id')}"),
        "terms": list(raw.get("terms", [])),
        "quotes": quotes,
        "weekly_counts": dict(raw.get("weekly_counts") or {}),
        "cs_emotions": emotions,
        "polarity": dict(raw.get("polarity") or {}),
        "emerging": bool(raw.get("emerging")),
        "trend": raw.get("trend"),
        "top_emotions": sorted(emotions.items(), key=lambda kv: -kv[1])[:3],
    }


def _window_note(report: Mapping[str, Any], themes: list[dict[str, Any]]) -> str | None:
    end, days = report.get("window_end"), report.get("window_days")
    if not end or not days:
        return None
    day = dt.datetime.fromisoformat(str(end)).date().isoformat()
    baseline = report.get("baseline_days")
    if baseline is None and themes and not any(t["trend"] for t in themes):
        return (
            f"All the data lies in the {days} days up to {day}: with nothing "
            "earlier to compare with, no theme is called emerging."
        )
    before = "the earlier data" if baseline is None else f"the {baseline} days before"
    return (
        f"Emerging: new, or a growing share, in the {days} days up to {day} "
        f"against {before} (one-sided two-proportion z-test, p < 0.05)."
    )


# Charts: each is a Plotly figure as plain JSON, drawn by the page's script.


def _charts(themes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    names = _names(themes)
    charts = {
        "chart-sizes": _sizes(themes, names),
        "chart-emotions": _emotions(themes, names),
        "chart-polarity": _polarity(themes, names),
    }
    if any(t["weekly_counts"] for t in themes):
        charts["chart-trends"] = _trends(themes, names)
    return charts


def _names(themes: list[dict[str, Any]]) -> list[str]:
    # Plotly merges equal category names, so repeated labels get a suffix.
    seen: dict[str, int] = {}
    names = []
    for theme in themes:
        label = theme["label"]
        short = label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1]
        short = short.rstrip() + ("…" if short != label else "")
        seen[short] = seen.get(short, 0) + 1
        names.append(_plain(short if seen[short] == 1 else f"{short} ({seen[short]})"))
    return names


def _plain(text: str) -> str:
    # Plotly draws <b>, <br>, <a> and entities in its strings; escape them so a
    # label reads literally.
    return html.escape(text, quote=False)


def _figure(data: list[Any], layout: dict[str, Any]) -> dict[str, Any]:
    import plotly.graph_objects as go

    figure = go.Figure(data=data, layout={"template": "plotly_white", **layout})
    loaded: dict[str, Any] = json.loads(figure.to_json())
    return loaded


def _bar_layout(rows: int, **extra: Any) -> dict[str, Any]:
    return {
        "height": 90 + 30 * rows,
        "margin": {"l": 10, "r": 20, "t": 10, "b": 40},
        "yaxis": {"autorange": "reversed", "automargin": True},
        **extra,
    }


def _sizes(themes: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    import plotly.graph_objects as go

    bar = go.Bar(
        x=[t["size"] for t in themes],
        y=names,
        orientation="h",
        marker={"color": [_EMERGING if t["emerging"] else _THEME for t in themes]},
        text=[t["size"] for t in themes],
        textposition="auto",
        hovertemplate="%{y}: %{x} texts<extra></extra>",
    )
    return _figure([bar], _bar_layout(len(themes), xaxis={"title": "texts"}))


def _trends(themes: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    import plotly.graph_objects as go

    # Weeks a theme had no text are zeros, not gaps a line would bridge.
    weeks = sorted({w for t in themes for w in t["weekly_counts"]})
    lines = []
    for rank, (theme, name) in enumerate(zip(themes, names, strict=True)):
        hot = theme["emerging"]
        lines.append(
            go.Scatter(
                x=weeks,
                y=[theme["weekly_counts"].get(w, 0) for w in weeks],
                name=("▲ " if hot else "") + name,
                mode="lines+markers",
                line={
                    "color": _EMERGING if hot else _OTHER,
                    "width": 4 if hot else 1.5,
                },
                marker={"size": 7 if hot else 4},
                opacity=1.0 if hot else 0.7,
                showlegend=hot or rank < _LEGEND_THEMES,
                hovertemplate=f"{name}<br>week of %{{x}}: %{{y}}<extra></extra>",
            )
        )
    # Draw the highlighted lines last, so they sit on top of the grey ones.
    lines.sort(key=lambda line: line.line.width)
    return _figure(
        lines,
        {
            "height": 440,
            "margin": {"l": 10, "r": 10, "t": 60, "b": 40},
            "xaxis": {"title": "week starting", "type": "date", "tickformat": "%b %d"},
            "yaxis": {"title": "texts", "rangemode": "tozero"},
            "legend": _TOP_LEGEND,
        },
    )


def _emotions(themes: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    import plotly.graph_objects as go

    # A text may carry several CS labels, so the bar shows how the labels given
    # divide (summing to 1); the hover gives the share of texts with each.
    mixes = [t["cs_emotions"] for t in themes]
    totals = [sum(mix.values()) or 1.0 for mix in mixes]
    bars = [
        go.Bar(
            name=emotion,
            x=[mix.get(emotion, 0.0) / n for mix, n in zip(mixes, totals, strict=True)],
            y=names,
            orientation="h",
            marker={"color": _EMOTION_COLOURS[emotion]},
            customdata=[mix.get(emotion, 0.0) for mix in mixes],
            hovertemplate=(
                f"%{{y}}<br>{emotion}: %{{customdata:.0%}} of texts<extra></extra>"
            ),
        )
        for emotion in CS_VIEW
    ]
    layout = _bar_layout(
        len(themes),
        barmode="stack",
        xaxis={"title": "share of the CS labels", "tickformat": ".0%"},
        legend=_TOP_LEGEND,
    )
    layout["height"] += 40
    layout["margin"]["t"] = 50
    return _figure(bars, layout)


def _polarity(themes: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    import plotly.graph_objects as go

    bars = [
        go.Bar(
            name=label,
            x=[t["polarity"].get(label, 0.0) for t in themes],
            y=names,
            orientation="h",
            marker={"color": colour},
            hovertemplate=f"%{{y}}<br>{label}: %{{x:.0%}} of texts<extra></extra>",
        )
        for label, colour in _POLARITY_COLOURS.items()
    ]
    layout = _bar_layout(
        len(themes),
        barmode="stack",
        xaxis={"title": "share of texts", "tickformat": ".0%", "range": [0, 1]},
        legend=_TOP_LEGEND,
    )
    layout["height"] += 40
    layout["margin"]["t"] = 50
    return _figure(bars, layout)
