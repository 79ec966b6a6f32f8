"""Alert rules, alerts with their evidence, and the event outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

Written out in full, as 0001 is, so that it keeps describing what it created.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["downgrade", "upgrade"]

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _tenant_fk() -> sa.Column[object]:
    return sa.Column(
        "tenant_id",
        sa.Uuid(),
        sa.ForeignKey("tenants.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    """Create alert_rules, alerts and outbox."""
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("min_items", sa.Integer(), nullable=False),
        sa.Column("drop_fraction", sa.Float(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.UniqueConstraint("tenant_id", "name"),
    )
    op.create_index("ix_alert_rules_tenant_id", "alert_rules", ["tenant_id"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "rule_id",
            sa.Uuid(),
            sa.ForeignKey("alert_rules.id", ondelete="SET NULL"),
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "resolved",
                name="alert_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("open_key", sa.String(80)),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("evidence", _json(), nullable=False),
        _time("raised_at"),
        _time("resolved_at", nullable=True),
        sa.UniqueConstraint("tenant_id", "open_key"),
    )
    op.create_index("ix_alerts_account_id", "alerts", ["account_id"])
    op.create_index("ix_alerts_tenant_raised", "alerts", ["tenant_id", "raised_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        _time("created_at"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _time("next_attempt_at"),
        _time("delivered_at", nullable=True),
        sa.Column("last_error", sa.Text()),
    )
    op.create_index("ix_outbox_pending", "outbox", ["delivered_at", "next_attempt_at"])
    op.create_index("ix_outbox_tenant_created", "outbox", ["tenant_id", "created_at"])


def downgrade() -> None:
    """Drop the three tables, children first."""
    for table in ("outbox", "alerts", "alert_rules"):
        op.drop_table(table)
