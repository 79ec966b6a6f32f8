"""Feedback items: idempotent insertion, tenant isolation, filters, pages."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.storage.accounts import ensure_accounts
from service.storage.feedback import (
    FeedbackFilter,
    InvalidCursor,
    NewFeedback,
    add_feedback,
    get_feedback,
    list_feedback,
)
from service.storage.models import (
    Account,
    AuthorRole,
    Channel,
    FeedbackStatus,
    Tenant,
)
from service.storage.session import create_session_factory

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def account(session: Session, tenant: Tenant) -> Account:
    account = ensure_accounts(session, tenant.id, {"acme": None})["acme"]
    session.commit()
    return account


def _item(account: Account, **overrides: object) -> NewFeedback:
    fields: dict[str, object] = {
        "account_id": account.id,
        "channel": Channel.TICKET,
        "occurred_at": T0,
        "status": FeedbackStatus.SCORED,
        "text": "The export failed again.",
        "polarity": "negative",
        "polarity_score": -0.7,
        "cs_labels": ["frustration"],
        "labels": ["annoyance"],
        "emotions": {"annoyance": 0.8},
        "model_version": "emotion-head.v1",
    }
    fields.update(overrides)
    return NewFeedback(**fields)  # type: ignore[arg-type]


def test_add_feedback_stores_the_analysis(
    session: Session, tenant: Tenant, account: Account
) -> None:
    turns = [{"role": "customer", "text": "Hi <PERSON> here"}]
    item = _item(account, text=None, turns=turns, metadata_={"ticket": {"n": 1}})
    [stored] = add_feedback(session, tenant.id, [item])
    session.commit()
    session.expunge_all()

    loaded = get_feedback(session, tenant.id, stored.item.id)
    assert stored.created
    assert loaded is not None
    assert loaded.turns == turns
    assert loaded.metadata_ == {"ticket": {"n": 1}}
    assert loaded.emotions == {"annoyance": 0.8}
    assert loaded.occurred_at == T0
    assert loaded.occurred_at.tzinfo is not None
    assert loaded.received_at.tzinfo is not None
    assert loaded.raw_text is None


def test_add_feedback_is_idempotent_on_external_id(
    session: Session, tenant: Tenant, account: Account
) -> None:
    batch = [
        _item(account, external_id="t-1"),
        _item(account, external_id="t-2"),
        _item(account, external_id="t-1", text="a different body"),
        _item(account),  # no external id: always new
    ]
    first = add_feedback(session, tenant.id, batch)
    session.commit()
    retry = add_feedback(session, tenant.id, batch)
    session.commit()

    assert [s.created for s in first] == [True, True, False, True]
    assert first[2].item.id == first[0].item.id
    assert first[2].item.text == "The export failed again."
    assert [s.created for s in retry] == [False, False, False, True]
    assert [s.item.id for s in retry[:3]] == [s.item.id for s in first[:3]]
    assert len(list_feedback(session, tenant.id).items) == 4


def test_add_feedback_from_two_sessions_stores_one_item(
    engine: Engine, tenant: Tenant, account: Account
) -> None:
    factory = create_session_factory(engine)
    with factory() as one, factory() as two:
        [a] = add_feedback(one, tenant.id, [_item(account, external_id="race")])
        one.commit()
        [b] = add_feedback(two, tenant.id, [_item(account, external_id="race")])
        two.commit()
    assert (a.created, b.created) == (True, False)
    assert a.item.id == b.item.id


def test_same_external_id_in_two_tenants_is_two_items(
    session: Session, tenant: Tenant, other_tenant: Tenant, account: Account
) -> None:
    theirs = ensure_accounts(session, other_tenant.id, {"acme": None})["acme"]
    [mine] = add_feedback(session, tenant.id, [_item(account, external_id="x")])
    [other] = add_feedback(session, other_tenant.id, [_item(theirs, external_id="x")])
    session.commit()

    assert other.created and mine.item.id != other.item.id
    assert get_feedback(session, other_tenant.id, mine.item.id) is None
    assert [i.id for i in list_feedback(session, other_tenant.id).items] == [
        other.item.id
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (FeedbackFilter(channel=Channel.CHAT), {"chat"}),
        (FeedbackFilter(author_role=AuthorRole.EXECUTIVE_SPONSOR), {"sponsor"}),
        (FeedbackFilter(polarity="positive"), {"happy"}),
        (FeedbackFilter(emotion="gratitude"), {"happy"}),
        (FeedbackFilter(emotion="annoyance"), {"base", "chat", "sponsor"}),
        (FeedbackFilter(since=T0 + dt.timedelta(days=1)), {"happy", "sponsor"}),
        (FeedbackFilter(until=T0 + dt.timedelta(days=1)), {"base", "chat"}),
    ],
)
def test_list_feedback_filters(
    session: Session,
    tenant: Tenant,
    account: Account,
    filters: FeedbackFilter,
    expected: set[str],
) -> None:
    day = dt.timedelta(days=1)
    other = ensure_accounts(session, tenant.id, {"elsewhere": None})["elsewhere"]
    add_feedback(
        session,
        tenant.id,
        [
            _item(account, external_id="base"),
            _item(account, external_id="chat", channel=Channel.CHAT),
            _item(
                account,
                external_id="sponsor",
                author_role=AuthorRole.EXECUTIVE_SPONSOR,
                occurred_at=T0 + 2 * day,
            ),
            _item(
                account,
                external_id="happy",
                polarity="positive",
                cs_labels=["gratitude"],
                labels=["gratitude"],
                occurred_at=T0 + day,
            ),
            _item(other, external_id="other-account"),
        ],
    )
    session.commit()

    scoped = FeedbackFilter(**{**filters.__dict__, "account_id": account.id})
    page = list_feedback(session, tenant.id, scoped)
    assert {i.external_id for i in page.items} == expected


def test_list_feedback_pages_newest_first_without_gaps(
    session: Session, tenant: Tenant, account: Account
) -> None:
    # Pairs share a timestamp so that the id tie-break is exercised.
    times = [T0 + dt.timedelta(hours=i // 2) for i in range(7)]
    add_feedback(session, tenant.id, [_item(account, occurred_at=t) for t in times])
    session.commit()

    seen: list[uuid.UUID] = []
    cursor = None
    for _ in range(10):
        page = list_feedback(session, tenant.id, limit=3, cursor=cursor)
        seen += [i.id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    everything = list_feedback(session, tenant.id, limit=100).items
    assert [i.id for i in everything] == seen
    assert [i.occurred_at for i in everything] == sorted(times, reverse=True)


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJ4IiwgInkiXQ"])
def test_list_feedback_rejects_a_forged_cursor(
    session: Session, tenant: Tenant, cursor: str
) -> None:
    with pytest.raises(InvalidCursor) as info:
        list_feedback(session, tenant.id, cursor=cursor)
    assert str(info.value) == (
        f"expected a next_cursor returned by a previous page, got {cursor!r}; "
        "start again without a cursor"
    )
    assert info.value.field == "cursor"


def test_list_feedback_rejects_an_odd_emotion(session: Session, tenant: Tenant) -> None:
    with pytest.raises(ValueError) as info:
        list_feedback(session, tenant.id, FeedbackFilter(emotion='x" OR 1'))
    assert str(info.value) == (
        "expected an emotion label of lowercase letters and '_', got 'x\" OR 1'"
    )


def test_naive_datetimes_are_refused(
    session: Session, tenant: Tenant, account: Account
) -> None:
    naive = dt.datetime(2026, 3, 1, 12, 0)
    with pytest.raises(Exception, match="expected a timezone-aware datetime") as info:
        add_feedback(session, tenant.id, [_item(account, occurred_at=naive)])
    assert "attach a zone" in str(info.value)
    session.rollback()


def test_nps_score_range_is_enforced_by_the_database(
    session: Session, tenant: Tenant, account: Account
) -> None:
    with pytest.raises(IntegrityError):
        add_feedback(session, tenant.id, [_item(account, nps_score=11)])
    session.rollback()


def test_add_feedback_refuses_another_tenants_account(
    session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = ensure_accounts(session, other_tenant.id, {"acme": None})["acme"]
    session.commit()
    with pytest.raises(ValueError) as info:
        add_feedback(session, tenant.id, [_item(theirs)])
    assert str(info.value) == (
        f"expected accounts of tenant {tenant.id}, got ids that are not among "
        f"them: {[str(theirs.id)]!r}; resolve them with ensure_accounts (or "
        "add_contact) for this tenant first"
    )


def test_add_feedback_refuses_an_unknown_contact(
    session: Session, tenant: Tenant, account: Account
) -> None:
    with pytest.raises(ValueError, match="expected contacts of tenant"):
        add_feedback(session, tenant.id, [_item(account, contact_id=uuid.uuid4())])
