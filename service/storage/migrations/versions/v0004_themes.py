"""Themes, feedback's theme assignments, the log of theme edits, refresh jobs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Written out in full, as 0001 is, so that it keeps describing what it created.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["downgrade", "upgrade"]

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHANNELS = ("ticket", "chat", "call", "email", "review", "survey", "community")
_SEGMENTS = ("enterprise", "mid-market", "smb")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(
        *values, name=name, native_enum=False, create_constraint=True, length=32
    )


def _fk(name: str, target: str, *, nullable: bool = False) -> sa.Column[object]:
    ondelete = "SET NULL" if nullable else "CASCADE"
    return sa.Column(
        name, sa.Uuid(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable
    )


def upgrade() -> None:
    """Create theme_jobs, themes, theme_assignments and theme_edits."""
    op.create_table(
        "theme_jobs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("tenant_id", "tenants.id"),
        sa.Column(
            "status",
            _enum("theme_job_status", "queued", "running", "done", "failed"),
            nullable=False,
        ),
        _time("since", nullable=True),
        _time("until", nullable=True),
        sa.Column("channel", _enum("channel", *_CHANNELS)),
        sa.Column("segment", _enum("segment", *_SEGMENTS)),
        sa.Column("min_cluster_size", sa.Integer(), nullable=False),
        sa.Column("texts", sa.Integer(), nullable=False),
        sa.Column("themes", sa.Integer(), nullable=False),
        sa.Column("outliers", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(32)),
        sa.Column("error", sa.Text()),
        _time("created_at"),
        _time("started_at", nullable=True),
        _time("finished_at", nullable=True),
    )
    op.create_index(
        "ix_theme_jobs_tenant_created", "theme_jobs", ["tenant_id", "created_at"]
    )
    op.create_index("ix_theme_jobs_status", "theme_jobs", ["status", "created_at"])
    op.create_table(
        "themes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("tenant_id", "tenants.id"),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("terms", _json(), nullable=False),
        sa.Column("centroid", _json(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("quote_ids", _json(), nullable=False),
        sa.Column("state", _enum("theme_state", "active", "merged"), nullable=False),
        _fk("merged_into_id", "themes.id", nullable=True),
        _fk("job_id", "theme_jobs.id", nullable=True),
        _time("created_at"),
        _time("updated_at"),
    )
    op.create_index("ix_themes_tenant_state", "themes", ["tenant_id", "state"])
    op.create_table(
        "theme_assignments",
        sa.Column(
            "feedback_id",
            sa.Uuid(),
            sa.ForeignKey("feedback_items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _fk("tenant_id", "tenants.id"),
        _fk("theme_id", "themes.id", nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=False),
        _time("assigned_at"),
    )
    op.create_index(
        "ix_theme_assignments_tenant_theme",
        "theme_assignments",
        ["tenant_id", "theme_id"],
    )
    op.create_table(
        "theme_edits",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("tenant_id", "tenants.id"),
        _fk("theme_id", "themes.id", nullable=True),
        sa.Column(
            "action",
            _enum("theme_edit_action", "rename", "pin", "unpin", "merge", "split"),
            nullable=False,
        ),
        sa.Column("detail", _json(), nullable=False),
        _fk("api_key_id", "api_keys.id", nullable=True),
        _time("created_at"),
    )
    op.create_index(
        "ix_theme_edits_tenant_time", "theme_edits", ["tenant_id", "created_at"]
    )


def downgrade() -> None:
    """Drop the four tables, dependants first."""
    for table in ("theme_edits", "theme_assignments", "themes", "theme_jobs"):
        op.drop_table(table)
