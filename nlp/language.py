"""Language identification, so that non-English text is flagged instead of scored.

The emotion model is English-only. Most feedback is English and short, where n-gram
identifiers are both slow (about 0.7 ms a text with py3langid) and unreliable ("No
problems" reads as Lithuanian). So a cheap first pass accepts ASCII text in which
common English function words make up a good share of the words; only the rest goes to
py3langid, whose normalised probability must be high before a text is called
non-English. Texts too short to judge are taken as English, with low confidence.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["LanguageGuess", "detect_language"]

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ENGLISH_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doesn't",
        "don't",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "i'm",
        "if",
        "in",
        "is",
        "isn't",
        "it",
        "it's",
        "its",
        "just",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "please",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "there",
        "they",
        "this",
        "to",
        "too",
        "us",
        "was",
        "wasn't",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)
# Below this many letters a text is too short to identify reliably.
_MIN_LETTERS = 12
_NON_ENGLISH_MIN_PROB = 0.9
# Text of several words without a single English function word needs less evidence.
_NON_ENGLISH_MIN_PROB_NO_CUES = 0.6
# Restricting the identifier to widely written languages removes rare confusions
# (short English read as Lithuanian or Latin) without losing real traffic.
_LANGUAGES = [
    "ar",
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fi",
    "fr",
    "he",
    "hi",
    "hr",
    "hu",
    "id",
    "it",
    "ja",
    "ko",
    "lt",
    "lv",
    "nl",
    "no",
    "pl",
    "pt",
    "ro",
    "ru",
    "sk",
    "sl",
    "sv",
    "th",
    "tr",
    "uk",
    "vi",
    "zh",
]


@dataclass(frozen=True)
class LanguageGuess:
    """An ISO 639-1 code and the confidence in it, in [0, 1]."""

    language: str
    confidence: float

    @property
    def is_english(self) -> bool:
        """Whether the text should be scored by the English model."""
        return self.language == "en"


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of a text.

    Args:
        text: Raw text.

    Returns:
        The guess; ``"en"`` with low confidence when a Latin-script text is too
        short to judge, ``"und"`` for a text mostly in another script that the
        identifier still calls English.
    """
    words = _WORD.findall(text.lower())
    letters = sum(len(w) for w in words)
    latin = sum(ch.isascii() for w in words for ch in w)
    if letters and latin / letters < 0.5:
        # Mostly another script (Cyrillic, Han, Arabic, ...): not English, however
        # short; the identifier only names which language it is.
        language, probability = _identifier().classify(text)
        if language != "en":
            return LanguageGuess(str(language), round(float(probability), 3))
        return LanguageGuess("und", 0.0)
    if letters < _MIN_LETTERS:
        return LanguageGuess("en", 0.5)
    function_share = sum(w in _ENGLISH_FUNCTION_WORDS for w in words) / len(words)
    if text.isascii() and function_share >= 0.15:
        return LanguageGuess("en", 0.99)
    language, probability = _identifier().classify(text)
    needed = _NON_ENGLISH_MIN_PROB
    if function_share == 0 and len(words) >= 4:
        needed = _NON_ENGLISH_MIN_PROB_NO_CUES
    if language != "en" and probability < needed:
        return LanguageGuess("en", round(1.0 - float(probability), 3))
    return LanguageGuess(str(language), round(float(probability), 3))


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(_LANGUAGES))
    return identifier
