"""``/v1/themes``: refresh jobs, identity across refits, edits, ingest assignment.

The embedder is a fake with the real interface: a text about one of a few topics
(a keyword) lands near that topic's axis, anything else on a random direction, so
the clusters are known and the tests need no encoder.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import ApiTenant
    from numpy.typing import NDArray

Store = Callable[..., list[uuid.UUID]]

_TOPICS = ("export", "billing", "login", "slow")


class TopicEmbedder:
    """Texts naming a topic keyword sit near its axis; others anywhere."""

    dimensions = 16

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, text in enumerate(texts):
            rng = np.random.default_rng(zlib.crc32(text.encode()))
            topic = next((k for k, w in enumerate(_TOPICS) if w in text), None)
            if topic is None:
                out[i] = rng.normal(size=self.dimensions)
            else:
                out[i, topic] = 1.0
                out[i] += rng.normal(scale=0.03, size=self.dimensions)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(autouse=True)
def _fake_embedder(api: TestClient) -> Iterator[None]:
    state = api.app.state  # type: ignore[attr-defined]
    real = getattr(state, "embedder", None)
    state.embedder = TopicEmbedder()
    yield
    state.embedder = real


@pytest.fixture
def admin(make_api_tenant: Callable[..., ApiTenant]) -> ApiTenant:
    return make_api_tenant("admin")


def _texts(topic: str, n: int, *, start: int = 0) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "occurred_at": now - dt.timedelta(days=1 + k % 20),
            "score": -0.5,
            "text": f"the {topic} problem number {k} again",
            "cs_labels": ["frustration"],
        }
        for k in range(start, start + n)
    ]


def _refresh(api: TestClient, tenant: ApiTenant, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/themes:refresh", headers=tenant.headers, json=body)
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    assert job["status"] in {"queued", "running", "done"}
    deadline = time.monotonic() + 60
    while job["status"] in {"queued", "running"} and time.monotonic() < deadline:
        time.sleep(0.05)
        job = api.get(f"/v1/themes/jobs/{job['id']}", headers=tenant.headers).json()
    assert job["status"] == "done", job
    return job


def _themes(api: TestClient, tenant: ApiTenant, query: str = "") -> dict[str, Any]:
    response = api.get(f"/v1/themes?{query}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _by_term(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for theme in body["items"]:
        topic = next(
            w for w in _TOPICS if w in " ".join(theme["terms"]) + theme["label"]
        )
        found[topic] = theme
    return found


# Equal sizes can tie in HDBSCAN's hierarchy on so few points; these do not.
_THREE = {"export": 14, "billing": 10, "login": 10}


def _seed(store: Store, tenant: ApiTenant, topics: dict[str, int]) -> None:
    for topic, n in topics.items():
        store(tenant.tenant_id, f"acct-{topic}", _texts(topic, n))


def test_themes_refresh_job_runs_and_lists_themes(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, {"export": 12, "billing": 10})

    job = _refresh(api, admin, min_cluster_size=3)

    assert (job["texts"], job["themes"], job["result"]) == (22, 2, "themed")
    assert job["started_at"] and job["finished_at"]
    themes = _by_term(_themes(api, admin))
    assert {t: v["size"] for t, v in themes.items()} == {"export": 12, "billing": 10}


def test_a_refresh_that_finds_no_themes_keeps_the_stored_ones(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, {"export": 12, "billing": 10})
    _refresh(api, admin, min_cluster_size=3)
    before = _themes(api, admin)

    job = _refresh(api, admin, min_cluster_size=1000)

    assert (job["texts"], job["themes"], job["result"]) == (22, 0, "too_few_texts")
    after = _themes(api, admin)
    assert [(t["id"], t["size"]) for t in after["items"]] == [
        (t["id"], t["size"]) for t in before["items"]
    ]
    assert after["outliers"] == before["outliers"]


def test_a_merged_theme_shows_no_quotes_of_items_it_gave_away(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, {"export": 12, "billing": 10})
    _refresh(api, admin, min_cluster_size=3)
    themes = _by_term(_themes(api, admin))
    source, target = themes["billing"]["id"], themes["export"]["id"]
    merged = api.post(
        f"/v1/themes/{source}:merge", headers=admin.headers, json={"into": target}
    )
    assert merged.status_code == 200, merged.text

    gone = api.get(f"/v1/themes/{source}", headers=admin.headers).json()
    assert (gone["size"], gone["quotes"]) == (0, [])
    kept = api.get(f"/v1/themes/{target}", headers=admin.headers).json()
    assert kept["size"] == 22 and kept["quotes"]


def test_theme_report_has_quotes_mix_weeks_and_sources(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, _THREE)
    _refresh(api, admin, min_cluster_size=3)
    theme = _by_term(_themes(api, admin))["export"]

    response = api.get(f"/v1/themes/{theme['id']}", headers=admin.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["size"] == 14
    assert body["quotes"] and all("export" in q["text"] for q in body["quotes"])
    assert body["polarity"] == {"negative": 1.0}
    assert body["cs_emotions"] == {"frustration": 1.0}
    assert sum(w["count"] for w in body["weekly"]) == 14
    assert body["accounts"] == [{"account_id": "acct-export", "count": 14}]
    assert body["channels"] == {"ticket": 14}


def test_theme_ids_survive_a_refit(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, {"export": 10, "billing": 10})
    _refresh(api, admin, min_cluster_size=3)
    before = {t: v["id"] for t, v in _by_term(_themes(api, admin)).items()}
    store_scored(admin.tenant_id, "late", _texts("export", 5, start=100))

    _refresh(api, admin, min_cluster_size=3)

    after = _by_term(_themes(api, admin))
    assert {t: v["id"] for t, v in after.items()} == before
    assert after["export"]["size"] == 15


def test_theme_edits_survive_a_refresh(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, {"export": 14, "billing": 10, "login": 10})
    _refresh(api, admin, min_cluster_size=3)
    themes = _by_term(_themes(api, admin))
    export, billing, login = (themes[t]["id"] for t in ("export", "billing", "login"))

    renamed = api.patch(
        f"/v1/themes/{export}", headers=admin.headers, json={"label": "CSV exports"}
    )
    merged = api.post(
        f"/v1/themes/{login}:merge", headers=admin.headers, json={"into": billing}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["pinned"] is True
    assert merged.status_code == 200, merged.text
    assert merged.json()["size"] == 20
    members = _members(api, admin, export)
    split = api.post(
        f"/v1/themes/{export}:split",
        headers=admin.headers,
        json={"feedback_ids": members[:3], "label": "Export timeouts"},
    )
    assert split.status_code == 201, split.text

    _refresh(api, admin, min_cluster_size=3)

    after = {t["id"]: t for t in _themes(api, admin)["items"]}
    assert after[export]["label"] == "CSV exports"
    assert after[export]["size"] == 11
    assert login not in after
    assert after[billing]["size"] == 20
    assert after[split.json()["id"]]["size"] == 3
    assert after[split.json()["id"]]["label"] == "Export timeouts"


def _members(api: TestClient, tenant: ApiTenant, theme_id: str) -> list[str]:
    # The quotes name members; the feedback list names the rest of them.
    items = api.get("/v1/feedback?limit=500", headers=tenant.headers).json()["items"]
    return [i["id"] for i in items if "export" in (i["text"] or "")]


def test_new_feedback_is_assigned_at_ingest(
    api: TestClient,
    admin: ApiTenant,
    store_scored: Store,
    feedback_item: Callable[..., dict[str, Any]],
) -> None:
    _seed(store_scored, admin, {"export": 10, "billing": 10})
    _refresh(api, admin, min_cluster_size=3)
    export = _by_term(_themes(api, admin))["export"]["id"]

    one = api.post(
        "/v1/feedback",
        headers=admin.headers,
        json=feedback_item(text="The export failed overnight."),
    )
    batch = api.post(
        "/v1/feedback:batch",
        headers=admin.headers,
        json={
            "items": [
                feedback_item(text="Our export is broken once more."),
                feedback_item(text="Something unrelated entirely."),
            ]
        },
    )

    assert one.status_code == 201, one.text
    assert batch.status_code == 200, batch.text
    report = api.get(f"/v1/themes/{export}", headers=admin.headers).json()
    assert report["size"] == 12
    assert _themes(api, admin)["outliers"] == 1


def test_themes_of_another_tenant_read_as_absent(
    api: TestClient,
    admin: ApiTenant,
    make_api_tenant: Callable[..., ApiTenant],
    store_scored: Store,
) -> None:
    _seed(store_scored, admin, _THREE)
    job = _refresh(api, admin, min_cluster_size=3)
    theme = _themes(api, admin)["items"][0]
    other = make_api_tenant("admin", prefix="other")

    for path in (f"/v1/themes/{theme['id']}", f"/v1/themes/jobs/{job['id']}"):
        response = api.get(path, headers=other.headers)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
    merge = api.post(
        f"/v1/themes/{theme['id']}:merge",
        headers=other.headers,
        json={"into": theme["id"]},
    )
    assert merge.status_code == 404
    assert _themes(api, other) == {"items": [], "outliers": 0}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field", "code"),
    [
        (
            "post",
            "/v1/themes:refresh",
            {"min_cluster_size": 1},
            422,
            "min_cluster_size",
            "out_of_range",
        ),
        (
            "post",
            "/v1/themes:refresh",
            {"channel": "fax"},
            422,
            "channel",
            "invalid_value",
        ),
        (
            "post",
            "/v1/themes:refresh",
            {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
            422,
            "to",
            "invalid_value",
        ),
        ("post", "/v1/themes:refresh", {"extra": 1}, 422, "extra", "unknown_field"),
        (
            "post",
            "/v1/themes:refresh",
            {"min_cluster_size": "5"},
            422,
            "min_cluster_size",
            "invalid_type",
        ),
        (
            "post",
            "/v1/themes:refresh",
            {"min_cluster_size": True},
            422,
            "min_cluster_size",
            "invalid_type",
        ),
        ("get", "/v1/themes/jobs/nope", None, 404, "job_id", "not_found"),
        ("get", "/v1/themes/nope", None, 404, "theme_id", "not_found"),
        (
            "patch",
            f"/v1/themes/{uuid.uuid4()}",
            {"label": "x"},
            404,
            "theme_id",
            "not_found",
        ),
    ],
)
def test_themes_bad_input_is_answered_with_field_and_code(
    api: TestClient,
    admin: ApiTenant,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    field: str,
    code: str,
) -> None:
    response = api.request(method.upper(), path, headers=admin.headers, json=body)

    assert response.status_code == status, response.text
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_theme_edits_refuse_bad_targets(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, _THREE)
    _refresh(api, admin, min_cluster_size=3)
    theme = _themes(api, admin)["items"][0]

    into_self = api.post(
        f"/v1/themes/{theme['id']}:merge",
        headers=admin.headers,
        json={"into": theme["id"]},
    )
    stranger = api.post(
        f"/v1/themes/{theme['id']}:split",
        headers=admin.headers,
        json={"feedback_ids": [str(uuid.uuid4())], "label": "x"},
    )
    empty_label = api.patch(
        f"/v1/themes/{theme['id']}", headers=admin.headers, json={"label": ""}
    )

    assert into_self.status_code == 422
    assert into_self.json()["errors"][0]["field"] == "into"
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["field"] == "feedback_ids[0]"
    assert stranger.json()["errors"][0]["code"] == "not_in_theme"
    assert empty_label.status_code == 422


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"label": "   "}, "label", "invalid_value"),
        ({"label": "two\nlines"}, "label", "invalid_value"),
        ({"label": "evil\u202eright-to-left"}, "label", "invalid_value"),
        ({"label": "red \u001b[31m"}, "label", "invalid_value"),
        ({}, "label", "missing"),
        ({"pinned": "yes"}, "pinned", "invalid_type"),
        ({"pinned": 1}, "pinned", "invalid_type"),
    ],
)
def test_theme_rename_refuses_labels_that_cannot_be_shown(
    api: TestClient,
    admin: ApiTenant,
    store_scored: Store,
    body: dict[str, Any],
    field: str,
    code: str,
) -> None:
    _seed(store_scored, admin, {"export": 12, "billing": 10})
    _refresh(api, admin, min_cluster_size=3)
    theme = _themes(api, admin)["items"][0]

    answer = api.patch(f"/v1/themes/{theme['id']}", headers=admin.headers, json=body)

    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["field"], error["code"]) == (field, code)
    after = api.get(f"/v1/themes/{theme['id']}", headers=admin.headers).json()
    assert (after["label"], after["pinned"]) == (theme["label"], theme["pinned"])


def test_theme_edits_name_the_field_at_fault(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, {"export": 12, "billing": 10})
    _refresh(api, admin, min_cluster_size=3)
    first, second = (t["id"] for t in _themes(api, admin)["items"])

    unknown = api.post(
        f"/v1/themes/{first}:merge",
        headers=admin.headers,
        json={"into": str(uuid.uuid4())},
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "into"
    merged = api.post(
        f"/v1/themes/{first}:merge", headers=admin.headers, json={"into": second}
    )
    assert merged.status_code == 200
    renamed = api.patch(
        f"/v1/themes/{first}", headers=admin.headers, json={"label": "Late"}
    )
    assert renamed.status_code == 422
    assert renamed.json()["errors"][0]["field"] == "theme_id"
    emoji = api.patch(
        f"/v1/themes/{second}",
        headers=admin.headers,
        json={"label": "  Devs \U0001f469\u200d\U0001f4bb  "},
    )
    assert emoji.status_code == 200, emoji.text
    assert emoji.json()["label"] == "Devs \U0001f469\u200d\U0001f4bb"


def test_split_errors_name_every_bad_id_at_its_place_in_the_request(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, {"export": 12, "billing": 10})
    _refresh(api, admin, min_cluster_size=3)
    theme = _themes(api, admin)["items"][0]
    member = api.get(f"/v1/themes/{theme['id']}", headers=admin.headers).json()
    good = member["quotes"][0]["feedback_id"]
    strangers = [str(uuid.uuid4()) for _ in range(3)]

    answer = api.post(
        f"/v1/themes/{theme['id']}:split",
        headers=admin.headers,
        json={"feedback_ids": [good, good, *strangers], "label": "Split"},
    )

    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [
        "feedback_ids[2]",
        "feedback_ids[3]",
        "feedback_ids[4]",
    ]


def test_themes_refresh_needs_the_admin_scope(
    api: TestClient, api_tenant: ApiTenant
) -> None:
    response = api.post("/v1/themes:refresh", headers=api_tenant.headers, json={})

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


@pytest.mark.parametrize(
    ("texts", "min_cluster_size", "result"),
    [
        ([], 10, "no_text"),
        (["the export failed"], 10, "too_few_texts"),
        (["the export failed", "the export broke"], 2, None),
        ([f"the export failed {k}" for k in range(9)], 3, None),
        (["", "  ", ""], 2, "no_text"),
        (["The export failed again."] * 600, 10, "themed"),
        (["ok", "thanks", "the and"] * 3, 2, None),
        ([f"the export failed {k}" for k in range(9)], 50, "too_few_texts"),
    ],
    ids=["0", "1", "2", "9", "all-empty", "600-copies", "stop-words", "mcs-big"],
)
def test_themes_refresh_edge_inputs_end_with_a_clear_status(
    api: TestClient,
    admin: ApiTenant,
    store_scored: Store,
    texts: list[str],
    min_cluster_size: int,
    result: str | None,
) -> None:
    now = dt.datetime.now(dt.UTC)
    items = [
        {"occurred_at": now - dt.timedelta(hours=k), "score": 0.0, "text": t}
        for k, t in enumerate(texts)
    ]
    if items:
        store_scored(admin.tenant_id, "edge", items)

    job = _refresh(api, admin, min_cluster_size=min_cluster_size)

    assert job["texts"] == len(texts)
    assert job["result"] in ({result} if result else {"themed", "no_themes"})
    listed = _themes(api, admin)
    assert sum(t["size"] for t in listed["items"]) + listed["outliers"] == len(texts)
    for theme in listed["items"]:
        assert theme["label"].strip()


def test_one_single_text_is_assigned_to_existing_themes(
    api: TestClient,
    admin: ApiTenant,
    store_scored: Store,
    feedback_item: Callable[..., dict[str, Any]],
) -> None:
    _seed(store_scored, admin, _THREE)
    _refresh(api, admin, min_cluster_size=3)

    response = api.post(
        "/v1/feedback",
        headers=admin.headers,
        json=feedback_item(text="billing charged us twice"),
    )

    assert response.status_code == 201, response.text
    assert _by_term(_themes(api, admin))["billing"]["size"] == 11


def test_emerging_flags_a_theme_new_in_the_window(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    now = dt.datetime.now(dt.UTC)
    old = [
        {
            "occurred_at": now - dt.timedelta(days=40 + k),
            "score": 0.0,
            "text": f"billing question {k}",
        }
        for k in range(14)
    ] + [
        {
            "occurred_at": now - dt.timedelta(days=40 + k),
            "score": 0.0,
            "text": f"export question {k}",
        }
        for k in range(10)
    ]
    new = [
        {
            "occurred_at": now - dt.timedelta(days=2 + k),
            "score": 0.0,
            "text": f"login outage {k}",
        }
        for k in range(10)
    ]
    store_scored(admin.tenant_id, "trend", old + new)
    _refresh(api, admin, min_cluster_size=3)

    body = _themes(api, admin, "emerging=true&window_days=28")

    (theme,) = body["items"]
    assert "login" in " ".join(theme["terms"]) + theme["label"]
    assert theme["trend"] == {
        "emerging": True,
        "reason": "new",
        "current": 10,
        "current_total": 10,
        "baseline": 0,
        "baseline_total": 24,
        "z": theme["trend"]["z"],
    }


# The HTML theme report

_HOSTILE = "<script>alert(1)</script>"


def _report_page(
    api: TestClient, tenant: ApiTenant, query: str = ""
) -> tuple[str, list[str]]:
    response = api.get(f"/v1/themes/report?{query}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    return page, re.findall(r'<article class="card[^"]*" id="theme-([^"]+)"', page)


def test_theme_report_page_shows_the_tenant_themes(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, _THREE)
    store_scored(
        admin.tenant_id,
        "acct-export",
        [{**_texts("export", 1)[0], "text": f"the export {_HOSTILE} failed"}],
    )
    _refresh(api, admin, min_cluster_size=3)
    listed = _by_term(_themes(api, admin))

    page, cards = _report_page(api, admin)

    assert sorted(cards) == sorted(t["id"] for t in listed.values())
    for chart in ("chart-sizes", "chart-trends", "chart-emotions", "chart-polarity"):
        assert f'id="{chart}"' in page
    assert _HOSTILE not in page
    assert re.search(r'<script src="/v1/themes/report/plotly.js\?v=[\d.]+">', page)
    assert len(page.encode()) < 300_000  # plotly.js is served apart, not inlined
    assert "acct-export · ticket · " in page
    assert "frustration 100%" in page


def test_theme_report_page_of_an_empty_tenant_says_so(
    api: TestClient, admin: ApiTenant
) -> None:
    page, cards = _report_page(api, admin)

    assert cards == []
    assert "No themes yet" in page
    assert "<script" not in page


def test_theme_report_page_applies_the_list_filters(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    now = dt.datetime.now(dt.UTC)
    old = [
        {**item, "occurred_at": now - dt.timedelta(days=40 + k)}
        for k, item in enumerate(_texts("billing", 14) + _texts("export", 10))
    ]
    store_scored(admin.tenant_id, "trend", old + _texts("login", 10))
    _refresh(api, admin, min_cluster_size=3)
    login = _by_term(_themes(api, admin))["login"]

    _, everything = _report_page(api, admin)
    page, emerging = _report_page(api, admin, "emerging=true&window_days=28")
    _, by_chat = _report_page(api, admin, "channel=chat")

    assert len(everything) == 3
    assert emerging == [login["id"]]
    assert f'class="card emerging" id="theme-{login["id"]}"' in page
    assert "emerging=true" in page and "new, or a growing share" in page
    assert by_chat == []


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("channel=fax", "channel", "invalid_value"),
        ("window_days=0", "window_days", "out_of_range"),
        ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to", "invalid_value"),
        ("colour=red", "colour", "unknown_field"),
    ],
)
def test_theme_report_page_refuses_bad_filters_in_json(
    api: TestClient, admin: ApiTenant, query: str, field: str, code: str
) -> None:
    response = api.get(f"/v1/themes/report?{query}", headers=admin.headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_theme_report_page_needs_a_read_key(
    api: TestClient, make_api_tenant: Callable[..., ApiTenant]
) -> None:
    ingest_only = make_api_tenant("ingest")

    anonymous = api.get("/v1/themes/report")
    forbidden = api.get("/v1/themes/report", headers=ingest_only.headers)

    assert anonymous.status_code == 401
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "insufficient_scope"


def test_theme_report_plotly_bundle_is_public_and_cached(api: TestClient) -> None:
    from service.theme_report import plotly_js

    response = api.get("/v1/themes/report/plotly.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "immutable" in response.headers["cache-control"]
    assert "max-age=31536000" in response.headers["cache-control"]
    assert response.text == plotly_js()


def test_theme_detail_refuses_query_parameters_it_would_ignore(
    api: TestClient, admin: ApiTenant, store_scored: Store
) -> None:
    _seed(store_scored, admin, {"export": 12, "billing": 10})
    _refresh(api, admin, min_cluster_size=3)
    theme = _themes(api, admin)["items"][0]

    answer = api.get(
        f"/v1/themes/{theme['id']}?channel=ticket&from=2026-01-01T00:00:00Z",
        headers=admin.headers,
    )

    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("channel", "unknown_field"),
        ("from", "unknown_field"),
    ]
