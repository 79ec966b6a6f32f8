from __future__ import annotations

import pytest

from nlp.cues import frustration_cues


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kindly stop charging us twice", ["stop_demand", "billing"]),
        ("Please fix this ASAP, third time asking", ["repeated", "urgency"]),
        ("It is still not working after the update", ["repeated"]),
        ("We were double charged in March", ["billing"]),
        ("This is the 4th ticket about the same bug", ["repeated"]),
        ("Please escalate to your manager", ["urgency"]),
    ],
)
def test_frustration_cues_find_support_register_complaints(
    text: str, expected: list[str]
) -> None:
    found, score = frustration_cues(text)
    assert found == expected
    assert 0.4 <= score < 1.0


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, the second release fixed it",
        "We stopped by the office",
        "Charge it to our card on file",
        "The time zone setting is third in the list",
    ],
)
def test_frustration_cues_leave_ordinary_text_alone(text: str) -> None:
    assert frustration_cues(text) == ([], 0.0)


def test_frustration_cues_combine_as_independent_evidence() -> None:
    _, one = frustration_cues("urgent")
    _, two = frustration_cues("urgent, third time")
    assert one == pytest.approx(0.4)
    assert two == pytest.approx(1 - 0.6 * 0.4)
