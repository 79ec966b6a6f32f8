"""``/v1/themes``: refresh jobs, the theme list and reports, and human edits.

``GET /v1/themes/report`` answers an HTML page whose charts need plotly.js; the
page loads it from ``GET /v1/themes/report/plotly.js``, a public, immutable asset
(a ``<script src>`` sends no bearer key), so the page stays small and works
without a network beyond the service.
"""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from service import theme_edits, theme_jobs, theme_report, theme_views
from service.api.deps import (
    AdminCallerDep,
    EmbedderDep,
    ReadCallerDep,
    SessionDep,
    ThemeRunnerDep,
    no_query_parameters,
)
from service.api.schemas.themes import (
    ThemeDetailPublic,
    ThemeJobPublic,
    ThemeMerge,
    ThemePublic,
    ThemeQuery,
    ThemeRefresh,
    ThemeSplit,
    ThemesPublic,
    ThemeUpdate,
)

__all__ = [
    "merge_theme",
    "read_plotly_js",
    "read_theme",
    "read_theme_job",
    "read_theme_report",
    "read_themes",
    "refresh_themes",
    "router",
    "split_theme",
    "update_theme",
]

router = APIRouter(prefix="/v1", tags=["themes"])

# The bundle is named by the plotly version in the page's URL, so it never changes
# under a URL and browsers may keep it for a year.
_IMMUTABLE = "public, max-age=31536000, immutable"


@router.post("/themes:refresh", status_code=status.HTTP_202_ACCEPTED)
def refresh_themes(
    body: ThemeRefresh,
    caller: AdminCallerDep,
    session: SessionDep,
    runner: ThemeRunnerDep,
) -> ThemeJobPublic:
    """Queue a refit of the themes (202); poll the job for its outcome."""
    job = theme_jobs.queue_refresh(session, caller, body)
    runner.submit(job.id)
    return theme_jobs.job_public(job)


@router.get("/themes/jobs/{job_id}")
def read_theme_job(
    job_id: str, caller: ReadCallerDep, session: SessionDep
) -> ThemeJobPublic:
    """Read a refresh job: queued, running, done (with counts) or failed."""
    return theme_jobs.read_job(session, caller.tenant_id, job_id)


@router.get("/themes")
def read_themes(
    query: Annotated[ThemeQuery, Query()], caller: ReadCallerDep, session: SessionDep
) -> ThemesPublic:
    """List themes, largest first, by window, channel, segment, account."""
    return theme_views.list_themes_public(session, caller.tenant_id, query)


# Before /themes/{theme_id}, which would otherwise take "report" for an id.
@router.get("/themes/report", response_class=HTMLResponse)
def read_theme_report(
    query: Annotated[ThemeQuery, Query()],
    caller: ReadCallerDep,
    session: SessionDep,
    request: Request,
) -> HTMLResponse:
    """The theme report as an HTML page: sizes, trends, emotion mix, quotes."""
    src = f"{request.url_for('read_plotly_js').path}?v={theme_report.plotly_version()}"
    page = theme_views.report_page(session, caller.tenant_id, query, plotly_src=src)
    return HTMLResponse(page)


@router.get("/themes/report/plotly.js", include_in_schema=False)
def read_plotly_js() -> Response:
    """The plotly.js bundle the theme report page loads (public, cached)."""
    return Response(
        _plotly_bytes(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": _IMMUTABLE},
    )


@router.get("/themes/{theme_id}")
def read_theme(
    theme_id: str, request: Request, caller: ReadCallerDep, session: SessionDep
) -> ThemeDetailPublic:
    """Read one theme: quotes, polarity and emotion mix, weekly counts, sources."""
    no_query_parameters(request)  # after the key is checked: 401 comes first
    return theme_views.read_theme(session, caller.tenant_id, theme_id)


@router.patch("/themes/{theme_id}")
def update_theme(
    theme_id: str, body: ThemeUpdate, caller: AdminCallerDep, session: SessionDep
) -> ThemePublic:
    """Rename a theme (the name is pinned) or pin and unpin its label."""
    return theme_edits.update_theme(session, caller, theme_id, body)


@router.post("/themes/{theme_id}:merge")
def merge_theme(
    theme_id: str, body: ThemeMerge, caller: AdminCallerDep, session: SessionDep
) -> ThemePublic:
    """Merge this theme into another; answers the surviving theme."""
    return theme_edits.merge_theme(session, caller, theme_id, body)


@router.post("/themes/{theme_id}:split", status_code=status.HTTP_201_CREATED)
def split_theme(
    theme_id: str,
    body: ThemeSplit,
    caller: AdminCallerDep,
    session: SessionDep,
    embedder: EmbedderDep,
) -> ThemePublic:
    """Move some items of this theme to a new, pinned theme (201)."""
    return theme_edits.split_theme(session, caller, theme_id, body, embedder=embedder)


@functools.cache
def _plotly_bytes() -> bytes:
    return theme_report.plotly_js().encode()
