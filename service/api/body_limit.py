"""A cap on request body size, enforced before the body is parsed.

FastAPI reads and parses a whole JSON body before any handler or dependency runs,
so a limit checked there comes after the memory is spent. This ASGI middleware
answers 413 as soon as ``Content-Length`` says the body is too large, or, for a
chunked body without one, as soon as the bytes received pass the limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import RequestTooLarge, error_body

__all__ = ["BodySizeLimit"]

_WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class BodySizeLimit:
    """Refuse request bodies over a per-path byte limit with 413.

    Args:
        app: The ASGI application to wrap.
        limits: Path → the most bytes a body sent there may have.
        default: The limit of every other path.
    """

    def __init__(
        self, app: ASGIApp, *, limits: Mapping[str, int], default: int
    ) -> None:
        self.app = app
        self.limits = dict(limits)
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body buffered, or answer 413."""
        if scope["type"] != "http" or scope["method"] in _WITHOUT_BODY:
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _reject(scope, receive, send, limit, received=declared)
            return

        # Read the body here, counting, and hand it on in one message.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _reject(scope, receive, send, limit, received=None)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    if value is None or not value.isdigit():
        return None
    return int(value)


async def _reject(
    scope: Scope, receive: Receive, send: Send, limit: int, *, received: int | None
) -> None:
    size = f"{received:,} bytes" if received is not None else f"over {limit:,} bytes"
    error = RequestTooLarge(
        f"the request body is {size}; the limit is {limit:,} bytes "
        f"({limit / 2**20:g} MiB) per call to {scope['path']}. Split it into "
        "smaller requests.",
        field="body",
    )
    errors = [
        {"field": e.field, "code": e.code, "message": e.message}
        for e in error.field_errors
    ]
    response = JSONResponse(
        error_body(error.message, error.code, errors),
        status_code=error.status_code,
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)
