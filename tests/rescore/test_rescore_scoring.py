"""The scorer: copies read once, and a text the engine fails on costs one row."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pytest

from nlp.labels import CS_VIEW, EMOTIONS
from nlp.results import Analysis, Split
from nlp.sentiment import Polarity
from service.rescore.rows import check_text
from service.rescore.scoring import TEXT, Scorer


class CountingAnalyzer:
    """Implements the analyzer's interface; remembers what it was asked."""

    model_version = "fake.v1"

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_on = fail_on

    def analyze_many(self, texts: Sequence[str]) -> list[Analysis]:
        self.calls.append(list(texts))
        return [self.analyze(t) for t in texts]

    def analyze(self, text: str) -> Analysis:
        if text == self.fail_on:
            raise RuntimeError("tokenizer exploded")
        score = round(len(text) / 100, 4)
        return Analysis(
            status="scored",
            language="en",
            language_confidence=1.0,
            model_version=self.model_version,
            split=Split("whole", 1, len(text.split())),
            emotions=dict.fromkeys(EMOTIONS, score),
            labels=["neutral"],
            cs_emotions=dict.fromkeys(CS_VIEW, score),
            cs_labels=[],
            polarity=Polarity(
                "neutral", score, {"negative": 0.0, "neutral": 1.0, "positive": 0.0}
            ),
        )


def _table(texts: list[str | None]) -> pa.Table:
    return pa.table(
        {
            "__row": pa.array(range(len(texts)), pa.int64()),
            TEXT: pa.array(texts, pa.string()),
            "error": pa.array(
                [None if t else "empty_text" for t in texts], pa.string()
            ),
            "error_message": pa.array([None] * len(texts), pa.string()),
        }
    )


def test_scorer_analyses_each_distinct_text_once() -> None:
    analyzer = CountingAnalyzer()
    scorer = Scorer(analyzer, batch_size=2)  # type: ignore[arg-type]
    out = scorer.score(_table(["good", "nice", "good", None, "a longer one", "good"]))
    assert analyzer.calls == [["good", "nice"], ["a longer one"]]
    assert out.column("polarity_score").to_pylist() == [
        0.04,
        0.04,
        0.04,
        None,
        0.12,
        0.04,
    ]
    assert out.column("status").to_pylist()[3] == "error"
    assert out.column("model_version").to_pylist() == ["fake.v1"] * 6
    scorer.score(_table(["nice", "new text"]))  # "nice" is remembered
    assert analyzer.calls[-1] == ["new text"]


def test_scorer_records_a_text_the_engine_fails_on() -> None:
    analyzer = CountingAnalyzer(fail_on="boom")
    scorer = Scorer(analyzer)  # type: ignore[arg-type]
    out = scorer.score(_table(["fine", "boom", "also fine"]))
    assert out.column("error").to_pylist() == [None, "analysis_failed", None]
    assert out.column("error_message").to_pylist()[1] == (
        "the analysis failed: RuntimeError: tokenizer exploded"
    )
    assert out.column("status").to_pylist() == ["scored", "error", "scored"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("\u200b\u200b", "empty_text"),
        ("\ufeff \u2060\t", "empty_text"),
        ("\x00\x01", "empty_text"),
        (" ", "empty_text"),
        (12345, "invalid_type"),
        (True, "invalid_type"),
        ("\u200bfine", None),
        ("\u034f", "empty_text"),
        ("\u2800\u2800", "empty_text"),
        ("\u0301", "empty_text"),
        ("\u3164", "empty_text"),
        ("\ufe0f", "empty_text"),
        ("e\u0301", None),
        ("\U0001f621", None),
    ],
)
def test_check_text_treats_invisible_only_text_as_empty(
    value: object, code: str | None
) -> None:
    text, error, _ = check_text(value, max_chars=100, encoding="utf-8")
    assert error == code
    assert (text is None) == (code is not None)
