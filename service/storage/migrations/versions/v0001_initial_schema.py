"""Initial schema: tenants, API keys, accounts, contacts, feedback items.

Revision ID: 0001
Revises:
Create Date: 2026-12-03

Written out in full rather than imported from ``service.storage.models``: a
revision must keep describing the schema it created after the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["downgrade", "upgrade"]

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES = ("executive_sponsor", "end_user", "it_admin", "other")
_CHANNELS = ("ticket", "chat", "call", "email", "review", "survey", "community")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(
        *values, name=name, native_enum=False, create_constraint=True, length=32
    )


def _tenant_fk() -> sa.Column[object]:
    return sa.Column(
        "tenant_id",
        sa.Uuid(),
        sa.ForeignKey("tenants.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    """Create the five tables and their indexes."""
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("store_raw_text", sa.Boolean(), nullable=False),
        _time("created_at"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", _json(), nullable=False),
        _time("created_at"),
        _time("last_used_at", nullable=True),
        _time("revoked_at", nullable=True),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("segment", _enum("segment", ("enterprise", "mid-market", "smb"))),
        sa.Column("arr", sa.Numeric(14, 2)),
        sa.Column("contract_start", sa.Date()),
        sa.Column("renewal_date", sa.Date()),
        sa.Column(
            "lifecycle_stage",
            _enum(
                "lifecycle_stage",
                ("onboarding", "adoption", "steady_state", "renewal"),
            ),
        ),
        _time("created_at"),
        _time("updated_at"),
        sa.UniqueConstraint("tenant_id", "external_id"),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(320)),
        sa.Column("role", _enum("contact_role", _ROLES), nullable=False),
        _time("created_at"),
        sa.UniqueConstraint("tenant_id", "account_id", "email"),
    )
    op.create_table(
        "feedback_items",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "contact_id",
            sa.Uuid(),
            sa.ForeignKey("contacts.id", ondelete="SET NULL"),
        ),
        sa.Column("external_id", sa.String(200)),
        sa.Column("channel", _enum("channel", _CHANNELS), nullable=False),
        sa.Column("author_role", _enum("author_role", _ROLES)),
        sa.Column("text", sa.Text()),
        sa.Column("turns", _json()),
        sa.Column("raw_text", sa.Text()),
        _time("occurred_at"),
        _time("received_at"),
        sa.Column("source", sa.String(200)),
        sa.Column("rating", sa.Float()),
        sa.Column("nps_score", sa.Integer()),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column(
            "status",
            _enum("feedback_status", ("scored", "empty", "unsupported_language")),
            nullable=False,
        ),
        sa.Column("language", sa.String(8)),
        sa.Column("polarity", sa.String(16)),
        sa.Column("polarity_score", sa.Float()),
        sa.Column("emotions", _json(), nullable=False),
        sa.Column("labels", _json(), nullable=False),
        sa.Column("cs_emotions", _json(), nullable=False),
        sa.Column("cs_labels", _json(), nullable=False),
        sa.Column("detail", _json(), nullable=False),
        sa.Column("model_version", sa.String(64)),
        sa.CheckConstraint("nps_score BETWEEN 0 AND 10", name="nps_score_range"),
        sa.UniqueConstraint("tenant_id", "external_id"),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    op.create_index("ix_accounts_tenant_id", "accounts", ["tenant_id"])
    op.create_index("ix_contacts_tenant_id", "contacts", ["tenant_id"])
    op.create_index("ix_contacts_account_id", "contacts", ["account_id"])
    op.create_index(
        "ix_feedback_items_tenant_account_time",
        "feedback_items",
        ["tenant_id", "account_id", "occurred_at"],
    )
    op.create_index(
        "ix_feedback_items_tenant_time", "feedback_items", ["tenant_id", "occurred_at"]
    )


def downgrade() -> None:
    """Drop the tables, children first."""
    for table in ("feedback_items", "contacts", "accounts", "api_keys", "tenants"):
        op.drop_table(table)
