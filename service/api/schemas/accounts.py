"""Request and response schemas of ``/v1/accounts``.

Callers name accounts by their own ``external_id``; the internal row id never
leaves the service.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.common import ExternalId, StorableText
from service.api.schemas.sentiment import DeltaPublic
from service.storage.models import LifecycleStage, Segment

__all__ = [
    "AccountBase",
    "AccountCreate",
    "AccountPublic",
    "AccountUpdate",
    "AccountsPublic",
    "ExternalId",
]


class AccountBase(BaseModel):
    """The descriptive fields of an account, all optional."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[StorableText, Field(max_length=200)] | None = None
    segment: Segment | None = None
    arr: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = (
        Field(default=None, description="Annual recurring revenue.")
    )
    contract_start: dt.date | None = None
    renewal_date: dt.date | None = None
    lifecycle_stage: LifecycleStage | None = None


class AccountCreate(AccountBase):
    """A new account, named by the caller's own id."""

    external_id: ExternalId = Field(description="The caller's id of the account.")


class AccountUpdate(AccountBase):
    """Fields to change; those not sent stay as they are, ``null`` clears one."""


class AccountPublic(BaseModel):
    external_id: str
    name: str | None
    segment: Segment | None
    arr: Decimal | None
    contract_start: dt.date | None
    renewal_date: dt.date | None
    lifecycle_stage: LifecycleStage | None
    created_at: dt.datetime
    updated_at: dt.datetime
    sentiment: DeltaPublic | None = Field(
        default=None,
        description="The sentiment delta; given when listing with "
        "sort=sentiment_delta.",
    )


class AccountsPublic(BaseModel):
    items: list[AccountPublic]
    next_cursor: str | None
