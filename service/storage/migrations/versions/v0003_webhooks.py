"""Webhook subscriptions and the log of their delivery attempts.

Revision ID: 0003
Revises: 0002
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

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(name: str, target: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.Uuid(), sa.ForeignKey(target, ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    """Create webhook_subscriptions and webhook_deliveries."""
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("tenant_id", "tenants.id"),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", _json(), nullable=False),
        sa.Column("description", sa.String(200)),
        sa.Column("secret", sa.String(100), nullable=False),
        _time("created_at"),
        _time("deleted_at", nullable=True),
    )
    op.create_index(
        "ix_webhook_subscriptions_tenant_id", "webhook_subscriptions", ["tenant_id"]
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("tenant_id", "tenants.id"),
        _fk("subscription_id", "webhook_subscriptions.id"),
        _fk("outbox_id", "outbox.id"),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        _time("attempted_at"),
    )
    op.create_index(
        "ix_webhook_deliveries_event",
        "webhook_deliveries",
        ["outbox_id", "subscription_id"],
    )
    op.create_index(
        "ix_webhook_deliveries_subscription_time",
        "webhook_deliveries",
        ["subscription_id", "attempted_at"],
    )


def downgrade() -> None:
    """Drop both tables, the log first."""
    for table in ("webhook_deliveries", "webhook_subscriptions"):
        op.drop_table(table)
