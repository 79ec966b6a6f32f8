"""Alert rules, alert evaluation (after ingest and on demand), and the outbox."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from service.storage.models import OutboxEvent
from service.storage.session import create_session_factory

if TYPE_CHECKING:
    from conftest import ApiTenant

Store = Callable[..., list[uuid.UUID]]


def _windows(previous: float, current: float, n: int = 10) -> list[dict[str, Any]]:
    """n items 20 days ago near ``previous``, n items 5 days ago near ``current``."""
    now = dt.datetime.now(dt.UTC)
    jitter = [0.05 * (k % 3 - 1) for k in range(n)]
    return [
        {"occurred_at": now - dt.timedelta(days=20, hours=k), "score": previous + j}
        for k, j in enumerate(jitter)
    ] + [
        {
            "occurred_at": now - dt.timedelta(days=5, hours=k),
            "score": current + j,
            "text": f"complaint number {k}",
        }
        for k, j in enumerate(jitter)
    ]


@pytest.fixture
def admin(make_api_tenant: Callable[..., ApiTenant]) -> ApiTenant:
    return make_api_tenant("admin")


def _evaluate(api: TestClient, tenant: ApiTenant) -> dict[str, Any]:
    response = api.post("/v1/alerts:evaluate", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _alerts(
    api: TestClient, tenant: ApiTenant, query: str = ""
) -> list[dict[str, Any]]:
    response = api.get(f"/v1/alerts?{query}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_alert_rules_start_with_the_default(api: TestClient, admin: ApiTenant) -> None:
    response = api.get("/v1/alert-rules", headers=admin.headers)
    assert response.status_code == 200, response.text
    (rule,) = response.json()["items"]
    assert {k: rule[k] for k in ("name", "window_days", "min_items", "enabled")} == {
        "name": "polarity-drop",
        "window_days": 14,
        "min_items": 10,
        "enabled": True,
    }
    assert (rule["drop_fraction"], rule["threshold"]) == (0.2, 0.4)


def test_alert_raised_on_a_souring_account_with_evidence(
    api: TestClient, admin: ApiTenant, store_scored: Store, engine: Engine
) -> None:
    ids = store_scored(admin.tenant_id, "sour", _windows(0.5, -0.4))
    store_scored(admin.tenant_id, "steady", _windows(0.3, 0.25))

    assert _evaluate(api, admin) == {"accounts": 2, "raised": 1, "resolved": 0}

    (alert,) = _alerts(api, admin)
    assert (alert["account_id"], alert["status"]) == ("sour", "open")
    assert alert["delta"] == pytest.approx(-0.9)
    evidence = alert["evidence"]
    assert evidence["threshold"] == 0.4
    assert evidence["rule"]["name"] == "polarity-drop"
    comparison = evidence["comparison"]
    assert (comparison["current"]["count"], comparison["previous"]["count"]) == (10, 10)
    assert comparison["previous"]["mean"] == pytest.approx(0.495)  # jitter: -0.005
    assert comparison["low"] < comparison["delta"] < comparison["high"]
    quotes = evidence["quotes"]
    assert len(quotes) == 3
    scores = [q["polarity_score"] for q in quotes]
    assert scores == sorted(scores) and scores[0] == pytest.approx(-0.45)
    current_ids = {str(i) for i in ids[10:]}
    assert {q["feedback_id"] for q in quotes} <= current_ids
    assert all(q["excerpt"].startswith("complaint number") for q in quotes)

    read = api.get(f"/v1/alerts/{alert['id']}", headers=admin.headers)
    assert read.json() == alert
    with create_session_factory(engine)() as session:
        events = session.scalars(
            select(OutboxEvent).where(OutboxEvent.tenant_id == admin.tenant_id)
        ).all()
    assert [e.event_type for e in events] == ["alert.raised"]
    assert events[0].payload["id"] == alert["id"]
    assert events[0].payload["evidence"]["quotes"] == quotes


def test_alert_not_raised_twice_and_resolved_when_it_clears(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    store_scored(admin.tenant_id, "sour", _windows(0.5, -0.4))
    assert _evaluate(api, admin)["raised"] == 1
    assert _evaluate(api, admin) == {"accounts": 1, "raised": 0, "resolved": 0}
    assert len(_alerts(api, admin, "status=open")) == 1

    # Plenty of happy items in the current window lift its mean back up.
    store_scored(admin.tenant_id, "sour", _windows(0.5, 0.9, n=40)[40:])
    assert _evaluate(api, admin)["resolved"] == 1
    (alert,) = _alerts(api, admin)
    assert alert["status"] == "resolved" and alert["resolved_at"] is not None
    assert _alerts(api, admin, "status=open") == []


def test_alert_not_raised_with_too_few_items(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    store_scored(admin.tenant_id, "small", _windows(0.8, -0.8, n=9))
    assert _evaluate(api, admin) == {"accounts": 1, "raised": 0, "resolved": 0}
    assert _alerts(api, admin) == []


def test_alert_raised_after_an_ingest_touches_the_account(
    api: TestClient, admin: ApiTenant, store_scored: Store, feedback_item: Any
) -> None:
    store_scored(admin.tenant_id, "sour", _windows(0.5, -0.4))
    assert _alerts(api, admin) == []
    now = dt.datetime.now(dt.UTC).isoformat()
    posted = api.post(
        "/v1/feedback",
        json=feedback_item(account_id="sour", occurred_at=now),
        headers=admin.headers,
    )
    assert posted.status_code == 201, posted.text
    (alert,) = _alerts(api, admin, "account_id=sour")
    assert alert["evidence"]["comparison"]["current"]["count"] == 11


def test_alert_rules_put_replaces_the_set(api: TestClient, admin: ApiTenant) -> None:
    rules = [
        {"name": "fast", "window_days": 7, "min_items": 5, "drop_fraction": 0.1},
        {"name": "polarity-drop", "enabled": False},
    ]
    response = api.put("/v1/alert-rules", json={"items": rules}, headers=admin.headers)
    assert response.status_code == 200, response.text
    got = {r["name"]: r for r in response.json()["items"]}
    assert got["fast"]["threshold"] == pytest.approx(0.2)
    assert got["polarity-drop"]["enabled"] is False
    assert api.get("/v1/alert-rules", headers=admin.headers).json() == response.json()


@pytest.mark.parametrize(
    ("rules", "field", "code"),
    [
        ([], "items", "too_short"),
        ([{"name": "a"}, {"name": "a"}], "items", "invalid_value"),
        ([{"name": "A b"}], "items[0].name", "invalid_value"),
        ([{"name": "a", "drop_fraction": 0}], "items[0].drop_fraction", "out_of_range"),
        ([{"name": "a", "min_items": 2}], "items[0].min_items", "out_of_range"),
    ],
)
def test_alert_rules_put_refuses_bad_rules(
    api: TestClient, admin: ApiTenant, rules: list[Any], field: str, code: str
) -> None:
    response = api.put("/v1/alert-rules", json={"items": rules}, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        (field, code)
    ]


def test_alert_admin_operations_need_the_admin_scope(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    evaluate = api.post("/v1/alerts:evaluate", headers=api_tenant.headers)
    put = api.put(
        "/v1/alert-rules", json={"items": [{"name": "a"}]}, headers=api_tenant.headers
    )
    assert (evaluate.status_code, put.status_code) == (403, 403)


def test_alerts_are_tenant_scoped(
    api: TestClient,
    admin: ApiTenant,
    other_api_tenant: ApiTenant,
    store_scored: Store,
) -> None:
    store_scored(admin.tenant_id, "sour", _windows(0.5, -0.4))
    _evaluate(api, admin)
    (alert,) = _alerts(api, admin)
    assert _alerts(api, other_api_tenant) == []
    assert _alerts(api, other_api_tenant, "account_id=sour") == []
    response = api.get(f"/v1/alerts/{alert['id']}", headers=other_api_tenant.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.get("/v1/alerts/not-an-id", headers=admin.headers).status_code == 404
