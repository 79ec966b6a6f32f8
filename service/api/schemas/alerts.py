"""Schemas of ``/v1/alerts``, ``/v1/alerts:evaluate`` and ``/v1/alert-rules``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr
from pydantic_core import PydanticCustomError

from service.api.schemas.accounts import ExternalId
from service.api.schemas.sentiment import DeltaPublic
from service.storage.models import AlertStatus, Channel

__all__ = [
    "AlertEvidence",
    "AlertPublic",
    "AlertQuery",
    "AlertRuleFields",
    "AlertRulePublic",
    "AlertRulesPublic",
    "AlertRulesUpdate",
    "AlertsPublic",
    "EvaluationPublic",
    "QuotePublic",
]


class AlertRuleFields(BaseModel):
    """One alert rule: raise when mean polarity drops this much between windows.

    ``drop_fraction`` is a share of the polarity scale's range (2, from -1 to
    1): 0.2 fires when the current window's mean is 0.4 or more below the
    previous window's.
    """

    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        StrictStr,
        Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$"),
    ] = Field(description="Unique per tenant: lowercase letters, digits, '_.-'.")
    window_days: int = Field(default=14, ge=1, le=183)
    min_items: int = Field(
        default=10, ge=3, le=100_000, description="Fewest items in each window."
    )
    drop_fraction: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Drop of the mean, as a share of the [-1, 1] range (2).",
    )
    enabled: bool = True


class AlertRulePublic(AlertRuleFields):
    id: uuid.UUID
    threshold: float = Field(description="The drop in score points that fires.")
    created_at: dt.datetime
    updated_at: dt.datetime


class AlertRulesPublic(BaseModel):
    items: list[AlertRulePublic]


def _unique_names(rules: list[AlertRuleFields]) -> list[AlertRuleFields]:
    names = [rule.name for rule in rules]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise PydanticCustomError(
            "invalid_value",
            "expected rule names to be unique, got {repeated} more than once; "
            "rename or merge those rules",
            {"repeated": ", ".join(repr(n) for n in repeated)},
        )
    return rules


class AlertRulesUpdate(BaseModel):
    """The tenant's whole rule set; rules not named here are deleted."""

    model_config = ConfigDict(extra="forbid")

    items: Annotated[
        list[AlertRuleFields],
        Field(min_length=1, max_length=20),
        AfterValidator(_unique_names),
    ] = Field(description="Disable a rule with enabled=false rather than drop all.")


class QuotePublic(BaseModel):
    feedback_id: uuid.UUID
    excerpt: str = Field(description="The start of the redacted text.")
    polarity_score: float
    occurred_at: dt.datetime
    channel: Channel


class AlertEvidence(BaseModel):
    rule: AlertRuleFields = Field(description="The rule as it was when it fired.")
    threshold: float
    comparison: DeltaPublic
    quotes: list[QuotePublic] = Field(
        description="The current window's most negative items."
    )


class AlertPublic(BaseModel):
    id: uuid.UUID
    account_id: str = Field(description="The caller's id of the account.")
    rule_id: uuid.UUID | None = Field(description="Null once the rule is deleted.")
    status: AlertStatus
    delta: float
    raised_at: dt.datetime
    resolved_at: dt.datetime | None
    evidence: AlertEvidence


class AlertsPublic(BaseModel):
    items: list[AlertPublic]
    next_cursor: str | None


class AlertQuery(BaseModel):
    """Filters and paging of ``GET /v1/alerts``."""

    model_config = ConfigDict(extra="forbid")

    account_id: ExternalId | None = None
    status: AlertStatus | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: Annotated[str, Field(max_length=200)] | None = None


class EvaluationPublic(BaseModel):
    accounts: int = Field(description="Accounts with items in the windows.")
    raised: int
    resolved: int
