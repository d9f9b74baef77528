"""The portal application: a FastAPI sub-application mounted at `/portal` by the API's factory.

It has its own error pages (HTML in the page's language, never a traceback, never JSON), security headers
(a strict Content-Security-Policy: every asset is served from the package), a `Server-Timing` header with
the server's time for the page, and the CSRF check in front of every route.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from importlib.resources import files

from eventsourcing.persistence import IntegrityError, PersistenceError
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from jawazat_events.api.middleware import mask_ids, request_id_var
from jawazat_events.api.state import ApiState
from jawazat_events.bootstrap import Container
from jawazat_events.portal.routers import (
    account,
    alerts,
    audit,
    auth,
    dashboard,
    eservices_home,
    makkah_permits,
    passport,
    subscriptions,
    tickets,
    travel_permits,
)
from jawazat_events.portal.web import (
    PREFIX,
    CsrfRefused,
    PageNotFound,
    PortalState,
    SignInRequired,
    TooManyAttempts,
    csrf_protect,
    current_principal,
    redirect,
    render,
    url,
)
from jawazat_events.store import ConfigurationError

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
ROUTERS = (
    auth,
    dashboard,
    subscriptions,
    alerts,
    account,
    audit,
    # The e-services (docs/portal.md, "E-services"): start pages and menu first, then one module each.
    eservices_home,
    travel_permits,
    passport,
    makkah_permits,
    tickets,
)
# Pages whose forms carry files: their bodies may be as large as the API's ticket uploads.
UPLOAD_PATHS = ("/tickets", "/makkah-permits")


def _error_page(request: Request, status: int, key: str, **values: object) -> Response:
    if not hasattr(request.state, "principal"):  # the frame shows who is signed in, when it can
        try:
            current_principal(request, request.app.state.portal)
        except Exception:
            request.state.principal = None
    return render(
        request,
        "error.html",
        title_key=f"error.{key}.title",
        status=status,
        body_key=f"error.{key}.body",
        body_values=values,
    )


def install_error_pages(app: FastAPI) -> None:
    """Every failure as a page in the page's language, with the status that says what happened."""

    async def sign_in(request: Request, exc: Exception) -> Response:
        return redirect(request, url("/login"))

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error_page(request, 404, "not_found")

    async def csrf(request: Request, exc: Exception) -> Response:
        return _error_page(request, 403, "forbidden")

    async def too_many(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TooManyAttempts)
        response = _error_page(request, 429, "too_many", seconds=exc.seconds)
        response.headers["Retry-After"] = str(exc.seconds)
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return _error_page(request, 404, "not_found")
        return _error_page(request, exc.status_code if exc.status_code < 500 else 400, "bad_request")

    async def invalid(request: Request, exc: Exception) -> Response:
        return _error_page(request, 400, "bad_request")

    async def store_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, IntegrityError):
            return _error_page(request, 409, "conflict")
        log.error("store unavailable: %s: %s", type(exc).__name__, mask_ids(str(exc)))
        return _error_page(request, 503, "unavailable")

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("portal page failed: %s", mask_ids(str(exc)))
        return _error_page(request, 500, "internal", request_id=request_id_var.get())

    app.add_exception_handler(SignInRequired, sign_in)
    app.add_exception_handler(PageNotFound, not_found)
    app.add_exception_handler(CsrfRefused, csrf)
    app.add_exception_handler(TooManyAttempts, too_many)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(PersistenceError, store_error)
    app.add_exception_handler(ConfigurationError, store_error)
    app.add_exception_handler(Exception, unexpected)


def upload_limits(container: Container) -> dict[str, int]:
    """The body limits of the portal's pages that take files (full paths): the API's upload limit."""
    return {PREFIX + path: container.settings.api_max_upload_bytes for path in UPLOAD_PATHS}


def create_portal(container: Container, api: ApiState) -> FastAPI:
    """The portal over a wired container, sharing the API's state (its index catch-up, its locks)."""
    portal = FastAPI(
        title="jawazat-events portal",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect)],
    )
    portal.state.portal = PortalState.build(container, api)
    static = files("jawazat_events.portal").joinpath("static")
    portal.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in ROUTERS:
        portal.include_router(module.router)
    install_error_pages(portal)

    @portal.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith(PREFIX + "/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    return portal
