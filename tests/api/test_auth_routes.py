"""API keys: 401 without a live key, 403 without the scope, 404 across tenants."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.storage.keys import authenticate, revoke_api_key
from service.storage.session import create_session_factory, session_scope

if TYPE_CHECKING:
    from conftest import ApiTenant

Item = Callable[..., dict[str, Any]]

ROUTES = [
    ("POST", "/v1/feedback"),
    ("POST", "/v1/feedback:batch"),
    ("GET", "/v1/feedback"),
    ("GET", f"/v1/feedback/{uuid.uuid4()}"),
    ("POST", "/v1/accounts"),
    ("GET", "/v1/accounts"),
    ("GET", "/v1/accounts/acme"),
    ("PATCH", "/v1/accounts/acme"),
    ("POST", "/v1/accounts/acme/contacts"),
    ("GET", "/v1/accounts/acme/contacts"),
]


def _unauthorized(response: Any) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    body: dict[str, Any] = response.json()
    assert body["code"] == "unauthorized"
    assert [e["field"] for e in body["errors"]] == ["Authorization"]
    return body


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_missing_api_key_is_401(api: TestClient, method: str, path: str) -> None:
    body = _unauthorized(api.request(method, path, json={}))
    assert body["detail"] == (
        "expected an API key as 'Authorization: Bearer <key>', got none; "
        "create one with 'feedback-miner tenants create NAME'"
    )


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer fm_000000000000_not-a-real-secret",
        "Bearer something-else",
        "Basic dXNlcjpwYXNz",
        "Bearer",
    ],
)
def test_wrong_api_key_is_401(api: TestClient, authorization: str) -> None:
    response = api.get("/v1/feedback", headers={"Authorization": authorization})
    _unauthorized(response)


def test_right_prefix_with_a_wrong_secret_is_401(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    key = api_tenant.headers["Authorization"]
    tampered = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    _unauthorized(api.get("/v1/feedback", headers={"Authorization": tampered}))


def test_revoked_api_key_is_401(
    api: TestClient, api_tenant: ApiTenant, engine: Engine
) -> None:
    headers = api_tenant.key(engine, "read")
    assert api.get("/v1/feedback", headers=headers).status_code == 200
    with session_scope(create_session_factory(engine)) as session:
        plain = headers["Authorization"].removeprefix("Bearer ")
        stored = authenticate(session, plain)
        assert stored is not None
        revoke_api_key(session, api_tenant.tenant_id, stored.id)
    _unauthorized(api.get("/v1/feedback", headers=headers))


@pytest.mark.parametrize(
    ("scope", "method", "path", "needed"),
    [
        ("read", "POST", "/v1/feedback", "ingest"),
        ("read", "POST", "/v1/feedback:batch", "ingest"),
        ("read", "POST", "/v1/accounts", "ingest"),
        ("ingest", "GET", "/v1/feedback", "read"),
        ("ingest", "GET", "/v1/accounts", "read"),
    ],
)
def test_key_without_the_scope_is_403(
    api: TestClient,
    api_tenant: ApiTenant,
    engine: Engine,
    scope: str,
    method: str,
    path: str,
    needed: str,
) -> None:
    headers = api_tenant.key(engine, scope)
    response = api.request(method, path, json={}, headers=headers)
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["code"] == "insufficient_scope"
    assert body["detail"] == (
        f"this API key lacks the {needed!r} scope that the operation needs "
        f"(it has: {scope}); use a key issued with that scope"
    )


def test_admin_key_has_every_scope(
    api: TestClient, api_tenant: ApiTenant, engine: Engine, feedback_item: Item
) -> None:
    headers = api_tenant.key(engine, "admin")
    created = api.post("/v1/feedback", json=feedback_item(), headers=headers)
    assert created.status_code == 201
    assert api.get("/v1/feedback", headers=headers).status_code == 200


def test_another_tenants_feedback_id_is_404(
    api: TestClient,
    api_tenant: ApiTenant,
    other_api_tenant: ApiTenant,
    feedback_item: Item,
) -> None:
    theirs = api.post(
        "/v1/feedback", json=feedback_item(), headers=other_api_tenant.headers
    ).json()
    response = api.get(f"/v1/feedback/{theirs['id']}", headers=api_tenant.headers)
    assert response.status_code == 404
    absent = api.get(f"/v1/feedback/{uuid.uuid4()}", headers=api_tenant.headers)
    assert response.json()["code"] == absent.json()["code"] == "not_found"
    assert (
        api.get("/v1/feedback/not-an-id", headers=api_tenant.headers).status_code == 404
    )


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/v1/accounts/{id}", None),
        ("PATCH", "/v1/accounts/{id}", {"name": "Mine now"}),
        ("GET", "/v1/accounts/{id}/contacts", None),
        ("POST", "/v1/accounts/{id}/contacts", {"name": "Eve"}),
    ],
)
def test_another_tenants_account_is_404(
    api: TestClient,
    api_tenant: ApiTenant,
    other_api_tenant: ApiTenant,
    method: str,
    path: str,
    payload: dict[str, Any] | None,
) -> None:
    external_id = f"theirs-{uuid.uuid4().hex[:6]}"
    created = api.post(
        "/v1/accounts",
        json={"external_id": external_id, "name": "Initech"},
        headers=other_api_tenant.headers,
    )
    assert created.status_code == 201
    response = api.request(
        method,
        path.format(id=external_id),
        json=payload,
        headers=api_tenant.headers,
    )
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"
    unchanged = api.get(
        f"/v1/accounts/{external_id}", headers=other_api_tenant.headers
    ).json()
    assert unchanged["name"] == "Initech"
