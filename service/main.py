"""The FastAPI application: lifespan model loading, routers, error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api.routes import analyze, health
from service.config import Settings, get_settings
from service.errors import install_error_handlers

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; models load once, when it starts."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from nlp.analysis import Analyzer
        from nlp.artifact import load_artifact

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if getattr(app.state, "analyzer", None) is None:
            app.state.analyzer = Analyzer(
                load_artifact(settings.model_dir),
                threads=settings.encoder_threads,
                max_chars=settings.max_text_chars,
            )
        logger.info("model %s loaded", app.state.analyzer.model_version)
        yield

    app = FastAPI(
        title="feedback-miner",
        version="0.1.0",
        summary="Emotion, sentiment and theme signals from customer feedback.",
        lifespan=lifespan,
    )
    app.state.analyzer = None
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(analyze.router)
    return app
