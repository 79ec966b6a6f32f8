"""Regression tests for inputs a new-user review sent that once answered 500.

Each keeps the raw request body that broke the service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import ApiTenant

Item = Callable[..., dict[str, Any]]
JSON = {"content-type": "application/json"}


def _post_raw(api: TestClient, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return api.post(path, content=body, headers={**headers, **JSON})


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": NaN}',
        b'{"text": 1e999}',
        b'{"text": "hi", "x": Infinity}',
        b'{"text": "hi", "\\ud83d": 1}',
    ],
)
def test_analyze_unrenderable_input_is_a_422_not_a_500(
    api: TestClient, body: bytes
) -> None:
    response = _post_raw(api, "/v1/analyze", body, {})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("raw_field", "field"),
    [
        (b'"text": "broken \\ud83d here"', "text"),
        (b'"metadata": {"a": "\\ud83d"}', "metadata"),
        (b'"text": "nul \\u0000 byte"', "text"),
        (b'"source": "\\udc00"', "source"),
    ],
)
def test_feedback_unstorable_text_is_refused_naming_the_field(
    api: TestClient, api_tenant: ApiTenant, raw_field: bytes, field: str
) -> None:
    # The hostile field replaces (or joins) the fields of a valid item.
    fields = [
        b'"external_id": "hostile-1"',
        b'"account_id": "acme"',
        b'"channel": "ticket"',
        b'"occurred_at": "2025-03-01T12:00:00Z"',
    ]
    if field != "text":
        fields.append(b'"text": "fine"')
    body = b"{" + b", ".join([*fields, raw_field]) + b"}"
    response = _post_raw(api, "/v1/feedback", body, api_tenant.headers)
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert error["code"] == "invalid_text"
    assert "expected Unicode text that can be stored" in error["message"]
    # Nothing was stored, and reading the tenant's feedback still works.
    assert api.get("/v1/feedback", headers=api_tenant.headers).status_code == 200


def test_feedback_batch_isolates_an_unstorable_item(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    body = (
        b'{"items": [{"external_id": "ok-1", "account_id": "acme", "channel": "ticket",'
        b' "occurred_at": "2025-03-01T12:00:00Z", "text": "all good"},'
        b' {"external_id": "bad-1", "account_id": "x\\ud83d", "channel": "ticket",'
        b' "occurred_at": "2025-03-01T12:00:00Z", "text": "broken \\ud83d"}]}'
    )
    response = _post_raw(api, "/v1/feedback:batch", body, api_tenant.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["failed"]) == (1, 1)


@pytest.mark.parametrize("account_id", ["a/b", "   ", "tab\there"])
def test_feedback_account_ids_must_be_addressable(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item, account_id: str
) -> None:
    response = api.post(
        "/v1/feedback",
        json=feedback_item(account_id=account_id),
        headers=api_tenant.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "account_id"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/feedback?from=0001-01-01T00:00:00%2B14:00"),
        ("get", "/v1/feedback?to=9999-12-31T23:59:59-14:00"),
        ("get", "/v1/accounts/acme/sentiment?to=0001-01-01T00:00:00Z"),
        ("get", "/v1/accounts/acme/sentiment?to=9999-12-31T23:59:59Z&bucket=week"),
    ],
)
def test_extreme_times_in_queries_are_422(
    api: TestClient, api_tenant: ApiTenant, method: str, path: str
) -> None:
    response = getattr(api, method)(path, headers=api_tenant.headers)
    assert response.status_code == 422, response.text
    assert "expected a time between 1970-01-01 and 2200-01-01" in response.text


def test_extreme_occurred_at_is_422(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    item = feedback_item(occurred_at="0001-01-01T00:00:00+14:00")
    response = api.post("/v1/feedback", json=item, headers=api_tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "occurred_at"


@pytest.mark.parametrize("raw", [b"NaN", b"1e999"])
def test_feedback_non_finite_rating_is_422(
    api: TestClient, api_tenant: ApiTenant, raw: bytes
) -> None:
    body = (
        b'{"external_id": "nan-1", "account_id": "acme", "channel": "ticket",'
        b' "occurred_at": "2025-03-01T12:00:00Z", "text": "ok", "rating": ' + raw + b"}"
    )
    response = _post_raw(api, "/v1/feedback", body, api_tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "rating"


def test_unknown_emotion_filter_message_is_filled_in(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    response = api.get("/v1/feedback?emotion=happiness", headers=api_tenant.headers)
    assert response.status_code == 422
    assert "got 'happiness'" in response.json()["errors"][0]["message"]
