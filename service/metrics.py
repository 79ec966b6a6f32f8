"""Prometheus metrics of one service process, served at ``/metrics``.

The metrics live in prometheus-client's default registry, one set per process:
each process behind the load balancer is scraped on its own, and Prometheus
sums them. Request metrics are labelled by the route *template*
(``/v1/feedback/{feedback_id}``), never by the raw path, so that ids cannot blow
up the number of series; a path that matches no route is counted as
``unmatched``. The outbox backlog is read from the database at scrape time,
since several processes share the outbox.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ANALYSIS_SECONDS",
    "ITEMS_INGESTED",
    "OUTBOX_BACKLOG",
    "RATE_LIMITED",
    "REQUESTS",
    "REQUEST_SECONDS",
    "WEBHOOK_ATTEMPTS",
    "RequestMetrics",
    "render_metrics",
]

REQUESTS = Counter(
    "feedback_miner_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "feedback_miner_http_request_duration_seconds",
    "Time from request to the end of the answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ITEMS_INGESTED = Counter(
    "feedback_miner_items_ingested",
    "Feedback items stored (new ones; duplicates are not counted).",
)
ANALYSIS_SECONDS = Histogram(
    "feedback_miner_analysis_duration_seconds",
    "Time the text engine took per call, by caller (analyze or ingest).",
    ["source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
OUTBOX_BACKLOG = Gauge(
    "feedback_miner_outbox_backlog",
    "Outbox events not yet delivered that will still be tried, at scrape time.",
)
WEBHOOK_ATTEMPTS = Counter(
    "feedback_miner_webhook_attempts",
    "Webhook delivery attempts, by outcome (delivered or failed).",
    ["outcome"],
)
RATE_LIMITED = Counter(
    "feedback_miner_rate_limited_requests",
    "Requests refused with 429 because their API key ran out of tokens.",
)


class RequestMetrics:
    """ASGI middleware counting HTTP requests and timing them by route template.

    Args:
        app: The application to wrap.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client sees if the app fails before answering

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = _route_template(scope)
            method = str(scope.get("method", "GET"))
            REQUESTS.labels(method, route, str(status)).inc()
            REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - start)


def render_metrics(*, outbox_backlog: int | None) -> tuple[bytes, str]:
    """Render every metric in the Prometheus text format.

    Args:
        outbox_backlog: Undelivered outbox events, or None if it could not be read
            (the gauge keeps its last value).

    Returns:
        The body and its content type.
    """
    if outbox_backlog is not None:
        OUTBOX_BACKLOG.set(outbox_backlog)
    return generate_latest(), CONTENT_TYPE_LATEST


def _route_template(scope: Scope) -> str:
    # Starlette's router leaves the matched route in the scope.
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
