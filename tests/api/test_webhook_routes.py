"""``/v1/webhooks``: admin scope, the secret shown once, tenant isolation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import ApiTenant

URL = "https://hooks.example.com/feedback-miner"


@pytest.fixture
def admin(make_api_tenant: Callable[..., ApiTenant]) -> ApiTenant:
    return make_api_tenant("admin", prefix="hooks")


def test_create_webhook_shows_the_secret_once(
    api: TestClient, admin: ApiTenant
) -> None:
    created = api.post(
        "/v1/webhooks",
        headers=admin.headers,
        json={"url": URL, "events": ["alert.raised"], "description": "CS channel"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["events"] == ["alert.raised"]

    listed = api.get("/v1/webhooks", headers=admin.headers).json()["items"]
    assert [w["id"] for w in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert listed[0]["description"] == "CS channel"


def test_delete_webhook_stops_listing_it(api: TestClient, admin: ApiTenant) -> None:
    created = api.post(
        "/v1/webhooks",
        headers=admin.headers,
        json={"url": URL, "events": ["alert.raised"]},
    ).json()
    deleted = api.delete(f"/v1/webhooks/{created['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    assert api.get("/v1/webhooks", headers=admin.headers).json() == {"items": []}
    again = api.delete(f"/v1/webhooks/{created['id']}", headers=admin.headers)
    assert again.status_code == 404


def test_webhooks_of_another_tenant_are_not_found(
    api: TestClient, admin: ApiTenant, make_api_tenant: Callable[..., ApiTenant]
) -> None:
    created = api.post(
        "/v1/webhooks",
        headers=admin.headers,
        json={"url": URL, "events": ["alert.raised"]},
    ).json()
    other = make_api_tenant("admin", prefix="other")
    assert api.get("/v1/webhooks", headers=other.headers).json() == {"items": []}
    response = api.delete(f"/v1/webhooks/{created['id']}", headers=other.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert len(api.get("/v1/webhooks", headers=admin.headers).json()["items"]) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/webhooks"), ("GET", "/v1/webhooks"), ("DELETE", "/v1/webhooks/x")],
)
def test_webhooks_need_the_admin_scope(
    api: TestClient, api_tenant: ApiTenant, method: str, path: str
) -> None:
    response = api.request(
        method, path, headers=api_tenant.headers, json={"url": URL, "events": []}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (
            {"url": "ftp://example.com/x", "events": ["alert.raised"]},
            "url",
            "invalid_value",
        ),
        (
            {"url": "example.com/hook", "events": ["alert.raised"]},
            "url",
            "invalid_value",
        ),
        (
            {
                "url": "http://169.254.169.254/latest/meta-data",
                "events": ["alert.raised"],
            },
            "url",
            "forbidden_target",
        ),
        (
            {"url": "https://10.0.0.5/hook", "events": ["alert.raised"]},
            "url",
            "forbidden_target",
        ),
        (
            {"url": "http://localhost:8080/hook", "events": ["alert.raised"]},
            "url",
            "forbidden_target",
        ),
        ({"url": URL, "events": ["alert.exploded"]}, "events[0]", "invalid_value"),
        ({"url": URL, "events": []}, "events", "too_short"),
        ({"url": 42, "events": ["alert.raised"]}, "url", "invalid_type"),
        ({"events": ["alert.raised"]}, "url", "missing"),
        (
            {"url": URL, "events": ["alert.raised"], "secret": "x"},
            "secret",
            "unknown_field",
        ),
    ],
)
def test_create_webhook_refuses_bad_input(
    api: TestClient, admin: ApiTenant, body: dict[str, object], field: str, code: str
) -> None:
    response = api.post("/v1/webhooks", headers=admin.headers, json=body)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]


def test_create_webhook_refusal_says_what_a_url_must_be(
    api: TestClient, admin: ApiTenant
) -> None:
    response = api.post(
        "/v1/webhooks",
        headers=admin.headers,
        json={"url": "example.com/hook", "events": ["alert.raised"]},
    )
    assert response.json()["detail"] == (
        "url: expected an absolute URL starting with http:// or https://, got "
        "'example.com/hook'; give the full address the events should be posted to"
    )


def test_delete_webhook_with_a_malformed_id_is_404(
    api: TestClient, admin: ApiTenant
) -> None:
    response = api.delete(
        f"/v1/webhooks/not-a-uuid-{uuid.uuid4().hex[:4]}", headers=admin.headers
    )
    assert response.status_code == 404
