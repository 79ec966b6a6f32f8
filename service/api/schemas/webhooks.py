"""Request and response schemas of ``/v1/webhooks``."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr

__all__ = [
    "WebhookCreate",
    "WebhookCreatedPublic",
    "WebhookEvent",
    "WebhookPublic",
    "WebhooksPublic",
]


class WebhookEvent(enum.StrEnum):
    """The events a subscription may ask for."""

    ALERT_RAISED = "alert.raised"


class WebhookCreate(BaseModel):
    """A new subscription: where to post, and which events."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[StrictStr, Field(min_length=1, max_length=2000)] = Field(
        description="An http(s) URL; https outside development and test."
    )
    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=20)]
    description: Annotated[StrictStr, Field(max_length=200)] | None = None


class WebhookPublic(BaseModel):
    id: uuid.UUID
    url: str
    events: list[WebhookEvent]
    description: str | None
    created_at: dt.datetime


class WebhookCreatedPublic(WebhookPublic):
    secret: str = Field(
        description="Signs every delivery; shown only in this answer, store it now."
    )


class WebhooksPublic(BaseModel):
    items: list[WebhookPublic]
