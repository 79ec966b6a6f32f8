"""Reading themes: the filtered list (with emerging flags), one theme's report, and
the data of the HTML theme report.

Emerging (issue 4): the ``window_days`` ending at ``to`` (default now) against
the ``window_days`` before, decided by :func:`nlp.themes.trends.compare_windows`:
a theme is ``new`` when it had no item in the baseline and at least 3 in the
current window; it ``grew`` when its share of the assigned items rose with a
one-sided two-proportion z-test (pooled variance) at p < 0.05, z >= 1.645. Both
windows' counts are answered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from nlp.themes.trends import compare_windows, weekly_counts
from service.api.schemas.themes import (
    EmergingPublic,
    ThemeAccountPublic,
    ThemeDetailPublic,
    ThemePublic,
    ThemeQuery,
    ThemeQuotePublic,
    ThemesPublic,
    WeekCountPublic,
)
from service.errors import NotFound, check_time_range
from service.storage.accounts import account_external_ids, get_account
from service.storage.feedback import get_feedback
from service.storage.models import Segment, Theme, utcnow
from service.storage.themes import (
    FeedbackScope,
    ThemeItem,
    active_themes,
    get_theme,
    theme_counts,
    theme_items,
)
from service.theme_report import render_theme_report

__all__ = [
    "list_themes_public",
    "read_theme",
    "report_data",
    "report_page",
    "require_theme",
    "theme_public",
]


def list_themes_public(
    session: Session, tenant_id: uuid.UUID, query: ThemeQuery
) -> ThemesPublic:
    """Return the tenant's active themes with their sizes after the filters.

    Raises:
        InvalidInput: If ``from`` is not before ``to``.
    """
    scope = _scope(session, tenant_id, query)
    if scope is None:
        return ThemesPublic(items=[], outliers=0)
    return _listed(session, tenant_id, query, scope, trends=query.emerging)


def report_data(
    session: Session, tenant_id: uuid.UUID, query: ThemeQuery
) -> dict[str, Any]:
    """Gather the themes after the filters in the shape the HTML report reads.

    Every listed theme carries its trend; its mixes, weekly counts and quotes
    cover only its items inside the filters.

    Returns:
        The report data of :func:`service.theme_report.render_theme_report`.

    Raises:
        InvalidInput: If ``from`` is not before ``to``.
    """
    scope = _scope(session, tenant_id, query)
    listed, themes = ThemesPublic(items=[], outliers=0), []
    if scope is not None:
        listed = _listed(session, tenant_id, query, scope, trends=True)
        rows = {theme.id: theme for theme in active_themes(session, tenant_id)}
        themes = [
            _report_theme(session, tenant_id, rows[item.id], item, scope)
            for item in listed.items
        ]
    texts = sum(t.size for t in listed.items) + listed.outliers
    return {
        "status": "themed" if themes else "no_themes",
        "texts": texts,
        "outlier_share": round(listed.outliers / texts, 4) if texts else 0.0,
        "window_days": query.window_days,
        "window_end": (query.to or utcnow()).isoformat(),
        "baseline_days": query.window_days,
        "filters": _filters(query),
        "themes": themes,
    }


def report_page(
    session: Session, tenant_id: uuid.UUID, query: ThemeQuery, *, plotly_src: str
) -> str:
    """Render the themes after the filters as the HTML theme report.

    Args:
        session: The database session.
        tenant_id: Whose themes.
        query: The filters of ``GET /v1/themes``.
        plotly_src: Where the page loads plotly.js from.

    Returns:
        The HTML page; an empty selection gets a page that says so.

    Raises:
        InvalidInput: If ``from`` is not before ``to``.
    """
    data = report_data(session, tenant_id, query)
    return render_theme_report(data, plotly_src=plotly_src, title="Themes")


def read_theme(
    session: Session, tenant_id: uuid.UUID, theme_id: str
) -> ThemeDetailPublic:
    """Return one theme with its quotes, mixes, weekly counts and sources.

    Raises:
        NotFound: If the tenant has no such theme.
    """
    theme = require_theme(session, tenant_id, theme_id)
    items = theme_items(session, tenant_id, theme.id)
    names = account_external_ids(session, tenant_id, {i.account_id for i in items})
    polarity, emotions = _mixes(items)
    weeks = weekly_counts(i.occurred_at for i in items)
    accounts = Counter(names[i.account_id] for i in items)
    return ThemeDetailPublic(
        **theme_public(theme, size=len(items)).model_dump(),
        quotes=_quotes(session, tenant_id, theme, items),
        polarity=polarity,
        cs_emotions=emotions,
        weekly=[WeekCountPublic(week=w, count=c) for w, c in weeks.items()],
        accounts=[
            ThemeAccountPublic(account_id=a, count=c) for a, c in accounts.most_common()
        ],
        channels=dict(Counter(i.channel.value for i in items).most_common()),
    )


def require_theme(session: Session, tenant_id: uuid.UUID, theme_id: str) -> Theme:
    """Return the tenant's theme with this id.

    Raises:
        NotFound: If the tenant has none (another tenant's ids read as absent).
    """
    try:
        parsed: uuid.UUID | None = uuid.UUID(theme_id)
    except ValueError:
        parsed = None
    theme = get_theme(session, tenant_id, parsed) if parsed else None
    if theme is None:
        raise NotFound(
            f"no theme with id {theme_id!r}; use an id from GET /v1/themes",
            field="theme_id",
        )
    return theme


def theme_public(
    theme: Theme, *, size: int | None = None, trend: EmergingPublic | None = None
) -> ThemePublic:
    """Convert a theme row to its response schema."""
    return ThemePublic(
        id=theme.id,
        label=theme.label,
        pinned=theme.pinned,
        terms=list(theme.terms),
        size=theme.size if size is None else size,
        state=theme.state,
        merged_into=theme.merged_into_id,
        created_at=theme.created_at,
        updated_at=theme.updated_at,
        trend=trend,
    )


def _quotes(
    session: Session, tenant_id: uuid.UUID, theme: Theme, items: list[ThemeItem]
) -> list[ThemeQuotePublic]:
    # Only quotes of the items shown: a merge or split moves items away, a refit
    # that no longer finds the theme empties it, and filters narrow it.
    inside = {i.feedback_id for i in items}
    found = []
    for raw in theme.quote_ids:
        if uuid.UUID(raw) not in inside:
            continue
        item = get_feedback(session, tenant_id, uuid.UUID(raw))
        if item is not None and item.text is not None:
            found.append(item)
    names = account_external_ids(session, tenant_id, {i.account_id for i in found})
    return [
        ThemeQuotePublic(
            feedback_id=item.id,
            text=item.text or "",
            account_id=names[item.account_id],
            channel=item.channel,
            occurred_at=item.occurred_at,
        )
        for item in found
    ]


def _scope(
    session: Session, tenant_id: uuid.UUID, query: ThemeQuery
) -> FeedbackScope | None:
    # None: the query names an account the tenant does not have, so nothing matches.
    check_time_range(query.from_, query.to)
    scope = FeedbackScope(
        since=query.from_, until=query.to, channel=query.channel, segment=query.segment
    )
    if query.account_id is None:
        return scope
    account = get_account(session, tenant_id, query.account_id)
    return None if account is None else replace(scope, account_id=account.id)


def _listed(
    session: Session,
    tenant_id: uuid.UUID,
    query: ThemeQuery,
    scope: FeedbackScope,
    *,
    trends: bool,
) -> ThemesPublic:
    counts = theme_counts(session, tenant_id, scope)
    found = _trends(session, tenant_id, scope, query) if trends else {}
    items = []
    for theme in active_themes(session, tenant_id):
        size = counts.get(theme.id, 0)
        trend = found.get(theme.id)
        if size == 0 or (query.emerging and not (trend and trend.emerging)):
            continue
        items.append(theme_public(theme, size=size, trend=trend))
    items.sort(key=lambda t: -t.size)
    return ThemesPublic(items=items, outliers=counts.get(None, 0))


def _trends(
    session: Session, tenant_id: uuid.UUID, scope: FeedbackScope, query: ThemeQuery
) -> dict[uuid.UUID, EmergingPublic]:
    end = query.to or utcnow()
    window = dt.timedelta(days=query.window_days)
    current = theme_counts(
        session, tenant_id, replace(scope, since=end - window, until=end)
    )
    baseline = theme_counts(
        session, tenant_id, replace(scope, since=end - 2 * window, until=end - window)
    )
    return {
        theme_id: EmergingPublic(**dataclasses.asdict(call))
        for theme_id, call in compare_windows(current, baseline).items()
    }


def _mixes(items: Iterable[ThemeItem]) -> tuple[dict[str, float], dict[str, float]]:
    # Shares of all the items, so unscored ones leave the polarity short of 1 and a
    # text with several CS labels counts in each.
    items = list(items)
    n = max(len(items), 1)
    polarity = Counter(i.polarity for i in items if i.polarity)
    emotions = Counter(label for i in items for label in i.cs_labels)
    return (
        {k: round(v / n, 4) for k, v in sorted(polarity.items())},
        {k: round(v / n, 4) for k, v in emotions.most_common()},
    )


def _report_theme(
    session: Session,
    tenant_id: uuid.UUID,
    theme: Theme,
    listed: ThemePublic,
    scope: FeedbackScope,
) -> dict[str, Any]:
    items = _in_scope(
        session, tenant_id, theme_items(session, tenant_id, theme.id), scope
    )
    polarity, emotions = _mixes(items)
    trend = listed.trend
    return {
        "id": str(theme.id),
        "label": theme.label,
        "terms": list(theme.terms),
        "size": listed.size,
        "quotes": [
            {
                "text": quote.text,
                "source": f"{quote.account_id} · {quote.channel.value} · "
                f"{quote.occurred_at.date().isoformat()}",
            }
            for quote in _quotes(session, tenant_id, theme, items)
        ],
        "weekly_counts": {
            week.isoformat(): count
            for week, count in weekly_counts(i.occurred_at for i in items).items()
        },
        "polarity": polarity,
        "cs_emotions": emotions,
        "emerging": bool(trend and trend.emerging),
        "trend": trend.model_dump() if trend else None,
    }


def _in_scope(
    session: Session,
    tenant_id: uuid.UUID,
    items: list[ThemeItem],
    scope: FeedbackScope,
) -> list[ThemeItem]:
    # The storage layer reads a theme's items unfiltered; the filters of the list
    # are applied here so that the report's mixes match its sizes.
    segments: dict[uuid.UUID, Segment | None] = {}
    if scope.segment is not None:
        names = account_external_ids(session, tenant_id, {i.account_id for i in items})
        for account_id, name in names.items():
            account = get_account(session, tenant_id, name)
            segments[account_id] = account.segment if account else None
    return [
        i
        for i in items
        if (scope.since is None or i.occurred_at >= scope.since)
        and (scope.until is None or i.occurred_at < scope.until)
        and (scope.channel is None or i.channel == scope.channel)
        and (scope.account_id is None or i.account_id == scope.account_id)
        and (scope.segment is None or segments.get(i.account_id) == scope.segment)
    ]


def _filters(query: ThemeQuery) -> dict[str, str]:
    # As the caller wrote them: true, not Python's True.
    given = query.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in given.items()
    }
