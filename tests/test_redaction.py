"""PII redaction with the packaged spaCy model, offline and batched."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.redaction import PLACEHOLDERS, Redactor


class _NetworkAttempts:
    """Refuses, and records, every DNS lookup and outgoing connection."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def refuse(self, what: str) -> OSError:
        self.attempts.append(what)
        return OSError(f"network access attempted in a test: {what}")

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
            raise self.refuse(f"getaddrinfo {host!r}")

        def connect(sock: socket.socket, address: object) -> None:
            raise self.refuse(f"connect {address!r}")

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect)


@pytest.fixture(scope="session")
def offline_load() -> Iterator[tuple[Redactor, _NetworkAttempts]]:
    """The redactor, loaded once with the network refused, and what it tried."""
    guard = _NetworkAttempts()
    with pytest.MonkeyPatch.context() as monkeypatch:
        guard.install(monkeypatch)
        redactor = Redactor.load()
        # The first e-mail is when tldextract would fetch the suffix list.
        redactor.redact("write to jane.doe@example.co.uk")
    yield redactor, guard


@pytest.fixture(scope="session")
def redactor(offline_load: tuple[Redactor, _NetworkAttempts]) -> Redactor:
    return offline_load[0]


def test_redactor_load_and_first_email_touch_no_network(
    offline_load: tuple[Redactor, _NetworkAttempts],
) -> None:
    assert offline_load[1].attempts == []


def test_network_guard_catches_the_default_tldextract_fetch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Proves the guard above would see a fetch: the default extractor tries one.
    import tldextract

    guard = _NetworkAttempts()
    guard.install(monkeypatch)
    extract = tldextract.TLDExtract(cache_dir=str(tmp_path))
    assert extract("mail.example.co.uk").suffix == "co.uk"  # from the snapshot
    assert guard.attempts


def test_redaction_makes_no_network_call_per_text(
    redactor: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = _NetworkAttempts()
    guard.install(monkeypatch)
    redactor.redact_many(["mail ops@globex.io", "call +1 415-555-0134"])
    assert guard.attempts == []


@pytest.mark.parametrize(
    ("text", "expected", "entity"),
    [
        (
            "Hi, I'm John Smith from procurement.",
            "Hi, I'm <PERSON> from procurement.",
            "PERSON",
        ),
        (
            "Reach me at john.smith@acme.io today.",
            "Reach me at <EMAIL_ADDRESS> today.",
            "EMAIL_ADDRESS",
        ),
        (
            "Call me back on +1 415-555-0134 please.",
            "Call me back on <PHONE_NUMBER> please.",
            "PHONE_NUMBER",
        ),
        (
            "Card 4111 1111 1111 1111 was charged twice.",
            "Card <CREDIT_CARD> was charged twice.",
            "CREDIT_CARD",
        ),
        (
            "Refund to IBAN DE89 3704 0044 0532 0130 00 please.",
            "Refund to IBAN <IBAN_CODE> please.",
            "IBAN_CODE",
        ),
        (
            "Please refund account number 123456789 asap.",
            "Please refund account number <ACCOUNT_NUMBER> asap.",
            "ACCOUNT_NUMBER",
        ),
        (
            "Our VPN gateway 192.168.1.20 blocks the sync.",
            "Our VPN gateway <IP_ADDRESS> blocks the sync.",
            "IP_ADDRESS",
        ),
    ],
    ids=["person", "email", "phone", "card", "iban", "account", "ip"],
)
def test_redact_replaces_each_entity_type(
    redactor: Redactor, text: str, expected: str, entity: str
) -> None:
    redaction = redactor.redact(text)
    assert redaction.text == expected
    assert redaction.entities == (entity,)


@pytest.mark.parametrize(
    "text",
    [
        "Love the product but the onboarding was confusing",
        "The CSV export has failed three nights in a row.",
        "Ticket 48213 is still open and order 99887766 never shipped.",
        "We renewed on March 3rd for 2 years at $40,000.",
        "Kindly stop charging us twice",
        "",
    ],
)
def test_redact_leaves_ordinary_text_unchanged(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text).text == text
    assert redactor.redact(text).entities == ()


def test_redact_many_equals_one_at_a_time(redactor: Redactor) -> None:
    texts = [
        "Sarah Connor wrote from sarah@skynet.com about card 4111111111111111.",
        "Nothing personal here.",
        "Ring 020 7946 0958 and ask for Michael Jordan.",
    ] * 5
    batched = redactor.redact_many(texts)
    assert batched == [redactor.redact(t) for t in texts]
    assert "Sarah" not in batched[0].text and "4111" not in batched[0].text
    assert set(batched[0].entities) == {"PERSON", "EMAIL_ADDRESS", "CREDIT_CARD"}


def test_placeholders_are_typed() -> None:
    assert set(PLACEHOLDERS.values()) == {
        "<PERSON>",
        "<EMAIL_ADDRESS>",
        "<PHONE_NUMBER>",
        "<CREDIT_CARD>",
        "<IBAN_CODE>",
        "<ACCOUNT_NUMBER>",
        "<IP_ADDRESS>",
    }


def test_redact_is_quiet_about_spacy_labels_presidio_does_not_map(
    redactor: Redactor, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        out = redactor.redact("We paid $300 for three seats, the second time, 20%.")
    assert out.text == "We paid $300 for three seats, the second time, 20%."
    assert not [r for r in caplog.records if "not mapped" in r.getMessage()]
