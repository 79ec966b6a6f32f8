"""``/v1/accounts``: accounts by the caller's id, and their contacts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from service import accounts
from service.api.deps import IngestCallerDep, ReadCallerDep, SessionDep
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

__all__ = [
    "create_account",
    "create_contact",
    "list_accounts",
    "list_contacts",
    "read_account",
    "read_contact",
    "router",
    "update_account",
    "update_contact",
]

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_account(
    body: AccountCreate, caller: IngestCallerDep, session: SessionDep
) -> AccountPublic:
    """Create an account named by the caller's own id."""
    return accounts.create_account(session, caller.tenant_id, body)


@router.get("")
def list_accounts(
    caller: ReadCallerDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[
        Literal["external_id", "sentiment_delta"],
        Query(description="sentiment_delta: the fastest souring first."),
    ] = "external_id",
    window_days: Annotated[int, Query(ge=1, le=183)] = 14,
    min_items: Annotated[int, Query(ge=3, le=100_000)] = 10,
) -> AccountsPublic:
    """List accounts by id, or by sentiment delta (most negative first)."""
    if sort == "sentiment_delta":
        return accounts.rank_accounts_by_delta(
            session,
            caller.tenant_id,
            limit=limit,
            cursor=cursor,
            window_days=window_days,
            min_items=min_items,
        )
    return accounts.list_accounts_public(
        session, caller.tenant_id, limit=limit, cursor=cursor
    )


@router.get("/{account_id}")
def read_account(
    account_id: str, caller: ReadCallerDep, session: SessionDep
) -> AccountPublic:
    """Read one account."""
    return accounts.read_account(session, caller.tenant_id, account_id)


@router.patch("/{account_id}")
def update_account(
    account_id: str, body: AccountUpdate, caller: IngestCallerDep, session: SessionDep
) -> AccountPublic:
    """Change the fields sent; null clears a field."""
    return accounts.change_account(session, caller.tenant_id, account_id, body)


@router.post("/{account_id}/contacts", status_code=status.HTTP_201_CREATED)
def create_contact(
    account_id: str, body: ContactCreate, caller: IngestCallerDep, session: SessionDep
) -> ContactPublic:
    """Add a contact (stakeholder) to an account."""
    return accounts.create_contact(session, caller.tenant_id, account_id, body)


@router.get("/{account_id}/contacts")
def list_contacts(
    account_id: str, caller: ReadCallerDep, session: SessionDep
) -> ContactsPublic:
    """List an account's contacts, oldest first."""
    return accounts.list_account_contacts(session, caller.tenant_id, account_id)


@router.get("/{account_id}/contacts/{contact_id}")
def read_contact(
    account_id: str, contact_id: str, caller: ReadCallerDep, session: SessionDep
) -> ContactPublic:
    """Read one contact of an account."""
    return accounts.read_contact(session, caller.tenant_id, account_id, contact_id)


@router.patch("/{account_id}/contacts/{contact_id}")
def update_contact(
    account_id: str,
    contact_id: str,
    body: ContactUpdate,
    caller: IngestCallerDep,
    session: SessionDep,
) -> ContactPublic:
    """Change the fields sent; null clears name or email."""
    return accounts.change_contact(
        session, caller.tenant_id, account_id, contact_id, body
    )
