"""The tables of the service, as SQLAlchemy 2 typed mappings.

    Tenant ──< ApiKey
       │
       ├──< Account ──< Contact
       │       │
       ├──< FeedbackItem  (account, optional contact)
       ├──< AlertRule ──< Alert  (account, evidence)
       ├──< OutboxEvent  (events for webhook delivery, e.g. alert.raised)
       ├──< WebhookSubscription ──< WebhookDelivery  (one per attempt, per event)
       ├──< Theme ──< ThemeAssignment >── FeedbackItem  (theme NULL = outlier)
       │      └──< ThemeEdit  (rename, pin, merge, split: who changed what)
       └──< ThemeJob  (refresh jobs: queued → running → done | failed)

Every row below a tenant carries ``tenant_id``, so each query can filter on it
without a join. Callers name accounts and feedback by their own ``external_id``,
unique per tenant; feedback's ``external_id`` is the idempotency key of ingestion.

The schema is created by the Alembic revisions in ``service/storage/migrations``,
never by ``metadata.create_all``; a test checks that the two agree.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Account",
    "Alert",
    "AlertRule",
    "AlertStatus",
    "ApiKey",
    "AuthorRole",
    "Base",
    "Channel",
    "Contact",
    "FeedbackItem",
    "FeedbackStatus",
    "LifecycleStage",
    "OutboxEvent",
    "Scope",
    "Segment",
    "Tenant",
    "Theme",
    "ThemeAssignment",
    "ThemeEdit",
    "ThemeEditAction",
    "ThemeJob",
    "ThemeJobStatus",
    "ThemeState",
    "UTCDateTime",
    "WebhookDelivery",
    "WebhookSubscription",
    "utcnow",
]

# Stable constraint names, so that later migrations can drop or alter them on both
# backends (SQLite needs names for batch-mode table rebuilds).
_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_JSON = JSON().with_variant(JSONB(), "postgresql")


class Scope(enum.StrEnum):
    """What an API key may do."""

    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


class Segment(enum.StrEnum):
    """Size class of a customer account."""

    ENTERPRISE = "enterprise"
    MID_MARKET = "mid-market"
    SMB = "smb"


class LifecycleStage(enum.StrEnum):
    """Where an account stands in its contract."""

    ONBOARDING = "onboarding"
    ADOPTION = "adoption"
    STEADY_STATE = "steady_state"
    RENEWAL = "renewal"


class AuthorRole(enum.StrEnum):
    """The stakeholder role of a contact, and of the author of feedback."""

    EXECUTIVE_SPONSOR = "executive_sponsor"
    END_USER = "end_user"
    IT_ADMIN = "it_admin"
    OTHER = "other"


class Channel(enum.StrEnum):
    """Where a feedback item came from."""

    TICKET = "ticket"
    CHAT = "chat"
    CALL = "call"
    EMAIL = "email"
    REVIEW = "review"
    SURVEY = "survey"
    COMMUNITY = "community"


class FeedbackStatus(enum.StrEnum):
    """The analysis status of a stored item, as ``nlp.analysis.Analysis.status``."""

    SCORED = "scored"
    EMPTY = "empty"
    UNSUPPORTED_LANGUAGE = "unsupported_language"


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, so naive values would come back from one backend and
    aware ones from the other; this type makes both return aware UTC and refuses
    naive input instead of guessing its zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                f"expected a timezone-aware datetime, got naive {value!r}; "
                "attach a zone, e.g. value.replace(tzinfo=datetime.UTC)"
            )
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    # Stored as VARCHAR plus a CHECK constraint on both backends: adding a value
    # later is a constraint change, not a PostgreSQL ALTER TYPE.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    """Declarative base of all tables, with the constraint naming convention."""

    metadata = MetaData(naming_convention=_NAMING)


class Tenant(Base):
    """A vendor using the service."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    store_raw_text: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """An API key: its public prefix for lookup, the SHA-256 of the whole key."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="default")
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(_JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Account(Base):
    """A customer of the tenant, known to callers by its ``external_id``."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    segment: Mapped[Segment | None] = mapped_column(_enum(Segment, "segment"))
    arr: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    contract_start: Mapped[dt.date | None]
    renewal_date: Mapped[dt.date | None]
    lifecycle_stage: Mapped[LifecycleStage | None] = mapped_column(
        _enum(LifecycleStage, "lifecycle_stage")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )


class Contact(Base):
    """A stakeholder at an account."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("tenant_id", "account_id", "email"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[AuthorRole] = mapped_column(
        _enum(AuthorRole, "contact_role"), default=AuthorRole.OTHER
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedbackItem(Base):
    """One piece of feedback, PII-redacted, with the analysis stored beside it.

    Exactly one of ``text`` and ``turns`` is set. ``raw_text`` stays empty unless
    the tenant has turned ``store_raw_text`` on.
    """

    __tablename__ = "feedback_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        # The common read: one tenant's account, newest first.
        Index(
            "ix_feedback_items_tenant_account_time",
            "tenant_id",
            "account_id",
            "occurred_at",
        ),
        Index("ix_feedback_items_tenant_time", "tenant_id", "occurred_at"),
        CheckConstraint("nps_score BETWEEN 0 AND 10", name="nps_score_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE")
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE")
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    external_id: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    author_role: Mapped[AuthorRole | None] = mapped_column(
        _enum(AuthorRole, "author_role")
    )
    text: Mapped[str | None] = mapped_column(Text)
    turns: Mapped[list[dict[str, str]] | None] = mapped_column(_JSON)
    raw_text: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str | None] = mapped_column(String(200))
    rating: Mapped[float | None] = mapped_column(Float)
    nps_score: Mapped[int | None] = mapped_column(Integer)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", _JSON, default=dict)

    # The stored analysis (nlp.analysis.Analysis), flattened where it is queried.
    status: Mapped[FeedbackStatus] = mapped_column(
        _enum(FeedbackStatus, "feedback_status")
    )
    language: Mapped[str | None] = mapped_column(String(8))
    polarity: Mapped[str | None] = mapped_column(String(16))
    polarity_score: Mapped[float | None] = mapped_column(Float)
    emotions: Mapped[dict[str, float]] = mapped_column(_JSON, default=dict)
    labels: Mapped[list[str]] = mapped_column(_JSON, default=list)
    cs_emotions: Mapped[dict[str, float]] = mapped_column(_JSON, default=dict)
    cs_labels: Mapped[list[str]] = mapped_column(_JSON, default=list)
    # How the text was read: split, trajectory, mood shift, polarity probabilities.
    detail: Mapped[dict[str, Any]] = mapped_column(_JSON, default=dict)
    model_version: Mapped[str | None] = mapped_column(String(64))


class AlertStatus(enum.StrEnum):
    """Where an alert stands: open until the condition clears or someone acts."""

    OPEN = "open"
    RESOLVED = "resolved"


class AlertRule(Base):
    """A tenant's rule: raise when an account's mean polarity drops this much.

    The drop is measured on the [-1, 1] polarity scale, as a fraction of its
    range (2): ``drop_fraction = 0.2`` fires when the current window's mean is
    at least 0.4 below the previous window's (see :mod:`service.alerts`).
    """

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    window_days: Mapped[int] = mapped_column(Integer, default=14)
    min_items: Mapped[int] = mapped_column(Integer, default=10)
    drop_fraction: Mapped[float] = mapped_column(Float, default=0.2)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )


class Alert(Base):
    """An alert raised by a rule for an account, with the evidence behind it.

    ``open_key`` is set while the alert is open and cleared when it resolves; its
    unique constraint keeps one open alert per rule and account, even when two
    processes evaluate at once (NULLs never collide, on either backend).
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "open_key"),
        Index("ix_alerts_tenant_raised", "tenant_id", "raised_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE")
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="SET NULL")
    )
    status: Mapped[AlertStatus] = mapped_column(
        _enum(AlertStatus, "alert_status"), default=AlertStatus.OPEN
    )
    open_key: Mapped[str | None] = mapped_column(String(80))
    delta: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(_JSON, default=dict)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OutboxEvent(Base):
    """An event waiting for delivery (webhooks), written in the producer's transaction.

    Delivery picks rows with ``delivered_at`` NULL and ``next_attempt_at`` due,
    counts ``attempts`` and keeps the ``last_error``; the row outlives restarts.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),
        Index("ix_outbox_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(_JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookSubscription(Base):
    """A tenant's URL that receives the events it subscribed to, signed.

    The ``secret`` signs every delivery (HMAC-SHA256, see :mod:`service.webhooks`);
    it must be kept readable to sign, so it is stored as it is and shown to the
    tenant once, at creation. Deleting a subscription sets ``deleted_at``: its
    delivery log stays.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(_JSON)
    description: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One attempt to deliver one outbox event to one subscription."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_event", "outbox_id", "subscription_id"),
        Index(
            "ix_webhook_deliveries_subscription_time",
            "subscription_id",
            "attempted_at",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE")
    )
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    outbox_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float)
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThemeState(enum.StrEnum):
    """Whether a theme is shown, or was merged into another one."""

    ACTIVE = "active"
    MERGED = "merged"


class ThemeJobStatus(enum.StrEnum):
    """Where a theme refresh job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ThemeEditAction(enum.StrEnum):
    """What a person did to a theme."""

    RENAME = "rename"
    PIN = "pin"
    UNPIN = "unpin"
    MERGE = "merge"
    SPLIT = "split"


class ThemeJob(Base):
    """A refit of a tenant's themes over a window, channel or segment.

    The row is the job's only state: a worker claims it by moving it from
    ``queued`` to ``running`` in one UPDATE, so two processes never run one job,
    and a job left ``running`` by a crashed process is queued again at startup
    (:func:`service.storage.themes.requeue_stale_jobs`).
    """

    __tablename__ = "theme_jobs"
    __table_args__ = (
        Index("ix_theme_jobs_tenant_created", "tenant_id", "created_at"),
        Index("ix_theme_jobs_status", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE")
    )
    status: Mapped[ThemeJobStatus] = mapped_column(
        _enum(ThemeJobStatus, "theme_job_status"), default=ThemeJobStatus.QUEUED
    )
    since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[Channel | None] = mapped_column(_enum(Channel, "channel"))
    segment: Mapped[Segment | None] = mapped_column(_enum(Segment, "segment"))
    min_cluster_size: Mapped[int] = mapped_column(Integer, default=10)
    texts: Mapped[int] = mapped_column(Integer, default=0)
    themes: Mapped[int] = mapped_column(Integer, default=0)
    outliers: Mapped[int] = mapped_column(Integer, default=0)
    # ThemeModel.status_: themed, no_themes, too_few_texts or no_text.
    result: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Theme(Base):
    """A theme of a tenant's feedback; its id is kept across refits.

    ``centroid`` is the unit-length mean embedding (a JSON list of floats) that
    refits match against and that new feedback is assigned by. A theme merged
    into another keeps its row (``merged_into_id``), so that a refit finding it
    again folds it into the survivor. ``pinned`` keeps ``label`` through refits.
    """

    __tablename__ = "themes"
    __table_args__ = (Index("ix_themes_tenant_state", "tenant_id", "state"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE")
    )
    label: Mapped[str] = mapped_column(String(200))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    terms: Mapped[list[str]] = mapped_column(_JSON, default=list)
    centroid: Mapped[list[float]] = mapped_column(_JSON, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)
    quote_ids: Mapped[list[str]] = mapped_column(_JSON, default=list)
    state: Mapped[ThemeState] = mapped_column(
        _enum(ThemeState, "theme_state"), default=ThemeState.ACTIVE
    )
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("themes.id", ondelete="SET NULL")
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("theme_jobs.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )


class ThemeAssignment(Base):
    """The theme of one feedback item; ``theme_id`` NULL is an outlier.

    ``locked`` marks a person's choice (a split): refits keep it.
    """

    __tablename__ = "theme_assignments"
    __table_args__ = (
        Index("ix_theme_assignments_tenant_theme", "tenant_id", "theme_id"),
    )

    feedback_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE")
    )
    theme_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("themes.id", ondelete="SET NULL")
    )
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThemeEdit(Base):
    """One human edit of a theme, kept as a log."""

    __tablename__ = "theme_edits"
    __table_args__ = (Index("ix_theme_edits_tenant_time", "tenant_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE")
    )
    theme_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("themes.id", ondelete="SET NULL")
    )
    action: Mapped[ThemeEditAction] = mapped_column(
        _enum(ThemeEditAction, "theme_edit_action")
    )
    detail: Mapped[dict[str, Any]] = mapped_column(_JSON, default=dict)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
