"""The local engine's worker processes: one scorer per process, results in order.

On a small machine, processes of one encoder thread each go faster than one
process with several threads: the analyzer spends about a fifth of its time in
Python (language detection, aggregation), which holds one core while the
encoder's other threads wait, whereas separate processes keep every core busy.

:func:`score_in_processes` sends the prepared tables to a pool of ``spawn``-ed
processes (each loads the models once, in its initializer) and yields the
scored tables in input order. At most two tables per worker are in flight, so
memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

from service.rescore.scoring import Scorer, load_scorer

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["MAX_AUTO_WORKERS", "plan_workers", "score_in_processes"]

logger = logging.getLogger(__name__)

# More processes than this are only used when asked for: each holds its own
# copy of the model (about 400 MB with the runtime).
MAX_AUTO_WORKERS = 4
_IN_FLIGHT_PER_WORKER = 2

_scorer: Scorer | None = None


def plan_workers(workers: int | None, threads: int | None) -> tuple[int, int]:
    """Decide the worker processes and encoder threads per process.

    Args:
        workers: Processes asked for, or None to decide.
        threads: Threads per process asked for, or None to decide.

    Returns:
        ``(workers, threads)``: by default one single-threaded process per core,
        at most :data:`MAX_AUTO_WORKERS`.
    """
    cpus = os.cpu_count() or 1
    if workers is not None:
        return workers, threads or max(1, cpus // workers)
    if threads is not None:
        return max(1, min(MAX_AUTO_WORKERS, cpus // threads)), threads
    return max(1, min(MAX_AUTO_WORKERS, cpus)), 1


def score_in_processes(
    tables: Iterable[tuple[pa.Table, int]],
    *,
    workers: int,
    threads: int,
    batch_size: int,
    themes: bytes | None,
) -> Iterator[tuple[pa.Table, int]]:
    """Score prepared tables in ``workers`` processes.

    Args:
        tables: Prepared tables (see :func:`service.rescore.rows.prepare`), each
            with the input position it ends at.
        workers: Processes.
        threads: Encoder threads per process.
        batch_size: Distinct texts per analyzer call.
        themes: A fitted theme model as bytes, or None.

    Yields:
        The scored tables, in input order, with their positions.
    """
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start,
        initargs=(threads, batch_size, themes),
    )
    logger.info("scoring in %d processes of %d threads", workers, threads)
    pending: deque[tuple[Future[pa.Table], int]] = deque()
    try:
        for table, position in tables:
            pending.append((pool.submit(_score, table), position))
            if len(pending) >= workers * _IN_FLIGHT_PER_WORKER:
                future, at = pending.popleft()
                yield future.result(), at
        while pending:
            future, at = pending.popleft()
            yield future.result(), at
    finally:
        # Stopped early (an error, Ctrl-C): drop what is queued, keep nothing.
        pool.shutdown(wait=not pending, cancel_futures=True)


def _start(threads: int, batch_size: int, themes: bytes | None) -> None:
    global _scorer
    _exit_with_parent(os.getppid())
    _scorer = load_scorer(threads=threads, batch_size=batch_size, themes=themes)


def _exit_with_parent(parent: int) -> None:
    # A job killed with SIGKILL cannot stop its pool, and an orphaned worker would
    # go on holding the model's memory and the job's stdout and stderr. The worker
    # watches for the change of parent (the kernel reparents an orphan) and exits.
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.25)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _score(table: pa.Table) -> pa.Table:
    if _scorer is None:
        raise RuntimeError("the worker was not started with its scorer")
    return _scorer.score(table)
