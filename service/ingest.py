"""Ingestion of feedback: validate → redact → analyse → store → commit.

1. Validate. The schema (:class:`FeedbackCreate`) checks types and values; this
   module adds what needs settings or several fields: exactly one of ``text`` and
   ``turns``, and the length limit. In a batch each item is checked on its own,
   and a bad item is reported by its index while the others go on.
2. Skip what is stored. Items whose ``external_id`` is already stored, or repeated
   earlier in the same call, are answered with the stored item; a retried batch
   costs a lookup, not another round of redaction and analysis.
3. Redact personal data from every text and turn, in one batched call.
4. Analyse the redacted documents in one engine call.
5. Store: unknown accounts are created from the fields given, items are inserted
   with ``ON CONFLICT DO NOTHING`` on ``(tenant, external_id)`` (two processes
   racing on one item store it once), and the transaction commits *before* the
   answer is built, so an acknowledged item is durable and a retry never
   duplicates it.

6. Evaluate the alert rules for the accounts that received new items
   (:mod:`service.alerts`), in a transaction of its own after the commit.
7. Assign the new items to the tenant's themes, once it has some
   (:func:`service.themes.assign_new`: one embedder call per request), also in a
   transaction of its own; a failure leaves them unassigned until the next
   refresh.

Raw, unredacted text is kept only for tenants with ``store_raw_text`` on.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from nlp.analysis import Analysis, Analyzer, Turn
from nlp.errors import NlpError
from nlp.themes import TextEmbedder
from service.alerts import evaluate_accounts
from service.api.schemas.feedback import (
    FeedbackBatchCreate,
    FeedbackBatchPublic,
    FeedbackCreate,
    FeedbackPublic,
    FeedbackResult,
    ItemErrorPublic,
)
from service.auth import Caller
from service.errors import (
    FieldError,
    InvalidInput,
    RequestTooLarge,
    field_errors_from_pydantic,
)
from service.feedback import to_public
from service.metrics import ANALYSIS_SECONDS, ITEMS_INGESTED
from service.redaction import Redactor
from service.storage.accounts import (
    AccountFields,
    account_external_ids,
    ensure_accounts,
)
from service.storage.feedback import (
    NewFeedback,
    StoredFeedback,
    add_feedback,
    find_feedback,
)
from service.storage.models import FeedbackItem, FeedbackStatus
from service.themes import assign_new

__all__ = ["check_content", "ingest_batch", "ingest_one"]

logger = logging.getLogger(__name__)

Status = Literal["created", "duplicate"]


@dataclass(frozen=True)
class _Stored:
    """What became of one valid item: its stored row and whether this call made it."""

    item: FeedbackItem
    status: Status
    account_id: str


@dataclass
class _Content:
    """An item's redacted content, and the document the engine reads."""

    text: str | None
    turns: list[dict[str, str]] | None
    entities: list[str] = field(default_factory=list)

    @property
    def document(self) -> str | list[Turn]:
        if self.turns is not None:
            return [Turn(role=t["role"], text=t["text"]) for t in self.turns]
        return self.text or ""


def check_content(item: FeedbackCreate, *, max_text_chars: int) -> list[FieldError]:
    """Check what the schema cannot: one of text or turns, and the length limit.

    Args:
        item: A schema-valid item.
        max_text_chars: The longest text (or transcript, all turns) accepted.

    Returns:
        The errors found; empty when the item can be ingested.
    """
    if item.text is None and item.turns is None:
        return [
            FieldError(
                "text",
                "missing",
                "expected 'text' (a string) or 'turns' (a transcript), got neither",
            )
        ]
    if item.text is not None and item.turns is not None:
        return [
            FieldError(
                "turns",
                "invalid_value",
                "expected either 'text' or 'turns', got both; send a transcript "
                "as 'turns' only",
            )
        ]
    if item.text is not None:
        if not item.text.strip():
            return [FieldError("text", "empty", "expected some text, got none")]
        return _check_length("text", len(item.text), max_text_chars)
    assert item.turns is not None  # one of the two is set, checked above
    return _check_length("turns", sum(len(t.text) for t in item.turns), max_text_chars)


def ingest_one(
    session: Session,
    caller: Caller,
    body: FeedbackCreate,
    *,
    redactor: Redactor,
    analyzer: Analyzer,
    max_text_chars: int,
    embedder: TextEmbedder | None = None,
) -> tuple[FeedbackPublic, bool]:
    """Ingest one item; if its ``external_id`` is stored, return the stored item.

    Args:
        session: An open session; this function commits.
        caller: The authenticated caller.
        body: The item.
        redactor: The PII redactor.
        analyzer: The text engine.
        max_text_chars: The longest text accepted.
        embedder: Embeds new items for theme assignment; None skips it.

    Returns:
        The stored item, and whether this call created it.

    Raises:
        InvalidInput: If the item has neither or both of text and turns, or is
            over the length limit.
    """
    errors = check_content(body, max_text_chars=max_text_chars)
    if errors:
        raise InvalidInput(errors)
    (stored,) = _ingest(
        session,
        caller,
        [body],
        redactor=redactor,
        analyzer=analyzer,
        embedder=embedder,
    )
    return to_public(stored.item, stored.account_id), stored.status == "created"


def ingest_batch(
    session: Session,
    caller: Caller,
    body: FeedbackBatchCreate,
    *,
    redactor: Redactor,
    analyzer: Analyzer,
    max_items: int,
    max_text_chars: int,
    embedder: TextEmbedder | None = None,
) -> FeedbackBatchPublic:
    """Ingest many items; each is created, a duplicate, or an error with its reason.

    Args:
        session: An open session; this function commits.
        caller: The authenticated caller.
        body: The items, not yet validated one by one.
        redactor: The PII redactor.
        analyzer: The text engine.
        max_items: The most items one call accepts.
        max_text_chars: The longest text accepted.
        embedder: Embeds new items for theme assignment; None skips it.

    Returns:
        One result per item, in request order, and the counts.

    Raises:
        RequestTooLarge: If the batch holds more than ``max_items`` items.
    """
    if len(body.items) > max_items:
        raise RequestTooLarge(
            f"items: {len(body.items):,} items; the limit is {max_items:,} per "
            "call. Split the batch.",
            field="items",
        )
    valid, errors = _validate_items(body.items, max_text_chars=max_text_chars)
    stored = _ingest(
        session,
        caller,
        [item for _, item in valid],
        redactor=redactor,
        analyzer=analyzer,
        embedder=embedder,
    )
    results = [
        FeedbackResult(
            index=index,
            status="error",
            external_id=_sent_external_id(body.items[index]),
            errors=item_errors,
        )
        for index, item_errors in errors.items()
    ]
    results += [
        FeedbackResult(
            index=index,
            status=outcome.status,
            id=outcome.item.id,
            external_id=outcome.item.external_id,
        )
        for (index, _), outcome in zip(valid, stored, strict=True)
    ]
    results.sort(key=lambda r: r.index)
    answer = FeedbackBatchPublic(
        created=sum(r.status == "created" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        failed=len(errors),
        items=results,
    )
    logger.info(
        "batch of %d: %d created, %d duplicates, %d failed",
        len(results),
        answer.created,
        answer.duplicates,
        answer.failed,
    )
    return answer


def _check_length(name: str, length: int, limit: int) -> list[FieldError]:
    if length <= limit:
        return []
    return [
        FieldError(
            name,
            "text_too_long",
            f"the text is {length:,} characters; the limit is {limit:,}. "
            "Split it into several items.",
        )
    ]


def _sent_external_id(raw: Any) -> str | None:
    # A refused item is matched to the caller's record by the id it was sent with.
    value = raw.get("external_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and len(value) <= 200 else None


def _validate_items(
    raw_items: Sequence[Any], *, max_text_chars: int
) -> tuple[list[tuple[int, FeedbackCreate]], dict[int, list[ItemErrorPublic]]]:
    valid: list[tuple[int, FeedbackCreate]] = []
    errors: dict[int, list[ItemErrorPublic]] = {}
    for index, raw in enumerate(raw_items):
        prefix = f"items[{index}]"
        try:
            item = FeedbackCreate.model_validate(raw)
        except ValidationError as e:
            entries = field_errors_from_pydantic(e.errors(), prefix=prefix)
            errors[index] = [ItemErrorPublic.model_validate(x) for x in entries]
            continue
        problems = check_content(item, max_text_chars=max_text_chars)
        if problems:
            errors[index] = [
                ItemErrorPublic(
                    field=f"{prefix}.{p.field}", code=p.code, message=p.message
                )
                for p in problems
            ]
            continue
        valid.append((index, item))
    return valid, errors


def _ingest(
    session: Session,
    caller: Caller,
    items: Sequence[FeedbackCreate],
    *,
    redactor: Redactor,
    analyzer: Analyzer,
    embedder: TextEmbedder | None = None,
) -> list[_Stored]:
    """Store valid items (or find them stored); one result per item, in order."""
    if not items:
        return []
    # Stored already, or repeated in this call: no redaction or analysis needed.
    known = find_feedback(session, caller.tenant_id, [i.external_id for i in items])
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.external_id not in known:
            first_index.setdefault(item.external_id, index)
    new = [items[i] for i in first_index.values()]

    added: list[StoredFeedback] = []
    if new:
        added = _store_new(session, caller, new, redactor=redactor, analyzer=analyzer)
    # Acknowledge nothing that is not durable.
    session.commit()
    ITEMS_INGESTED.inc(sum(1 for s in added if s.created))
    logger.debug("ingested %d items, %d new", len(items), len(new))
    _evaluate_alerts(session, caller, {s.item.account_id for s in added if s.created})
    if embedder is not None:
        _assign_themes(session, caller, [s.item for s in added if s.created], embedder)

    made = {s.item.external_id: s for s in added}
    outcome: list[tuple[FeedbackItem, Status]] = []
    for index, item in enumerate(items):
        if item.external_id in known:
            outcome.append((known[item.external_id], "duplicate"))
            continue
        stored = made[item.external_id]
        created = stored.created and first_index[item.external_id] == index
        outcome.append((stored.item, "created" if created else "duplicate"))
    return _with_account_ids(session, caller, outcome)


def _evaluate_alerts(
    session: Session, caller: Caller, account_ids: set[uuid.UUID]
) -> None:
    """Evaluate alert rules for the accounts that just received items.

    The items are committed already; a failure here is logged, not answered,
    and ``POST /v1/alerts:evaluate`` catches up later.
    """
    if not account_ids:
        return
    try:
        evaluate_accounts(session, caller.tenant_id, account_ids)
        session.commit()
    except SQLAlchemyError as e:
        session.rollback()
        logger.warning(
            "alert evaluation after ingest failed for %d accounts: %s",
            len(account_ids),
            type(e).__name__,
        )


def _assign_themes(
    session: Session,
    caller: Caller,
    items: list[FeedbackItem],
    embedder: TextEmbedder,
) -> None:
    """Give the new items a theme; committed items stay if this fails."""
    if not items:
        return
    texts = [
        (
            item.id,
            item.text or ""
            if item.turns is None
            else "\n".join(t["text"] for t in item.turns if t["role"] == "customer"),
        )
        for item in items
    ]
    try:
        assign_new(session, caller.tenant_id, texts, embedder=embedder)
        session.commit()
    except (SQLAlchemyError, NlpError) as e:
        session.rollback()
        logger.warning(
            "theme assignment after ingest failed for %d items: %s",
            len(items),
            type(e).__name__,
        )


def _store_new(
    session: Session,
    caller: Caller,
    items: Sequence[FeedbackCreate],
    *,
    redactor: Redactor,
    analyzer: Analyzer,
) -> list[StoredFeedback]:
    """Redact, analyse and insert items not stored before; the caller commits."""
    contents = _redact(redactor, items)
    with ANALYSIS_SECONDS.labels("ingest").time():
        analyses = analyzer.analyze_documents([c.document for c in contents])
    accounts = _ensure_accounts(session, caller, items)
    rows = [
        _new_feedback(item, content, analysis, accounts[item.account_id], caller)
        for item, content, analysis in zip(items, contents, analyses, strict=True)
    ]
    return add_feedback(session, caller.tenant_id, rows)


def _with_account_ids(
    session: Session, caller: Caller, outcome: list[tuple[FeedbackItem, Status]]
) -> list[_Stored]:
    names = account_external_ids(
        session, caller.tenant_id, {row.account_id for row, _ in outcome}
    )
    return [
        _Stored(item=row, status=status, account_id=names[row.account_id])
        for row, status in outcome
    ]


def _redact(redactor: Redactor, items: Sequence[FeedbackCreate]) -> list[_Content]:
    """Redact every text and turn of ``items`` in one batched call."""
    texts: list[str] = []
    for item in items:
        texts.extend(
            [item.text or ""] if item.turns is None else [t.text for t in item.turns]
        )
    redactions = iter(redactor.redact_many(texts))
    contents = []
    for item in items:
        if item.turns is None:
            redaction = next(redactions)
            contents.append(_Content(redaction.text, None, list(redaction.entities)))
            continue
        turns: list[dict[str, str]] = []
        found: set[str] = set()
        for turn in item.turns:
            redaction = next(redactions)
            turns.append({"role": turn.role, "text": redaction.text})
            found.update(redaction.entities)
        contents.append(_Content(None, turns, sorted(found)))
    return contents


def _ensure_accounts(
    session: Session, caller: Caller, items: Sequence[FeedbackCreate]
) -> dict[str, uuid.UUID]:
    # The first item that names a new account decides its fields.
    wanted: dict[str, AccountFields | None] = {}
    for item in items:
        if item.account_id not in wanted or wanted[item.account_id] is None:
            wanted[item.account_id] = (
                AccountFields(**item.account.model_dump()) if item.account else None
            )
    accounts = ensure_accounts(session, caller.tenant_id, wanted)
    return {external_id: account.id for external_id, account in accounts.items()}


def _new_feedback(
    item: FeedbackCreate,
    content: _Content,
    analysis: Analysis,
    account_id: uuid.UUID,
    caller: Caller,
) -> NewFeedback:
    raw_text = None
    if caller.store_raw_text:
        raw_text = (
            item.text or ""
            if item.turns is None
            else json.dumps([t.model_dump() for t in item.turns], ensure_ascii=False)
        )
    polarity = analysis.polarity
    return NewFeedback(
        account_id=account_id,
        channel=item.channel,
        occurred_at=item.occurred_at,
        status=FeedbackStatus(analysis.status),
        text=content.text,
        turns=content.turns,
        raw_text=raw_text,
        external_id=item.external_id,
        author_role=item.author_role,
        source=item.source,
        rating=item.rating,
        nps_score=item.nps_score,
        metadata_=item.metadata,
        language=analysis.language,
        polarity=polarity.label if polarity else None,
        polarity_score=polarity.score if polarity else None,
        emotions=analysis.emotions,
        labels=analysis.labels,
        cs_emotions=analysis.cs_emotions,
        cs_labels=analysis.cs_labels,
        detail={
            "language_confidence": analysis.language_confidence,
            "split": dataclasses.asdict(analysis.split),
            "trajectory": [dataclasses.asdict(s) for s in analysis.trajectory],
            "mood_shift": analysis.mood_shift,
            "cues": analysis.cues,
            "polarity_probabilities": polarity.probabilities if polarity else None,
            "redacted": content.entities,
        },
        model_version=analysis.model_version,
    )
