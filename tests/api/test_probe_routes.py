"""``/readyz`` (database and models) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from nlp.analysis import Analyzer
from service.config import Settings
from service.main import create_app
from service.redaction import Redactor
from service.storage.session import create_db_engine, create_session_factory

if TYPE_CHECKING:
    from conftest import ApiTenant


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(text: str, name: str, **labels: str) -> float:
    return _samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_readyz_checks_the_database_and_models(api: TestClient) -> None:
    response = api.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "models": "ok"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_head_like_get(api: TestClient, path: str) -> None:
    got = api.get(path)
    head = api.head(path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


def test_readyz_head_is_503_until_the_models_are_loaded(api: TestClient) -> None:
    app: Any = api.app
    saved = app.state.redactor
    app.state.redactor = None
    try:
        response = api.head("/readyz")
    finally:
        app.state.redactor = saved
    assert (response.status_code, response.content) == (503, b"")


def test_readyz_is_503_when_the_database_is_down(
    tmp_path: Path, analyzer: Analyzer, redactor: Redactor
) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, webhooks_enabled=False)
    app = create_app(settings)
    app.state.analyzer = analyzer
    app.state.redactor = redactor
    # Nothing listens on port 1: every connection is refused.
    unreachable = create_db_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.session_factory = create_session_factory(unreachable)
        response = client.get("/readyz")
    unreachable.dispose()
    assert response.status_code == 503
    body: dict[str, Any] = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "unavailable (SELECT 1 failed)"
    assert body["reason"] == "database: unavailable (SELECT 1 failed)"


def test_readyz_is_503_until_the_models_are_loaded(api: TestClient) -> None:
    app: Any = api.app
    saved = app.state.redactor
    app.state.redactor = None
    try:
        response = api.get("/readyz")
    finally:
        app.state.redactor = saved
    assert response.status_code == 503
    assert response.json()["reason"] == "models: not loaded yet: redactor"


def test_metrics_count_requests_by_route_template_and_status(
    api: TestClient,
    api_tenant: ApiTenant,
    feedback_item: Callable[..., dict[str, Any]],
) -> None:
    before = api.get("/metrics").text
    created = api.post("/v1/feedback", headers=api_tenant.headers, json=feedback_item())
    api.get(f"/v1/feedback/{created.json()['id']}", headers=api_tenant.headers)
    api.get("/no/such/route")
    response = api.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    requests = "feedback_miner_http_requests_total"
    assert delta(requests, method="POST", route="/v1/feedback", status="201") == 1
    route = "/v1/feedback/{feedback_id}"
    assert delta(requests, method="GET", route=route, status="200") == 1
    assert delta(requests, method="GET", route="unmatched", status="404") == 1
    latency = "feedback_miner_http_request_duration_seconds_count"
    assert delta(latency, method="POST", route="/v1/feedback") == 1
    assert delta("feedback_miner_items_ingested_total") == 1
    assert delta("feedback_miner_analysis_duration_seconds_count", source="ingest") == 1
    assert ("feedback_miner_outbox_backlog", ()) in _samples(after)
