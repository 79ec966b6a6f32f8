"""Errors of the service and their mapping to HTTP answers.

    ServiceError                  (4xx/5xx with a stable ``code``)
    ├── InvalidInput              422 validation_error (one or more field errors)
    ├── Unauthorized              401 unauthorized (with ``WWW-Authenticate: Bearer``)
    ├── Forbidden                 403 insufficient_scope
    ├── NotFound                  404 not_found
    ├── Conflict                  409 conflict
    ├── RequestTooLarge           413 request_too_large
    ├── RateLimited               429 rate_limited (with ``Retry-After``)
    └── DatabaseUnavailable       503 database_unavailable

Engine errors are mapped too: ``nlp.errors.InputError`` becomes 422 with the field
and code it carries, and SQLAlchemy's ``OperationalError`` (the database cannot be
reached or refuses work) becomes 503 ``database_unavailable``. Every error answer
has the same shape::

    {"detail": "...", "code": "...", "errors": [{"field", "code", "message"}]}

No answer carries a traceback; an unexpected failure is logged and answered 500
with ``code: internal_error``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse as _StarletteJSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from nlp.errors import InputError

__all__ = [
    "Conflict",
    "DatabaseUnavailable",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "JSONResponse",
    "NotFound",
    "RateLimited",
    "RequestTooLarge",
    "ServiceError",
    "Unauthorized",
    "check_time_range",
    "error_body",
    "field_errors_from_pydantic",
    "install_error_handlers",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field of a request."""

    field: str
    code: str
    message: str


class ServiceError(Exception):
    """Base class of errors that the service answers with a stable ``code``.

    Args:
        message: The ``detail`` of the answer: expected, received, and the fix.
        field: The request field at fault, if one is.
        reason: The field-level code; defaults to the class's ``code``.
    """

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(
        self, message: str, *, field: str | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason or self.code

    @property
    def response_headers(self) -> dict[str, str]:
        """The headers of the answer."""
        return dict(self.headers)

    @property
    def field_errors(self) -> list[FieldError]:
        """The field-level errors of the answer (none without a field)."""
        if self.field is None:
            return []
        return [FieldError(field=self.field, code=self.reason, message=self.message)]


class InvalidInput(ServiceError):
    """A request is well-formed JSON but one or more fields are not acceptable."""

    status_code = 422
    code = "validation_error"

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = list(errors)

    @classmethod
    def single(cls, field: str, code: str, message: str) -> InvalidInput:
        """The error of one field."""
        return cls([FieldError(field=field, code=code, message=message)])

    @property
    def field_errors(self) -> list[FieldError]:
        """Every field at fault."""
        return self.errors


def check_time_range(since: dt.datetime | None, until: dt.datetime | None) -> None:
    """Refuse a ``from``/``to`` query whose ``to`` is not later than its ``from``.

    Raises:
        InvalidInput: On ``to``, when both are given and ``to`` is not later.
    """
    if since is not None and until is not None and since >= until:
        raise InvalidInput.single(
            "to",
            "invalid_value",
            f"expected 'to' later than 'from' ({since.isoformat()}), got "
            f"{until.isoformat()}",
        )


class Unauthorized(ServiceError):
    """No API key, or one that is unknown, revoked or malformed."""

    status_code = 401
    code = "unauthorized"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": "Bearer"}


class Forbidden(ServiceError):
    """A valid API key without the scope the operation needs."""

    status_code = 403
    code = "insufficient_scope"


class NotFound(ServiceError):
    """No such resource for this tenant (another tenant's ids read as absent)."""

    status_code = 404
    code = "not_found"


class Conflict(ServiceError):
    """The resource exists already (e.g. an account with the same external id)."""

    status_code = 409
    code = "conflict"


class RequestTooLarge(ServiceError):
    """A request holds more items, or more bytes, than one call accepts."""

    status_code = 413
    code = "request_too_large"


class RateLimited(ServiceError):
    """An API key has used up its request budget; retry after ``retry_after`` s.

    Args:
        message: The ``detail`` of the answer.
        retry_after: Whole seconds until a request will be accepted.
    """

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def response_headers(self) -> dict[str, str]:
        """``Retry-After`` with the seconds to wait."""
        return {"Retry-After": str(self.retry_after)}


class DatabaseUnavailable(ServiceError):
    """The database cannot be reached or refused the work; retrying may succeed."""

    status_code = 503
    code = "database_unavailable"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "5"}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same JSON shape."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def error_body(
    detail: str, code: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Build the common error body."""
    return {"detail": detail, "code": code, "errors": errors or []}


# Pydantic error types mapped to the codes callers see; others pass unchanged.
_CODES = {
    "string_type": "invalid_type",
    "list_type": "invalid_type",
    "model_type": "invalid_type",
    "model_attributes_type": "invalid_type",
    "dict_type": "invalid_type",
    "int_type": "invalid_type",
    "int_parsing": "invalid_type",
    "int_from_float": "invalid_type",
    "float_type": "invalid_type",
    "float_parsing": "invalid_type",
    "bool_type": "invalid_type",
    "bool_parsing": "invalid_type",
    "decimal_type": "invalid_type",
    "decimal_parsing": "invalid_type",
    "date_type": "invalid_type",
    "date_parsing": "invalid_type",
    "date_from_datetime_parsing": "invalid_type",
    "datetime_type": "invalid_type",
    "datetime_parsing": "invalid_type",
    "datetime_from_date_parsing": "invalid_type",
    "uuid_type": "invalid_type",
    "uuid_parsing": "invalid_type",
    "missing": "missing",
    "extra_forbidden": "unknown_field",
    "literal_error": "invalid_value",
    "enum": "invalid_value",
    "timezone_aware": "invalid_value",
    "too_short": "too_short",
    "too_long": "too_long",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "decimal_max_digits": "out_of_range",
    "decimal_max_places": "out_of_range",
    "json_invalid": "malformed_json",
    "value_error": "invalid_value",
    "string_pattern_mismatch": "invalid_value",
}

# Where FastAPI says a value came from; the field name alone is clearer.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def field_errors_from_pydantic(
    errors: Sequence[Any], *, prefix: str = ""
) -> list[dict[str, Any]]:
    """Convert pydantic (or FastAPI) error dicts to the answer's ``errors`` entries.

    Args:
        errors: The ``errors()`` of a ``ValidationError`` or ``RequestValidationError``.
        prefix: Prepended to every field, e.g. ``"items[3]"`` for a batch item.

    Returns:
        One ``{"field", "code", "message"}`` (plus ``received``) per error.
    """
    converted = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ()) if p not in _SOURCES]
        field = _dotted([*([prefix] if prefix else []), *location]) or "body"
        entry = {
            "field": field,
            "code": _CODES.get(error.get("type", ""), error.get("type", "invalid")),
            "message": error.get("msg", "invalid value"),
        }
        if "input" in error and error.get("type") != "missing":
            entry["received"] = _preview(error["input"])
        converted.append(entry)
    return converted


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # registered for this type
    errors = field_errors_from_pydantic(exc.errors())
    malformed = any(e["code"] == "malformed_json" for e in errors)
    code = "malformed_json" if malformed else "validation_error"
    detail = (
        "the request body is not valid JSON"
        if malformed
        else ("; ".join(f"{e['field']}: {e['message']}" for e in errors))
    )
    return JSONResponse(error_body(detail, code, errors), status_code=422)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)  # registered for this type
    errors = [asdict(e) for e in exc.field_errors]
    return JSONResponse(
        error_body(exc.message, exc.code, errors),
        status_code=exc.status_code,
        headers=exc.response_headers or None,
    )


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)  # registered for this type
    errors = [{"field": exc.field, "code": exc.code, "message": str(exc)}]
    return JSONResponse(error_body(str(exc), exc.code, errors), status_code=422)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    # The driver's message can carry the server address; it goes to the log only.
    logger.error(
        "database unavailable on %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    return await _service_error(
        request,
        DatabaseUnavailable(
            "the database is unavailable; retry in a few seconds, and tell the "
            "operator if it persists"
        ),
    )


_BODY_NOT_PARSED = "There was an error parsing the body"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # registered for this type
    if exc.status_code == 400 and exc.detail == _BODY_NOT_PARSED:
        # FastAPI's answer to a body that is not UTF-8 or nests too deep to read.
        message = "expected a JSON body in UTF-8 that can be read; this one cannot"
        errors = [{"field": "body", "code": "malformed_json", "message": message}]
        return JSONResponse(
            error_body("the request body is not valid JSON", "malformed_json", errors),
            status_code=400,
        )
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
        if part.isdigit():
            out += f"[{part}]"
        elif part.startswith("["):
            out += part
        else:
            out += f".{part}" if out else part
    return out


class JSONResponse(_StarletteJSONResponse):
    """A JSON error answer that renders whatever the client sent back to it.

    Error bodies echo parts of the request (``received``, field names), which may
    hold what strict JSON cannot carry: NaN or infinite numbers, and unpaired
    UTF-16 surrogates ("\\ud83d"). Those are written as strings and as
    ``\\uXXXX`` escapes, so the error answer itself never fails.
    """

    def render(self, content: object) -> bytes:
        return json.dumps(
            _json_safe(content), ensure_ascii=True, allow_nan=False, default=str
        ).encode("ascii")


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _preview(value: object) -> object:
    if isinstance(value, bytes):  # a body that is not JSON at all
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        # Unpaired surrogates cannot be written as UTF-8: show them as \uXXXX.
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value if len(value) <= 80 else value[:77] + "..."
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    try:  # lists and objects as the client sent them: JSON
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
