"""Every request's edge: request ids, the body-size and body-time limits, one masked access-log line,
HTTP metrics.

Logs carry the request id (`X-Request-ID`, echoed on every answer) and the caller's label, never a key, a
token or a full ID number: ID numbers in paths and messages are masked to their last four digits, and
query strings are not logged at all.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jawazat_events.api.body_deadline import BodyDeadline
from jawazat_events.api.metrics import record_request
from jawazat_events.domain.identifiers import mask_id_number

log = logging.getLogger("jawazat_events.api")

REQUEST_ID_HEADER = "X-Request-ID"
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

_GIVEN_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# A person's ID number: 10 digits starting 1-4, not part of a longer number (unified numbers start with 7).
_ID_NUMBER = re.compile(r"(?<!\d)[1-4]\d{5}(\d{4})(?!\d)")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def mask_ids(text: str) -> str:
    """Replace every ID number in `text` by its last four digits (`******1234`)."""
    return _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record (from the request being answered, `-` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Log lines for `jawazat serve`: time, level, request id, logger, message."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _json_response(status: int, body: dict[str, Any], request_id: str) -> tuple[Message, Message]:
    payload = json.dumps(body).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
        ],
    }
    return start, {"type": "http.response.body", "body": payload}


class RequestContextMiddleware:
    """Pure ASGI middleware (no per-request task or body copy beyond what the limit needs)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_limits: dict[str, int] | None = None,
        body_timeout_seconds: float = 30.0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Routes with a larger limit of their own (exact paths: uploads of tickets' attachments).
        self.body_limits = dict(body_limits or {})
        self.body_timeout_seconds = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        async def refuse(code: int, body: dict[str, Any]) -> None:
            for message in _json_response(code, body, request_id):
                await send_with_id(message)

        # A body that stalls is answered 408 (through send_with_id: request id, status in the log line).
        deadline = BodyDeadline(receive, send_with_id, seconds=self.body_timeout_seconds)
        try:
            limit = self.body_limits.get(scope.get("path", ""), self.max_body_bytes)
            limited = await self._limit_body(scope, deadline.receive, limit)
            if isinstance(limited, int):
                await refuse(
                    limited,
                    {"detail": f"the request body exceeds the limit of {limit:,} bytes"}
                    if limited == 413
                    else {"detail": "the Content-Length header is not a number of bytes"},
                )
                return
            await self.app(scope, limited, deadline.send)
        except Exception as error:
            # The last safety net: no input may produce a traceback page or a dropped connection.
            log.error(
                "unhandled %s: %s", type(error).__name__, mask_ids("".join(traceback.format_exception(error)))
            )
            if not response_started:
                await refuse(500, {"detail": "internal error", "request_id": request_id})
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            record_request(scope["method"], template, status, elapsed)
            caller = scope.get("state", {}).get("caller_label", "-")
            log.info(
                "%s %s %d %.1fms caller=%s",
                scope["method"],
                mask_ids(scope.get("path", "")),
                status,
                elapsed * 1000,
                caller,
                extra={"request_id": request_id},
            )
            request_id_var.reset(token)

    @staticmethod
    def _request_id(scope: Scope) -> str:
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = bytes(value).decode("latin-1")
                if _GIVEN_REQUEST_ID.fullmatch(given):
                    return given
                break
        return uuid.uuid4().hex

    async def _limit_body(self, scope: Scope, receive: Receive, limit: int) -> Receive | int:
        """The receive to hand on, or the status to refuse with (413 too large, 400 bad length)."""
        if scope["method"] not in _BODY_METHODS:
            return receive
        declared: str | None = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = value.decode("latin-1")
                break
        if declared is not None:
            if not declared.strip().isdigit():
                return 400
            return 413 if int(declared) > limit else receive
        # No declared length (chunked): read up to the limit before the application sees anything.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return _replaying(message, receive)  # the client went away: the application sees it
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return 413
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return _replaying({"type": "http.request", "body": b"".join(chunks), "more_body": False}, receive)


def _replaying(first: Message, receive: Receive) -> Receive:
    """A receive that hands out `first`, then whatever the server sends next."""
    pending: list[Message] = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
