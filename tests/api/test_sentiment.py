"""GET /v1/accounts/{id}/sentiment and the portfolio sort, on both backends."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats

from service.sentiment import t_quantile

if TYPE_CHECKING:
    from conftest import ApiTenant

Store = Callable[..., list[uuid.UUID]]
UTC = dt.UTC
TO = "2025-03-29T00:00:00Z"
FROM = "2025-03-01T00:00:00Z"


def _at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def account(api_tenant: ApiTenant, store_scored: Store) -> str:
    """An account with four scored items in March 2025, and two that do not count."""
    name = f"acct-{uuid.uuid4().hex[:6]}"
    store_scored(
        api_tenant.tenant_id,
        name,
        [
            {
                "occurred_at": _at(3, 9),
                "score": -0.5,
                "author_role": "end_user",
                "cs_labels": ["frustration"],
            },
            {
                "occurred_at": _at(3, 23),
                "score": 0.6,
                "channel": "chat",
                "author_role": "executive_sponsor",
                "cs_labels": ["gratitude"],
            },
            {"occurred_at": _at(4), "score": 0.1},
            {
                "occurred_at": _at(12),
                "score": -0.9,
                "channel": "survey",
                "author_role": "end_user",
                "cs_labels": ["anger", "frustration"],
            },
            # Not scored, and outside the range: neither counts.
            {"occurred_at": _at(5), "score": None, "status": "unsupported_language"},
            {"occurred_at": _at(29, 1), "score": 0.9},
        ],
    )
    return name


def _sentiment(
    api: TestClient, tenant: ApiTenant, account: str, query: str = ""
) -> dict[str, Any]:
    response = api.get(
        f"/v1/accounts/{account}/sentiment?from={FROM}&to={TO}&{query}",
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_sentiment_day_series_counts_means_and_shares(
    api: TestClient, api_tenant: ApiTenant, account: str
) -> None:
    body = _sentiment(api, api_tenant, account)
    assert (body["bucket"], body["from"], body["to"]) == (
        "day",
        "2025-03-01T00:00:00Z",
        "2025-03-29T00:00:00Z",
    )
    series = {p["start"]: p for p in body["series"]}
    assert len(body["series"]) == 28
    assert sum(p["count"] for p in body["series"]) == 4
    day = series["2025-03-03"]
    assert day["count"] == 2
    assert day["mean_score"] == pytest.approx(0.05)
    assert day["polarity"] == {
        "negative": 0.5,
        "neutral": 0.0,
        "positive": 0.5,
        "mixed": 0.0,
    }
    assert day["emotions"]["frustration"] == 0.5
    assert day["emotions"]["gratitude"] == 0.5
    assert day["emotions"]["anger"] == 0.0
    assert series["2025-03-02"] == {
        "start": "2025-03-02",
        "count": 0,
        "mean_score": None,
        "polarity": {},
        "emotions": {},
    }
    assert series["2025-03-12"]["emotions"]["anger"] == 1.0


def test_sentiment_week_buckets_start_on_monday(
    api: TestClient, api_tenant: ApiTenant, account: str
) -> None:
    body = _sentiment(api, api_tenant, account, "bucket=week")
    starts = [p["start"] for p in body["series"]]
    # 2025-03-01 is a Saturday: its week began on Monday 24 February.
    assert starts == [
        "2025-02-24",
        "2025-03-03",
        "2025-03-10",
        "2025-03-17",
        "2025-03-24",
    ]
    counts = [p["count"] for p in body["series"]]
    assert counts == [0, 3, 1, 0, 0]
    assert body["series"][1]["mean_score"] == pytest.approx((-0.5 + 0.6 + 0.1) / 3)


def test_sentiment_splits_by_channel_and_role(
    api: TestClient, api_tenant: ApiTenant, account: str
) -> None:
    body = _sentiment(api, api_tenant, account, "bucket=week")

    def totals(split: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
        return {key: sum(p["count"] for p in points) for key, points in split.items()}

    assert totals(body["by_channel"]) == {"chat": 1, "survey": 1, "ticket": 2}
    assert totals(body["by_role"]) == {
        "end_user": 2,
        "executive_sponsor": 1,
        "unknown": 1,
    }
    end_user = body["by_role"]["end_user"]
    assert [p["mean_score"] for p in end_user[1:3]] == [-0.5, -0.9]


def test_sentiment_delta_matches_welch_by_hand(
    api: TestClient, api_tenant: ApiTenant, store_scored: Store
) -> None:
    rng = np.random.default_rng(7)
    previous = rng.uniform(-0.2, 0.8, size=12)
    current = rng.uniform(-0.8, 0.3, size=15)
    items = [
        {"occurred_at": _at(16 + n % 6), "score": float(s)}
        for n, s in enumerate(previous)
    ]
    items += [
        {"occurred_at": _at(22 + n % 7), "score": float(s)}
        for n, s in enumerate(current)
    ]
    store_scored(api_tenant.tenant_id, "welch", items)

    delta = _sentiment(api, api_tenant, "welch", "window_days=7")["delta"]

    v_c, v_p = current.var(ddof=1) / 15, previous.var(ddof=1) / 12
    df = (v_c + v_p) ** 2 / (v_c**2 / 14 + v_p**2 / 11)
    half = stats.t.ppf(0.975, df) * np.sqrt(v_c + v_p)
    expected = current.mean() - previous.mean()
    assert delta["current"]["count"] == 15
    assert delta["previous"]["count"] == 12
    assert delta["current"]["start"] == "2025-03-22T00:00:00Z"
    assert delta["previous"]["mean"] == pytest.approx(previous.mean())
    assert delta["current"]["sd"] == pytest.approx(current.std(ddof=1))
    assert delta["delta"] == pytest.approx(expected)
    assert delta["low"] == pytest.approx(expected - half, rel=1e-3)
    assert delta["high"] == pytest.approx(expected + half, rel=1e-3)
    assert (delta["level"], delta["method"]) == (0.95, "welch-t")


@pytest.mark.parametrize("df", [2.0, 3.0, 4.5, 9.0, 30.0, 500.0])
def test_t_quantile_matches_scipy(df: float) -> None:
    tolerance = 1e-2 if df < 3 else 2e-3 if df < 5 else 1e-4
    assert t_quantile(0.975, df) == pytest.approx(stats.t.ppf(0.975, df), rel=tolerance)


def test_sentiment_delta_is_null_with_too_few_items(
    api: TestClient, api_tenant: ApiTenant, account: str
) -> None:
    delta = _sentiment(api, api_tenant, account)["delta"]
    assert delta["delta"] is None and delta["low"] is None
    assert delta["min_items"] == 10
    assert delta["current"]["count"] == 0


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("bucket=month", "bucket", "invalid_value"),
        ("window_days=0", "window_days", "out_of_range"),
        ("window_days=400", "window_days", "out_of_range"),
        ("min_items=1", "min_items", "out_of_range"),
        ("from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z", "to", "invalid_value"),
        ("from=2020-01-01T00:00:00Z&to=2025-03-01T00:00:00Z", "from", "out_of_range"),
        ("from=yesterday", "from", "invalid_type"),
    ],
)
def test_sentiment_bad_query_is_422(
    api: TestClient,
    api_tenant: ApiTenant,
    account: str,
    query: str,
    field: str,
    code: str,
) -> None:
    response = api.get(
        f"/v1/accounts/{account}/sentiment?{query}", headers=api_tenant.headers
    )
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        (field, code)
    ]


def test_sentiment_of_another_tenants_account_is_404(
    api: TestClient, other_api_tenant: ApiTenant, account: str
) -> None:
    response = api.get(
        f"/v1/accounts/{account}/sentiment", headers=other_api_tenant.headers
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_portfolio_ranks_the_fastest_souring_first(
    api: TestClient, make_api_tenant: Any, store_scored: Store
) -> None:
    tenant = make_api_tenant()
    now = dt.datetime.now(UTC)

    def windows(previous: float, current: float, n: int = 10) -> list[dict[str, Any]]:
        jitter = [0.02 * (k % 3 - 1) for k in range(n)]
        return [
            {"occurred_at": now - dt.timedelta(days=20, hours=k), "score": previous + j}
            for k, j in enumerate(jitter)
        ] + [
            {"occurred_at": now - dt.timedelta(days=5, hours=k), "score": current + j}
            for k, j in enumerate(jitter)
        ]

    store_scored(tenant.tenant_id, "better", windows(-0.2, 0.4))
    store_scored(tenant.tenant_id, "sour", windows(0.5, -0.5))
    store_scored(tenant.tenant_id, "mild", windows(0.2, 0.0))
    store_scored(tenant.tenant_id, "few", windows(0.5, -0.5, n=3))
    api.post("/v1/accounts", json={"external_id": "empty"}, headers=tenant.headers)

    response = api.get("/v1/accounts?sort=sentiment_delta", headers=tenant.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [a["external_id"] for a in items] == [
        "sour",
        "mild",
        "better",
        "empty",
        "few",
    ]
    deltas = [a["sentiment"]["delta"] for a in items]
    assert deltas[:3] == pytest.approx([-1.0, -0.2, 0.6])
    assert deltas[3:] == [None, None]
    sour = items[0]["sentiment"]
    assert (sour["current"]["count"], sour["previous"]["count"]) == (10, 10)
    assert sour["low"] < sour["delta"] < sour["high"]
    assert items[4]["sentiment"]["current"]["count"] == 3

    first = api.get("/v1/accounts?sort=sentiment_delta&limit=2", headers=tenant.headers)
    page = first.json()
    assert [a["external_id"] for a in page["items"]] == ["sour", "mild"]
    rest = api.get(
        f"/v1/accounts?sort=sentiment_delta&cursor={page['next_cursor']}",
        headers=tenant.headers,
    ).json()
    assert [a["external_id"] for a in rest["items"]] == ["better", "empty", "few"]
    plain = api.get("/v1/accounts", headers=tenant.headers).json()["items"]
    assert [a["sentiment"] for a in plain] == [None] * 5


def test_portfolio_refuses_an_unknown_sort(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    response = api.get("/v1/accounts?sort=mood", headers=api_tenant.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sort"
