"""Request and response schemas of ``/v1/accounts/{account_id}/contacts``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator
from pydantic_core import PydanticCustomError

from service.api.schemas.common import StorableText
from service.storage.models import AuthorRole

__all__ = ["ContactCreate", "ContactPublic", "ContactUpdate", "ContactsPublic"]

_Name = Annotated[StorableText, Field(max_length=200)]
_Email = Annotated[
    StrictStr, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]


class ContactCreate(BaseModel):
    """A stakeholder at an account."""

    model_config = ConfigDict(extra="forbid")

    name: _Name | None = None
    email: _Email | None = None
    role: AuthorRole = Field(
        default=AuthorRole.OTHER, description="The contact's stakeholder role."
    )


class ContactUpdate(BaseModel):
    """Fields to change; those not sent stay as they are, ``null`` clears
    ``name`` or ``email``."""

    model_config = ConfigDict(extra="forbid")

    name: _Name | None = None
    email: _Email | None = None
    role: AuthorRole | None = Field(
        default=None, description="The contact's stakeholder role; not nullable."
    )

    @field_validator("role")
    @classmethod
    def _role_not_cleared(cls, value: AuthorRole | None) -> AuthorRole:
        # Runs only on a value sent: an omitted role keeps the stored one.
        if value is None:
            raise PydanticCustomError(
                "invalid_value",
                "expected one of {roles}; a contact always has a role, so it "
                "cannot be cleared with null. Send 'other' instead",
                {"roles": ", ".join(repr(r.value) for r in AuthorRole)},
            )
        return value


class ContactPublic(BaseModel):
    id: uuid.UUID
    account_id: str = Field(description="The caller's id of the account.")
    name: str | None
    email: str | None
    role: AuthorRole
    created_at: dt.datetime


class ContactsPublic(BaseModel):
    items: list[ContactPublic]
