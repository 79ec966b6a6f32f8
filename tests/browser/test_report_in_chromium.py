"""The HTML theme report in a real browser: Debian's headless Chromium.

Playwright drives the Chromium at ``/usr/bin/chromium`` (or
``FEEDBACK_MINER_CHROMIUM``) over CDP; ``playwright install`` is never needed.
Without that browser the tests skip, and under ``CI=true`` they fail: ``.ci/run``
installs Debian's ``chromium`` package.

Each page must load with no console error, no failed request and no request to
the network, draw an SVG in every chart, and show the quotes as text. The
screenshot test keeps its PNG under pytest's temporary folder (the path is
printed; run with ``-s`` to see it).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.theme_report import render_theme_report

if TYPE_CHECKING:
    from conftest import ApiTenant
    from numpy.typing import NDArray
    from playwright.sync_api import Browser, Page, Route

CHROMIUM = Path(os.environ.get("FEEDBACK_MINER_CHROMIUM", "/usr/bin/chromium"))
CHARTS = ("chart-sizes", "chart-trends", "chart-emotions", "chart-polarity")
HOSTILE = "<script>alert(1)</script> the export page froze"
ORIGIN = "http://feedback-miner.test"


def _unavailable(reason: str) -> NoReturn:
    message = f"headless Chromium is unavailable: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; .ci/run installs Debian's chromium package")
    pytest.skip(f"{message}; apt-get install chromium to run the browser tests")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as e:
        _unavailable(f"the playwright package is missing ({e})")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        except Error as e:
            _unavailable(str(e).splitlines()[0])
        yield browser
        browser.close()


@dataclass
class Visit:
    """A page and what went wrong while it loaded."""

    page: Page
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.errors or self.failed or self.network or self.dialogs)


def _visit(
    browser: Browser, url: str, serve: Callable[[Route], None] | None = None
) -> Visit:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    visit = Visit(page)
    page.on("console", lambda m: m.type == "error" and visit.errors.append(m.text))
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    page.on("requestfailed", lambda r: visit.failed.append(r.url))
    page.on("dialog", lambda d: (visit.dialogs.append(d.message), d.dismiss()))
    page.on(
        "response",
        lambda r: r.status >= 400 and visit.failed.append(f"{r.url} {r.status}"),
    )

    def offline(route: Route) -> None:
        visit.network.append(route.request.url)
        route.abort()

    # Any http(s) request but the in-process service's would need the network.
    page.route(
        lambda url: url.startswith(("http:", "https:")) and not url.startswith(ORIGIN),
        offline,
    )
    if serve is not None:
        page.route(f"{ORIGIN}/**", serve)
    page.goto(url)
    page.wait_for_function(
        "ids => ids.every(id => document.querySelector(`#${id} .main-svg`))",
        arg=[c for c in CHARTS if page.query_selector(f"#{c}")],
    )
    return visit


def _report() -> dict[str, Any]:
    weeks = [dt.date(2026, 8, 3) + dt.timedelta(weeks=k) for k in range(10)]
    steady = {w.isoformat(): 6 + k % 3 for k, w in enumerate(weeks)}
    rising = {w.isoformat(): max(0, 4 * (k - 5)) for k, w in enumerate(weeks)}
    trend = {
        "emerging": True,
        "reason": "new",
        "current": 40,
        "current_total": 90,
        "baseline": 0,
        "baseline_total": 120,
        "z": None,
    }

    def theme(k: int, label: str, size: int, **fields: Any) -> dict[str, Any]:
        return {
            "id": k,
            "label": label,
            "terms": label.split(", "),
            "size": size,
            "quotes": [f"A customer note about {label}.", HOSTILE],
            "weekly_counts": steady,
            "cs_emotions": {"frustration": 0.6, "confusion": 0.2, "neutral": 0.3},
            "polarity": {"negative": 0.7, "neutral": 0.2, "positive": 0.1},
            "emerging": False,
            "trend": None,
            **fields,
        }

    return {
        "status": "themed",
        "texts": 260,
        "outlier_share": 0.08,
        "window_days": 28,
        "window_end": "2026-10-08T00:00:00+00:00",
        "baseline_days": None,
        "themes": [
            theme(0, "invoice, charged, twice", 80),
            theme(1, "export, csv, timeout", 70),
            theme(
                2,
                "login, reset, email",
                40,
                weekly_counts=rising,
                emerging=True,
                trend=trend,
            ),
            theme(
                3,
                "support, helpful, thanks",
                50,
                cs_emotions={"gratitude": 0.7, "delight": 0.3},
                polarity={"positive": 0.9, "neutral": 0.1},
            ),
        ],
    }


@pytest.fixture
def report_file(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(render_theme_report(_report()), encoding="utf-8")
    return path


def test_report_file_draws_every_chart_offline(
    browser: Browser, report_file: Path
) -> None:
    visit = _visit(browser, report_file.as_uri())

    assert visit.clean, visit
    for chart in CHARTS:
        assert visit.page.locator(f"#{chart} .main-svg").count() >= 1, chart
    quotes = visit.page.locator(".quote p").all_inner_texts()
    assert HOSTILE in quotes
    assert "A customer note about login, reset, email." in quotes
    assert visit.page.locator(".card.emerging h3").all_inner_texts() == [
        "login, reset, email"
    ]
    visit.page.close()


def test_report_file_screenshot_is_a_real_picture(
    browser: Browser, report_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    visit = _visit(browser, report_file.as_uri())
    shot = tmp_path_factory.mktemp("screenshots") / "theme-report.png"

    visit.page.screenshot(path=str(shot), full_page=True)

    print(f"theme report screenshot: {shot}")
    width, height, colours, dominant = _picture_stats(visit.page, shot)
    visit.page.close()
    assert shot.stat().st_size > 50_000
    assert width == 1280 and height > 1500
    assert colours > 500  # charts, text and cards, not a blank or flat page
    assert dominant < 0.9


def _picture_stats(page: Page, png: Path) -> tuple[int, int, int, float]:
    # The browser decodes its own PNG, so no imaging package is needed.
    data = base64.b64encode(png.read_bytes()).decode()
    stats: dict[str, Any] = page.evaluate(
        """async (data) => {
            const img = new Image();
            img.src = "data:image/png;base64," + data;
            await img.decode();
            const canvas = document.createElement("canvas");
            canvas.width = img.width; canvas.height = img.height;
            const ctx = canvas.getContext("2d");
            ctx.drawImage(img, 0, 0);
            const px = ctx.getImageData(0, 0, img.width, img.height).data;
            const counts = new Map();
            for (let i = 0; i < px.length; i += 4) {
                const key = (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
                counts.set(key, (counts.get(key) || 0) + 1);
            }
            const top = Math.max(...counts.values());
            return {w: img.width, h: img.height, colours: counts.size,
                    dominant: top / (px.length / 4)};
        }""",
        data,
    )
    return stats["w"], stats["h"], stats["colours"], stats["dominant"]


# The service's page, served by the app in-process through the browser's router


class KeywordEmbedder:
    """Texts naming a topic keyword sit on its axis, so the themes are known."""

    dimensions = 8
    topics = ("invoice", "export", "login")

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, text in enumerate(texts):
            rng = np.random.default_rng(zlib.crc32(text.encode()))
            out[i] = rng.normal(scale=0.03, size=self.dimensions)
            hits = [k for k, word in enumerate(self.topics) if word in text]
            out[i, hits[0] if hits else self.dimensions - 1] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def themed_tenant(
    api: TestClient,
    make_api_tenant: Callable[..., ApiTenant],
    store_scored: Callable[..., list[uuid.UUID]],
) -> Iterator[ApiTenant]:
    state = api.app.state  # type: ignore[attr-defined]
    real, state.embedder = getattr(state, "embedder", None), KeywordEmbedder()
    tenant = make_api_tenant("admin")
    now = dt.datetime.now(dt.UTC)
    for topic, n, first in (("invoice", 14, 3), ("export", 12, 3), ("login", 9, 1)):
        store_scored(
            tenant.tenant_id,
            f"acct-{topic}",
            [
                {
                    "occurred_at": now - dt.timedelta(days=first + 4 * k),
                    "score": -0.5,
                    "text": f"the {topic} is broken again, case {k}"
                    + (f" {HOSTILE}" if k == 0 else ""),
                    "cs_labels": ["frustration"],
                }
                for k in range(n)
            ],
        )
    job = api.post(
        "/v1/themes:refresh", headers=tenant.headers, json={"min_cluster_size": 3}
    ).json()
    deadline = time.monotonic() + 60
    while job["status"] in {"queued", "running"} and time.monotonic() < deadline:
        time.sleep(0.05)
        job = api.get(f"/v1/themes/jobs/{job['id']}", headers=tenant.headers).json()
    assert job["status"] == "done" and job["themes"] >= 2, job
    yield tenant
    state.embedder = real


def test_service_report_page_loads_plotly_from_the_service(
    browser: Browser, api: TestClient, themed_tenant: ApiTenant
) -> None:
    served: list[tuple[str, int]] = []

    def serve(route: Route) -> None:
        request = route.request
        path = request.url.removeprefix(ORIGIN)
        # Only the page carries the key: a <script src> sends no bearer token.
        headers = themed_tenant.headers if request.resource_type == "document" else {}
        response = api.get(path, headers=headers)
        served.append((path.split("?")[0], response.status_code))
        route.fulfill(
            status=response.status_code,
            headers=dict(response.headers),
            body=response.content,
        )

    visit = _visit(browser, f"{ORIGIN}/v1/themes/report", serve)

    assert visit.clean, (visit, served)
    assert served == [("/v1/themes/report", 200), ("/v1/themes/report/plotly.js", 200)]
    for chart in CHARTS:
        assert visit.page.locator(f"#{chart} .main-svg").count() >= 1, chart
    listed = api.get("/v1/themes", headers=themed_tenant.headers).json()["items"]
    assert visit.page.locator(".card").count() == len(listed)
    assert any(HOSTILE in q for q in visit.page.locator(".quote p").all_inner_texts())
    visit.page.close()
