"""How failures become HTTP answers: domain and store errors in one handler, validation errors named by field.

Bodies: `{"detail": "one sentence"}` for 401/403/404/409/413/429/503, and
`{"detail": [{"field": "mobile", "message": "..."}]}` for 422, one entry per invalid field.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from eventsourcing.persistence import IntegrityError, PersistenceError
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from jawazat_events.api.middleware import mask_ids
from jawazat_events.api.schemas import ErrorBody, ValidationErrorBody
from jawazat_events.domain.errors import (
    AlreadyRegistered,
    AlreadySubscribed,
    DomainError,
    NoContact,
    NotRegistered,
    NotSponsored,
    NotSubscribed,
    UnknownEstablishment,
)
from jawazat_events.store import ConfigurationError

log = logging.getLogger(__name__)

# Most specific first; DomainError last catches every other refused rule as invalid input.
STATUS_OF: tuple[tuple[type[Exception], int], ...] = (
    (NotSponsored, 404),
    (NotSubscribed, 404),
    (UnknownEstablishment, 404),
    (NotRegistered, 404),
    (AlreadySubscribed, 409),
    (AlreadyRegistered, 409),
    (DomainError, 422),
)
_LOCATIONS = ("body", "query", "path", "header", "cookie")
_LEADING_FIELD = re.compile(r"([a-z][a-z_]*)(?:\b|:)")


class FieldError(Exception):
    """Input the schemas let through but the API refuses, naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def problems_body(problems: list[tuple[str, str]]) -> dict[str, Any]:
    return {"detail": [{"field": field, "message": message} for field, message in problems]}


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATIONS:
        where, parts = parts[0], parts[1:]
        return ".".join(parts) if parts else where
    return ".".join(parts) or "body"


def _message_of(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error")
        return f"is not valid JSON ({reason})" if reason else "is not valid JSON"
    return str(error.get("msg", "is invalid")).removeprefix("Value error, ")


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's validation report, re-shaped to name each invalid field once, in order."""
    assert isinstance(exc, RequestValidationError)
    problems: list[tuple[str, str]] = []
    for error in exc.errors():
        problem = (_field_of(error.get("loc", ())), _message_of(error))
        if problem not in problems:
            problems.append(problem)
    return JSONResponse(problems_body(problems), status_code=422)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's and our HTTP errors; a body FastAPI could not parse is invalid input (422), not 400."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and request.method in ("POST", "PUT", "PATCH"):
        # e.g. a JSON number longer than Python converts: FastAPI's parser gives up with a bare 400.
        return JSONResponse(problems_body([("body", "is not valid JSON that can be read")]), status_code=422)
    return await http_exception_handler(request, exc)


async def field_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldError)
    return JSONResponse(problems_body([(exc.field, exc.message)]), status_code=422)


def _domain_problems(error: DomainError) -> list[tuple[str, str]]:
    message = str(error)
    if isinstance(error, NoContact):
        return [("mobile", message), ("email", message)]
    found = _LEADING_FIELD.match(message)
    return [(found.group(1) if found else "body", message)]


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The one place domain and store errors become status codes."""
    if isinstance(exc, IntegrityError):
        # Optimistic concurrency: another request changed the same record first.
        return JSONResponse(
            {"detail": "a concurrent request changed the same record first; retry"}, status_code=409
        )
    if isinstance(exc, PersistenceError | ConfigurationError):
        log.error("store unavailable: %s: %s", type(exc).__name__, mask_ids(str(exc)))
        return JSONResponse({"detail": "the store is unavailable; retry later"}, status_code=503)
    assert isinstance(exc, DomainError)
    status = next(code for kind, code in STATUS_OF if isinstance(exc, kind))
    if status == 422:
        return JSONResponse(problems_body(_domain_problems(exc)), status_code=422)
    return JSONResponse({"detail": str(exc)}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(FieldError, field_error_handler)
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(PersistenceError, domain_error_handler)
    app.add_exception_handler(ConfigurationError, domain_error_handler)


_DESCRIPTIONS = {
    401: "Missing, unknown, wrong or revoked key or token.",
    403: "The caller's role may not use this route.",
    404: "Not found (for establishments: also an ID number they do not sponsor; same answer).",
    409: "Conflicts with the current state (already subscribed, concurrent change).",
    413: "The body is larger than the limit (bytes or events).",
    422: "Invalid input: every invalid field is named.",
    429: "Rate limit reached; `Retry-After` says how many seconds to wait.",
    503: "The store (or a service this route needs) is unavailable.",
}
_EXAMPLES: dict[int, Any] = {
    401: {"detail": "missing or invalid credentials: send Authorization: Bearer <key or token>"},
    403: {"detail": "this route is for establishments; the caller is a source system"},
    404: {"detail": "ID number 2000000006 is not sponsored by establishment 7001234567"},
    409: {"detail": "already subscribed to 2000000006"},
    413: {"detail": "the request body exceeds the limit of 1,048,576 bytes"},
    422: {"detail": [{"field": "mobile", "message": "mobile '0512' is not a valid phone number"}]},
    429: {"detail": "rate limit of 3,000 requests a minute reached; retry after 1 s"},
    503: {"detail": "the store is unavailable; retry later"},
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error answers a route can give."""
    documented: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {
            "model": ValidationErrorBody if code == 422 else ErrorBody,
            "description": _DESCRIPTIONS[code],
            "content": {"application/json": {"example": _EXAMPLES[code]}},
        }
        if code == 429:
            entry["headers"] = {
                "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
            }
        documented[code] = entry
    return documented


AUTHENTICATED = (401, 403, 422, 429)
