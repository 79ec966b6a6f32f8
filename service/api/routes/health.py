"""Liveness and readiness probes, and the Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from service.api.deps import SessionDep, SettingsDep
from service.api.schemas.health import HealthPublic, ReadinessPublic
from service.probes import check_readiness, scrape_metrics

__all__ = ["healthz", "metrics", "readyz", "router"]

router = APIRouter(tags=["health"])


# Load balancers and uptime checkers often probe with HEAD (RFC 9110 §9.3.2). A
# separate HEAD route, kept out of the schema: one route of both methods gives
# both operations the same OpenAPI operationId, which FastAPI warns about.
@router.head("/healthz", include_in_schema=False)
@router.get("/healthz")
def healthz() -> HealthPublic:
    """The process is up."""
    return HealthPublic(status="ok")


@router.head("/readyz", response_model=ReadinessPublic, include_in_schema=False)
@router.get(
    "/readyz",
    response_model=ReadinessPublic,
    responses={503: {"model": ReadinessPublic, "description": "Not ready."}},
)
def readyz(request: Request, session: SessionDep) -> ReadinessPublic | JSONResponse:
    """The database answers and the models are loaded."""
    analyzer = getattr(request.app.state, "analyzer", None)
    readiness = check_readiness(
        session,
        model_version=analyzer.model_version if analyzer is not None else None,
        redactor_loaded=getattr(request.app.state, "redactor", None) is not None,
    )
    if readiness.status != "ready":
        return JSONResponse(readiness.model_dump(), status_code=503)
    return readiness


@router.get("/metrics", response_class=Response)
def metrics(session: SessionDep, settings: SettingsDep) -> Response:
    """Prometheus metrics of this process, in the text exposition format."""
    body, content_type = scrape_metrics(
        session, max_attempts=settings.webhook_max_attempts
    )
    return Response(content=body, media_type=content_type)
