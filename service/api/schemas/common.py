"""Field types shared by the request schemas: text that can be stored, ids that can
be put in a URL, times inside the range the databases hold, metadata that is JSON."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, StrictStr
from pydantic_core import PydanticCustomError

__all__ = [
    "EARLIEST",
    "LATEST",
    "BoundedDatetime",
    "ExternalId",
    "Metadata",
    "StorableText",
    "check_storable",
]

# Both databases store these, and every calendar computation on them stays in range.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_METADATA_DEPTH = 8


def check_storable(value: str) -> str:
    """Refuse NUL characters and unpaired UTF-16 surrogates, which PostgreSQL and
    UTF-8 cannot hold, naming where the first one is."""
    found = _UNSTORABLE.search(value)
    if found:
        what = (
            "a NUL character"
            if found.group() == "\x00"
            else (f"an unpaired surrogate U+{ord(found.group()):04X}")
        )
        raise PydanticCustomError(
            "invalid_text",
            "expected Unicode text that can be stored; found {what} at position "
            "{position}. Send valid UTF-8 without NUL characters",
            {"what": what, "position": found.start()},
        )
    return value


def _url_safe(value: str) -> str:
    check_storable(value)
    if not value.strip() or "/" in value or any(ch < " " for ch in value):
        raise PydanticCustomError(
            "invalid_id",
            "expected an id of printable characters without '/', not blank, so "
            "that it can be used in a URL; got {received}",
            {"received": repr(value)},
        )
    return value


def _in_range(value: dt.datetime) -> dt.datetime:
    if not EARLIEST <= value < LATEST:
        raise PydanticCustomError(
            "out_of_range",
            "expected a time between {earliest} and {latest}, got {received}",
            {
                "earliest": EARLIEST.date().isoformat(),
                "latest": LATEST.date().isoformat(),
                "received": value.isoformat(),
            },
        )
    return value


def _json_metadata(value: dict[str, Any]) -> dict[str, Any]:
    _check_json(value, "metadata", depth=0)
    return value


def _check_json(value: object, where: str, *, depth: int) -> None:
    if depth > _METADATA_DEPTH:
        raise PydanticCustomError(
            "too_deep",
            "expected metadata nested at most {limit} levels, deeper at {where}",
            {"limit": _METADATA_DEPTH, "where": where},
        )
    if isinstance(value, str):
        check_storable(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError(
            "invalid_number",
            "expected finite numbers in metadata; {where} is {received}",
            {"where": where, "received": str(value)},
        )
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(str(key))
            _check_json(item, f"{where}.{key}", depth=depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]", depth=depth + 1)


StorableText = Annotated[StrictStr, AfterValidator(check_storable)]
ExternalId = Annotated[
    StrictStr, Field(min_length=1, max_length=200), AfterValidator(_url_safe)
]
BoundedDatetime = Annotated[AwareDatetime, AfterValidator(_in_range)]
Metadata = Annotated[dict[str, Any], AfterValidator(_json_metadata)]
