"""Accounts and contacts, always within one tenant.

Callers know accounts by their own ``external_id``. :func:`ensure_accounts`
creates the unknown ones on first sight with ``INSERT … ON CONFLICT DO NOTHING``,
so two service processes ingesting for the same new account at once end with
one row, not an error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.storage._upsert import insert_ignoring_conflicts
from service.storage.models import (
    Account,
    AuthorRole,
    Contact,
    LifecycleStage,
    Segment,
    utcnow,
)

__all__ = [
    "AccountFields",
    "account_external_ids",
    "add_contact",
    "ensure_accounts",
    "get_account",
    "get_contact",
    "list_accounts",
    "list_contacts",
    "update_account",
    "update_contact",
]

# SQLite allows 32,766 bound parameters per statement; stay well below it.
_IN_CHUNK = 900


@dataclass(frozen=True)
class AccountFields:
    """The descriptive fields of an account; None means not given."""

    name: str | None = None
    segment: Segment | None = None
    arr: Decimal | None = None
    contract_start: dt.date | None = None
    renewal_date: dt.date | None = None
    lifecycle_stage: LifecycleStage | None = None


_UPDATABLE = frozenset(f.name for f in dataclasses.fields(AccountFields))
_CONTACT_UPDATABLE = frozenset({"name", "email", "role"})


def get_account(
    session: Session, tenant_id: uuid.UUID, external_id: str
) -> Account | None:
    """Return the tenant's account known as ``external_id``, or None."""
    return session.scalar(
        select(Account).where(
            Account.tenant_id == tenant_id, Account.external_id == external_id
        )
    )


def ensure_accounts(
    session: Session,
    tenant_id: uuid.UUID,
    accounts: Mapping[str, AccountFields | None],
) -> dict[str, Account]:
    """Return the tenant's accounts by external id, creating the missing ones.

    A new account takes the fields given; an existing one is left unchanged
    (use :func:`update_account` to change it).

    Args:
        session: An open session; the caller commits.
        tenant_id: The tenant.
        accounts: External id → fields for the account if it must be created.

    Returns:
        Every requested account, keyed by external id.
    """
    if not accounts:
        return {}
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "external_id": external_id,
            "created_at": now,
            "updated_at": now,
            **dataclasses.asdict(fields or AccountFields()),
        }
        for external_id, fields in accounts.items()
    ]
    insert_ignoring_conflicts(
        session, Account, rows, conflict_columns=("tenant_id", "external_id")
    )
    return {a.external_id: a for a in _accounts_by_ids(session, tenant_id, accounts)}


def update_account(
    session: Session,
    tenant_id: uuid.UUID,
    external_id: str,
    changes: Mapping[str, object],
) -> Account | None:
    """Apply ``changes`` to one account; return it, or None if it is not found.

    Raises:
        ValueError: If a key of ``changes`` is not a field of :class:`AccountFields`.
    """
    unknown = sorted(set(changes) - _UPDATABLE)
    if unknown:
        raise ValueError(
            f"expected account fields among {sorted(_UPDATABLE)}, got {unknown!r}"
        )
    account = get_account(session, tenant_id, external_id)
    if account is None:
        return None
    for name, value in changes.items():
        setattr(account, name, value)
    session.flush()
    return account


def list_accounts(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    limit: int = 100,
    after: str | None = None,
) -> list[Account]:
    """Return up to ``limit`` accounts ordered by external id, after ``after``."""
    query = select(Account).where(Account.tenant_id == tenant_id)
    if after is not None:
        query = query.where(Account.external_id > after)
    return list(session.scalars(query.order_by(Account.external_id).limit(limit)))


def account_external_ids(
    session: Session, tenant_id: uuid.UUID, account_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Return the external id of each of the tenant's accounts among ``account_ids``.

    Ids of other tenants' accounts, or of none, are left out of the result.
    """
    wanted = sorted(set(account_ids))
    found: dict[uuid.UUID, str] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        rows = session.execute(
            select(Account.id, Account.external_id).where(
                Account.tenant_id == tenant_id,
                Account.id.in_(wanted[start : start + _IN_CHUNK]),
            )
        )
        found.update({row.id: row.external_id for row in rows})
    return found


def add_contact(
    session: Session,
    account: Account,
    *,
    name: str | None = None,
    email: str | None = None,
    role: AuthorRole = AuthorRole.OTHER,
) -> Contact:
    """Add a contact to an account (of the account's tenant)."""
    contact = Contact(
        id=uuid.uuid4(),
        tenant_id=account.tenant_id,
        account_id=account.id,
        name=name,
        email=email,
        role=role,
    )
    session.add(contact)
    session.flush()
    return contact


def list_contacts(
    session: Session, tenant_id: uuid.UUID, account_id: uuid.UUID
) -> list[Contact]:
    """Return the contacts of one of the tenant's accounts, oldest first."""
    query = select(Contact).where(
        Contact.tenant_id == tenant_id, Contact.account_id == account_id
    )
    return list(session.scalars(query.order_by(Contact.created_at, Contact.id)))


def get_contact(
    session: Session,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
    contact_id: uuid.UUID,
) -> Contact | None:
    """Return one contact of one of the tenant's accounts, or None."""
    return session.scalar(
        select(Contact).where(
            Contact.tenant_id == tenant_id,
            Contact.account_id == account_id,
            Contact.id == contact_id,
        )
    )


def update_contact(
    session: Session,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
    contact_id: uuid.UUID,
    changes: Mapping[str, object],
) -> Contact | None:
    """Apply ``changes`` to one contact; return it, or None if it is not found.

    Raises:
        ValueError: If a key of ``changes`` is not ``name``, ``email`` or ``role``.
        IntegrityError: If the new e-mail address is another contact's at the
            account; the session must then be rolled back.
    """
    unknown = sorted(set(changes) - _CONTACT_UPDATABLE)
    if unknown:
        raise ValueError(
            f"expected contact fields among {sorted(_CONTACT_UPDATABLE)}, "
            f"got {unknown!r}"
        )
    contact = get_contact(session, tenant_id, account_id, contact_id)
    if contact is None:
        return None
    for name, value in changes.items():
        setattr(contact, name, value)
    session.flush()
    return contact


def _accounts_by_ids(
    session: Session, tenant_id: uuid.UUID, external_ids: Iterable[str]
) -> list[Account]:
    wanted: Sequence[str] = list(external_ids)
    found: list[Account] = []
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        found.extend(
            session.scalars(
                select(Account).where(
                    Account.tenant_id == tenant_id, Account.external_id.in_(chunk)
                )
            )
        )
    return found
