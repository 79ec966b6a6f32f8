"""Shared fixtures: the bundled models (loaded once), databases, API clients.

Database fixtures run every test that uses them on SQLite and on PostgreSQL.
PostgreSQL is the one at 127.0.0.1:5432 (trust auth, user ``postgres``, database
``test``), or ``FEEDBACK_MINER_TEST_POSTGRES_URL``. Each test session creates its
own uniquely named database there and drops it at the end. When the server cannot
be reached, the PostgreSQL variants skip locally and fail under ``CI=true``: CI
must not go green on SQLite alone.

Tests isolate themselves from each other by using fresh tenants, not fresh
databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from nlp.analysis import Analyzer
from service.config import Settings
from service.main import create_app
from service.redaction import Redactor
from service.storage.keys import create_tenant, issue_api_key
from service.storage.models import Tenant
from service.storage.session import (
    create_db_engine,
    create_session_factory,
    downgrade_migrations,
    run_migrations,
    session_scope,
)

_POSTGRES_URL = os.environ.get(
    "FEEDBACK_MINER_TEST_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
)

# Small enough that an over-long text is cheap to send; at least the settings' floor.
API_MAX_TEXT_CHARS = 2_000


# Models


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """The real packaged model, loaded once per test session."""
    return Analyzer.load(threads=2)


@pytest.fixture(scope="session")
def redactor() -> Redactor:
    """The real PII redactor (packaged spaCy pipeline), loaded once."""
    return Redactor.load()


# The stateless API (/v1/analyze) on its own SQLite file


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(environment="test", data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def client(
    analyzer: Analyzer, redactor: Redactor, settings: Settings
) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.analyzer = analyzer
    app.state.redactor = redactor
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


# Databases: every test that uses them runs on SQLite and on PostgreSQL


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


# The stored API (/v1/feedback, /v1/accounts) on each backend


@dataclass(frozen=True)
class ApiTenant:
    """A tenant made for one test, with the headers of one of its keys."""

    tenant_id: uuid.UUID
    headers: dict[str, str]

    def key(self, engine: Engine, *scopes: str) -> dict[str, str]:
        """Issue another key of this tenant; return its request headers."""
        with session_scope(create_session_factory(engine)) as session:
            issued = issue_api_key(session, self.tenant_id, scopes=scopes)
        return {"Authorization": f"Bearer {issued.plain}"}


@pytest.fixture(scope="session")
def api_settings(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path_factory.mktemp("api"),
        database_url=database_url,
        max_text_chars=API_MAX_TEXT_CHARS,
        # The webhook tests run their own workers; this one would race them.
        webhooks_enabled=False,
    )


@pytest.fixture(scope="session")
def api(
    api_settings: Settings, analyzer: Analyzer, redactor: Redactor
) -> Iterator[TestClient]:
    """A client of the whole service on one backend; startup migrates it."""
    app = create_app(api_settings)
    app.state.analyzer = analyzer
    app.state.redactor = redactor
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def make_api_tenant(engine: Engine) -> Callable[..., ApiTenant]:
    """Create a fresh tenant with one key of the given scopes."""

    def make(
        *scopes: str, store_raw_text: bool = False, prefix: str = "api"
    ) -> ApiTenant:
        with session_scope(create_session_factory(engine)) as session:
            tenant, issued = create_tenant(
                session,
                f"{prefix}-{uuid.uuid4().hex[:8]}",
                scopes=scopes or ("ingest", "read"),
                store_raw_text=store_raw_text,
            )
        return ApiTenant(
            tenant_id=tenant.id,
            headers={"Authorization": f"Bearer {issued.plain}"},
        )

    return make


@pytest.fixture
def api_tenant(make_api_tenant: Callable[..., ApiTenant]) -> ApiTenant:
    """A fresh tenant whose key may ingest and read."""
    return make_api_tenant()


@pytest.fixture
def other_api_tenant(make_api_tenant: Callable[..., ApiTenant]) -> ApiTenant:
    """A second fresh tenant, to prove isolation."""
    return make_api_tenant(prefix="other")


@pytest.fixture
def feedback_item() -> Callable[..., dict[str, Any]]:
    """Build a valid feedback payload; keyword arguments replace or add fields."""

    def make(**fields: Any) -> dict[str, Any]:
        item: dict[str, Any] = {
            "external_id": f"fb-{uuid.uuid4().hex[:12]}",
            "account_id": "acme",
            "channel": "ticket",
            "text": "The nightly export failed again and nobody answered my ticket.",
            "occurred_at": "2025-03-01T12:00:00Z",
        }
        item.update(fields)
        return item

    return make


@pytest.fixture(scope="session")
def store_scored(engine: Engine) -> Callable[..., list[uuid.UUID]]:
    """Store analysed items straight through the storage layer.

    For tests where the model is not the point: each item is a dict with
    ``occurred_at`` and ``score``, and optionally ``channel``, ``author_role``,
    ``polarity`` (default from the score), ``cs_labels``, ``text``, ``status``.
    Returns the stored ids, in order.
    """
    import datetime as dt

    from service.storage.accounts import ensure_accounts
    from service.storage.feedback import NewFeedback, add_feedback
    from service.storage.models import AuthorRole, Channel, FeedbackStatus

    def label(score: float) -> str:
        return "negative" if score < -0.2 else "positive" if score > 0.2 else "neutral"

    def store(
        tenant_id: uuid.UUID, account: str, items: list[dict[str, Any]]
    ) -> list[uuid.UUID]:
        with session_scope(create_session_factory(engine)) as session:
            account_id = ensure_accounts(session, tenant_id, {account: None})[
                account
            ].id
            rows = []
            for item in items:
                when: dt.datetime = item["occurred_at"]
                score = item["score"]
                role = item.get("author_role")
                rows.append(
                    NewFeedback(
                        account_id=account_id,
                        channel=Channel(item.get("channel", "ticket")),
                        occurred_at=when,
                        status=FeedbackStatus(item.get("status", "scored")),
                        text=item.get("text", f"item scored {score}"),
                        external_id=f"st-{uuid.uuid4().hex[:12]}",
                        author_role=AuthorRole(role) if role else None,
                        polarity=item.get(
                            "polarity", None if score is None else label(score)
                        ),
                        polarity_score=score,
                        cs_labels=item.get("cs_labels", []),
                        model_version="test",
                    )
                )
            stored = add_feedback(session, tenant_id, rows)
            return [s.item.id for s in stored]

    return store
