"""The FastAPI application: lifespan loading, routers, error handlers.

At startup the lifespan migrates the database to the newest revision, opens the
engine and session factory, and loads the models (analyzer, PII redactor,
sentence embedder) once; handlers reach them through the dependencies of
:mod:`service.api.deps`. Tests may set ``app.state.analyzer``,
``app.state.redactor`` or ``app.state.embedder`` before startup to skip loading
them. It also starts the runner of theme refresh jobs (:mod:`service.theme_jobs`),
which picks up the jobs a previous process left behind.

The lifespan also starts the webhook delivery worker (:mod:`service.webhooks`)
unless ``webhooks_enabled`` is off, and stops it before the engine closes; tests
may set ``app.state.webhook_transport`` (an httpx transport) before startup.
Every request is counted for ``/metrics``, and requests with an API key pass its
rate limit (``app.state.rate_limiter``, replaceable by tests).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from service.api.body_limit import BodySizeLimit
from service.api.routes import (
    accounts,
    alerts,
    analyze,
    feedback,
    health,
    sentiment,
    themes,
    webhooks,
)
from service.batching import AnalysisBatcher
from service.config import Settings, get_settings
from service.errors import install_error_handlers
from service.metrics import RequestMetrics
from service.rate_limit import create_rate_limiter
from service.storage.session import (
    create_db_engine,
    create_session_factory,
    run_migrations,
)
from service.theme_jobs import ThemeJobRunner
from service.webhooks import WebhookWorker

if TYPE_CHECKING:
    from nlp.analysis import Analyzer

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the database and models are set up when it starts."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = settings.resolved_database_url
        run_migrations(url)
        engine = create_db_engine(url, echo=settings.database_echo)
        app.state.engine = engine
        app.state.session_factory = create_session_factory(engine)
        _load_models(app, settings)
        app.state.batcher = AnalysisBatcher(app.state.analyzer)
        _warm_up(app.state.analyzer)
        # The models are millions of long-lived objects; left in the collector's
        # view, every full collection walks them and stalls requests for tens of
        # milliseconds. Freezing moves them out of its sight.
        gc.collect()
        gc.freeze()
        worker = _start_webhook_worker(app, settings)
        app.state.theme_runner = ThemeJobRunner(
            app.state.session_factory,
            lambda: app.state.embedder,
            stale_after_s=settings.theme_job_stale_s,
        )
        app.state.theme_runner.start()
        try:
            yield
        finally:
            app.state.theme_runner.close()
            if worker is not None:
                await worker.stop()
            app.state.batcher.close()
            engine.dispose()

    app = FastAPI(
        title="feedback-miner",
        version="0.1.0",
        summary="Emotion, sentiment and theme signals from customer feedback.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.analyzer = None
    app.state.redactor = None
    app.state.embedder = None
    app.state.webhook_transport = None
    app.state.rate_limiter = create_rate_limiter(
        rate=settings.rate_limit_per_second,
        burst=settings.rate_limit_burst,
        redis_url=settings.redis_url,
    )
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        limits={"/v1/feedback:batch": settings.max_ingest_bytes},
        default=settings.max_request_bytes,
    )
    # Outermost, so that answers of the other middleware are counted too.
    app.add_middleware(RequestMetrics)
    app.include_router(health.router)
    app.include_router(analyze.router)
    app.include_router(feedback.router)
    app.include_router(accounts.router)
    app.include_router(sentiment.router)
    app.include_router(alerts.router)
    app.include_router(webhooks.router)
    app.include_router(themes.router)
    return app


def _load_models(app: FastAPI, settings: Settings) -> None:
    """Load the analyzer, the redactor and the embedder, unless a test set them."""
    from nlp.analysis import Analyzer
    from nlp.artifact import load_artifact
    from service.redaction import Redactor

    if app.state.analyzer is None:
        app.state.analyzer = Analyzer(
            load_artifact(settings.model_dir),
            threads=settings.encoder_threads,
            max_chars=settings.max_text_chars,
        )
    logger.info("model %s loaded", app.state.analyzer.model_version)
    if app.state.redactor is None:
        app.state.redactor = Redactor.load(
            settings.redaction_model, batch_size=settings.redaction_batch_size
        )
    if app.state.embedder is None:
        from nlp.embeddings import Embedder

        app.state.embedder = Embedder.load(threads=settings.encoder_threads)


def _warm_up(analyzer: Analyzer) -> None:
    """Score a few batches of every common size once, so that the first requests
    do not pay for the encoder's first-call allocations (measured: about 0.5 s)."""
    started = time.perf_counter()
    for size in (1, 2, 4, 8, 16):
        analyzer.analyze_many(["Thanks, the export works again."] * size)
    logger.info("warmed up the analyzer in %.2f s", time.perf_counter() - started)


def _start_webhook_worker(app: FastAPI, settings: Settings) -> WebhookWorker | None:
    """Start the delivery worker on the running loop, unless it is turned off."""
    if not settings.webhooks_enabled:
        logger.info("webhook delivery is off in this process")
        return None
    worker = WebhookWorker(
        app.state.session_factory, settings, transport=app.state.webhook_transport
    )
    worker.start()
    return worker
