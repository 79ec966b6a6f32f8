"""Sentiment aggregation and alert storage on both backends."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.storage.accounts import get_account
from service.storage.alerts import (
    DEFAULT_RULE,
    NewAlert,
    add_alert,
    ensure_default_rule,
    list_rules,
)
from service.storage.models import Tenant
from service.storage.sentiment import ScoreSums, daily_sums, window_sums

Store = Callable[..., list[uuid.UUID]]
END = dt.datetime(2026, 3, 15, tzinfo=dt.UTC)


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


def test_daily_sums_group_by_utc_day_whatever_the_session_zone(
    session: Session, tenant: Tenant, store_scored: Store
) -> None:
    store_scored(
        tenant.id,
        "acme",
        [
            {"occurred_at": _at(3, 23, 30), "score": -0.5, "cs_labels": ["anger"]},
            {"occurred_at": _at(4, 0, 30), "score": 0.5},
            {"occurred_at": _at(4, 1), "score": 0.25, "channel": "chat"},
        ],
    )
    if session.get_bind().dialect.name == "postgresql":
        # A server or session in another zone must not move items across days.
        session.execute(text("SET TIME ZONE 'America/Los_Angeles'"))
    account = get_account(session, tenant.id, "acme")
    assert account is not None
    rows = daily_sums(
        session,
        tenant.id,
        account.id,
        since=_at(1, 0),
        until=END,
        polarities=("negative", "positive"),
        emotions=("anger",),
    )
    found = {(r.day.isoformat(), r.channel.value): r for r in rows}
    assert sorted(found) == [
        ("2026-03-03", "ticket"),
        ("2026-03-04", "chat"),
        ("2026-03-04", "ticket"),
    ]
    first = found[("2026-03-03", "ticket")]
    assert first.scores == ScoreSums(1, -0.5, 0.25)
    assert (first.polarity, first.emotions) == (
        {"negative": 1, "positive": 0},
        {"anger": 1},
    )


def test_window_sums_split_at_the_window_boundary(
    session: Session, tenant: Tenant, store_scored: Store
) -> None:
    store_scored(
        tenant.id,
        "acme",
        [
            {"occurred_at": _at(1, 0), "score": 1.0},  # start of previous: in
            {"occurred_at": _at(8, 0), "score": -1.0},  # start of current: in
            {"occurred_at": _at(14, 23), "score": -0.5},
            {"occurred_at": END, "score": 0.9},  # the end is exclusive
            {"occurred_at": _at(1, 0) - dt.timedelta(seconds=1), "score": 0.9},
        ],
    )
    account = get_account(session, tenant.id, "acme")
    assert account is not None
    sums = window_sums(session, tenant.id, end=END, window=dt.timedelta(days=7))
    assert sums == {
        account.id: (ScoreSums(2, -1.5, 1.25), ScoreSums(1, 1.0, 1.0)),
    }


def test_add_alert_keeps_one_open_alert_per_rule_and_account(
    session: Session, tenant: Tenant, store_scored: Store
) -> None:
    store_scored(tenant.id, "acme", [{"occurred_at": _at(1, 0), "score": 0.1}])
    account = get_account(session, tenant.id, "acme")
    assert account is not None
    ensure_default_rule(session, tenant.id)
    ensure_default_rule(session, tenant.id)
    (rule,) = list_rules(session, tenant.id)
    assert rule.name == DEFAULT_RULE.name
    new = NewAlert(account_id=account.id, rule_id=rule.id, delta=-0.5, evidence={})
    first = add_alert(session, tenant.id, new)
    assert first is not None
    assert add_alert(session, tenant.id, new) is None
    session.commit()
