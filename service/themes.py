"""Theme refresh and ingest-time assignment, for one tenant.

:func:`refresh` refits a tenant's themes:

1. load the redacted texts of the items in scope (window, channel, segment);
   items a person placed (a split: locked assignments) keep their theme and
   are left out of the fit;
2. fit a :class:`nlp.themes.ThemeModel` (the embedder embeds each distinct text
   once);
3. match the new themes to every stored theme, merged ones included, by centroid
   similarity (:func:`nlp.themes.match_themes`); a match continues the stored
   theme's id, and a match to a merged theme continues the theme it was merged
   into, so merges hold through refits. A pinned label is kept;
4. store the themes, replace the unlocked assignments in scope, recount sizes.

Stored themes that no refit finds keep their row with size 0 (hidden from lists):
a later refit that finds them again gives back their id and edits.

:func:`assign_new` gives newly ingested items the theme whose stored centroid is
nearest, at or above :data:`ASSIGN_THRESHOLD`, else none (outlier), with a
:class:`nlp.themes.ThemeModel` restored from the stored centroids (the engine's
own ``transform``, batch-invariant).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.themes import TextEmbedder, ThemeModel, match_themes
from nlp.themes import Theme as FittedTheme
from service.redaction import strip_placeholders
from service.storage.models import Theme, ThemeState, utcnow
from service.storage.themes import (
    FeedbackScope,
    grow_sizes,
    matchable_themes,
    recount_sizes,
    replace_assignments,
    scoped_texts,
    set_assignments,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from sqlalchemy.orm import Session

__all__ = [
    "ASSIGN_THRESHOLD",
    "MATCH_THRESHOLD",
    "RefreshResult",
    "assign_new",
    "refresh",
]

logger = logging.getLogger(__name__)

# ThemeModel's own defaults: a new text joins a theme at cosine >= 0.5, and a
# refit theme continues a stored one at centroid cosine >= 0.8.
ASSIGN_THRESHOLD = 0.5
MATCH_THRESHOLD = 0.8


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did: texts fitted, themes found, outliers, fit status."""

    texts: int
    themes: int
    outliers: int
    result: str


def refresh(
    session: Session,
    tenant_id: uuid.UUID,
    scope: FeedbackScope,
    *,
    embedder: TextEmbedder,
    min_cluster_size: int = 10,
    job_id: uuid.UUID | None = None,
) -> RefreshResult:
    """Refit the tenant's themes over the items in ``scope``; the caller commits.

    Args:
        session: An open session.
        tenant_id: The tenant.
        scope: Which items to refit.
        embedder: Embeds the texts.
        min_cluster_size: Fewest items in a theme.
        job_id: The job doing this, recorded on the themes it writes.

    A fit that finds no theme changes nothing stored (its ``result`` says why).

    Returns:
        The counts of the refit.
    """
    # 1. The texts in scope; a person's placements stay as they are.
    rows = [row for row in scoped_texts(session, tenant_id, scope) if not row.locked]
    # Stored text is redacted; its placeholders would become the term "person".
    texts = [strip_placeholders(row.text or "") for row in rows]

    # 2. Fit.
    model = ThemeModel(embedder=embedder, min_cluster_size=min_cluster_size)
    labels = model.fit_transform(texts) if texts else np.zeros(0, dtype=np.intp)
    fitted = model.themes_ if texts else []

    status = model.status_ if texts else "no_text"
    if not fitted:
        # A fit that finds nothing (too few texts for min_cluster_size, no
        # structure) says nothing about the stored themes: they and every item's
        # place in them stay as they were.
        # Items never placed before are outliers now.
        new: dict[uuid.UUID, uuid.UUID | None] = {
            row.feedback_id: None for row in rows if not row.assigned
        }
        if new:
            replace_assignments(session, tenant_id, new)
        logger.info("refresh found no themes (%s); stored themes kept", status)
        return RefreshResult(len(texts), 0, len(texts), status)

    # 3-4. Carry identity over, store themes and assignments.
    ids = _carry_over(session, tenant_id, fitted, job_id=job_id)
    quote_ids = _quote_ids(rows, texts, fitted, labels)
    for theme in fitted:
        session.get_one(Theme, ids[theme.theme_id]).quote_ids = quote_ids[
            theme.theme_id
        ]
    replace_assignments(
        session,
        tenant_id,
        {
            row.feedback_id: ids[int(k)] if k >= 0 else None
            for row, k in zip(rows, labels, strict=True)
        },
    )
    recount_sizes(session, tenant_id)
    outliers = int(np.sum(labels < 0))
    logger.info(
        "refreshed themes: %d texts, %d themes, %d outliers (%s)",
        len(texts),
        len(fitted),
        outliers,
        status,
    )
    return RefreshResult(len(texts), len(set(ids.values())), outliers, status)


def assign_new(
    session: Session,
    tenant_id: uuid.UUID,
    items: Sequence[tuple[uuid.UUID, str]],
    *,
    embedder: TextEmbedder,
) -> int:
    """Assign new items to the tenant's themes; the caller commits.

    Nothing is embedded when the tenant has no themes yet.

    Args:
        session: An open session.
        tenant_id: The tenant.
        items: ``(feedback id, redacted text)`` of each new item.
        embedder: Embeds the texts.

    Returns:
        How many items joined a theme.
    """
    # Merged themes keep their centroids; an item near one joins the survivor.
    themes = [t for t in matchable_themes(session, tenant_id) if t.centroid]
    items = [(i, t) for i, t in items if t.strip()]
    if not any(t.size for t in themes) or not items:
        return 0
    by_id = {t.id: t for t in themes}
    model = ThemeModel.from_centroids(
        [t.centroid for t in themes],
        embedder=embedder,
        assign_threshold=ASSIGN_THRESHOLD,
    )
    nearest = model.transform([t for _, t in items])
    by_theme: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for (feedback_id, _), k in zip(items, nearest, strict=True):
        theme_id = _survivor(themes[k], by_id).id if k >= 0 else None
        by_theme.setdefault(theme_id, []).append(feedback_id)
    for theme_id, feedback_ids in by_theme.items():
        set_assignments(session, tenant_id, feedback_ids, theme_id, locked=False)
    # New items had no theme before: their themes grow, nothing else changes.
    grow_sizes(session, {k: len(v) for k, v in by_theme.items() if k is not None})
    assigned = sum(len(v) for k, v in by_theme.items() if k is not None)
    logger.debug("assigned %d of %d new items to themes", assigned, len(items))
    return assigned


def _carry_over(
    session: Session,
    tenant_id: uuid.UUID,
    fitted: Sequence[FittedTheme],
    *,
    job_id: uuid.UUID | None,
) -> dict[int, uuid.UUID]:
    """Map each fitted theme to a stored theme id, updating or adding rows."""
    stored = [t for t in matchable_themes(session, tenant_id) if t.centroid]
    previous = [_as_fitted(i, t) for i, t in enumerate(stored)]
    matches = {
        m.new_id: stored[m.old_id]
        for m in match_themes(previous, fitted, threshold=MATCH_THRESHOLD)
    }
    by_id = {t.id: t for t in stored}
    ids: dict[int, uuid.UUID] = {}
    now = utcnow()
    for theme in fitted:
        row = matches.get(theme.theme_id)
        if row is None:
            row = Theme(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                pinned=False,
                size=0,
                state=ThemeState.ACTIVE,
                created_at=now,
            )
            session.add(row)
        elif row.state == ThemeState.MERGED:
            row = _survivor(row, by_id)
            ids[theme.theme_id] = row.id
            continue
        _update(row, theme, job_id=job_id, now=now)
        ids[theme.theme_id] = row.id
    session.flush()
    return ids


def _survivor(row: Theme, by_id: dict[uuid.UUID, Theme]) -> Theme:
    seen = {row.id}
    while row.merged_into_id is not None and row.merged_into_id in by_id:
        row = by_id[row.merged_into_id]
        if row.id in seen:
            break
        seen.add(row.id)
    return row


def _update(
    row: Theme, theme: FittedTheme, *, job_id: uuid.UUID | None, now: Any
) -> None:
    if not row.pinned:
        row.label = theme.label
    row.terms = list(theme.terms)
    row.centroid = [round(float(x), 7) for x in theme.centroid]
    row.job_id = job_id
    row.updated_at = now


def _as_fitted(index: int, row: Theme) -> FittedTheme:
    return FittedTheme(
        theme_id=index,
        label=row.label,
        terms=tuple(row.terms),
        size=row.size,
        representative_texts=(),
        centroid=np.asarray(row.centroid, dtype=np.float32),
    )


def _quote_ids(
    rows: Sequence[Any],
    texts: list[str],
    fitted: Sequence[FittedTheme],
    labels: NDArray[np.intp],
) -> dict[int, list[str]]:
    """The feedback ids of each theme's representative texts (first item each)."""
    first: dict[str, uuid.UUID] = {}
    for row, text in zip(rows, texts, strict=True):
        first.setdefault(text, row.feedback_id)
    return {
        theme.theme_id: [
            str(first[t]) for t in theme.representative_texts if t in first
        ]
        for theme in fitted
    }
