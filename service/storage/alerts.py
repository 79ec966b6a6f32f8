"""Alert rules, alerts and the event outbox, always within one tenant.

One open alert per (rule, account): an open alert carries ``open_key``, unique
per tenant, and :func:`add_alert` inserts with ``ON CONFLICT DO NOTHING`` on it,
so evaluations racing in two processes raise one alert, not two. Resolving an
alert clears the key, and the next souring raises a new one.

The outbox row of an event is written by :func:`add_outbox_event` in the same
transaction as what it reports; delivery (webhooks) reads it from there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from service.storage._upsert import insert_ignoring_conflicts
from service.storage.models import (
    Alert,
    AlertRule,
    AlertStatus,
    OutboxEvent,
    utcnow,
)

__all__ = [
    "DEFAULT_RULE",
    "NewAlert",
    "RuleFields",
    "add_alert",
    "add_outbox_event",
    "ensure_default_rule",
    "get_alert",
    "list_alerts",
    "list_rules",
    "replace_rules",
    "resolve_alerts",
]


@dataclass(frozen=True)
class RuleFields:
    """The settings of one alert rule, named uniquely within its tenant."""

    name: str
    window_days: int = 14
    min_items: int = 10
    drop_fraction: float = 0.2
    enabled: bool = True


DEFAULT_RULE = RuleFields(name="polarity-drop")


@dataclass(frozen=True)
class NewAlert:
    """An alert to raise for one account under one rule."""

    account_id: uuid.UUID
    rule_id: uuid.UUID
    delta: float
    evidence: dict[str, Any]


def ensure_default_rule(session: Session, tenant_id: uuid.UUID) -> None:
    """Give a tenant without rules the default one; the caller commits.

    Concurrent first calls insert it once (the name is unique per tenant).
    """
    if session.scalar(select(AlertRule.id).where(AlertRule.tenant_id == tenant_id)):
        return
    now = utcnow()
    row = {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "created_at": now,
        "updated_at": now,
        **dataclasses.asdict(DEFAULT_RULE),
    }
    insert_ignoring_conflicts(
        session, AlertRule, [row], conflict_columns=("tenant_id", "name")
    )


def list_rules(session: Session, tenant_id: uuid.UUID) -> list[AlertRule]:
    """Return the tenant's rules ordered by name."""
    query = select(AlertRule).where(AlertRule.tenant_id == tenant_id)
    return list(session.scalars(query.order_by(AlertRule.name)))


def replace_rules(
    session: Session, tenant_id: uuid.UUID, rules: Sequence[RuleFields]
) -> list[AlertRule]:
    """Make ``rules`` the tenant's rule set: update by name, add, delete the rest.

    Alerts of a deleted rule stay, with their rule id cleared.

    Args:
        session: An open session; the caller commits.
        tenant_id: The tenant.
        rules: The new rule set, names unique.

    Returns:
        The tenant's rules after the change, ordered by name.
    """
    existing = {rule.name: rule for rule in list_rules(session, tenant_id)}
    for fields in rules:
        rule = existing.pop(fields.name, None)
        if rule is None:
            rule = AlertRule(id=uuid.uuid4(), tenant_id=tenant_id)
            session.add(rule)
        for name, value in dataclasses.asdict(fields).items():
            setattr(rule, name, value)
    if existing:
        stale = [rule.id for rule in existing.values()]
        session.execute(
            update(Alert)
            .where(Alert.tenant_id == tenant_id, Alert.rule_id.in_(stale))
            .values(rule_id=None)
        )
        session.execute(
            delete(AlertRule).where(
                AlertRule.tenant_id == tenant_id, AlertRule.id.in_(stale)
            )
        )
    session.flush()
    return list_rules(session, tenant_id)


def add_alert(session: Session, tenant_id: uuid.UUID, alert: NewAlert) -> Alert | None:
    """Raise an alert unless one is open for its rule and account already.

    Args:
        session: An open session; the caller commits.
        tenant_id: The tenant owning the account and the rule.
        alert: What to raise.

    Returns:
        The new alert, or None when an open one exists.
    """
    alert_id = uuid.uuid4()
    row = {
        "id": alert_id,
        "tenant_id": tenant_id,
        "account_id": alert.account_id,
        "rule_id": alert.rule_id,
        "status": AlertStatus.OPEN,
        "open_key": _open_key(alert.rule_id, alert.account_id),
        "delta": alert.delta,
        "evidence": alert.evidence,
        "raised_at": utcnow(),
    }
    insert_ignoring_conflicts(
        session, Alert, [row], conflict_columns=("tenant_id", "open_key")
    )
    return get_alert(session, tenant_id, alert_id)


def resolve_alerts(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    account_id: uuid.UUID,
    rule_id: uuid.UUID,
) -> int:
    """Resolve the open alert of a rule and account, if any; return how many."""
    result = session.execute(
        update(Alert)
        .where(
            Alert.tenant_id == tenant_id,
            Alert.open_key == _open_key(rule_id, account_id),
        )
        .values(status=AlertStatus.RESOLVED, open_key=None, resolved_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def add_outbox_event(
    session: Session, tenant_id: uuid.UUID, event_type: str, payload: dict[str, Any]
) -> OutboxEvent:
    """Queue an event for delivery, in the caller's transaction."""
    now = utcnow()
    event = OutboxEvent(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        event_type=event_type,
        payload=payload,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(event)
    session.flush()
    return event


def get_alert(
    session: Session, tenant_id: uuid.UUID, alert_id: uuid.UUID
) -> Alert | None:
    """Return one of the tenant's alerts, or None (also for another tenant's)."""
    return session.scalar(
        select(Alert).where(Alert.tenant_id == tenant_id, Alert.id == alert_id)
    )


def list_alerts(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None = None,
    status: AlertStatus | None = None,
    limit: int = 50,
    after: tuple[dt.datetime, uuid.UUID] | None = None,
) -> list[Alert]:
    """Return the tenant's alerts, newest first, after the keyset ``after``.

    Args:
        session: An open session.
        tenant_id: The tenant.
        account_id: Only this account's alerts.
        status: Only alerts in this status.
        limit: The most alerts returned.
        after: ``(raised_at, id)`` of the last alert of the previous page.

    Returns:
        The alerts.
    """
    query = select(Alert).where(Alert.tenant_id == tenant_id)
    if account_id is not None:
        query = query.where(Alert.account_id == account_id)
    if status is not None:
        query = query.where(Alert.status == status)
    if after is not None:
        raised_at, last_id = after
        query = query.where(
            or_(
                Alert.raised_at < raised_at,
                and_(Alert.raised_at == raised_at, Alert.id < last_id),
            )
        )
    query = query.order_by(Alert.raised_at.desc(), Alert.id.desc())
    return list(session.scalars(query.limit(limit)))


def _open_key(rule_id: uuid.UUID, account_id: uuid.UUID) -> str:
    return f"{rule_id.hex}:{account_id.hex}"
