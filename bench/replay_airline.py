"""Replay the airline tweets through the API; read the series; score the agreement.

Run:  .venv/bin/python bench/replay_airline.py [--out FILE.json] [--limit N]
      .venv/bin/python bench/replay_airline.py --url http://127.0.0.1:8000 --api-key KEY

Without ``--url`` the whole service runs in process (FastAPI ``TestClient``) on a
fresh SQLite file in a temporary folder, with a new tenant. With ``--url`` it
talks to a running service; give a key with the ingest and read scopes
(``feedback-miner tenants create NAME --scopes ingest,read``): tenants are made
by the CLI, not the API.

Steps: post ``../shared/data/airline_tweets/tweets.csv`` to ``/v1/feedback:batch``
in chunks (airline as ``account_id``, ``tweet_created`` as ``occurred_at``,
``tweet_id`` as ``external_id``); read each airline's daily series and its
window delta from ``/v1/accounts/{airline}/sentiment``; read the stored items
back from ``/v1/feedback`` and compare their polarity labels with the dataset's
``airline_sentiment``. Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

_CLASSES = ("negative", "neutral", "positive")
_DEFAULT_CSV = (
    Path(__file__).resolve().parents[2] / "shared/data/airline_tweets/tweets.csv"
)


class _Client(Protocol):
    def get(self, url: str, **kwargs: Any) -> httpx.Response: ...
    def post(self, url: str, **kwargs: Any) -> httpx.Response: ...


def read_tweets(path: Path) -> list[dict[str, str]]:
    """Return the dataset's rows."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def to_item(row: dict[str, str], channel: str) -> dict[str, Any]:
    """Turn one tweet into a feedback item."""
    created = dt.datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z")
    return {
        "external_id": row["tweet_id"],
        "account_id": row["airline"],
        "channel": channel,
        "text": row["text"],
        "occurred_at": created.isoformat(),
        "source": "airline_tweets",
    }


def post_all(
    client: _Client, headers: dict[str, str], items: list[dict[str, Any]], chunk: int
) -> dict[str, Any]:
    """Post the items in chunks; return the counts and the items per second."""
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    for start in range(0, len(items), chunk):
        response = client.post(
            "/v1/feedback:batch",
            json={"items": items[start : start + chunk]},
            headers=headers,
        )
        response.raise_for_status()
        for result in response.json()["items"]:
            counts[result["status"]] += 1
    seconds = time.perf_counter() - started
    return {
        **dict(counts),
        "seconds": round(seconds, 1),
        "items_per_second": round(len(items) / seconds, 1),
    }


def read_series(
    client: _Client,
    headers: dict[str, str],
    airline: str,
    *,
    since: str,
    until: str,
    window_days: int,
) -> dict[str, Any]:
    """Return an airline's daily series (compact) and its window delta."""
    response = client.get(
        f"/v1/accounts/{quote(airline, safe='')}/sentiment",
        params={
            "bucket": "day",
            "from": since,
            "to": until,
            "window_days": window_days,
        },
        headers=headers,
    )
    response.raise_for_status()
    body = response.json()

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    daily = [
        {
            "day": p["start"],
            "count": p["count"],
            "mean_score": rounded(p["mean_score"]),
            "negative_share": rounded(p["polarity"].get("negative")),
            "top_emotion": max(p["emotions"], key=p["emotions"].get)
            if p["emotions"]
            else None,
        }
        for p in body["series"]
    ]
    delta = body["delta"]
    return {
        "daily": daily,
        "delta": {
            "current": _window(delta["current"]),
            "previous": _window(delta["previous"]),
            "delta": rounded(delta["delta"]),
            "band_95": [rounded(delta["low"]), rounded(delta["high"])],
            "method": delta["method"],
        },
        "by_channel_counts": {
            k: sum(p["count"] for p in v) for k, v in body["by_channel"].items()
        },
    }


def _window(window: dict[str, Any]) -> dict[str, Any]:
    mean = window["mean"]
    return {
        "start": window["start"],
        "end": window["end"],
        "count": window["count"],
        "mean": None if mean is None else round(mean, 3),
    }


def stored_labels(
    client: _Client, headers: dict[str, str], airline: str
) -> dict[str, str]:
    """Return external id → stored polarity label (or the status when unscored)."""
    labels: dict[str, str] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"account_id": airline, "limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/feedback", params=params, headers=headers)
        page.raise_for_status()
        body = page.json()
        for item in body["items"]:
            polarity = item["analysis"]["polarity"]
            labels[item["external_id"]] = (
                polarity["label"] if polarity else item["analysis"]["status"]
            )
        cursor = body["next_cursor"]
        if cursor is None:
            return labels


def agreement(gold: dict[str, str], stored: dict[str, str]) -> dict[str, Any]:
    """Accuracy, per-class recall and the confusion (rows gold, columns stored)."""
    confusion: dict[str, Counter[str]] = {c: Counter() for c in _CLASSES}
    for external_id, label in gold.items():
        confusion[label][stored.get(external_id, "missing")] += 1
    total = sum(sum(row.values()) for row in confusion.values())
    correct = sum(confusion[c][c] for c in _CLASSES)
    mixed = sum(row["mixed"] for row in confusion.values())
    recall = {
        c: round(confusion[c][c] / max(1, sum(confusion[c].values())), 4)
        for c in _CLASSES
    }
    precision = {
        c: round(confusion[c][c] / max(1, sum(confusion[g][c] for g in _CLASSES)), 4)
        for c in _CLASSES
    }
    return {
        "items": total,
        "accuracy": round(correct / total, 4),
        "accuracy_excluding_mixed": round(correct / max(1, total - mixed), 4),
        "macro_recall": round(sum(recall.values()) / len(recall), 4),
        "recall": recall,
        "precision": precision,
        "confusion": {g: dict(sorted(row.items())) for g, row in confusion.items()},
    }


@contextmanager
def in_process_client() -> Iterator[tuple[_Client, dict[str, str]]]:
    """The service on a temporary SQLite file, and a new tenant's headers."""
    from fastapi.testclient import TestClient

    from service.config import Settings
    from service.main import create_app
    from service.storage.keys import create_tenant
    from service.storage.session import session_scope

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(environment="test", data_dir=Path(folder)))
        with TestClient(app) as client:
            with session_scope(app.state.session_factory) as session:
                _, issued = create_tenant(
                    session,
                    f"airline-replay-{uuid.uuid4().hex[:6]}",
                    scopes=("ingest", "read"),
                )
            yield client, {"Authorization": f"Bearer {issued.plain}"}


def replay(
    client: _Client,
    headers: dict[str, str],
    rows: list[dict[str, str]],
    *,
    channel: str,
    chunk: int,
    window_days: int,
) -> dict[str, Any]:
    """Post the rows, read every airline's series, and score the stored labels."""
    items = [to_item(row, channel) for row in rows]
    ingest = post_all(client, headers, items, chunk)
    times = sorted(dt.datetime.fromisoformat(i["occurred_at"]) for i in items)
    first = times[0].astimezone(dt.UTC).date()
    end = times[-1].astimezone(dt.UTC).date() + dt.timedelta(days=1)
    since, until = f"{first}T00:00:00Z", f"{end}T00:00:00Z"
    airlines = sorted({row["airline"] for row in rows})
    stored: dict[str, str] = {}
    for airline in airlines:
        stored.update(stored_labels(client, headers, airline))
    gold = {row["tweet_id"]: row["airline_sentiment"] for row in rows}
    return {
        "rows": len(rows),
        "channel": channel,
        "ingest": ingest,
        "range": [since, until],
        "window_days": window_days,
        "statuses": dict(Counter(stored.values()).most_common()),
        "agreement": agreement(gold, stored),
        "airlines": {
            a: read_series(
                client,
                headers,
                a,
                since=since,
                until=until,
                window_days=window_days,
            )
            for a in airlines
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=_DEFAULT_CSV)
    parser.add_argument("--url", help="A running service; default: in process.")
    parser.add_argument("--api-key", help="With --url: a key with ingest and read.")
    parser.add_argument(
        "--channel", choices=("community", "review"), default="community"
    )
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--window-days", type=int, default=3)
    parser.add_argument("--limit", type=int, help="Only the first N rows.")
    parser.add_argument("--out", type=Path, help="Also write the JSON here.")
    args = parser.parse_args()

    rows = read_tweets(args.csv)[: args.limit]
    options = {
        "channel": args.channel,
        "chunk": args.chunk,
        "window_days": args.window_days,
    }
    if args.url:
        if not args.api_key:
            parser.error("--url needs --api-key (create one with 'tenants create')")
        headers = {"Authorization": f"Bearer {args.api_key}"}
        with httpx.Client(base_url=args.url, timeout=600) as client:
            result = replay(client, headers, rows, **options)
    else:
        with in_process_client() as (client, headers):
            result = replay(client, headers, rows, **options)
    text = json.dumps({"data": str(args.csv), **result}, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
