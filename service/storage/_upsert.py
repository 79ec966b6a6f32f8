"""``INSERT … ON CONFLICT DO NOTHING`` for whichever backend the session uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.storage.models import Base

__all__ = ["insert_ignoring_conflicts"]


def insert_ignoring_conflicts(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    conflict_columns: Sequence[str],
) -> None:
    """Insert ``rows``, skipping those that collide on ``conflict_columns``.

    Args:
        session: An open session; the caller commits.
        model: The mapped class; row keys are its attribute names.
        rows: The rows to insert.
        conflict_columns: The columns of the unique constraint to ignore.

    Raises:
        ValueError: If the session is bound to neither SQLite nor PostgreSQL.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg_insert = postgresql.insert(model).on_conflict_do_nothing(
            index_elements=list(conflict_columns)
        )
        session.execute(pg_insert, list(rows))
    elif dialect == "sqlite":
        sqlite_insert = sqlite.insert(model).on_conflict_do_nothing(
            index_elements=list(conflict_columns)
        )
        session.execute(sqlite_insert, list(rows))
    else:
        raise ValueError(
            f"expected a sqlite or postgresql session, got {dialect!r}; "
            "the storage layer supports only those two backends"
        )
