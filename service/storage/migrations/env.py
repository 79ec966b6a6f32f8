"""Alembic environment: migrate the database named by the settings.

``run_migrations`` passes the URL in the Alembic config; the ``alembic`` command
line (``alembic -c service/storage/alembic.ini …``) falls back to
``Settings.resolved_database_url``. Only online migration is supported: the
service always has its database at hand.
"""

from __future__ import annotations

import logging

from alembic import context
from sqlalchemy import text

from service.config import get_settings
from service.storage.models import Base
from service.storage.session import create_db_engine

__all__: list[str] = []

logger = logging.getLogger(__name__)

# Any constant will do; it only has to be the same in every service process.
_MIGRATION_LOCK_ID = 0x66656564  # "feed"


def _run_online() -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or (
        get_settings().resolved_database_url
    )
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                # SQLite cannot ALTER most things; batch mode rebuilds the table.
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    # Several service processes start at once against one
                    # server; the first migrates, the others wait, then find
                    # nothing to do.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:id)"),
                        {"id": _MIGRATION_LOCK_ID},
                    )
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError(
        "expected an online migration, got --sql (offline mode); run the "
        "migration against a database: feedback-miner serve migrates at startup"
    )
_run_online()
