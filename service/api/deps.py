"""FastAPI dependencies: models and database loaded at startup, settings, and auth.

Authentication reads ``Authorization: Bearer <key>``; :mod:`service.auth` decides
(401 for a missing or bad key, 403 for a key without the scope); a key that has
used up its rate limit is answered 429 (:mod:`service.rate_limit`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from nlp.analysis import Analyzer
from nlp.themes import TextEmbedder
from service.auth import Caller, authenticate_caller, check_scope
from service.batching import AnalysisBatcher
from service.config import Settings
from service.errors import FieldError, InvalidInput
from service.rate_limit import RateLimiter, check_rate_limit
from service.redaction import Redactor
from service.storage.models import Scope
from service.theme_jobs import ThemeJobRunner

__all__ = [
    "AdminCallerDep",
    "AnalyzerDep",
    "BatcherDep",
    "EmbedderDep",
    "IngestCallerDep",
    "ReadCallerDep",
    "RedactorDep",
    "SessionDep",
    "SettingsDep",
    "ThemeRunnerDep",
    "get_analyzer",
    "get_app_settings",
    "get_batcher",
    "get_embedder",
    "get_rate_limiter",
    "get_redactor",
    "get_session",
    "get_theme_runner",
    "no_query_parameters",
    "require_scope",
]

# auto_error=False: a missing or non-Bearer header reaches us as None, so the
# answer is our 401 shape rather than FastAPI's own.
_bearer = HTTPBearer(auto_error=False, description="An API key from `tenants create`.")


def get_analyzer(request: Request) -> Analyzer:
    """Return the analyzer that the lifespan loaded."""
    analyzer: Analyzer = request.app.state.analyzer
    return analyzer


async def get_batcher(request: Request) -> AnalysisBatcher:
    """Return the micro-batcher in front of the analyzer."""
    batcher: AnalysisBatcher = request.app.state.batcher
    return batcher


def get_embedder(request: Request) -> TextEmbedder:
    """Return the sentence embedder that the lifespan loaded."""
    embedder: TextEmbedder = request.app.state.embedder
    return embedder


async def get_theme_runner(request: Request) -> ThemeJobRunner:
    """Return this process's runner of theme refresh jobs."""
    runner: ThemeJobRunner = request.app.state.theme_runner
    return runner


async def get_app_settings(request: Request) -> Settings:
    """Return the settings the application was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_redactor(request: Request) -> Redactor:
    """Return the PII redactor that the lifespan loaded."""
    redactor: Redactor = request.app.state.redactor
    return redactor


def get_rate_limiter(request: Request) -> RateLimiter | None:
    """Return the per-key rate limiter, or None when rate limits are off."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    return limiter


def get_session(request: Request) -> Iterator[Session]:
    """Open a database session for one request; what is not committed rolls back."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


AnalyzerDep = Annotated[Analyzer, Depends(get_analyzer)]
BatcherDep = Annotated[AnalysisBatcher, Depends(get_batcher)]
EmbedderDep = Annotated[TextEmbedder, Depends(get_embedder)]
ThemeRunnerDep = Annotated[ThemeJobRunner, Depends(get_theme_runner)]
RedactorDep = Annotated[Redactor, Depends(get_redactor)]
SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
_Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_RateLimiterDep = Annotated[RateLimiter | None, Depends(get_rate_limiter)]


def require_scope(
    scope: Scope,
) -> Callable[
    [Session, HTTPAuthorizationCredentials | None, RateLimiter | None], Caller
]:
    """Build the dependency that authenticates, rate-limits and checks ``scope``.

    Args:
        scope: What the operation needs.

    Returns:
        A dependency giving the :class:`~service.auth.Caller`.
    """

    def dependency(
        session: SessionDep, credentials: _Credentials, limiter: _RateLimiterDep
    ) -> Caller:
        caller = authenticate_caller(
            session, credentials.credentials if credentials else None
        )
        check_rate_limit(limiter, str(caller.key_id))
        check_scope(caller, scope)
        return caller

    return dependency


IngestCallerDep = Annotated[Caller, Depends(require_scope(Scope.INGEST))]
ReadCallerDep = Annotated[Caller, Depends(require_scope(Scope.READ))]
AdminCallerDep = Annotated[Caller, Depends(require_scope(Scope.ADMIN))]


def no_query_parameters(request: Request) -> None:
    """Refuse query parameters on a route that takes none (a filter would be
    silently ignored otherwise).

    Raises:
        InvalidInput: One ``unknown_field`` error per parameter.
    """
    names = sorted(set(request.query_params))
    if names:
        raise InvalidInput(
            [
                FieldError(
                    field=name,
                    code="unknown_field",
                    message=f"this route takes no query parameters; got {name!r}",
                )
                for name in names
            ]
        )
