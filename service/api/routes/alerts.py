"""``/v1/alerts`` and ``/v1/alert-rules``: souring accounts, and when to say so."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service import alerts
from service.api.deps import AdminCallerDep, ReadCallerDep, SessionDep
from service.api.schemas.alerts import (
    AlertPublic,
    AlertQuery,
    AlertRulesPublic,
    AlertRulesUpdate,
    AlertsPublic,
    EvaluationPublic,
)

__all__ = [
    "evaluate_alerts",
    "read_alert",
    "read_alert_rules",
    "read_alerts",
    "router",
    "update_alert_rules",
]

router = APIRouter(prefix="/v1", tags=["alerts"])


@router.get("/alerts")
def read_alerts(
    query: Annotated[AlertQuery, Query()], caller: ReadCallerDep, session: SessionDep
) -> AlertsPublic:
    """List alerts, newest first, by account and status, paginated by cursor."""
    return alerts.list_alerts_public(session, caller.tenant_id, query)


@router.post("/alerts:evaluate")
def evaluate_alerts(caller: AdminCallerDep, session: SessionDep) -> EvaluationPublic:
    """Evaluate every alert rule for every account now."""
    return alerts.evaluate_all(session, caller.tenant_id)


@router.get("/alerts/{alert_id}")
def read_alert(
    alert_id: str, caller: ReadCallerDep, session: SessionDep
) -> AlertPublic:
    """Read one alert with its evidence."""
    return alerts.read_alert(session, caller.tenant_id, alert_id)


@router.get("/alert-rules")
def read_alert_rules(caller: ReadCallerDep, session: SessionDep) -> AlertRulesPublic:
    """List the alert rules; a tenant starts with the default one."""
    return alerts.read_rules(session, caller.tenant_id)


@router.put("/alert-rules")
def update_alert_rules(
    body: AlertRulesUpdate, caller: AdminCallerDep, session: SessionDep
) -> AlertRulesPublic:
    """Replace the alert rules; rules not sent are deleted."""
    return alerts.update_rules(session, caller.tenant_id, body)
