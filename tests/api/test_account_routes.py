"""/v1/accounts and their contacts: create, read, update, list."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import ApiTenant


def _account(**fields: Any) -> dict[str, Any]:
    return {"external_id": f"acct-{uuid.uuid4().hex[:8]}", **fields}


def test_account_create_read_update(api: TestClient, api_tenant: ApiTenant) -> None:
    payload = _account(
        name="Acme",
        segment="mid-market",
        arr=52000.5,
        contract_start="2025-01-01",
        renewal_date="2026-01-01",
        lifecycle_stage="adoption",
    )
    created = api.post("/v1/accounts", json=payload, headers=api_tenant.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["arr"] == "52000.50"
    assert body["lifecycle_stage"] == "adoption"
    path = f"/v1/accounts/{payload['external_id']}"
    assert api.get(path, headers=api_tenant.headers).json() == body

    changed = api.patch(
        path, json={"name": "Acme Inc", "segment": None}, headers=api_tenant.headers
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert (after["name"], after["segment"], after["lifecycle_stage"]) == (
        "Acme Inc",
        None,
        "adoption",
    )


def test_account_create_twice_is_409(api: TestClient, api_tenant: ApiTenant) -> None:
    payload = _account(name="Acme")
    api.post("/v1/accounts", json=payload, headers=api_tenant.headers)
    again = api.post("/v1/accounts", json=payload, headers=api_tenant.headers)
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "conflict"
    assert body["detail"] == (
        f"an account with id {payload['external_id']!r} exists already; change it "
        f"with PATCH /v1/accounts/{payload['external_id']}"
    )


def test_account_unknown_is_404(api: TestClient, api_tenant: ApiTenant) -> None:
    response = api.get("/v1/accounts/nobody", headers=api_tenant.headers)
    assert response.status_code == 404
    assert response.json()["errors"] == [
        {
            "field": "account_id",
            "code": "not_found",
            "message": "no account with id 'nobody'; create it with POST "
            "/v1/accounts or by posting feedback for it",
        }
    ]


def test_accounts_list_pages_by_cursor(api: TestClient, make_api_tenant: Any) -> None:
    tenant = make_api_tenant()
    names = ["a-1", "b-2", "c-3", "d-4", "e-5"]
    for name in reversed(names):
        api.post("/v1/accounts", json={"external_id": name}, headers=tenant.headers)
    seen: list[str] = []
    cursor = ""
    while True:
        page = api.get(f"/v1/accounts?limit=2{cursor}", headers=tenant.headers).json()
        seen += [a["external_id"] for a in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == names


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"segment": "huge"}, "segment", "invalid_value"),
        ({"arr": -1}, "arr", "out_of_range"),
        ({"arr": "lots"}, "arr", "invalid_type"),
        ({"renewal_date": "next spring"}, "renewal_date", "invalid_type"),
        ({"lifecycle_stage": "churned"}, "lifecycle_stage", "invalid_value"),
        ({"external_id": ""}, "external_id", "too_short"),
        ({"name": 7}, "name", "invalid_type"),
    ],
)
def test_account_bad_fields_are_named(
    api: TestClient,
    api_tenant: ApiTenant,
    payload: dict[str, Any],
    field: str,
    code: str,
) -> None:
    response = api.post(
        "/v1/accounts", json=_account(**payload), headers=api_tenant.headers
    )
    assert response.status_code == 422, response.text
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_contacts_create_and_list(api: TestClient, api_tenant: ApiTenant) -> None:
    account = _account()
    api.post("/v1/accounts", json=account, headers=api_tenant.headers)
    path = f"/v1/accounts/{account['external_id']}/contacts"
    first = api.post(
        path,
        json={"name": "Ada", "email": "ada@example.com", "role": "executive_sponsor"},
        headers=api_tenant.headers,
    )
    second = api.post(path, json={"name": "Bob"}, headers=api_tenant.headers)
    assert (first.status_code, second.status_code) == (201, 201)
    listed = api.get(path, headers=api_tenant.headers).json()["items"]
    assert [(c["name"], c["role"]) for c in listed] == [
        ("Ada", "executive_sponsor"),
        ("Bob", "other"),
    ]
    assert {c["account_id"] for c in listed} == {account["external_id"]}


def test_contact_same_email_twice_is_409(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    account = _account()
    api.post("/v1/accounts", json=account, headers=api_tenant.headers)
    path = f"/v1/accounts/{account['external_id']}/contacts"
    contact = {"email": "ada@example.com"}
    api.post(path, json=contact, headers=api_tenant.headers)
    again = api.post(path, json=contact, headers=api_tenant.headers)
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "email"


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"role": "ceo"}, "role", "invalid_value"),
        ({"email": "not an address"}, "email", "invalid_value"),
    ],
)
def test_contact_bad_fields_are_named(
    api: TestClient,
    api_tenant: ApiTenant,
    payload: dict[str, Any],
    field: str,
    code: str,
) -> None:
    account = _account()
    api.post("/v1/accounts", json=account, headers=api_tenant.headers)
    response = api.post(
        f"/v1/accounts/{account['external_id']}/contacts",
        json=payload,
        headers=api_tenant.headers,
    )
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        (field, code)
    ]


def test_contacts_of_an_unknown_account_is_404(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    response = api.post(
        "/v1/accounts/nobody/contacts", json={"name": "Ada"}, headers=api_tenant.headers
    )
    assert response.status_code == 404


def _contact(
    api: TestClient, tenant: ApiTenant, **fields: Any
) -> tuple[str, dict[str, Any]]:
    """Create an account with one contact; return the contact's path and body."""
    account = _account()
    api.post("/v1/accounts", json=account, headers=tenant.headers)
    created = api.post(
        f"/v1/accounts/{account['external_id']}/contacts",
        json=fields,
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return f"/v1/accounts/{account['external_id']}/contacts/{body['id']}", body


def test_contact_read_and_update(api: TestClient, api_tenant: ApiTenant) -> None:
    path, created = _contact(
        api, api_tenant, name="Ada", email="ada@example.com", role="end_user"
    )
    assert api.get(path, headers=api_tenant.headers).json() == created

    changed = api.patch(
        path, json={"email": None, "role": "it_admin"}, headers=api_tenant.headers
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after == {**created, "email": None, "role": "it_admin"}
    assert api.get(path, headers=api_tenant.headers).json() == after
    unchanged = api.patch(path, json={}, headers=api_tenant.headers)
    assert unchanged.json() == after


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"role": "ceo"}, "role", "invalid_value"),
        ({"email": "not an address"}, "email", "invalid_value"),
        ({"name": 7}, "name", "invalid_type"),
        ({"name": "x" * 201}, "name", "too_long"),
        ({"phone": "555-0100"}, "phone", "unknown_field"),
    ],
)
def test_contact_update_bad_fields_are_named(
    api: TestClient,
    api_tenant: ApiTenant,
    payload: dict[str, Any],
    field: str,
    code: str,
) -> None:
    path, created = _contact(api, api_tenant, name="Ada")
    response = api.patch(path, json=payload, headers=api_tenant.headers)
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        (field, code)
    ]
    assert api.get(path, headers=api_tenant.headers).json() == created


def test_contact_role_cannot_be_cleared(api: TestClient, api_tenant: ApiTenant) -> None:
    path, _ = _contact(api, api_tenant, role="executive_sponsor")
    response = api.patch(path, json={"role": None}, headers=api_tenant.headers)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("role", "invalid_value")
    assert error["message"] == (
        "expected one of 'executive_sponsor', 'end_user', 'it_admin', 'other'; "
        "a contact always has a role, so it cannot be cleared with null. Send "
        "'other' instead"
    )


def test_contact_update_to_a_taken_email_is_409(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    path, _ = _contact(api, api_tenant, email="ada@example.com")
    contacts = path.rsplit("/", 1)[0]
    api.post(contacts, json={"email": "bob@example.com"}, headers=api_tenant.headers)
    response = api.patch(
        path, json={"email": "bob@example.com"}, headers=api_tenant.headers
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "email"
    assert api.get(path, headers=api_tenant.headers).json()["email"] == (
        "ada@example.com"
    )


def test_contact_of_another_tenant_is_404(
    api: TestClient, api_tenant: ApiTenant, other_api_tenant: ApiTenant
) -> None:
    path, created = _contact(api, api_tenant, name="Ada")
    account_id = path.split("/")[3]
    # The other tenant knows an account by the same id, and has a contact of its own.
    other = other_api_tenant.headers
    api.post("/v1/accounts", json={"external_id": account_id}, headers=other)
    other_path, _ = _contact(api, other_api_tenant)

    for method, json in [("GET", None), ("PATCH", {"name": "Eve"})]:
        response = api.request(method, path, json=json, headers=other)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["errors"] == [
            {
                "field": "contact_id",
                "code": "not_found",
                "message": f"no contact with id {created['id']!r} at account "
                f"{account_id!r}; use an id returned by GET "
                f"/v1/accounts/{account_id}/contacts",
            }
        ]
        theirs = api.request(method, other_path, json=json, headers=api_tenant.headers)
        assert theirs.status_code == 404, (method, theirs.text)
    assert api.get(path, headers=api_tenant.headers).json() == created


@pytest.mark.parametrize("contact_id", ["not-a-uuid", str(uuid.UUID(int=0)), None])
def test_contact_unknown_is_404(
    api: TestClient, api_tenant: ApiTenant, contact_id: str | None
) -> None:
    path, _ = _contact(api, api_tenant)
    if contact_id is None:
        # A contact of another account of the same tenant is not this account's.
        other_path, _ = _contact(api, api_tenant)
        contact_id = other_path.rsplit("/", 1)[1]
    unknown = f"{path.rsplit('/', 1)[0]}/{contact_id}"
    for method, json in [("GET", None), ("PATCH", {"name": "Eve"})]:
        response = api.request(method, unknown, json=json, headers=api_tenant.headers)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["errors"][0]["field"] == "contact_id"
