"""Database fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is the one at 127.0.0.1:5432 (trust auth, user ``postgres``, database
``test``), or ``FEEDBACK_MINER_TEST_POSTGRES_URL``. Each test session creates its
own uniquely named database there and drops it at the end. When the server cannot
be reached, the PostgreSQL variants skip locally and fail under ``CI=true``: CI
must not go green on SQLite alone.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.storage.keys import create_tenant
from service.storage.models import Tenant
from service.storage.session import (
    create_db_engine,
    create_session_factory,
    downgrade_migrations,
    run_migrations,
)

_POSTGRES_URL = os.environ.get(
    "FEEDBACK_MINER_TEST_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
)


def _postgres_unavailable(reason: str) -> None:
    message = f"PostgreSQL at {_POSTGRES_URL} is unreachable: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI runs the storage tests on both backends")
    pytest.skip(f"{message}; start it to run the PostgreSQL variants")


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    admin = create_engine(_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"fm_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as e:
        admin.dispose()
        _postgres_unavailable(str(e.orig).strip().splitlines()[0])
    url = make_url(_POSTGRES_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file in a folder that does not exist yet (the engine makes it)."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'nested' / 'fm.db'}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each backend's URL, migrated down and up once to prove both directions."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    run_migrations(url)
    downgrade_migrations(url, revision="base")
    run_migrations(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session per test; tests isolate themselves by using fresh tenants."""
    factory = create_session_factory(engine)
    with factory() as session:
        yield session
        session.rollback()


@pytest.fixture
def tenant(session: Session) -> Tenant:
    tenant, _ = create_tenant(session, f"tenant-{uuid.uuid4().hex[:8]}")
    session.commit()
    return tenant


@pytest.fixture
def other_tenant(session: Session) -> Tenant:
    tenant, _ = create_tenant(session, f"other-{uuid.uuid4().hex[:8]}")
    session.commit()
    return tenant
