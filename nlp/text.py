"""Text utilities shared by training and inference.

Everything the model sees passes through :func:`prepare_for_model`, so training and
serving normalise text the same way. Long texts are cut into pieces on sentence
boundaries by :func:`split_sentences` and :func:`pack_sentences`; nothing is dropped.
"""

from __future__ import annotations

import re
import unicodedata

import emoji

__all__ = [
    "pack_sentences",
    "prepare_for_model",
    "split_sentences",
]

_WHITESPACE = re.compile(r"\s+")
# Emoji whose CLDR names hide the feeling they carry ("face with symbols on mouth" is
# cursing). They are spelled with the feeling before the generic spelling-out runs.
_EMOJI_FEELINGS = {
    "\U0001f92c": " cursing angry face ",  # face with symbols on mouth
    "\U0001f624": " frustrated huffing face ",  # face with steam from nose
    "\U0001f644": " annoyed eye-rolling face ",  # face with rolling eyes
    "\U0001f612": " annoyed unamused face ",  # unamused face
    "\U0001f92e": " disgusted vomiting face ",  # face vomiting
    "\U0001f922": " disgusted nauseated face ",  # nauseated face
    "\U0001f926": " frustrated facepalm ",  # person facepalming
    "\U0001f629": " weary frustrated face ",  # weary face
    "\U0001f62b": " tired frustrated face ",  # tired face
    "\U0001f62c": " nervous grimacing face ",  # grimacing face
    "\U0001f973": " happy celebrating face ",  # partying face
}
_EMOJI_TABLE = str.maketrans(_EMOJI_FEELINGS)
# A sentence ends at ., ! or ? (possibly repeated, possibly followed by closing quotes
# or brackets) followed by whitespace, or at a line break. Abbreviations such as "e.g."
# are kept whole by requiring the next sentence to start with an upper-case letter,
# a digit or an opening quote when the boundary is a full stop.
_SENTENCE_END = re.compile(
    r"(?<=[!?])[\"')\]]*\s+"
    r"|(?<=\.)[\"')\]]*\s+(?=[A-Z0-9\"'(\[])"
    r"|\s*\n+\s*"
)


def prepare_for_model(text: str) -> str:
    """Normalise a text the way the emotion model was trained on.

    Emoji carry much of the feeling in short feedback ("thanks🙂", "🤬"), but the
    MiniLM word-piece vocabulary has no entries for them, so they are spelled out as
    their CLDR names ("slightly smiling face"), or, for the few whose names hide the
    feeling, as the feeling ("cursing angry face"). Control characters are dropped and
    white space is folded.

    Args:
        text: Raw text.

    Returns:
        The normalised text.
    """
    if not text.isascii():
        # Lone surrogates (from JSON "\ud83d" escapes) cannot be encoded; replace them.
        text = text.encode("utf-8", "replace").decode("utf-8")
        text = unicodedata.normalize("NFC", text).translate(_EMOJI_TABLE)
        text = emoji.demojize(text, delimiters=(" ", " "))
        text = text.replace("_", " ")
        text = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    return _WHITESPACE.sub(" ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Split a text into sentences with a rule-based splitter.

    Args:
        text: Raw text.

    Returns:
        The non-empty sentences, in order, stripped of surrounding white space.
    """
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def pack_sentences(sentences: list[str], *, max_words: int) -> list[str]:
    """Pack consecutive sentences into pieces of at most ``max_words`` words.

    A sentence longer than the budget is cut on word boundaries, so every word of the
    input lands in exactly one piece.

    Args:
        sentences: Sentences in reading order.
        max_words: Word budget of one piece; must be positive.

    Returns:
        Pieces of text in reading order.

    Raises:
        ValueError: If ``max_words`` is not positive.
    """
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, got {max_words!r}")
    pieces: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        words = sentence.split()
        while len(words) > max_words:
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if len(current) + len(words) > max_words and current:
            pieces.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        pieces.append(" ".join(current))
    return pieces
