"""HTTP behaviour of /v1/analyze and the probes, bad input included."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def test_healthz_and_readyz_answer(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "model_version": "emotion-head.v1.1",
        "checks": {"database": "ok", "models": "ok"},
        "reason": None,
    }


def test_analyze_one_text(client: TestClient) -> None:
    response = client.post("/v1/analyze", json={"text": "Thanks, that fixed it!"})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "emotion-head.v1.1"
    (item,) = body["items"]
    assert item["status"] == "scored"
    assert item["polarity"]["label"] == "positive"
    assert len(item["emotions"]) == 28


def test_analyze_many_texts_keeps_order(client: TestClient) -> None:
    texts = ["I love it", "", "This is broken and I'm angry"]
    response = client.post("/v1/analyze", json={"texts": texts})
    items = response.json()["items"]
    assert [i["status"] for i in items] == ["scored", "empty", "scored"]
    assert items[0]["polarity"]["score"] > items[2]["polarity"]["score"]


def test_analyze_turns(client: TestClient) -> None:
    turns = [
        {"role": "customer", "text": "The sync is failing again."},
        {"role": "agent", "text": "Sorry! I've restarted the connector."},
        {"role": "customer", "text": "Works now, thank you!"},
    ]
    response = client.post("/v1/analyze", json={"turns": turns})
    (item,) = response.json()["items"]
    assert item["split"]["method"] == "turns"
    assert [s["role"] for s in item["trajectory"]] == ["customer", "agent", "customer"]


def _error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"text": 5}, "text", "invalid_type"),
        ({"texts": ["ok", 7]}, "texts[1]", "invalid_type"),
        (
            {"turns": [{"role": "robot", "text": "hi"}]},
            "turns[0].role",
            "invalid_value",
        ),
        ({"turns": [{"role": "customer"}]}, "turns[0].text", "missing"),
        ({"text": "hi", "colour": "red"}, "colour", "unknown_field"),
        ({"texts": []}, "texts", "too_short"),
    ],
)
def test_analyze_bad_fields_are_named(
    client: TestClient, payload: dict[str, Any], field: str, code: str
) -> None:
    response = client.post("/v1/analyze", json=payload)
    assert response.status_code == 422
    body = _error(response)
    assert body["code"] == "validation_error"
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in body["errors"]
    ]


def test_analyze_requires_exactly_one_input(client: TestClient) -> None:
    response = client.post("/v1/analyze", json={"text": "a", "texts": ["b"]})
    body = _error(response)
    assert response.status_code == 422
    assert (
        "expected exactly one of 'text', 'texts' or 'turns', got 'text', 'texts'"
        in (body["detail"])
    )


def test_analyze_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/v1/analyze",
        content=b'{"text": "unterminated',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert _error(response)["code"] == "malformed_json"


def test_analyze_text_over_the_limit_says_the_limit(client: TestClient) -> None:
    response = client.post("/v1/analyze", json={"text": "a" * 200_001})
    assert response.status_code == 422
    body = _error(response)
    assert body["code"] == "text_too_long"
    assert "the limit is 200,000" in body["detail"]
    assert body["errors"][0]["field"] == "text"


def test_analyze_batch_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/v1/analyze", json={"texts": ["ok"] * 1001})
    assert response.status_code == 413
    body = _error(response)
    assert body["code"] == "request_too_large"
    assert body["detail"] == (
        "texts: 1001 items; the limit is 1000 per call. Split the batch."
    )


def test_analyze_total_characters_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/v1/analyze", json={"texts": ["word " * 40_000] * 6})
    assert response.status_code == 413
    body = _error(response)
    assert body["detail"] == (
        "the texts of this call hold 1,200,000 characters; the limit is 1,000,000 "
        "per call. Send them in several calls."
    )


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_openapi_is_served(client: TestClient) -> None:
    assert "/v1/analyze" in client.get("/openapi.json").json()["paths"]
