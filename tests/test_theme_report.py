"""The HTML theme report: escaping, empty and small reports, the trend chart."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from service.theme_report import plotly_js, plotly_version, render_theme_report

HOSTILE = "<script>alert(1)</script>"
SRC = "/v1/themes/report/plotly.js?v=test"


def _theme(**fields: Any) -> dict[str, Any]:
    theme: dict[str, Any] = {
        "id": 0,
        "label": "invoice charged twice",
        "terms": ["invoice", "charged", "twice"],
        "size": 12,
        "quotes": ["We were charged twice for the March invoice."],
        "weekly_counts": {"2026-09-28": 5, "2026-10-05": 7},
        "cs_emotions": {"frustration": 0.5, "anger": 0.25},
        "polarity": {"negative": 0.75, "neutral": 0.25},
        "emerging": False,
        "trend": None,
    }
    return {**theme, **fields}


def _report(*themes: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "status": "themed" if themes else "no_themes",
        "texts": sum(t["size"] for t in themes) + 3,
        "outlier_share": 0.1,
        "themes": list(themes),
        **fields,
    }


class _Ids(HTMLParser):
    """Collects element ids and the text outside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [v for k, v in attrs if k == "id" and v]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.text.append(data)


def _parse(page: str) -> _Ids:
    parser = _Ids()
    parser.feed(page)
    return parser


def _chart_json(page: str) -> str:
    match = re.search(r'id="chart-data">(.*?)</script>', page, re.S)
    assert match is not None
    return match.group(1)


def _chart_data(page: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_chart_json(page))
    return data


@pytest.mark.parametrize("where", ["label", "terms", "quotes", "source"])
def test_render_theme_report_escapes_hostile_text(where: str) -> None:
    theme = {
        "label": _theme(label=HOSTILE),
        "terms": _theme(terms=[HOSTILE]),
        "quotes": _theme(quotes=[HOSTILE]),
        "source": _theme(quotes=[{"text": "ok", "source": HOSTILE}]),
    }[where]

    page = render_theme_report(_report(theme), plotly_src=SRC)

    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE in "".join(_parse(page).text)


def test_render_theme_report_escapes_labels_inside_the_chart_data() -> None:
    page = render_theme_report(_report(_theme(label=HOSTILE)), plotly_src=SRC)

    sizes = _chart_data(page)["chart-sizes"]

    # Plotly reads tags in its strings: the label reaches it entity-escaped.
    assert sizes["data"][0]["y"] == ["&lt;script&gt;alert(1)&lt;/script&gt;"]
    assert "<" not in _chart_json(page)


@pytest.mark.parametrize(
    ("status", "note"),
    [
        ("no_themes", "No themes yet"),
        ("no_text", "The data has no usable text."),
        ("too_few_texts", "There are too few texts to find themes in."),
    ],
)
def test_render_theme_report_empty_report_says_so(status: str, note: str) -> None:
    page = render_theme_report(
        {"status": status, "texts": 0, "themes": []}, plotly_src=SRC
    )

    parsed = _parse(page)
    assert "empty" in parsed.ids
    assert note in "".join(parsed.text)
    assert not [i for i in parsed.ids if i.startswith("chart-")]
    assert "<script" not in page


def test_render_theme_report_one_theme_has_all_charts_and_a_card() -> None:
    page = render_theme_report(_report(_theme()), plotly_src=SRC, title="Q3 themes")

    parsed = _parse(page)
    assert {"chart-sizes", "chart-trends", "chart-emotions", "chart-polarity"} <= set(
        parsed.ids
    )
    assert set(_chart_data(page)) == {
        "chart-sizes",
        "chart-trends",
        "chart-emotions",
        "chart-polarity",
    }
    assert "theme-0" in parsed.ids
    assert "<title>Q3 themes</title>" in page
    assert "We were charged twice for the March invoice." in page
    assert f'<script src="{SRC}"></script>' in page


def test_render_theme_report_without_times_has_a_note_not_a_trend() -> None:
    page = render_theme_report(_report(_theme(weekly_counts={})), plotly_src=SRC)

    parsed = _parse(page)
    assert "chart-trends" not in parsed.ids
    assert "chart-trends" not in _chart_data(page)
    assert "no-trend" in parsed.ids
    assert "No times in this data" in page


def test_render_theme_report_highlights_emerging_themes() -> None:
    trend = {
        "emerging": True,
        "reason": "new",
        "current": 9,
        "current_total": 20,
        "baseline": 0,
        "baseline_total": 30,
        "z": 3.1,
    }
    calm = _theme(id=1, label="csv export timeout", size=20)
    hot = _theme(id=2, label="login outage", size=9, emerging=True, trend=trend)

    page = render_theme_report(
        _report(calm, hot, window_days=28, window_end="2026-10-14T00:00:00+00:00"),
        plotly_src=SRC,
    )

    charts = _chart_data(page)
    colours = charts["chart-sizes"]["data"][0]["marker"]["color"]
    widths = {t["name"]: t["line"]["width"] for t in charts["chart-trends"]["data"]}
    assert colours[0] != colours[1]
    assert widths["▲ login outage"] > widths["csv export timeout"]
    assert 'class="card emerging"' in page
    assert "in the 28 days up to 2026-10-14" in page


def test_render_theme_report_keeps_equal_labels_apart() -> None:
    page = render_theme_report(_report(_theme(id=1), _theme(id=2)), plotly_src=SRC)

    names = _chart_data(page)["chart-sizes"]["data"][0]["y"]
    assert len(set(names)) == 2


def test_render_theme_report_inlines_plotly_without_a_src() -> None:
    page = render_theme_report(_report(_theme()))

    assert plotly_js() in page
    assert "<script src=" not in page
    assert len(plotly_js()) > 1_000_000
    assert plotly_version().count(".") >= 1


def test_render_theme_report_with_a_src_stays_small() -> None:
    page = render_theme_report(
        _report(*[_theme(id=k) for k in range(20)]), plotly_src=SRC
    )

    assert len(page.encode()) < 300_000


def test_render_theme_report_says_when_there_is_nothing_to_compare_with() -> None:
    report = _report(_theme(), window_days=28, window_end="2026-10-14T00:00:00+00:00")

    page = render_theme_report(report, plotly_src=SRC)

    assert "with nothing earlier to compare with, no theme is called emerging" in page
