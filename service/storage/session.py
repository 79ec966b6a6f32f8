"""Engines, sessions and schema migration.

One engine per process, built from ``Settings.resolved_database_url``:

- SQLite (the embedded default): the parent folder of the file is created, and
  every connection turns on WAL mode (readers never block the writer), foreign
  keys (off by default in SQLite) and a busy timeout, so that a second process
  waits for the write lock instead of failing at once. ``synchronous`` stays at
  its FULL default: an acknowledged item must survive a power cut too.
- PostgreSQL (production): ``postgresql+psycopg://`` URLs; connections are checked
  before use, since several service processes share the server.

The schema belongs to Alembic: :func:`run_migrations` upgrades a database to the
newest revision and is what the service runs at startup.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "create_db_engine",
    "create_session_factory",
    "downgrade_migrations",
    "ping",
    "run_migrations",
    "session_scope",
]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_SQLITE_BUSY_TIMEOUT_MS = 5_000


def create_db_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Create the engine for ``url``, with the per-backend settings above.

    Args:
        url: A SQLAlchemy URL, ``sqlite:///path`` or ``postgresql+psycopg://…``.
        echo: Log every SQL statement (debugging only).

    Returns:
        The engine; for SQLite, the database folder exists once this returns.

    Raises:
        ValueError: If the URL names a backend other than SQLite or PostgreSQL.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, echo=echo)
    if backend == "postgresql":
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
    raise ValueError(
        f"expected a sqlite:// or postgresql+psycopg:// database URL, got "
        f"{parsed.render_as_string(hide_password=True)!r}; set "
        "FEEDBACK_MINER_DATABASE_URL to one of those"
    )


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory of ``engine``.

    Objects stay readable after commit (``expire_on_commit=False``), so a handler
    can return what it has just stored without another query.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit when the block ends, roll back if it raises.

    Args:
        factory: A factory from :func:`create_session_factory`.

    Yields:
        The open session.
    """
    with factory() as session, session.begin():
        yield session


def ping(session: Session) -> None:
    """Run ``SELECT 1`` to prove the database answers.

    Raises:
        sqlalchemy.exc.OperationalError: If the database cannot be reached.
    """
    session.execute(text("SELECT 1"))


def alembic_config(url: str | URL) -> Config:
    """Return an Alembic configuration for ``url``, without an ``alembic.ini``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = make_url(url).render_as_string(hide_password=False)
    # ConfigParser interpolation would read a '%' in a password as a reference.
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def run_migrations(url: str | URL, *, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (the newest by default).

    Safe to run on every start: an up-to-date database is left as it is. For
    SQLite the database file and its folder are created first.

    Args:
        url: The database URL.
        revision: The Alembic revision to upgrade to.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _make_sqlite_dir(parsed)
    logger.info(
        "migrating %s to %s",
        parsed.render_as_string(hide_password=True),
        revision,
    )
    from alembic import command

    command.upgrade(alembic_config(parsed), revision)


def downgrade_migrations(url: str | URL, *, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base``: empty).

    For operators rolling back a release, and for the tests that prove every
    revision can be undone.

    Args:
        url: The database URL.
        revision: The Alembic revision to downgrade to.
    """
    parsed = make_url(url)
    logger.warning(
        "downgrading %s to %s", parsed.render_as_string(hide_password=True), revision
    )
    from alembic import command

    command.downgrade(alembic_config(parsed), revision)


def _sqlite_engine(url: URL, *, echo: bool) -> Engine:
    _make_sqlite_dir(url)
    engine = create_engine(url, echo=echo)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _make_sqlite_dir(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()
