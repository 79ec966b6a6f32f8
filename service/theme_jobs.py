"""Theme refresh jobs: queue one, read it, and the worker thread that runs them.

The job row is the only state. ``POST /v1/themes:refresh`` commits a ``queued``
row and hands its id to this process's :class:`ThemeJobRunner`; the runner claims
it (``queued`` → ``running`` in one UPDATE), refits, and records ``done`` with the
counts or ``failed`` with the error. At startup the runner queues again the jobs
left ``running`` longer than ``stale_after_s`` (their process died) and picks up
every queued job, so a crash loses no refresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from nlp.errors import NlpError
from nlp.themes import TextEmbedder
from service.api.schemas.themes import ThemeJobPublic, ThemeRefresh
from service.auth import Caller
from service.errors import NotFound, check_time_range
from service.storage.models import ThemeJob, ThemeJobStatus, utcnow
from service.storage.themes import (
    FeedbackScope,
    add_job,
    claim_job,
    finish_job,
    get_job,
    queued_job_ids,
    queued_job_like,
    requeue_stale_jobs,
)
from service.themes import refresh

__all__ = ["ThemeJobRunner", "job_public", "queue_refresh", "read_job"]

logger = logging.getLogger(__name__)


def queue_refresh(session: Session, caller: Caller, body: ThemeRefresh) -> ThemeJob:
    """Queue a refresh job for the caller's tenant; this function commits.

    A refresh of the same scope that is still queued is answered instead of a
    new one.

    Raises:
        InvalidInput: If ``from`` is not before ``to``.
    """
    check_time_range(body.from_, body.to)
    scope = {
        "since": body.from_,
        "until": body.to,
        "channel": body.channel,
        "segment": body.segment,
        "min_cluster_size": body.min_cluster_size,
    }
    # The same refresh asked again before the first one started is that job:
    # both would fit the same items.
    waiting = queued_job_like(session, caller.tenant_id, **scope)
    if waiting is not None:
        return waiting
    job = add_job(session, caller.tenant_id, **scope, texts=0, themes=0, outliers=0)
    session.commit()
    return job


def read_job(session: Session, tenant_id: uuid.UUID, job_id: str) -> ThemeJobPublic:
    """Return one of the tenant's jobs.

    Raises:
        NotFound: If the tenant has no such job.
    """
    try:
        parsed: uuid.UUID | None = uuid.UUID(job_id)
    except ValueError:
        parsed = None
    job = get_job(session, tenant_id, parsed) if parsed else None
    if job is None:
        raise NotFound(
            f"no theme refresh job with id {job_id!r}; use the id that "
            "POST /v1/themes:refresh returned",
            field="job_id",
        )
    return job_public(job)


def job_public(job: ThemeJob) -> ThemeJobPublic:
    """Convert a job row to its response schema."""
    return ThemeJobPublic(
        id=job.id,
        status=job.status,
        from_=job.since,
        to=job.until,
        channel=job.channel,
        segment=job.segment,
        min_cluster_size=job.min_cluster_size,
        texts=job.texts,
        themes=job.themes,
        outliers=job.outliers,
        result=job.result,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


class ThemeJobRunner:
    """Runs refresh jobs one at a time on a worker thread.

    Args:
        factory: Opens database sessions.
        embedder: Returns the embedder to use (read when a job starts, so a test
            may replace it).
        stale_after_s: A job ``running`` this long is taken as abandoned.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        embedder: Callable[[], TextEmbedder],
        *,
        stale_after_s: float = 3600.0,
    ) -> None:
        self._factory = factory
        self._embedder = embedder
        self._stale_after = dt.timedelta(seconds=stale_after_s)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="themes")

    def start(self) -> None:
        """Queue abandoned jobs again and submit every queued one."""
        with self._factory() as session:
            requeued = requeue_stale_jobs(
                session, started_before=utcnow() - self._stale_after
            )
            pending = queued_job_ids(session)
        if requeued:
            logger.warning("queued %d abandoned theme jobs again", requeued)
        for job_id in pending:
            self.submit(job_id)

    def submit(self, job_id: uuid.UUID) -> None:
        """Run the job soon, unless another worker claims it first."""
        self._pool.submit(self.run, job_id)

    def close(self) -> None:
        """Finish the running job, drop the waiting ones (they stay queued)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run(self, job_id: uuid.UUID) -> None:
        """Claim and run one job, recording how it ended."""
        with self._factory() as session:
            job = claim_job(session, job_id)
            if job is None:
                return
            scope = FeedbackScope(
                since=job.since,
                until=job.until,
                channel=job.channel,
                segment=job.segment,
            )
            try:
                result = refresh(
                    session,
                    job.tenant_id,
                    scope,
                    embedder=self._embedder(),
                    min_cluster_size=job.min_cluster_size,
                    job_id=job.id,
                )
                session.commit()
            except (NlpError, SQLAlchemyError, ValueError, MemoryError) as e:
                session.rollback()
                logger.warning("theme job %s failed: %s", job_id, type(e).__name__)
                self._fail(session, job_id, e)
                return
            except Exception as e:
                # A worker thread has no one to raise to: the job row must say
                # it failed, or it would read "running" until the next restart.
                session.rollback()
                logger.exception("theme job %s failed unexpectedly", job_id)
                self._fail(session, job_id, e)
                return
            finish_job(
                session,
                job_id,
                ThemeJobStatus.DONE,
                texts=result.texts,
                themes=result.themes,
                outliers=result.outliers,
                result=result.result,
            )

    def _fail(self, session: Session, job_id: uuid.UUID, error: BaseException) -> None:
        finish_job(
            session,
            job_id,
            ThemeJobStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
        )
