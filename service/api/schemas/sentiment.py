"""Schemas of ``GET /v1/accounts/{account_id}/sentiment`` and the portfolio delta."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.common import BoundedDatetime

__all__ = [
    "MAX_SPAN_DAYS",
    "DeltaPublic",
    "SentimentPoint",
    "SentimentPublic",
    "SentimentQuery",
    "WindowPublic",
]

# A day series this long is ~730 points per split; longer asks belong to exports.
MAX_SPAN_DAYS = 731

Bucket = Literal["day", "week"]


class SentimentQuery(BaseModel):
    """Range, bucket and delta windows of the sentiment series."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    bucket: Bucket = Field(
        default="day", description="UTC days, or ISO weeks starting on Monday."
    )
    from_: BoundedDatetime | None = Field(
        default=None, alias="from", description="Default: 90 days before 'to'."
    )
    to: BoundedDatetime | None = Field(
        default=None,
        description="End (exclusive) of the series and of the current delta "
        "window. Default: now.",
    )
    window_days: int = Field(
        default=14, ge=1, le=183, description="Length of each delta window."
    )
    min_items: int = Field(
        default=10,
        ge=3,
        le=100_000,
        description="Fewest items in each window for a delta to be given.",
    )


class SentimentPoint(BaseModel):
    start: dt.date = Field(description="First UTC day of the bucket.")
    count: int = Field(description="Scored items in the bucket.")
    mean_score: float | None = Field(description="Mean polarity score in [-1, 1].")
    polarity: dict[str, float] = Field(description="Share of items per label.")
    emotions: dict[str, float] = Field(
        description="Share of items with each CS-view emotion among their labels."
    )


class WindowPublic(BaseModel):
    start: dt.datetime
    end: dt.datetime
    count: int
    mean: float | None
    sd: float | None = Field(description="Sample standard deviation of scores.")


class DeltaPublic(BaseModel):
    current: WindowPublic
    previous: WindowPublic
    delta: float | None = Field(
        description="Current mean minus previous mean; null with too few items."
    )
    low: float | None = Field(description="Lower end of the interval of the delta.")
    high: float | None = Field(description="Upper end of the interval of the delta.")
    level: float = Field(description="Confidence level of the interval.")
    method: str = Field(description="How the interval is computed.")
    min_items: int


class SentimentPublic(BaseModel):
    account_id: str
    bucket: Bucket
    from_: dt.datetime = Field(serialization_alias="from")
    to: dt.datetime
    series: list[SentimentPoint]
    by_channel: dict[str, list[SentimentPoint]]
    by_role: dict[str, list[SentimentPoint]] = Field(
        description="Split by author role; items without one under 'unknown'."
    )
    delta: DeltaPublic
