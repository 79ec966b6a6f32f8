"""POST /v1/feedback and /v1/feedback:batch: redact, analyse, store, idempotently."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.storage.feedback import get_feedback

if TYPE_CHECKING:
    from conftest import ApiTenant

Item = Callable[..., dict[str, Any]]


def test_post_feedback_stores_a_redacted_analysed_item(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    text = (
        "Hi, Jane Doe here (jane.doe@example.com). The export failed again and "
        "I am really annoyed."
    )
    payload = feedback_item(text=text, author_role="end_user", nps_score=3)
    response = api.post("/v1/feedback", json=payload, headers=api_tenant.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["external_id"] == payload["external_id"]
    assert body["account_id"] == "acme"
    assert "jane.doe@example.com" not in body["text"]
    assert "<EMAIL_ADDRESS>" in body["text"]
    assert "EMAIL_ADDRESS" in body["redacted"]
    assert body["nps_score"] == 3
    assert body["occurred_at"] == "2025-03-01T12:00:00Z"
    analysis = body["analysis"]
    assert analysis["status"] == "scored"
    assert analysis["model_version"] == "emotion-head.v1.1"
    assert len(analysis["emotions"]) == 28
    assert analysis["polarity"]["score"] < 0, analysis

    stored = api.get(f"/v1/feedback/{body['id']}", headers=api_tenant.headers)
    assert stored.status_code == 200
    assert stored.json() == body


def test_post_feedback_same_external_id_returns_the_stored_item(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    first = feedback_item(text="Thanks, the fix works.")
    retry = {**first, "text": "A different text under the same id."}
    created = api.post("/v1/feedback", json=first, headers=api_tenant.headers)
    again = api.post("/v1/feedback", json=retry, headers=api_tenant.headers)
    assert (created.status_code, again.status_code) == (201, 200)
    assert again.json() == created.json()
    listed = api.get("/v1/feedback", headers=api_tenant.headers).json()
    assert [i["id"] for i in listed["items"]] == [created.json()["id"]]


def test_post_feedback_transcript_is_redacted_turn_by_turn(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    turns = [
        {"role": "customer", "text": "Call me on +1 415-555-0134, sync is down."},
        {"role": "agent", "text": "Sorry! I restarted the connector."},
        {"role": "customer", "text": "Works now, thank you!"},
    ]
    payload = feedback_item(text=None, turns=turns, channel="chat")
    response = api.post("/v1/feedback", json=payload, headers=api_tenant.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["text"] is None
    assert [t["role"] for t in body["turns"]] == ["customer", "agent", "customer"]
    assert "415-555-0134" not in body["turns"][0]["text"]
    assert body["redacted"] == ["PHONE_NUMBER"]
    assert body["analysis"]["split"]["method"] == "turns"
    assert len(body["analysis"]["trajectory"]) == 3


def test_post_feedback_creates_an_unknown_account_from_the_fields_given(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    account = {"name": "Globex", "segment": "enterprise", "arr": "120000.00"}
    payload = feedback_item(account_id="globex", account=account)
    assert (
        api.post("/v1/feedback", json=payload, headers=api_tenant.headers).status_code
        == 201
    )
    stored = api.get("/v1/accounts/globex", headers=api_tenant.headers).json()
    assert (stored["name"], stored["segment"], stored["arr"]) == (
        "Globex",
        "enterprise",
        "120000.00",
    )


def test_raw_text_is_kept_only_for_tenants_that_turn_it_on(
    api: TestClient,
    make_api_tenant: Callable[..., ApiTenant],
    feedback_item: Item,
    session: Session,
) -> None:
    text = "Please call Jane Doe about the invoice."
    for keeps in (False, True):
        tenant = make_api_tenant(store_raw_text=keeps)
        response = api.post(
            "/v1/feedback", json=feedback_item(text=text), headers=tenant.headers
        )
        stored = get_feedback(
            session, tenant.tenant_id, uuid.UUID(response.json()["id"])
        )
        assert stored is not None
        assert stored.raw_text == (text if keeps else None)
        assert "Jane Doe" not in (stored.text or "")


def test_batch_reports_each_item_and_stores_the_good_ones(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    good = feedback_item()
    items = [
        good,
        feedback_item(channel="fax"),
        feedback_item(text=None),
        {**good, "text": "The same id again."},
        "not an object",
        feedback_item(text="x" * 2_001),
    ]
    response = api.post(
        "/v1/feedback:batch", json={"items": items}, headers=api_tenant.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["duplicates"], body["failed"]) == (1, 1, 4)
    results = body["items"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == [
        "created",
        "error",
        "error",
        "duplicate",
        "error",
        "error",
    ]
    assert results[3]["id"] == results[0]["id"]
    # A refused item carries the external_id it was sent with, for matching.
    assert results[1]["external_id"] == items[1]["external_id"]
    assert results[4]["external_id"] is None  # "not an object" has none
    errors = {r["index"]: r["errors"] for r in results if r["status"] == "error"}
    assert [(e["field"], e["code"]) for e in errors[1]] == [
        ("items[1].channel", "invalid_value")
    ]
    assert errors[2] == [
        {
            "field": "items[2].text",
            "code": "missing",
            "message": "expected 'text' (a string) or 'turns' (a transcript), "
            "got neither",
            "received": None,
        }
    ]
    assert [(e["field"], e["code"]) for e in errors[4]] == [
        ("items[4]", "invalid_type")
    ]
    assert errors[5][0]["message"] == (
        "the text is 2,001 characters; the limit is 2,000. Split it into several items."
    )
    listed = api.get("/v1/feedback", headers=api_tenant.headers).json()
    assert [i["id"] for i in listed["items"]] == [results[0]["id"]]


def test_batch_retry_duplicates_nothing(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    items = [feedback_item(text=f"Item {n}: the dashboard is slow.") for n in range(3)]
    first = api.post(
        "/v1/feedback:batch", json={"items": items}, headers=api_tenant.headers
    ).json()
    items.append(feedback_item(text="A new one: the dashboard is fast now."))
    retry = api.post(
        "/v1/feedback:batch", json={"items": items}, headers=api_tenant.headers
    ).json()
    assert [r["status"] for r in first["items"]] == ["created"] * 3
    assert [r["status"] for r in retry["items"]] == ["duplicate"] * 3 + ["created"]
    assert [r["id"] for r in retry["items"][:3]] == [r["id"] for r in first["items"]]
    listed = api.get("/v1/feedback", headers=api_tenant.headers).json()
    assert len(listed["items"]) == 4


def test_batch_analysis_equals_single_item_analysis(
    api: TestClient, api_tenant: ApiTenant, feedback_item: Item
) -> None:
    text = "Support took four days to answer; I am disappointed."
    single = api.post(
        "/v1/feedback", json=feedback_item(text=text), headers=api_tenant.headers
    ).json()
    batch = api.post(
        "/v1/feedback:batch",
        json={
            "items": [
                feedback_item(text="Something else entirely, thanks!"),
                feedback_item(text=text),
            ]
        },
        headers=api_tenant.headers,
    ).json()
    stored = api.get(
        f"/v1/feedback/{batch['items'][1]['id']}", headers=api_tenant.headers
    ).json()
    assert stored["analysis"] == single["analysis"]


def test_same_external_id_in_two_tenants_is_two_items(
    api: TestClient,
    api_tenant: ApiTenant,
    other_api_tenant: ApiTenant,
    feedback_item: Item,
) -> None:
    payload = feedback_item()
    ours = api.post("/v1/feedback", json=payload, headers=api_tenant.headers)
    theirs = api.post("/v1/feedback", json=payload, headers=other_api_tenant.headers)
    assert (ours.status_code, theirs.status_code) == (201, 201)
    assert ours.json()["id"] != theirs.json()["id"]
