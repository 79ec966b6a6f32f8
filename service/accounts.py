"""Accounts and their contacts, as the API reads and changes them.

Accounts are addressed by the caller's ``external_id``; an account of another
tenant is not found, exactly as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.api.schemas.accounts import (
    AccountCreate,
    AccountPublic,
    AccountsPublic,
    AccountUpdate,
)
from service.api.schemas.contacts import (
    ContactCreate,
    ContactPublic,
    ContactsPublic,
    ContactUpdate,
)
from service.errors import Conflict, NotFound
from service.sentiment import delta_public, window_deltas
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
from service.storage.cursors import InvalidCursor
from service.storage.models import Account, Contact, utcnow
from service.storage.sentiment import ScoreSums

__all__ = [
    "change_account",
    "change_contact",
    "create_account",
    "create_contact",
    "list_account_contacts",
    "list_accounts_public",
    "rank_accounts_by_delta",
    "read_account",
    "read_contact",
]


def create_account(
    session: Session, tenant_id: uuid.UUID, body: AccountCreate
) -> AccountPublic:
    """Create an account; this function commits.

    Raises:
        Conflict: If the tenant has an account with this external id already.
    """
    if get_account(session, tenant_id, body.external_id) is not None:
        raise _exists(body.external_id)
    fields = AccountFields(**body.model_dump(exclude={"external_id"}))
    account = ensure_accounts(session, tenant_id, {body.external_id: fields})[
        body.external_id
    ]
    # Two concurrent creates of one id both answer with the one stored account,
    # as an idempotent create would; the insert ignores the conflict.
    session.commit()
    return _account_public(account)


def read_account(
    session: Session, tenant_id: uuid.UUID, external_id: str
) -> AccountPublic:
    """Return one account.

    Raises:
        NotFound: If the tenant has no account with this external id.
    """
    return _account_public(_require_account(session, tenant_id, external_id))


def change_account(
    session: Session, tenant_id: uuid.UUID, external_id: str, body: AccountUpdate
) -> AccountPublic:
    """Apply the fields sent (``null`` clears one); this function commits.

    Raises:
        NotFound: If the tenant has no account with this external id.
    """
    changes = body.model_dump(include=body.model_fields_set)
    account = update_account(session, tenant_id, external_id, changes)
    if account is None:
        raise _missing(external_id)
    session.commit()
    return _account_public(account)


def list_accounts_public(
    session: Session, tenant_id: uuid.UUID, *, limit: int, cursor: str | None
) -> AccountsPublic:
    """Return one page of accounts ordered by external id.

    Args:
        session: An open session.
        tenant_id: The caller's tenant.
        limit: The most accounts on the page.
        cursor: The ``next_cursor`` of the previous page, if any.

    Returns:
        The page; ``next_cursor`` is None on the last one.
    """
    accounts = list_accounts(session, tenant_id, limit=limit + 1, after=cursor)
    more = len(accounts) > limit
    accounts = accounts[:limit]
    return AccountsPublic(
        items=[_account_public(a) for a in accounts],
        next_cursor=accounts[-1].external_id if more else None,
    )


def rank_accounts_by_delta(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    window_days: int,
    min_items: int,
) -> AccountsPublic:
    """Return one page of accounts ranked by how fast they sour.

    The delta compares the ``window_days`` ending now with those before (see
    :mod:`service.sentiment`). Most negative delta first; accounts with fewer
    than ``min_items`` items in either window follow, with a null delta, then
    by external id. The cursor is the rank to resume at, so a page boundary
    can shift while new feedback moves the ranking.

    Raises:
        InvalidCursor: If ``cursor`` is not a rank this function returned.
    """
    start = _rank_cursor(cursor)
    end = utcnow()
    deltas = window_deltas(
        session, tenant_id, end=end, window_days=window_days, min_items=min_items
    )
    # Accounts without items in either window show their zero sample sizes.
    empty = delta_public(
        ScoreSums(),
        ScoreSums(),
        end=end,
        window=dt.timedelta(days=window_days),
        min_items=min_items,
    )
    every = list_accounts(session, tenant_id, limit=1_000_000)

    def rank(account: Account) -> tuple[bool, float, str]:
        found = deltas.get(account.id)
        delta = found.delta if found else None
        return (delta is None, delta or 0.0, account.external_id)

    ranked = sorted(every, key=rank)
    page = ranked[start : start + limit]
    items = [
        _account_public(a).model_copy(update={"sentiment": deltas.get(a.id, empty)})
        for a in page
    ]
    more = start + limit < len(ranked)
    return AccountsPublic(items=items, next_cursor=str(start + limit) if more else None)


def create_contact(
    session: Session, tenant_id: uuid.UUID, external_id: str, body: ContactCreate
) -> ContactPublic:
    """Add a contact to an account; this function commits.

    Raises:
        NotFound: If the tenant has no account with this external id.
        Conflict: If the account has a contact with this e-mail address already.
    """
    account = _require_account(session, tenant_id, external_id)
    try:
        contact = add_contact(
            session, account, name=body.name, email=body.email, role=body.role
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        raise _email_taken(external_id, body.email) from None
    return _contact_public(contact, external_id)


def list_account_contacts(
    session: Session, tenant_id: uuid.UUID, external_id: str
) -> ContactsPublic:
    """Return an account's contacts, oldest first.

    Raises:
        NotFound: If the tenant has no account with this external id.
    """
    account = _require_account(session, tenant_id, external_id)
    contacts = list_contacts(session, tenant_id, account.id)
    return ContactsPublic(items=[_contact_public(c, external_id) for c in contacts])


def read_contact(
    session: Session, tenant_id: uuid.UUID, external_id: str, contact_id: str
) -> ContactPublic:
    """Return one contact of an account.

    Raises:
        NotFound: If the tenant has no account with this external id, or the
            account no contact with this id (strings that are no id at all, and
            other accounts' or tenants' contacts, read as absent).
    """
    account = _require_account(session, tenant_id, external_id)
    contact = get_contact(
        session, tenant_id, account.id, _contact_uuid(external_id, contact_id)
    )
    if contact is None:
        raise _contact_missing(external_id, contact_id)
    return _contact_public(contact, external_id)


def change_contact(
    session: Session,
    tenant_id: uuid.UUID,
    external_id: str,
    contact_id: str,
    body: ContactUpdate,
) -> ContactPublic:
    """Apply the fields sent (``null`` clears name or e-mail); this function commits.

    Raises:
        NotFound: As :func:`read_contact`.
        Conflict: If another contact of the account has the new e-mail address.
    """
    account = _require_account(session, tenant_id, external_id)
    parsed = _contact_uuid(external_id, contact_id)
    changes = body.model_dump(include=body.model_fields_set)
    try:
        contact = update_contact(session, tenant_id, account.id, parsed, changes)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise _email_taken(external_id, body.email) from None
    if contact is None:
        raise _contact_missing(external_id, contact_id)
    return _contact_public(contact, external_id)


def _require_account(
    session: Session, tenant_id: uuid.UUID, external_id: str
) -> Account:
    account = get_account(session, tenant_id, external_id)
    if account is None:
        raise _missing(external_id)
    return account


def _rank_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if cursor.isdigit() and len(cursor) <= 9:
        return int(cursor)
    raise InvalidCursor(
        f"expected a next_cursor returned by a previous page, got {cursor!r}; "
        "start again without a cursor",
        field="cursor",
    )


def _missing(external_id: str) -> NotFound:
    return NotFound(
        f"no account with id {external_id!r}; create it with POST /v1/accounts "
        "or by posting feedback for it",
        field="account_id",
    )


def _contact_uuid(external_id: str, contact_id: str) -> uuid.UUID:
    # A string that is no id at all names no contact: 404, not 422.
    try:
        return uuid.UUID(contact_id)
    except ValueError:
        raise _contact_missing(external_id, contact_id) from None


def _contact_missing(external_id: str, contact_id: str) -> NotFound:
    return NotFound(
        f"no contact with id {contact_id!r} at account {external_id!r}; use an id "
        f"returned by GET /v1/accounts/{external_id}/contacts",
        field="contact_id",
    )


def _email_taken(external_id: str, email: str | None) -> Conflict:
    return Conflict(
        f"account {external_id!r} has a contact with e-mail {email!r} "
        "already; list its contacts to find it",
        field="email",
    )


def _exists(external_id: str) -> Conflict:
    return Conflict(
        f"an account with id {external_id!r} exists already; change it with "
        f"PATCH /v1/accounts/{external_id}",
        field="external_id",
    )


def _account_public(account: Account) -> AccountPublic:
    return AccountPublic.model_validate(account, from_attributes=True)


def _contact_public(contact: Contact, account_id: str) -> ContactPublic:
    return ContactPublic(
        id=contact.id,
        account_id=account_id,
        name=contact.name,
        email=contact.email,
        role=contact.role,
        created_at=contact.created_at,
    )
