"""Storage: SQLAlchemy models, tenant-scoped queries, Alembic migrations.

    models     the tables (Tenant, ApiKey, Account, Contact, FeedbackItem)
    session    engines (SQLite WAL or PostgreSQL), sessions, run_migrations
    keys       tenants and hashed, scoped API keys
    accounts   accounts (by the caller's external id) and contacts
    feedback   idempotent insertion and filtered, paginated reads of feedback
    sentiment  GROUP BY sums of polarity scores per day, channel, role, window
    alerts     alert rules, one open alert per rule and account, the outbox

Every query function takes the tenant id and filters on it: no function here
reads or changes another tenant's rows.
"""

from __future__ import annotations

from service.storage.session import (
    create_db_engine,
    create_session_factory,
    run_migrations,
    session_scope,
)

__all__ = [
    "create_db_engine",
    "create_session_factory",
    "run_migrations",
    "session_scope",
]
