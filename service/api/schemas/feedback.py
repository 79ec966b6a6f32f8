"""Request and response schemas of ``/v1/feedback`` and ``/v1/feedback:batch``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    field_validator,
)
from pydantic_core import PydanticCustomError

from nlp.labels import CS_VIEW, EMOTIONS
from service.api.schemas.accounts import AccountBase
from service.api.schemas.analysis import AnalysisPublic, TurnIn
from service.api.schemas.common import (
    BoundedDatetime,
    ExternalId,
    Metadata,
    StorableText,
    check_storable,
)
from service.storage.models import AuthorRole, Channel

__all__ = [
    "FUTURE_TOLERANCE",
    "FeedbackBatchCreate",
    "FeedbackBatchPublic",
    "FeedbackCreate",
    "FeedbackPublic",
    "FeedbackQuery",
    "FeedbackResult",
    "FeedbacksPublic",
    "ItemErrorPublic",
    "OccurredAt",
]

# Clocks drift and zones get mixed up; beyond a day ahead it is a mistake.
FUTURE_TOLERANCE = dt.timedelta(days=1)


def _time_string(value: object) -> object:
    # Lax pydantic would read a number as a Unix timestamp; callers send ISO 8601.
    if isinstance(value, str | dt.datetime):
        return value
    raise PydanticCustomError(
        "datetime_type",
        "expected an ISO 8601 time with a UTC offset, such as "
        "'2026-03-01T12:00:00Z', got {kind}",
        {"kind": type(value).__name__},
    )


def _not_far_future(value: dt.datetime) -> dt.datetime:
    latest = dt.datetime.now(dt.UTC) + FUTURE_TOLERANCE
    if value > latest:
        raise PydanticCustomError(
            "in_future",
            "expected a time at most 1 day ahead of the server clock (at most "
            "{latest}), got {received}; send when the feedback was given, with "
            "its UTC offset",
            {
                "latest": latest.isoformat(timespec="seconds"),
                "received": value.isoformat(),
            },
        )
    return value


OccurredAt = Annotated[
    BoundedDatetime, BeforeValidator(_time_string), AfterValidator(_not_far_future)
]


class FeedbackCreate(BaseModel):
    """One feedback item: ``text``, or a transcript as speaker-tagged ``turns``."""

    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId = Field(
        description="The caller's id of the item; posting it again returns the "
        "stored item instead of a duplicate."
    )
    account_id: ExternalId = Field(
        description="The caller's id of the account; unknown accounts are created."
    )
    channel: Channel
    text: StorableText | None = None
    turns: list[TurnIn] | None = Field(default=None, min_length=1)
    author_role: AuthorRole | None = Field(
        default=None, description="The stakeholder role of the author."
    )
    occurred_at: OccurredAt = Field(description="When the feedback was given.")
    source: Annotated[StorableText, Field(max_length=200)] | None = None
    rating: Annotated[StrictFloat, Field(ge=0, le=10, allow_inf_nan=False)] | None = (
        None
    )
    nps_score: Annotated[StrictInt, Field(ge=0, le=10)] | None = None
    metadata: Metadata = Field(default_factory=dict)
    account: AccountBase | None = Field(
        default=None,
        description="Fields of the account, used only when it is created here.",
    )

    @field_validator("turns")
    @classmethod
    def _storable_turns(cls, turns: list[TurnIn] | None) -> list[TurnIn] | None:
        for turn in turns or []:
            check_storable(turn.text)
        return turns


class FeedbackPublic(BaseModel):
    id: uuid.UUID
    external_id: str | None
    account_id: str = Field(description="The caller's id of the account.")
    channel: Channel
    author_role: AuthorRole | None
    text: str | None = Field(description="The text, personal data redacted.")
    turns: list[TurnIn] | None = Field(description="The turns, redacted likewise.")
    redacted: list[str] = Field(description="Kinds of personal data replaced.")
    occurred_at: dt.datetime
    received_at: dt.datetime
    source: str | None
    rating: float | None
    nps_score: int | None
    metadata: dict[str, Any]
    analysis: AnalysisPublic


def _known_emotion(value: str) -> str:
    if value not in _EMOTION_NAMES:
        raise PydanticCustomError(
            "invalid_value",
            "expected a CS-view emotion ({cs}) or one of the 28 GoEmotions labels "
            "such as 'annoyance' or 'gratitude', got {received}",
            {"cs": ", ".join(CS_VIEW), "received": repr(value)},
        )
    return value


_EMOTION_NAMES = frozenset(EMOTIONS) | frozenset(CS_VIEW)


class FeedbackQuery(BaseModel):
    """Filters and paging of ``GET /v1/feedback``; all filters combine with AND."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    account_id: ExternalId | None = Field(
        default=None, description="The caller's id of the account."
    )
    channel: Channel | None = None
    role: AuthorRole | None = Field(
        default=None, description="The stakeholder role of the author."
    )
    from_: BoundedDatetime | None = Field(
        default=None, alias="from", description="Occurred at or after this time."
    )
    to: BoundedDatetime | None = Field(
        default=None, description="Occurred before this time."
    )
    emotion: Annotated[str, AfterValidator(_known_emotion)] | None = Field(
        default=None, description="Has this label, in the CS view or the 28."
    )
    polarity: Literal["negative", "neutral", "positive", "mixed"] | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(
        default=None, description="The next_cursor of the previous page."
    )


class FeedbacksPublic(BaseModel):
    items: list[FeedbackPublic]
    next_cursor: str | None


class FeedbackBatchCreate(BaseModel):
    """Many items; each is checked on its own, and a bad one fails alone."""

    model_config = ConfigDict(extra="forbid")

    items: list[Any] = Field(
        min_length=1,
        description="Each item as the body of POST /v1/feedback (FeedbackCreate).",
    )


class ItemErrorPublic(BaseModel):
    field: str
    code: str
    message: str
    received: str | int | float | bool | None = None


class FeedbackResult(BaseModel):
    index: int = Field(description="Position of the item in the request.")
    status: Literal["created", "duplicate", "error"]
    id: uuid.UUID | None = None
    external_id: str | None = None
    errors: list[ItemErrorPublic] = Field(default_factory=list)


class FeedbackBatchPublic(BaseModel):
    created: int
    duplicates: int
    failed: int
    items: list[FeedbackResult]
