"""Opaque keyset cursors: a timestamp and a row id, for pages ordered newest first.

A cursor is URL-safe base64 of ``[iso timestamp, uuid hex]``; anything else a
client sends back is refused with :class:`InvalidCursor`, naming the field.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid

from service.errors import ServiceError

__all__ = ["InvalidCursor", "decode_cursor", "encode_cursor"]


class InvalidCursor(ServiceError):
    """A cursor that no page of this service returned."""

    status_code = 400
    code = "invalid_cursor"


def encode_cursor(when: dt.datetime, row_id: uuid.UUID) -> str:
    """Return the cursor that resumes a page after the row (when, row_id)."""
    payload = json.dumps([when.isoformat(), row_id.hex])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """Read back a cursor from :func:`encode_cursor`.

    Raises:
        InvalidCursor: If the cursor was not made by :func:`encode_cursor`.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        when_text, last_id = json.loads(base64.urlsafe_b64decode(padded))
        when = dt.datetime.fromisoformat(when_text)
        if when.tzinfo is None:
            raise ValueError("cursor time has no zone")
        return when, uuid.UUID(hex=last_id)
    except (binascii.Error, ValueError, TypeError) as e:
        raise InvalidCursor(
            f"expected a next_cursor returned by a previous page, got {cursor!r}; "
            "start again without a cursor",
            field="cursor",
        ) from e
