"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

__all__ = ["router"]

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: str


class ReadinessPublic(BaseModel):
    status: str
    model_version: str | None


@router.get("/healthz")
def healthz() -> HealthPublic:
    """The process is up."""
    return HealthPublic(status="ok")


@router.get("/readyz", response_model=ReadinessPublic)
def readyz(request: Request) -> ReadinessPublic | JSONResponse:
    """The models are loaded and the service can answer."""
    analyzer = getattr(request.app.state, "analyzer", None)
    if analyzer is None:
        body = ReadinessPublic(status="loading", model_version=None)
        return JSONResponse(body.model_dump(), status_code=503)
    return ReadinessPublic(status="ready", model_version=analyzer.model_version)
