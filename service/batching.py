"""Micro-batching of concurrent analysis requests.

Single-text ``/v1/analyze`` calls arrive one per HTTP request; scored one by one,
each pays the encoder's per-call cost and concurrent calls fight over the two cores
(every onnxruntime call wants both). :class:`AnalysisBatcher` runs one worker thread
that takes whatever requests are waiting — up to ``max_documents`` documents — and
scores them in one ``Analyzer.analyze_documents`` call, then hands each request its
own results. A request waits at most ``max_wait_ms`` for company when the worker is
idle. Scores do not depend on batching: the engine gives a text the same scores
alone or in any batch.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future

from nlp.analysis import Analysis, Analyzer, Turn

__all__ = ["AnalysisBatcher", "Document"]

logger = logging.getLogger(__name__)

Document = str | Sequence[Turn]
_Job = tuple[list[Document], "Future[list[Analysis]]"]


class AnalysisBatcher:
    """Coalesces concurrent analysis calls into shared encoder passes.

    Args:
        analyzer: The engine; its input checks must already have passed for
            every document submitted.
        max_documents: Most documents scored in one pass.
        max_wait_ms: How long an idle worker waits for more requests to join.
    """

    def __init__(
        self, analyzer: Analyzer, *, max_documents: int = 64, max_wait_ms: float = 2.0
    ) -> None:
        self.analyzer = analyzer
        self._max_documents = max_documents
        self._max_wait = max_wait_ms / 1000
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._worker = threading.Thread(
            target=self._run, name="analysis-batcher", daemon=True
        )
        self._worker.start()

    def analyze_documents(self, documents: list[Document]) -> list[Analysis]:
        """Score documents, sharing the encoder pass with concurrent callers."""
        if not documents:
            return []
        future: Future[list[Analysis]] = Future()
        self._jobs.put((documents, future))
        return future.result()

    async def analyze_documents_async(
        self, documents: list[Document]
    ) -> list[Analysis]:
        """Like :meth:`analyze_documents`, awaited on the event loop instead of
        blocking a worker thread."""
        if not documents:
            return []
        future: Future[list[Analysis]] = Future()
        self._jobs.put((documents, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the worker after the jobs already queued."""
        self._jobs.put(None)
        self._worker.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            jobs = [first]
            size = len(first[0])
            deadline = time.monotonic() + self._max_wait
            while size < self._max_documents:
                try:
                    job = self._jobs.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if job is None:
                    self._jobs.put(None)  # stop once this batch is done
                    break
                jobs.append(job)
                size += len(job[0])
            self._score(jobs)

    def _score(self, jobs: list[_Job]) -> None:
        documents = [doc for docs, _ in jobs for doc in docs]
        try:
            analyses = self.analyzer.analyze_documents(documents)
        except Exception as e:  # handed to each waiting request, which re-raises
            for _, future in jobs:
                future.set_exception(e)
            return
        start = 0
        for docs, future in jobs:
            future.set_result(analyses[start : start + len(docs)])
            start += len(docs)
        logger.debug("scored %d documents for %d requests", len(documents), len(jobs))
