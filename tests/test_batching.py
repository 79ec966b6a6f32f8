"""The micro-batcher gives each caller its own results, batched or not."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from nlp.analysis import Analyzer, Turn
from service.batching import AnalysisBatcher, Document


@pytest.fixture
def batcher(analyzer: Analyzer) -> Iterator[AnalysisBatcher]:
    batcher = AnalysisBatcher(analyzer, max_documents=8, max_wait_ms=20)
    yield batcher
    batcher.close()


def test_batcher_returns_each_callers_results_in_order(
    analyzer: Analyzer, batcher: AnalysisBatcher
) -> None:
    requests: list[list[Document]] = [
        [f"request {i}: thanks, it works!", "the export failed again"]
        for i in range(12)
    ]
    requests.append([[Turn("customer", "still broken"), Turn("agent", "on it")]])
    with ThreadPoolExecutor(max_workers=13) as pool:
        results = list(pool.map(batcher.analyze_documents, requests))
    for documents, analyses in zip(requests, results, strict=True):
        expected = analyzer.analyze_documents(documents)
        assert len(analyses) == len(expected)
        for got, want in zip(analyses, expected, strict=True):
            assert got.split == want.split
            assert got.labels == want.labels
            for label, score in want.emotions.items():
                assert got.emotions[label] == pytest.approx(score, abs=1e-4)


def test_batcher_hands_engine_errors_to_the_caller(batcher: AnalysisBatcher) -> None:
    with pytest.raises(Exception, match="expected a text"):
        batcher.analyze_documents([42])  # type: ignore[list-item]


def test_batcher_of_nothing_is_nothing(batcher: AnalysisBatcher) -> None:
    assert batcher.analyze_documents([]) == []
