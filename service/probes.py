"""What the probes report: readiness of the database and models, and metrics.

``/readyz`` is what a load balancer asks before sending traffic: the database
must answer ``SELECT 1`` and the models must be loaded (the lifespan loads them
before the first request, so a process that is still starting reports
``unavailable``). ``/metrics`` adds the outbox backlog, read at scrape time, to
the counters of :mod:`service.metrics`.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.api.schemas.health import ReadinessPublic
from service.metrics import render_metrics
from service.storage.session import ping
from service.storage.webhooks import outbox_backlog

__all__ = ["check_readiness", "scrape_metrics"]

logger = logging.getLogger(__name__)


def check_readiness(
    session: Session, *, model_version: str | None, redactor_loaded: bool
) -> ReadinessPublic:
    """Check that the database answers and that the models are loaded.

    Args:
        session: A session on the service's database.
        model_version: The loaded analyzer's version, or None if not loaded.
        redactor_loaded: Whether the PII redactor is loaded.

    Returns:
        ``ready``, or ``unavailable`` with the reason.
    """
    checks = {"database": _check_database(session), "models": "ok"}
    missing = [
        name
        for name, loaded in (
            ("analyzer", model_version is not None),
            ("redactor", redactor_loaded),
        )
        if not loaded
    ]
    if missing:
        checks["models"] = f"not loaded yet: {', '.join(missing)}"
    failed = [f"{name}: {state}" for name, state in checks.items() if state != "ok"]
    return ReadinessPublic(
        status="unavailable" if failed else "ready",
        model_version=model_version,
        checks=checks,
        reason="; ".join(failed) or None,
    )


def scrape_metrics(session: Session, *, max_attempts: int) -> tuple[bytes, str]:
    """Render the metrics, with the outbox backlog read now.

    Args:
        session: A session on the service's database.
        max_attempts: Events that have had this many rounds are no longer backlog.

    Returns:
        The Prometheus text body and its content type.
    """
    try:
        backlog: int | None = outbox_backlog(session, max_attempts=max_attempts)
    except OperationalError as e:
        # Metrics must still answer while the database is down: that is when
        # they are needed most.
        logger.warning("outbox backlog not read: %s", type(e).__name__)
        backlog = None
    return render_metrics(outbox_backlog=backlog)


def _check_database(session: Session) -> str:
    try:
        ping(session)
    except OperationalError as e:
        logger.warning("readiness: database unavailable: %s", type(e).__name__)
        return "unavailable (SELECT 1 failed)"
    return "ok"
