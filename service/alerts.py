"""Alert rules and their evaluation: when an account sours, raise an alert.

A rule fires for an account when both of its windows (``window_days`` each,
the current one ending now) hold at least ``min_items`` scored items and the
mean polarity fell by ``drop_fraction`` of the scale's range or more::

    previous_mean - current_mean >= drop_fraction * 2     # range of [-1, 1]

The range, not the previous mean, is the reference: a relative drop of a mean
near zero would be huge for a trivial move, and undefined at zero. The default
rule (``drop_fraction`` 0.2, 14-day windows, 10 items) fires on a drop of 0.4.

An alert keeps its evidence: the rule as it was, both windows with sizes, means
and the delta's interval, and the current window's most negative items (ids
and redacted excerpts). Raising also queues an ``alert.raised`` event in the
outbox, in the same transaction. A rule that no longer fires resolves its open
alert; one with too few items leaves it as it is.

Rules are evaluated for the accounts an ingest touched, right after it commits
(:mod:`service.ingest`), and for all accounts by ``POST /v1/alerts:evaluate``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.api.schemas.alerts import (
    AlertEvidence,
    AlertPublic,
    AlertQuery,
    AlertRuleFields,
    AlertRulePublic,
    AlertRulesPublic,
    AlertRulesUpdate,
    AlertsPublic,
    EvaluationPublic,
    QuotePublic,
)
from service.api.schemas.sentiment import DeltaPublic
from service.errors import NotFound
from service.sentiment import window_deltas
from service.storage.accounts import account_external_ids, get_account
from service.storage.alerts import (
    NewAlert,
    RuleFields,
    add_alert,
    add_outbox_event,
    ensure_default_rule,
    get_alert,
    list_alerts,
    list_rules,
    replace_rules,
    resolve_alerts,
)
from service.storage.cursors import decode_cursor, encode_cursor
from service.storage.models import Alert, AlertRule, FeedbackItem, utcnow
from service.storage.sentiment import most_negative

__all__ = [
    "ALERT_RAISED",
    "QUOTES",
    "Evaluation",
    "evaluate_accounts",
    "evaluate_all",
    "list_alerts_public",
    "read_alert",
    "read_rules",
    "update_rules",
]

logger = logging.getLogger(__name__)

ALERT_RAISED = "alert.raised"
QUOTES = 3
_EXCERPT_CHARS = 280
_SCALE_RANGE = 2.0


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation did."""

    accounts: int
    raised: list[Alert]
    resolved: int


def evaluate_accounts(
    session: Session,
    tenant_id: uuid.UUID,
    account_ids: Iterable[uuid.UUID] | None = None,
    *,
    now: dt.datetime | None = None,
) -> Evaluation:
    """Evaluate the tenant's enabled rules for some accounts, or all of them.

    Args:
        session: An open session; the caller commits.
        tenant_id: The tenant.
        account_ids: Row ids of the accounts; None for all with recent items.
        now: End of the current window; default: the current time.

    Returns:
        The accounts evaluated and the alerts raised and resolved.
    """
    end = now or utcnow()
    ids = None if account_ids is None else list(account_ids)
    ensure_default_rule(session, tenant_id)
    seen: set[uuid.UUID] = set()
    raised: list[Alert] = []
    resolved = 0
    for rule in (r for r in list_rules(session, tenant_id) if r.enabled):
        deltas = window_deltas(
            session,
            tenant_id,
            end=end,
            window_days=rule.window_days,
            min_items=rule.min_items,
            account_ids=ids,
        )
        seen.update(deltas)
        for account_id, comparison in sorted(deltas.items()):
            if comparison.delta is None:
                continue  # too few items: neither raise nor resolve
            if -comparison.delta >= rule.drop_fraction * _SCALE_RANGE:
                alert = _raise(session, tenant_id, account_id, rule, comparison)
                raised += [alert] if alert else []
            else:
                resolved += resolve_alerts(
                    session, tenant_id, account_id=account_id, rule_id=rule.id
                )
    if raised:
        logger.info("raised %d alerts for tenant %s", len(raised), tenant_id)
    return Evaluation(accounts=len(seen), raised=raised, resolved=resolved)


def evaluate_all(session: Session, tenant_id: uuid.UUID) -> EvaluationPublic:
    """Evaluate every rule for every account of the tenant; this function commits."""
    evaluation = evaluate_accounts(session, tenant_id)
    session.commit()
    return EvaluationPublic(
        accounts=evaluation.accounts,
        raised=len(evaluation.raised),
        resolved=evaluation.resolved,
    )


def read_rules(session: Session, tenant_id: uuid.UUID) -> AlertRulesPublic:
    """Return the tenant's rules, creating the default one on first use."""
    ensure_default_rule(session, tenant_id)
    session.commit()
    return AlertRulesPublic(
        items=[_rule_public(r) for r in list_rules(session, tenant_id)]
    )


def update_rules(
    session: Session, tenant_id: uuid.UUID, body: AlertRulesUpdate
) -> AlertRulesPublic:
    """Replace the tenant's rule set; this function commits."""
    fields = [RuleFields(**rule.model_dump()) for rule in body.items]
    rules = replace_rules(session, tenant_id, fields)
    session.commit()
    return AlertRulesPublic(items=[_rule_public(r) for r in rules])


def list_alerts_public(
    session: Session, tenant_id: uuid.UUID, query: AlertQuery
) -> AlertsPublic:
    """Return one page of the tenant's alerts, newest first.

    An ``account_id`` the tenant does not have gives an empty page.

    Raises:
        InvalidCursor: If ``query.cursor`` was not issued by this service.
    """
    after = decode_cursor(query.cursor) if query.cursor else None
    account_uuid = None
    if query.account_id is not None:
        account = get_account(session, tenant_id, query.account_id)
        if account is None:
            return AlertsPublic(items=[], next_cursor=None)
        account_uuid = account.id
    alerts = list_alerts(
        session,
        tenant_id,
        account_id=account_uuid,
        status=query.status,
        limit=query.limit + 1,
        after=after,
    )
    more = len(alerts) > query.limit
    alerts = alerts[: query.limit]
    names = account_external_ids(session, tenant_id, {a.account_id for a in alerts})
    return AlertsPublic(
        items=[_alert_public(a, names[a.account_id]) for a in alerts],
        next_cursor=(
            encode_cursor(alerts[-1].raised_at, alerts[-1].id) if more else None
        ),
    )


def read_alert(session: Session, tenant_id: uuid.UUID, alert_id: str) -> AlertPublic:
    """Return one of the tenant's alerts.

    Raises:
        NotFound: If the tenant has no such alert; other tenants' ids, and
            strings that are no id at all, read as absent.
    """
    try:
        parsed: uuid.UUID | None = uuid.UUID(alert_id)
    except ValueError:
        parsed = None
    alert = get_alert(session, tenant_id, parsed) if parsed else None
    if alert is None:
        raise NotFound(
            f"no alert with id {alert_id!r}; use an id returned by GET /v1/alerts",
            field="alert_id",
        )
    names = account_external_ids(session, tenant_id, [alert.account_id])
    return _alert_public(alert, names[alert.account_id])


def _raise(
    session: Session,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
    rule: AlertRule,
    comparison: DeltaPublic,
) -> Alert | None:
    """Store an alert with its evidence and queue its event; None if one is open."""
    assert comparison.delta is not None  # checked by the caller
    window = comparison.current
    quotes = most_negative(
        session,
        tenant_id,
        account_id,
        since=window.start,
        until=window.end,
        limit=QUOTES,
    )
    evidence = AlertEvidence(
        rule=AlertRuleFields.model_validate(rule, from_attributes=True),
        threshold=rule.drop_fraction * _SCALE_RANGE,
        comparison=comparison,
        quotes=[_quote(item) for item in quotes],
    )
    new = NewAlert(
        account_id=account_id,
        rule_id=rule.id,
        delta=comparison.delta,
        evidence=evidence.model_dump(mode="json"),
    )
    alert = add_alert(session, tenant_id, new)
    if alert is None:
        return None
    names = account_external_ids(session, tenant_id, [account_id])
    payload = _alert_public(alert, names[account_id]).model_dump(mode="json")
    add_outbox_event(session, tenant_id, ALERT_RAISED, payload)
    return alert


def _quote(item: FeedbackItem) -> QuotePublic:
    if item.turns:
        text = " / ".join(t["text"] for t in item.turns if t.get("role") == "customer")
        text = text or " / ".join(t["text"] for t in item.turns)
    else:
        text = item.text or ""
    excerpt = text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"
    return QuotePublic(
        feedback_id=item.id,
        excerpt=excerpt,
        polarity_score=item.polarity_score or 0.0,
        occurred_at=item.occurred_at,
        channel=item.channel,
    )


def _rule_public(rule: AlertRule) -> AlertRulePublic:
    return AlertRulePublic(
        id=rule.id,
        name=rule.name,
        window_days=rule.window_days,
        min_items=rule.min_items,
        drop_fraction=rule.drop_fraction,
        enabled=rule.enabled,
        threshold=rule.drop_fraction * _SCALE_RANGE,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def _alert_public(alert: Alert, account_id: str) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        account_id=account_id,
        rule_id=alert.rule_id,
        status=alert.status,
        delta=alert.delta,
        raised_at=alert.raised_at,
        resolved_at=alert.resolved_at,
        evidence=AlertEvidence.model_validate(alert.evidence),
    )
