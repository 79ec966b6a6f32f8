"""The analysis entry point on the inputs a support desk actually sends."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nlp.analysis import Analyzer, Turn
from nlp.errors import InputError
from nlp.labels import CS_VIEW, EMOTIONS

_POSITIVE_CS = {"delight", "gratitude", "satisfaction"}
_ROUTINE = [
    "I opened the admin console and went to the reporting section.",
    "The export job for the quarterly report was scheduled for Monday morning.",
    "Our team uses the dashboard to track renewals across three regions.",
    "I checked the integration settings and the API token looks valid.",
    "The sync with the CRM runs every hour according to the logs.",
    "We added two new users to the workspace last week.",
    "The documentation describes the field mapping for custom objects.",
    "I compared the numbers in the export with the numbers in the dashboard.",
    "Our finance team reviews the invoices at the end of each month.",
    "The webhook endpoint returns a success code when I test it.",
]
_ANGRY_END = (
    "This is absolutely unacceptable. I am furious. You charged us twice again, "
    "nobody answers our tickets, and I am sick of wasting my time with this."
)


def long_transcript(words: int = 3000) -> str:
    sentences: list[str] = []
    for n, sentence in zip(itertools.count(1), itertools.cycle(_ROUTINE)):
        sentences.append(f"Step {n}: {sentence}")
        if sum(len(s.split()) for s in sentences) >= words:
            break
    paragraphs = [" ".join(sentences[i : i + 8]) for i in range(0, len(sentences), 8)]
    return "\n\n".join([*paragraphs, _ANGRY_END])


@pytest.mark.parametrize(
    "text",
    [
        "No problems or complaints.",
        "All good, no complaints",
        "no issues at all",
        "Not bad",
        "nothing to worry about",
    ],
)
def test_analyze_negated_complaints_are_not_negative(
    analyzer: Analyzer, text: str
) -> None:
    result = analyzer.analyze(text)
    assert result.polarity is not None
    assert result.polarity.label != "negative", result.polarity


@pytest.mark.parametrize(
    "text",
    ["Kindly stop charging us twice", "Please fix this ASAP, third time asking"],
)
def test_analyze_polite_demands_read_as_frustration(
    analyzer: Analyzer, text: str
) -> None:
    result = analyzer.analyze(text)
    assert "frustration" in result.cs_labels, result.cs_emotions


@pytest.mark.parametrize("text", ["thanks🙂🙂", "❤️"])
def test_analyze_positive_emoji_read_positive(analyzer: Analyzer, text: str) -> None:
    result = analyzer.analyze(text)
    assert result.polarity is not None
    assert result.polarity.label == "positive", result.polarity


def test_analyze_cursing_emoji_reads_as_anger(analyzer: Analyzer) -> None:
    result = analyzer.analyze("🤬🤬")
    assert "anger" in result.cs_labels, result.cs_emotions


@pytest.mark.parametrize("text", ["👩‍👩‍👧", "👨‍💻 fixed it", "🏳️‍🌈🏳️‍⚧️"])
def test_analyze_zwj_sequences_do_not_crash(analyzer: Analyzer, text: str) -> None:
    assert analyzer.analyze(text).status == "scored"


def test_analyze_long_transcript_with_angry_ending_ends_negative(
    analyzer: Analyzer,
) -> None:
    text = long_transcript()
    result = analyzer.analyze(text)
    assert result.split.method == "sentences"
    assert result.split.pieces > 10
    assert result.split.words == len(text.split())  # nothing dropped
    assert result.trajectory[-1].polarity.label == "negative"
    assert result.trajectory[-1].top_emotion in {"anger", "frustration"}
    assert result.mood_shift is not None and result.mood_shift < 0


def test_analyze_mixed_review_has_positive_emotion_and_confusion(
    analyzer: Analyzer,
) -> None:
    result = analyzer.analyze("Love the product but the onboarding was confusing")
    assert "confusion" in result.cs_labels, result.cs_emotions
    assert _POSITIVE_CS & set(result.cs_labels), result.cs_emotions


@pytest.mark.parametrize("text", ["", "   ", "\n\t \u200b"])
def test_analyze_blank_text_is_explicitly_empty(analyzer: Analyzer, text: str) -> None:
    result = analyzer.analyze(text)
    assert result.status == "empty"
    assert result.polarity is None
    assert result.emotions == {}


@pytest.mark.parametrize("value", [None, 42, b"bytes", ["a list"]])
def test_analyze_non_string_is_refused_with_the_type(
    analyzer: Analyzer, value: object
) -> None:
    with pytest.raises(InputError, match=f"got {type(value).__name__}") as info:
        analyzer.analyze(value)  # type: ignore[arg-type]
    assert info.value.code == "invalid_type"


def test_analyze_one_megabyte_is_refused_naming_the_limit(analyzer: Analyzer) -> None:
    with pytest.raises(InputError) as info:
        analyzer.analyze("word " * 200_000)
    assert info.value.code == "text_too_long"
    assert str(info.value) == (
        "text: text is 1,000,000 characters; the limit is 200,000. "
        "Split it into several items."
    )


def test_analyze_non_english_is_flagged_not_scored(analyzer: Analyzer) -> None:
    result = analyzer.analyze(
        "Das Produkt ist leider nicht gut, die Einrichtung dauert ewig"
    )
    assert result.status == "unsupported_language"
    assert result.language == "de"
    assert result.polarity is None


@pytest.mark.parametrize(
    ("text", "language"),
    [("这个产品太糟糕了", "zh"), ("Этот продукт ужасен", "ru")],
)
def test_analyze_short_text_in_another_script_is_flagged(
    analyzer: Analyzer, text: str, language: str
) -> None:
    result = analyzer.analyze(text)
    assert result.status == "unsupported_language"
    assert result.language == language


def test_analyze_empty_text_has_no_language(analyzer: Analyzer) -> None:
    result = analyzer.analyze("  ")
    assert (result.language, result.language_confidence) == ("und", 0.0)


def test_analyze_batch_and_single_give_the_same_scores(analyzer: Analyzer) -> None:
    texts = [
        "thanks so much, that fixed it",
        "The invoice is wrong again and I'm annoyed",
        "How do I export users?",
        long_transcript(400),
        "Love it 😍",
    ]
    batch = analyzer.analyze_many(texts)
    for text, together in zip(texts, batch, strict=True):
        alone = analyzer.analyze(text)
        assert alone.emotions.keys() == together.emotions.keys()
        for label in EMOTIONS:
            assert alone.emotions[label] == pytest.approx(
                together.emotions[label], abs=1e-4
            )
        assert alone.labels == together.labels
        assert alone.polarity == together.polarity


def test_analyze_reports_all_labels_and_the_model_version(analyzer: Analyzer) -> None:
    result = analyzer.analyze("Thank you, the new release is great")
    assert tuple(result.emotions) == EMOTIONS
    assert tuple(result.cs_emotions) == tuple(CS_VIEW)
    assert all(0.0 <= v <= 1.0 for v in result.emotions.values())
    assert result.labels and set(result.labels) <= set(EMOTIONS)
    assert result.model_version == analyzer.model_version == "emotion-head.v1.1"
    assert result.split.method == "whole" and result.split.pieces == 1


def test_analyze_turns_reports_each_turn_and_counts_the_customer(
    analyzer: Analyzer,
) -> None:
    turns = [
        Turn("customer", "My invoice is wrong for the third month in a row."),
        Turn("agent", "I'm so sorry about that, let me look into it."),
        Turn("customer", "Thank you so much, that fixed it! Great help."),
    ]
    result = analyzer.analyze_turns(turns)
    assert result.split.method == "turns"
    assert [s.role for s in result.trajectory] == ["customer", "agent", "customer"]
    assert result.trajectory[0].polarity.score < result.trajectory[-1].polarity.score
    assert result.mood_shift is not None and result.mood_shift > 0


def test_analyze_turns_refuses_an_unknown_role(analyzer: Analyzer) -> None:
    with pytest.raises(InputError, match=r"turns\[1\]\.role: expected one of"):
        analyzer.analyze_turns([Turn("customer", "hi"), Turn("robot", "hello")])


def test_analyze_token_dense_text_is_split_not_truncated(analyzer: Analyzer) -> None:
    # Order ids cost several word pieces each: 80 of them overflow the window.
    text = " ".join(f"ord{n}x{n * 7}" for n in range(500))
    result = analyzer.analyze(text)
    assert result.status == "scored"
    assert result.split.pieces >= 10
    assert result.split.words == 500


def test_analyze_one_huge_word_is_split_not_truncated(analyzer: Analyzer) -> None:
    # No white space, but punctuation makes every character its own word piece.
    text = ",".join(["refund"] * 300)
    result = analyzer.analyze(text)
    assert result.status == "scored"
    assert result.split.method == "sentences"
    assert result.split.pieces >= 4


def test_analyze_many_of_nothing_is_nothing(analyzer: Analyzer) -> None:
    assert analyzer.analyze_many([]) == []
    polarity = analyzer.analyze("ok").polarity
    assert polarity is not None and np.isfinite(polarity.score)
