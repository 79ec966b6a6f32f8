"""Bad input to the stored API: each case answered 4xx with the field and a code.

Every answer here has the one error shape and no traceback; none is a 500.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import ApiTenant

Item = Callable[..., dict[str, Any]]


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert body["code"] == code
    assert "Traceback" not in response.text
    return body


def _fields(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in body["errors"]]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"text": 5}, "text", "invalid_type"),
        ({"external_id": 12}, "external_id", "invalid_type"),
        ({"rating": "high"}, "rating", "invalid_type"),
        ({"nps_score": 7.5}, "nps_score", "invalid_type"),
        ({"nps_score": 11}, "nps_score", "out_of_range"),
        ({"metadata": ["a"]}, "metadata", "invalid_type"),
        ({"turns": "hello"}, "turns", "invalid_type"),
        ({"occurred_at": 1_700_000_000}, "occurred_at", "invalid_type"),
        ({"occurred_at": "yesterday"}, "occurred_at", "invalid_type"),
        ({"colour": "red"}, "colour", "unknown_field"),
    ],
)
def test_feedback_wrong_types_are_named(
    api: TestClient,
    api_tenant: ApiTenant,
    feedback_item: Item,
    fields: dict[str, Any],
    field: str,
    code: str,
) -> None:
    response = api.post(
        "/v1/feedback", json=feedback_item(**fields), headers=api_tenant.headers
    )
    body = _error(response, 422, "validation_error")
    assert (field, code) in _fields(body)


def test_feedback_unknown_channel_names_the_choices(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    response = api.post(
        "/v1/feedback", json=feedback_item(channel="fax"), headers=api_tenant.headers
    )
    body = _error(response, 422, "validation_error")
    (error,) = body["errors"]
    assert (error["field"], error["code"], error["received"]) == (
        "channel",
        "invalid_value",
        "fax",
    )
    assert "'ticket'" in error["message"] and "'community'" in error["message"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": None, "turns": [{"role": "robot", "text": "hi"}]}, "turns[0].role"),
        ({"author_role": "ceo"}, "author_role"),
    ],
)
def test_feedback_unknown_role_is_named(
    api: TestClient,
    api_tenant: ApiTenant,
    feedback_item: Item,
    fields: dict[str, Any],
    field: str,
) -> None:
    response = api.post(
        "/v1/feedback", json=feedback_item(**fields), headers=api_tenant.headers
    )
    body = _error(response, 422, "validation_error")
    assert _fields(body) == [(field, "invalid_value")]


def test_feedback_missing_text_says_what_to_send(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    response = api.post(
        "/v1/feedback", json=feedback_item(text=None), headers=api_tenant.headers
    )
    body = _error(response, 422, "validation_error")
    assert body["errors"] == [
        {
            "field": "text",
            "code": "missing",
            "message": "expected 'text' (a string) or 'turns' (a transcript), "
            "got neither",
        }
    ]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"text": "   "}, "text", "empty"),
        ({"turns": [{"role": "customer", "text": "hi"}]}, "turns", "invalid_value"),
        ({"turns": []}, "turns", "too_short"),
        ({"external_id": ""}, "external_id", "too_short"),
    ],
)
def test_feedback_empty_or_conflicting_content_is_refused(
    api: TestClient,
    api_tenant: ApiTenant,
    feedback_item: Item,
    fields: dict[str, Any],
    field: str,
    code: str,
) -> None:
    response = api.post(
        "/v1/feedback", json=feedback_item(**fields), headers=api_tenant.headers
    )
    assert _fields(_error(response, 422, "validation_error")) == [(field, code)]


def test_feedback_text_over_the_size_limit_says_the_limit(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    response = api.post(
        "/v1/feedback", json=feedback_item(text="a" * 2_001), headers=api_tenant.headers
    )
    body = _error(response, 422, "validation_error")
    assert body["errors"] == [
        {
            "field": "text",
            "code": "text_too_long",
            "message": "the text is 2,001 characters; the limit is 2,000. "
            "Split it into several items.",
        }
    ]


def test_feedback_transcript_over_the_size_limit_says_the_limit(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    turns = [{"role": "customer", "text": "b" * 1_500}] * 2
    response = api.post(
        "/v1/feedback",
        json=feedback_item(text=None, turns=turns),
        headers=api_tenant.headers,
    )
    body = _error(response, 422, "validation_error")
    assert _fields(body) == [("turns", "text_too_long")]
    assert "3,000 characters; the limit is 2,000" in body["detail"]


def test_feedback_occurred_at_far_in_the_future_is_refused(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    response = api.post(
        "/v1/feedback",
        json=feedback_item(occurred_at=when.isoformat()),
        headers=api_tenant.headers,
    )
    body = _error(response, 422, "validation_error")
    (error,) = body["errors"]
    assert (error["field"], error["code"]) == ("occurred_at", "in_future")
    assert error["message"].startswith(
        "expected a time at most 1 day ahead of the server clock (at most "
    )
    assert (
        f"got {when.isoformat()}; send when the feedback was given"
        in (error["message"])
    )


def test_feedback_occurred_at_a_little_ahead_is_accepted(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(hours=20)
    response = api.post(
        "/v1/feedback",
        json=feedback_item(occurred_at=when.isoformat()),
        headers=api_tenant.headers,
    )
    assert response.status_code == 201, response.text


def test_feedback_occurred_at_without_a_zone_is_refused(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    response = api.post(
        "/v1/feedback",
        json=feedback_item(occurred_at="2025-03-01T12:00:00"),
        headers=api_tenant.headers,
    )
    body = _error(response, 422, "validation_error")
    assert _fields(body) == [("occurred_at", "invalid_value")]


def test_a_nan_rating_is_not_a_finite_number(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    body = json.dumps(feedback_item()).replace("}", ', "rating": NaN}')
    response = api.post(
        "/v1/feedback",
        content=body.encode(),
        headers={**api_tenant.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert _fields(response.json()) == [("rating", "finite_number")]


@pytest.mark.parametrize("path", ["/v1/feedback", "/v1/feedback:batch"])
def test_malformed_json_is_refused(
    api: TestClient, api_tenant: ApiTenant, path: str
) -> None:
    response = api.post(
        path,
        content=b'{"items": [{"external_id": ',
        headers={**api_tenant.headers, "content-type": "application/json"},
    )
    body = _error(response, 422, "malformed_json")
    assert body["detail"] == "the request body is not valid JSON"


@pytest.mark.parametrize(
    "content",
    [b'{"channel": "\xff\xfe"}', b"[" * 100_000 + b"]" * 100_000],
    ids=["not-utf8", "too-deep"],
)
def test_a_body_that_cannot_be_read_is_malformed_json(
    api: TestClient, api_tenant: ApiTenant, content: bytes
) -> None:
    response = api.post(
        "/v1/feedback",
        content=content,
        headers={**api_tenant.headers, "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "malformed_json"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("body", "malformed_json")
    ]


def test_batch_over_the_item_limit_is_413(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    items = [{"external_id": str(n)} for n in range(5_001)]
    response = api.post(
        "/v1/feedback:batch", json={"items": items}, headers=api_tenant.headers
    )
    body = _error(response, 413, "request_too_large")
    assert body["detail"] == (
        "items: 5,001 items; the limit is 5,000 per call. Split the batch."
    )
    assert _fields(body) == [("items", "request_too_large")]


def test_batch_over_the_byte_limit_is_413(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    item = feedback_item(text="x" * 1_000)
    content = json.dumps({"items": [item] * 33_000}).encode()
    assert len(content) > 32 * 2**20
    response = api.post(
        "/v1/feedback:batch",
        content=content,
        headers={**api_tenant.headers, "content-type": "application/json"},
    )
    body = _error(response, 413, "request_too_large")
    assert body["detail"] == (
        f"the request body is {len(content):,} bytes; the limit is 33,554,432 "
        "bytes (32 MiB) per call to /v1/feedback:batch. Split it into smaller "
        "requests."
    )


def test_batch_over_the_byte_limit_without_a_length_is_413(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"items": ["'
        for _ in range(33):
            yield b"y" * 2**20
        yield b'"]}'

    response = api.post(
        "/v1/feedback:batch",
        content=chunks(),
        headers={**api_tenant.headers, "content-type": "application/json"},
    )
    body = _error(response, 413, "request_too_large")
    assert body["detail"].startswith(
        "the request body is over 33,554,432 bytes; the limit is 33,554,432 bytes"
    )


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("channel=fax", "channel", "invalid_value"),
        ("role=ceo", "role", "invalid_value"),
        ("polarity=great", "polarity", "invalid_value"),
        ("emotion=happy", "emotion", "invalid_value"),
        ("from=2025-01-01T00:00:00", "from", "invalid_value"),
        ("to=soon", "to", "invalid_type"),
        ("limit=0", "limit", "out_of_range"),
        ("limit=many", "limit", "invalid_type"),
        ("colour=red", "colour", "unknown_field"),
    ],
)
def test_feedback_list_bad_filters_are_named(
    api: TestClient, api_tenant: ApiTenant, query: str, field: str, code: str
) -> None:
    response = api.get(f"/v1/feedback?{query}", headers=api_tenant.headers)
    assert (field, code) in _fields(_error(response, 422, "validation_error"))


def test_feedback_list_empty_time_range_is_refused(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    response = api.get(
        "/v1/feedback?from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z",
        headers=api_tenant.headers,
    )
    body = _error(response, 422, "validation_error")
    assert body["errors"] == [
        {
            "field": "to",
            "code": "invalid_value",
            "message": "expected 'to' later than 'from' (2025-03-02T00:00:00+00:00), "
            "got 2025-03-01T00:00:00+00:00",
        }
    ]


def test_feedback_list_foreign_cursor_is_refused(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    response = api.get("/v1/feedback?cursor=bogus", headers=api_tenant.headers)
    body = _error(response, 400, "invalid_cursor")
    assert _fields(body) == [("cursor", "invalid_cursor")]
