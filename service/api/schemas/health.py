"""Response schemas of the probes (``/healthz``, ``/readyz``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["HealthPublic", "ReadinessPublic"]


class HealthPublic(BaseModel):
    status: Literal["ok"]


class ReadinessPublic(BaseModel):
    status: Literal["ready", "unavailable"]
    model_version: str | None
    checks: dict[str, str] = Field(
        description="Each check ('database', 'models') and 'ok' or what is wrong."
    )
    reason: str | None = Field(
        default=None, description="Why the service is not ready, when it is not."
    )
