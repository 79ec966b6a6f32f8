"""Reading themes: the filtered list (with emerging flags) and one theme's report.

Emerging (issue 4): the ``window_days`` ending at ``to`` (default now) against
the ``window_days`` before. A theme is ``new`` when it had no item in the
baseline and at least :data:`MIN_NEW` in the current window; it ``grew`` when its
share of the assigned items rose with a one-sided two-proportion z-test
(pooled variance) at p < 0.05, z >= 1.645. Both windows' counts are answered.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections import Counter
from dataclasses import replace

from sqlalchemy.orm import Session

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
from service.errors import InvalidInput, NotFound
from service.storage.accounts import account_external_ids, get_account
from service.storage.feedback import get_feedback
from service.storage.models import Theme, utcnow
from service.storage.themes import (
    FeedbackScope,
    active_themes,
    get_theme,
    theme_counts,
    theme_items,
)

__all__ = [
    "MIN_NEW",
    "Z_CRITICAL",
    "list_themes_public",
    "read_theme",
    "require_theme",
    "theme_public",
]

MIN_NEW = 3
Z_CRITICAL = 1.645  # one-sided 5 %


def list_themes_public(
    session: Session, tenant_id: uuid.UUID, query: ThemeQuery
) -> ThemesPublic:
    """Return the tenant's active themes with their sizes after the filters.

    Raises:
        InvalidInput: If ``from`` is not before ``to``.
    """
    if query.from_ and query.to and query.from_ >= query.to:
        raise InvalidInput.single(
            "to",
            "invalid_value",
            f"expected 'to' later than 'from' ({query.from_.isoformat()}), got "
            f"{query.to.isoformat()}",
        )
    scope = FeedbackScope(
        since=query.from_, until=query.to, channel=query.channel, segment=query.segment
    )
    if query.account_id is not None:
        account = get_account(session, tenant_id, query.account_id)
        if account is None:
            return ThemesPublic(items=[], outliers=0)
        scope = replace(scope, account_id=account.id)
    counts = theme_counts(session, tenant_id, scope)
    trends = _trends(session, tenant_id, scope, query) if query.emerging else {}
    items = []
    for theme in active_themes(session, tenant_id):
        size = counts.get(theme.id, 0)
        trend = trends.get(theme.id)
        if size == 0 or (query.emerging and not (trend and trend.emerging)):
            continue
        items.append(theme_public(theme, size=size, trend=trend))
    items.sort(key=lambda t: -t.size)
    return ThemesPublic(items=items, outliers=counts.get(None, 0))


def read_theme(
    session: Session, tenant_id: uuid.UUID, theme_id: str
) -> ThemeDetailPublic:
    """Return one theme with its quotes, mixes, weekly counts and sources.

    Raises:
        NotFound: If the tenant has no such theme.
    """
    theme = require_theme(session, tenant_id, theme_id)
    items = theme_items(session, tenant_id, theme.id)
    n = max(len(items), 1)
    names = account_external_ids(session, tenant_id, {i.account_id for i in items})
    polarity = Counter(i.polarity for i in items if i.polarity)
    emotions = Counter(label for i in items for label in i.cs_labels)
    weeks = Counter(_monday(i.occurred_at) for i in items)
    accounts = Counter(names[i.account_id] for i in items)
    return ThemeDetailPublic(
        **theme_public(theme, size=len(items)).model_dump(),
        quotes=_quotes(session, tenant_id, theme),
        polarity={k: round(v / n, 4) for k, v in sorted(polarity.items())},
        cs_emotions={k: round(v / n, 4) for k, v in emotions.most_common()},
        weekly=[WeekCountPublic(week=w, count=c) for w, c in sorted(weeks.items())],
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
    session: Session, tenant_id: uuid.UUID, theme: Theme
) -> list[ThemeQuotePublic]:
    found = []
    for raw in theme.quote_ids:
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
    n1, n0 = sum(current.values()), sum(baseline.values())
    return {
        theme_id: _emerging(current.get(theme_id, 0), n1, baseline.get(theme_id, 0), n0)
        for theme_id in set(current) | set(baseline)
        if theme_id is not None
    }


def _emerging(c1: int, n1: int, c0: int, n0: int) -> EmergingPublic:
    z = None
    if n1 and n0:
        pooled = (c1 + c0) / (n1 + n0)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        z = round((c1 / n1 - c0 / n0) / se, 4) if se > 0 else None
    reason = None
    if c0 == 0 and c1 >= MIN_NEW:
        reason = "new"
    elif z is not None and z >= Z_CRITICAL:
        reason = "grew"
    return EmergingPublic(
        emerging=reason is not None,
        reason=reason,
        current=c1,
        current_total=n1,
        baseline=c0,
        baseline_total=n0,
        z=z,
    )


def _monday(when: dt.datetime) -> dt.date:
    day = when.astimezone(dt.UTC).date()
    return day - dt.timedelta(days=day.weekday())
