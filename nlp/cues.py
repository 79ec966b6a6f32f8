"""Customer-success frustration cues that a Reddit-trained model does not see.

GoEmotions is Reddit comments; support text says frustration in its own register,
often politely: "Kindly stop charging us twice", "Please fix this ASAP, third time
asking". The words are courteous, the situation is not. This module spots the
situations — repeated contact, a demand to stop, a billing error, urgency — and
gives each a weight; the frustration score of the CS view is the larger of the
model's score and the cue score, and the matched cues are reported with the reading
so that the number can be traced.

| cue         | what it spots                                            | weight |
| ----------- | -------------------------------------------------------- | ------ |
| repeated    | "third time", "yet again", "still not working", "how many times" | 0.6 |
| stop_demand | "stop charging/billing/sending/emailing/calling"         | 0.6    |
| billing     | "charged twice", "double charged", "overcharged"         | 0.5    |
| urgency     | "ASAP", "urgent", "immediately", "escalate"              | 0.4    |

Several cues combine as independent evidence: 1 - prod(1 - weight). A text whose
model reading is grateful or delighted gets no boost ("thanks for the quick fix,
ASAP as always!"). ``BENCHMARKS.md`` records how often the cues fire on
negative and on positive airline tweets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CUES", "Cue", "frustration_cues"]


@dataclass(frozen=True)
class Cue:
    """A named pattern and the weight of its evidence for frustration."""

    name: str
    pattern: re.Pattern[str]
    weight: float


_ORDINAL = r"(?:second|third|fourth|fifth|sixth|\d+(?:st|nd|rd|th))"

CUES: tuple[Cue, ...] = (
    Cue(
        "repeated",
        re.compile(
            rf"\b{_ORDINAL} (?:time|request|ticket|email|call)s?\b"
            r"|\byet again\b|\bhow many (?:more )?times\b"
            r"|\bstill (?:not|isn't|doesn't|hasn't|haven't|broken|failing|waiting)\b"
            r"|\b(?:keep|kept) (?:asking|having|getting|chasing)\b"
            r"|\b(?:again and again|over and over)\b",
            re.IGNORECASE,
        ),
        0.6,
    ),
    Cue(
        "stop_demand",
        re.compile(
            r"\bstop (?:charging|billing|sending|emailing|calling|spamming|"
            r"auto-?renewing|deducting)\b",
            re.IGNORECASE,
        ),
        0.6,
    ),
    Cue(
        "billing",
        re.compile(
            r"\b(?:charg(?:ed|ing)|bill(?:ed|ing)) (?:us |me |them )?(?:twice|double)\b"
            r"|\bdouble[- ]?(?:charged|billed|charge)\b|\bover-?charg(?:ed|ing)\b",
            re.IGNORECASE,
        ),
        0.5,
    ),
    Cue(
        "urgency",
        re.compile(
            r"\basap\b|\burgent(?:ly)?\b|\bimmediately\b|\bescalat(?:e|ed|ing|ion)\b",
            re.IGNORECASE,
        ),
        0.4,
    ),
)


def frustration_cues(text: str) -> tuple[list[str], float]:
    """Find the frustration cues in a text.

    Args:
        text: Raw or prepared text.

    Returns:
        The names of the cues found, in table order, and their combined score in
        [0, 1) (0.0 when none is found).
    """
    found = [cue for cue in CUES if cue.pattern.search(text)]
    remaining = 1.0
    for cue in found:
        remaining *= 1.0 - cue.weight
    return [cue.name for cue in found], round(1.0 - remaining, 4)
