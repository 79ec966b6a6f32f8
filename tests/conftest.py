"""Shared fixtures: the bundled analyzer (loaded once) and an API client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from nlp.analysis import Analyzer
from service.config import Settings
from service.main import create_app


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """The real packaged model, loaded once per test session."""
    return Analyzer.load(threads=2)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(environment="test", data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def client(analyzer: Analyzer, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.analyzer = analyzer
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
