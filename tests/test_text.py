from __future__ import annotations

import pytest

from nlp.text import pack_sentences, prepare_for_model, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thanks🙂🙂", "thanks slightly smiling face slightly smiling face"),
        ("🤬", "cursing angry face"),
        ("  two\n\tlines  ", "two lines"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_prepare_for_model_spells_out_emoji_and_folds_space(
    text: str, expected: str
) -> None:
    assert prepare_for_model(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "👩‍👩‍👧",  # ZWJ family sequence
        "👍🏽",  # skin-tone modifier
        "\ud83d broken surrogate",  # lone surrogate, as JSON can deliver
        "\x00\x07 control",
        "\uff46\uff55\uff4c\uff4c width",  # full-width letters
    ],
)
def test_prepare_for_model_never_fails_on_odd_unicode(text: str) -> None:
    prepared = prepare_for_model(text)
    assert isinstance(prepared, str)
    prepared.encode("utf-8")  # always encodable


def test_split_sentences_keeps_abbreviations_and_breaks_lines() -> None:
    text = "We use e.g. the API. It broke! Why?\nNew line here"
    assert split_sentences(text) == [
        "We use e.g. the API.",
        "It broke!",
        "Why?",
        "New line here",
    ]


@pytest.mark.parametrize("max_words", [1, 3, 7, 50])
def test_pack_sentences_keeps_every_word_in_order(max_words: int) -> None:
    sentences = ["one two three", "four", "five six seven eight nine ten eleven"]
    pieces = pack_sentences(sentences, max_words=max_words)
    assert " ".join(pieces).split() == " ".join(sentences).split()
    assert all(len(p.split()) <= max_words for p in pieces)


def test_pack_sentences_rejects_a_zero_budget() -> None:
    with pytest.raises(ValueError, match="max_words must be at least 1, got 0"):
        pack_sentences(["a"], max_words=0)
