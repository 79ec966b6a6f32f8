"""GET /v1/feedback: filters, cursor pages, and tenant isolation."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from service.storage.session import create_session_factory

if TYPE_CHECKING:
    from conftest import ApiTenant

Item = Callable[..., dict[str, Any]]

TEXTS = [
    "The export failed again and support never answered.",
    "Thank you so much, the new dashboard is wonderful!",
    "I am confused about how billing works for extra seats.",
    "Sync is down for the third day, this is unacceptable.",
    "Great onboarding session, the team loved it.",
]


@pytest.fixture
def stored(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> list[dict[str, Any]]:
    """Five items over five days, two accounts, three channels, two roles."""
    items = [
        feedback_item(
            text=text,
            account_id="acme" if n % 2 == 0 else "globex",
            channel=["ticket", "survey", "chat"][n % 3],
            author_role=["end_user", "executive_sponsor"][n % 2],
            occurred_at=f"2025-03-0{n + 1}T09:00:00Z",
        )
        for n, text in enumerate(TEXTS)
    ]
    response = api.post(
        "/v1/feedback:batch", json={"items": items}, headers=api_tenant.headers
    )
    assert response.json()["created"] == 5
    listed = api.get("/v1/feedback", headers=api_tenant.headers).json()
    items_by_time: list[dict[str, Any]] = listed["items"]
    return items_by_time


def _list(api: TestClient, tenant: ApiTenant, query: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/feedback?{query}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_feedback_list_is_newest_first(stored: list[dict[str, Any]]) -> None:
    times = [i["occurred_at"] for i in stored]
    assert times == sorted(times, reverse=True)
    assert len(stored) == 5


def test_feedback_list_pages_by_cursor(
    api: TestClient, api_tenant: ApiTenant, stored: list[dict[str, Any]]
) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(f"/v1/feedback?{query}", headers=api_tenant.headers).json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [i["id"] for i in stored]


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("account_id=acme", lambda i: i["account_id"] == "acme"),
        ("channel=survey", lambda i: i["channel"] == "survey"),
        ("role=executive_sponsor", lambda i: i["author_role"] == "executive_sponsor"),
        (
            "from=2025-03-02T00:00:00Z&to=2025-03-04T00:00:00Z",
            lambda i: "2025-03-02" <= i["occurred_at"][:10] <= "2025-03-03",
        ),
        (
            "account_id=globex&channel=survey",
            lambda i: i["account_id"] == "globex" and i["channel"] == "survey",
        ),
        ("account_id=nobody", lambda i: False),
    ],
)
def test_feedback_list_filters(
    api: TestClient,
    api_tenant: ApiTenant,
    stored: list[dict[str, Any]],
    query: str,
    keep: Callable[[dict[str, Any]], bool],
) -> None:
    expected = [i["id"] for i in stored if keep(i)]
    assert [i["id"] for i in _list(api, api_tenant, query)] == expected


def test_feedback_list_filters_on_the_stored_analysis(
    api: TestClient, api_tenant: ApiTenant, stored: list[dict[str, Any]]
) -> None:
    for polarity in {i["analysis"]["polarity"]["label"] for i in stored}:
        expected = [
            i["id"] for i in stored if i["analysis"]["polarity"]["label"] == polarity
        ]
        found = _list(api, api_tenant, f"polarity={polarity}")
        assert [i["id"] for i in found] == expected
    labels = {label for i in stored for label in i["analysis"]["cs_labels"]} | {
        label for i in stored for label in i["analysis"]["labels"]
    }
    for label in labels:
        expected = [
            i["id"]
            for i in stored
            if label in i["analysis"]["cs_labels"] or label in i["analysis"]["labels"]
        ]
        assert [i["id"] for i in _list(api, api_tenant, f"emotion={label}")] == expected


def test_feedback_list_shows_only_the_callers_items(
    api: TestClient,
    other_api_tenant: ApiTenant,
    stored: list[dict[str, Any]],
) -> None:
    assert _list(api, other_api_tenant, "") == []
    assert _list(api, other_api_tenant, "account_id=acme") == []


def test_database_unavailable_is_503(api: TestClient, api_tenant: ApiTenant) -> None:
    state = api.app.state  # type: ignore[attr-defined]
    healthy = state.session_factory
    unreachable = create_engine("sqlite:////nonexistent-dir/fm.db")
    state.session_factory = create_session_factory(unreachable)
    try:
        response = api.get("/v1/feedback", headers=api_tenant.headers)
    finally:
        state.session_factory = healthy
        unreachable.dispose()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "detail": "the database is unavailable; retry in a few seconds, and tell "
        "the operator if it persists",
        "code": "database_unavailable",
        "errors": [],
    }


def test_openapi_documents_the_stored_api(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert {
        "/v1/feedback",
        "/v1/feedback:batch",
        "/v1/feedback/{feedback_id}",
        "/v1/accounts",
        "/v1/accounts/{account_id}",
        "/v1/accounts/{account_id}/contacts",
    } <= set(paths)
    parameters = {p["name"] for p in paths["/v1/feedback"]["get"]["parameters"]}
    assert {"account_id", "channel", "role", "from", "to", "emotion"} <= parameters
