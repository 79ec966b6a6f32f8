"""Errors of the service and their mapping to HTTP answers.

    ServiceError                  (4xx with a stable ``code``)
    └── RequestTooLarge           413 request_too_large

Engine errors are mapped too: ``nlp.errors.InputError`` becomes 422 with the field
and code it carries. Every error answer has the same shape::

    {"detail": "...", "code": "...", "errors": [{"field", "code", "message"}]}

No answer carries a traceback; an unexpected failure is logged and answered 500
with ``code: internal_error``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from nlp.errors import InputError

__all__ = ["RequestTooLarge", "ServiceError", "install_error_handlers"]

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """Base class of errors that the service answers with a 4xx status."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class RequestTooLarge(ServiceError):
    """A batch holds more items than one call accepts."""

    status_code = 413
    code = "request_too_large"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same JSON shape."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def error_body(
    detail: str, code: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Build the common error body."""
    return {"detail": detail, "code": code, "errors": errors or []}


# Pydantic error types mapped to the codes callers see.
_CODES = {
    "string_type": "invalid_type",
    "list_type": "invalid_type",
    "model_type": "invalid_type",
    "dict_type": "invalid_type",
    "missing": "missing",
    "extra_forbidden": "unknown_field",
    "literal_error": "invalid_value",
    "too_short": "too_short",
    "json_invalid": "malformed_json",
    "value_error": "invalid_value",
}


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        location = [str(p) for p in error.get("loc", ()) if p != "body"]
        field = _dotted(location) or "body"
        entry = {
            "field": field,
            "code": _CODES.get(error.get("type", ""), error.get("type", "invalid")),
            "message": error.get("msg", "invalid value"),
        }
        if "input" in error and error.get("type") != "missing":
            entry["received"] = _preview(error["input"])
        errors.append(entry)
    malformed = any(e["code"] == "malformed_json" for e in errors)
    code = "malformed_json" if malformed else "validation_error"
    detail = (
        "the request body is not valid JSON"
        if malformed
        else ("; ".join(f"{e['field']}: {e['message']}" for e in errors))
    )
    return JSONResponse(error_body(detail, code, errors), status_code=422)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    errors = [{"field": exc.field, "code": exc.code, "message": exc.message}]
    return JSONResponse(
        error_body(exc.message, exc.code, errors if exc.field else None),
        status_code=exc.status_code,
    )


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    errors = [{"field": exc.field, "code": exc.code, "message": str(exc)}]
    return JSONResponse(error_body(str(exc), exc.code, errors), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "http_error"
    )
    return JSONResponse(
        error_body(str(exc.detail), code),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(
        error_body("internal error; the failure has been logged", "internal_error"),
        status_code=500,
    )


def _dotted(parts: list[str]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _preview(value: object) -> object:
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
