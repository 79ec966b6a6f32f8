"""Request and response schemas of ``/v1/accounts/{account_id}/contacts``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from service.api.schemas.common import StorableText
from service.storage.models import AuthorRole

__all__ = ["ContactCreate", "ContactPublic", "ContactsPublic"]


class ContactCreate(BaseModel):
    """A stakeholder at an account."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[StorableText, Field(max_length=200)] | None = None
    email: (
        Annotated[
            StrictStr, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
        ]
        | None
    ) = None
    role: AuthorRole = Field(
        default=AuthorRole.OTHER, description="The contact's stakeholder role."
    )


class ContactPublic(BaseModel):
    id: uuid.UUID
    account_id: str = Field(description="The caller's id of the account.")
    name: str | None
    email: str | None
    role: AuthorRole
    created_at: dt.datetime


class ContactsPublic(BaseModel):
    items: list[ContactPublic]
