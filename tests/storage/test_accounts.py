"""Accounts and contacts, tenant-scoped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from service.storage.accounts import (
    AccountFields,
    add_contact,
    ensure_accounts,
    get_account,
    get_contact,
    list_accounts,
    list_contacts,
    update_account,
    update_contact,
)
from service.storage.models import AuthorRole, LifecycleStage, Segment, Tenant


def test_ensure_accounts_creates_on_first_sight_only(
    session: Session, tenant: Tenant
) -> None:
    fields = AccountFields(
        name="Globex",
        segment=Segment.ENTERPRISE,
        arr=Decimal("120000.50"),
        contract_start=dt.date(2025, 1, 1),
        renewal_date=dt.date(2026, 1, 1),
        lifecycle_stage=LifecycleStage.ADOPTION,
    )
    first = ensure_accounts(session, tenant.id, {"globex": fields, "initech": None})
    session.commit()
    again = ensure_accounts(session, tenant.id, {"globex": AccountFields(name="X")})
    session.commit()

    assert again["globex"].id == first["globex"].id
    account = get_account(session, tenant.id, "globex")
    assert account is not None
    assert account.name == "Globex"  # not overwritten by the second sight
    assert account.segment is Segment.ENTERPRISE
    assert account.arr == Decimal("120000.50")
    assert account.renewal_date == dt.date(2026, 1, 1)
    assert first["initech"].name is None


def test_accounts_are_isolated_between_tenants(
    session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = ensure_accounts(session, tenant.id, {"shared-id": None})["shared-id"]
    theirs = ensure_accounts(session, other_tenant.id, {"shared-id": None})
    session.commit()

    assert theirs["shared-id"].id != mine.id
    assert get_account(session, other_tenant.id, "shared-id") == theirs["shared-id"]
    assert [a.id for a in list_accounts(session, tenant.id)] == [mine.id]
    assert update_account(session, other_tenant.id, "missing", {"name": "x"}) is None


def test_update_account_changes_given_fields(session: Session, tenant: Tenant) -> None:
    ensure_accounts(session, tenant.id, {"a1": AccountFields(name="Old")})
    updated = update_account(
        session, tenant.id, "a1", {"name": "New", "segment": Segment.SMB}
    )
    session.commit()
    assert updated is not None
    assert (updated.name, updated.segment) == ("New", Segment.SMB)


def test_update_account_names_unknown_fields(session: Session, tenant: Tenant) -> None:
    with pytest.raises(ValueError) as info:
        update_account(session, tenant.id, "a1", {"colour": "red", "name": "x"})
    assert str(info.value) == (
        "expected account fields among ['arr', 'contract_start', 'lifecycle_stage', "
        "'name', 'renewal_date', 'segment'], got ['colour']"
    )


def test_list_accounts_pages_by_external_id(session: Session, tenant: Tenant) -> None:
    ensure_accounts(session, tenant.id, {f"acct-{i}": None for i in range(5)})
    session.commit()
    first = list_accounts(session, tenant.id, limit=3)
    rest = list_accounts(session, tenant.id, limit=3, after=first[-1].external_id)
    assert [a.external_id for a in first + rest] == [f"acct-{i}" for i in range(5)]


def test_contacts_belong_to_their_account(
    session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    account = ensure_accounts(session, tenant.id, {"a1": None})["a1"]
    sponsor = add_contact(
        session,
        account,
        name="Pat",
        email="pat@example.com",
        role=AuthorRole.EXECUTIVE_SPONSOR,
    )
    add_contact(session, account, role=AuthorRole.END_USER)
    session.commit()

    contacts = list_contacts(session, tenant.id, account.id)
    assert [c.role for c in contacts] == [
        AuthorRole.EXECUTIVE_SPONSOR,
        AuthorRole.END_USER,
    ]
    assert contacts[0].id == sponsor.id
    assert list_contacts(session, other_tenant.id, account.id) == []


def test_update_contact_is_tenant_and_account_scoped(
    session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    accounts = ensure_accounts(session, tenant.id, {"a1": None, "a2": None})
    contact = add_contact(session, accounts["a1"], name="Pat", email="p@example.com")
    session.commit()

    changes = {"name": None, "role": AuthorRole.IT_ADMIN}
    for tenant_id, account_id in [
        (other_tenant.id, accounts["a1"].id),
        (tenant.id, accounts["a2"].id),
    ]:
        assert get_contact(session, tenant_id, account_id, contact.id) is None
        assert (
            update_contact(session, tenant_id, account_id, contact.id, changes) is None
        )
    updated = update_contact(session, tenant.id, accounts["a1"].id, contact.id, changes)
    session.commit()

    assert updated is not None
    assert (updated.name, updated.email, updated.role) == (
        None,
        "p@example.com",
        AuthorRole.IT_ADMIN,
    )


def test_update_contact_names_unknown_fields(session: Session, tenant: Tenant) -> None:
    account = ensure_accounts(session, tenant.id, {"a1": None})["a1"]
    contact = add_contact(session, account)
    with pytest.raises(ValueError) as info:
        update_contact(session, tenant.id, account.id, contact.id, {"phone": "1"})
    assert str(info.value) == (
        "expected contact fields among ['email', 'name', 'role'], got ['phone']"
    )
