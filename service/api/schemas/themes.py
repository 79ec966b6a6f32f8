"""Schemas of ``/v1/themes``: refresh jobs, theme lists and reports, and edits."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt
from pydantic_core import PydanticCustomError

from service.api.schemas.common import BoundedDatetime, ExternalId, StorableText
from service.storage.models import Channel, Segment, ThemeJobStatus, ThemeState

__all__ = [
    "EmergingPublic",
    "ThemeAccountPublic",
    "ThemeDetailPublic",
    "ThemeJobPublic",
    "ThemeLabel",
    "ThemeMerge",
    "ThemePublic",
    "ThemeQuery",
    "ThemeQuotePublic",
    "ThemeRefresh",
    "ThemeSplit",
    "ThemeUpdate",
    "ThemesPublic",
    "WeekCountPublic",
]


_JOINER = "\u200d"


def _one_line_label(value: str) -> str:
    # A label is shown in lists, charts and terminals: one visible line, no
    # control or bidirectional-override characters (the joiner of emoji
    # sequences aside), not blank.
    hidden = (ch for ch in value if unicodedata.category(ch) in {"Cc", "Cf"})
    bad = next((ch for ch in hidden if ch != _JOINER), None)
    if bad is not None or not value.strip():
        raise PydanticCustomError(
            "invalid_value",
            "expected a label of visible characters on one line, not blank; got "
            "{received}",
            {"received": repr(value) if len(value) <= 60 else repr(value[:57]) + "..."},
        )
    return value.strip()


ThemeLabel = Annotated[
    StorableText, Field(min_length=1, max_length=200), AfterValidator(_one_line_label)
]


class ThemeRefresh(BaseModel):
    """What a refresh refits: the tenant's items in a window, channel, segment."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: BoundedDatetime | None = Field(default=None, alias="from")
    to: BoundedDatetime | None = None
    channel: Channel | None = None
    segment: Segment | None = None
    min_cluster_size: StrictInt = Field(
        default=10, ge=2, le=100_000, description="Fewest items in a theme."
    )


class ThemeJobPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    status: ThemeJobStatus
    from_: dt.datetime | None = Field(serialization_alias="from")
    to: dt.datetime | None
    channel: Channel | None
    segment: Segment | None
    min_cluster_size: int
    texts: int = Field(description="Items refitted (locked ones excluded).")
    themes: int
    outliers: int
    result: str | None = Field(
        description="themed, no_themes, too_few_texts or no_text, once done."
    )
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class ThemeQuery(BaseModel):
    """Filters of ``GET /v1/themes``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: BoundedDatetime | None = Field(default=None, alias="from")
    to: BoundedDatetime | None = None
    channel: Channel | None = None
    segment: Segment | None = None
    account_id: ExternalId | None = None
    emerging: bool = Field(
        default=False, description="Only themes new or growing in the last window."
    )
    window_days: int = Field(
        default=28, ge=1, le=183, description="The window that emerging compares."
    )


class EmergingPublic(BaseModel):
    """The last ``window_days`` ending at ``to`` against the ones before.

    A theme is emerging when it had no item in the baseline window and at least
    3 in the current one (``new``), or when its share of the assigned items grew
    with a one-sided two-proportion z-test at p < 0.05 (z >= 1.645, ``grew``).
    """

    emerging: bool
    reason: str | None = Field(description="new, grew, or null.")
    current: int
    current_total: int
    baseline: int
    baseline_total: int
    z: float | None


class ThemePublic(BaseModel):
    id: uuid.UUID
    label: str
    pinned: bool
    terms: list[str]
    size: int = Field(description="Items in the theme, after the filters.")
    state: ThemeState
    merged_into: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
    trend: EmergingPublic | None = None


class ThemesPublic(BaseModel):
    items: list[ThemePublic]
    outliers: int = Field(description="Items in no theme, after the filters.")


class ThemeQuotePublic(BaseModel):
    feedback_id: uuid.UUID
    text: str = Field(description="Redacted text.")
    account_id: str
    channel: Channel
    occurred_at: dt.datetime


class WeekCountPublic(BaseModel):
    week: dt.date = Field(description="The Monday the ISO week starts on (UTC).")
    count: int


class ThemeAccountPublic(BaseModel):
    account_id: str
    count: int


class ThemeDetailPublic(ThemePublic):
    quotes: list[ThemeQuotePublic]
    polarity: dict[str, float] = Field(description="Share of each polarity label.")
    cs_emotions: dict[str, float] = Field(
        description="Share of items with each customer-success label."
    )
    weekly: list[WeekCountPublic]
    accounts: list[ThemeAccountPublic]
    channels: dict[str, int]


class ThemeUpdate(BaseModel):
    """Rename (a new label is pinned unless ``pinned`` says otherwise) or pin."""

    model_config = ConfigDict(extra="forbid")

    label: ThemeLabel | None = None
    pinned: StrictBool | None = None


class ThemeMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: uuid.UUID = Field(description="The theme that absorbs this one.")


class ThemeSplit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feedback_ids: list[uuid.UUID] = Field(min_length=1, max_length=5_000)
    label: ThemeLabel = Field(description="The new theme's name; it is pinned.")
