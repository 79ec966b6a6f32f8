"""Theme refresh jobs: a refresh asked twice before it starts is one job."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from service.api.schemas.themes import ThemeRefresh
from service.auth import Caller
from service.storage.models import Channel, Scope, Tenant, ThemeJobStatus
from service.storage.themes import claim_job
from service.theme_jobs import queue_refresh


def _caller(tenant: Tenant) -> Caller:
    return Caller(tenant.id, frozenset({Scope.ADMIN}), store_raw_text=False)


def test_a_queued_refresh_of_the_same_scope_is_answered_again(
    session: Session, tenant: Tenant
) -> None:
    since = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    body = ThemeRefresh.model_validate({"from": since.isoformat(), "channel": "chat"})
    first = queue_refresh(session, _caller(tenant), body)
    again = queue_refresh(session, _caller(tenant), body)
    other = queue_refresh(
        session, _caller(tenant), body.model_copy(update={"channel": Channel.TICKET})
    )

    assert again.id == first.id
    assert other.id != first.id
    assert first.since == since

    claim_job(session, first.id)  # started: a new request queues a new job
    session.commit()
    assert first.status == ThemeJobStatus.RUNNING
    later = queue_refresh(session, _caller(tenant), body)
    assert later.id != first.id
