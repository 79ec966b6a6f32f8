"""Engines, pragmas and migrations on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from service.config import Settings
from service.storage.models import Base
from service.storage.session import alembic_config, create_db_engine, run_migrations


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_run_migrations_is_idempotent(database_url: str, engine: Engine) -> None:
    run_migrations(database_url)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert current == head
    assert {
        "tenants",
        "api_keys",
        "accounts",
        "contacts",
        "feedback_items",
        "alert_rules",
        "alerts",
        "outbox",
    } <= set(inspect(engine).get_table_names())


def test_sqlite_engine_turns_on_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'fm.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert (tmp_path / "a" / "b").is_dir()
    finally:
        engine.dispose()


def test_run_migrations_creates_the_default_sqlite_database(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path / "data")
    run_migrations(settings.resolved_database_url)
    assert (tmp_path / "data" / "feedback-miner.db").is_file()


def test_create_db_engine_refuses_other_backends() -> None:
    with pytest.raises(ValueError) as info:
        create_db_engine("mysql://user:secret@localhost/db")
    assert str(info.value) == (
        "expected a sqlite:// or postgresql+psycopg:// database URL, got "
        "'mysql://user:***@localhost/db'; set FEEDBACK_MINER_DATABASE_URL to one "
        "of those"
    )
