"""Human edits of themes: rename, pin, merge, split off. Each is logged.

How each survives a refresh (:func:`service.themes.refresh`):

- rename and pin: a pinned label is never replaced by a refit's label; a rename
  pins the new label unless ``pinned: false`` is sent with it;
- merge: the merged theme keeps its row and centroid, marked ``merged`` with the
  survivor's id, so a refit that finds it again folds it into the survivor;
- split: the items moved are *locked* to the new theme; refits leave locked items
  out and never reassign them.
"""

from __future__ import annotations

import uuid

import numpy as np
from sqlalchemy.orm import Session

from nlp.themes import TextEmbedder
from service.api.schemas.themes import (
    ThemeMerge,
    ThemePublic,
    ThemeSplit,
    ThemeUpdate,
)
from service.auth import Caller
from service.errors import FieldError, InvalidInput, NotFound
from service.storage.feedback import get_feedback
from service.storage.models import (
    Theme,
    ThemeAssignment,
    ThemeEditAction,
    ThemeState,
    utcnow,
)
from service.storage.themes import (
    add_edit,
    move_assignments,
    recount_sizes,
    set_assignments,
)
from service.theme_views import require_theme, theme_public

__all__ = ["merge_theme", "split_theme", "update_theme"]


def update_theme(
    session: Session, caller: Caller, theme_id: str, body: ThemeUpdate
) -> ThemePublic:
    """Rename and/or pin a theme; this function commits.

    Raises:
        NotFound: If the tenant has no such theme.
        InvalidInput: If the body changes nothing, or the theme is merged.
    """
    theme = require_theme(session, caller.tenant_id, theme_id)
    if body.label is None and body.pinned is None:
        raise InvalidInput.single(
            "label",
            "missing",
            "expected 'label' (a new name) or 'pinned' (true or false); got neither",
        )
    if theme.state == ThemeState.MERGED:
        raise InvalidInput.single(
            "theme_id",
            "invalid_value",
            f"theme {theme_id!r} is merged (into {theme.merged_into_id}); edit its "
            "survivor instead",
        )
    if body.label is not None:
        add_edit(
            session,
            caller.tenant_id,
            theme.id,
            ThemeEditAction.RENAME,
            {"from": theme.label, "to": body.label},
            api_key_id=caller.key_id,
        )
        theme.label = body.label
        theme.pinned = True if body.pinned is None else body.pinned
    elif body.pinned is not None and body.pinned != theme.pinned:
        theme.pinned = body.pinned
    if body.pinned is not None:
        action = ThemeEditAction.PIN if body.pinned else ThemeEditAction.UNPIN
        add_edit(
            session,
            caller.tenant_id,
            theme.id,
            action,
            {},
            api_key_id=caller.key_id,
        )
    theme.updated_at = utcnow()
    session.commit()
    return theme_public(theme)


def merge_theme(
    session: Session, caller: Caller, theme_id: str, body: ThemeMerge
) -> ThemePublic:
    """Merge a theme into another; answers the survivor. This function commits.

    Raises:
        NotFound: If either theme is not the tenant's.
        InvalidInput: If a theme is merged into itself or into a merged theme.
    """
    source = require_theme(session, caller.tenant_id, theme_id)
    try:
        target = require_theme(session, caller.tenant_id, str(body.into))
    except NotFound:
        raise NotFound(
            f"no theme with id {str(body.into)!r} to merge into; use an id from "
            "GET /v1/themes",
            field="into",
        ) from None
    if target.id == source.id or target.state == ThemeState.MERGED:
        raise InvalidInput.single(
            "into",
            "invalid_value",
            f"expected another active theme to merge into, got {str(body.into)!r}"
            + (" (this theme itself)" if target.id == source.id else " (merged)"),
        )
    if source.state == ThemeState.MERGED:
        raise InvalidInput.single(
            "theme_id",
            "invalid_value",
            f"theme {theme_id!r} is merged already (into {source.merged_into_id}); "
            "merge its survivor instead",
        )
    # Both centroids stay as they are: refits and ingest match either one and
    # follow merged_into to the target.
    source.state = ThemeState.MERGED
    source.merged_into_id = target.id
    # Themes merged into the source before now fold into the target directly.
    for earlier in session.query(Theme).filter(
        Theme.tenant_id == caller.tenant_id, Theme.merged_into_id == source.id
    ):
        earlier.merged_into_id = target.id
    move_assignments(session, caller.tenant_id, source.id, target.id)
    add_edit(
        session,
        caller.tenant_id,
        source.id,
        ThemeEditAction.MERGE,
        {"into": str(target.id), "label": source.label},
        api_key_id=caller.key_id,
    )
    recount_sizes(session, caller.tenant_id)
    source.updated_at = target.updated_at = utcnow()
    session.commit()
    return theme_public(target)


def split_theme(
    session: Session,
    caller: Caller,
    theme_id: str,
    body: ThemeSplit,
    *,
    embedder: TextEmbedder,
) -> ThemePublic:
    """Move some of a theme's items to a new, pinned theme; this function commits.

    Raises:
        NotFound: If the tenant has no such theme.
        InvalidInput: If an id is not an item of this theme, or all of them are.
    """
    source = require_theme(session, caller.tenant_id, theme_id)
    # Each id once, with its first position in the request for error fields.
    first_at: dict[uuid.UUID, int] = {}
    for index, feedback_id in enumerate(body.feedback_ids):
        first_at.setdefault(feedback_id, index)
    ids = list(first_at)
    texts = _member_texts(session, caller, source, first_at)
    vectors = np.asarray(embedder.embed(texts), dtype=np.float64)
    centroid = vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    now = utcnow()
    theme = Theme(
        id=uuid.uuid4(),
        tenant_id=caller.tenant_id,
        label=body.label,
        pinned=True,
        terms=[],
        centroid=[round(float(x), 7) for x in centroid],
        size=0,
        quote_ids=[str(i) for i in ids[:3]],
        state=ThemeState.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(theme)
    session.flush()
    set_assignments(session, caller.tenant_id, ids, theme.id, locked=True)
    add_edit(
        session,
        caller.tenant_id,
        source.id,
        ThemeEditAction.SPLIT,
        {"into": str(theme.id), "feedback_ids": [str(i) for i in ids]},
        api_key_id=caller.key_id,
    )
    recount_sizes(session, caller.tenant_id)
    session.commit()
    return theme_public(theme)


def _member_texts(
    session: Session, caller: Caller, source: Theme, first_at: dict[uuid.UUID, int]
) -> list[str]:
    errors: list[FieldError] = []
    texts: list[str] = []
    ids = list(first_at)
    for feedback_id, index in first_at.items():
        item = get_feedback(session, caller.tenant_id, feedback_id)
        assignment = session.get(ThemeAssignment, feedback_id) if item else None
        if item is None or assignment is None or assignment.theme_id != source.id:
            errors.append(
                FieldError(
                    f"feedback_ids[{index}]",
                    "not_in_theme",
                    f"expected an item of theme {source.id}, got {str(feedback_id)!r}",
                )
            )
            continue
        texts.append(item.text or " ".join(t["text"] for t in item.turns or []))
    if not errors and len(ids) >= source.size:
        errors.append(
            FieldError(
                "feedback_ids",
                "invalid_value",
                f"expected some of the theme's {source.size} items, got all of "
                "them; rename the theme instead",
            )
        )
    if errors:
        raise InvalidInput(errors)
    return texts
