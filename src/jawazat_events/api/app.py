"""The application factory: `create_app(container)` wires routers, dependencies, errors and middleware.

Nothing happens at import time; the store is opened by the lifespan (server start) or the first request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from jawazat_events.api import eservices
from jawazat_events.api.errors import install_error_handlers
from jawazat_events.api.middleware import RequestContextMiddleware
from jawazat_events.api.routers import alerts, audit, callbacks, contacts, events, health, subscriptions
from jawazat_events.api.state import ApiState
from jawazat_events.bootstrap import Container

DESCRIPTION = """
Notifications about the people an establishment sponsors (entry/exit, passport expiry and renewal, visas).

* **Establishments** use their API key (`Authorization: Bearer jzk_…`): subscriptions, contacts, alerts.
* **Source systems** use a token with role `source` (`Bearer jzt_…`): `POST /v1/events`.
* **Auditors** use a token with role `auditor`: the read-only `/v1/audit/…` views.
* **Individuals** (role `individual`, naming their ID number) and **officers** (role `officer`) use the
  e-services: renewed passports, travel and Makkah permits, support tickets (every POST there accepts an
  `Idempotency-Key`).

Missing or wrong credentials get 401, the wrong role 403, too many requests 429 with `Retry-After`.
Invalid input gets 422 naming every invalid field. Every answer carries `X-Request-ID`.
"""

TAGS = [
    {"name": "subscriptions", "description": "Establishments: which ID numbers and notification types."},
    {"name": "contacts", "description": "Establishments: default contacts and message language."},
    {"name": "alerts", "description": "Establishments: alerts with their delivery status and attempts."},
    {"name": "events", "description": "Source systems: post feed events."},
    {"name": "audit", "description": "Auditors: stored events, timelines, subscriptions at a time."},
    {"name": "callbacks", "description": "Providers: Twilio message status callbacks."},
    {"name": "people", "description": "Individuals, guardians, sponsors: a renewed passport."},
    {"name": "travel permits", "description": "Guardians request, officers decide: family travel permits."},
    {"name": "Makkah permits", "description": "Individuals and establishments apply, officers decide."},
    {"name": "tickets", "description": "Support requests (Tawasul) with attachments."},
    {"name": "operations", "description": "Health and metrics."},
]


def create_app(container: Container) -> FastAPI:
    """The HTTP API over a wired container (which the caller owns and closes)."""
    state = ApiState.for_container(container)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(state.warm_up)
        yield

    app = FastAPI(
        title="jawazat-events",
        version="1",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.api = state
    for module in (subscriptions, contacts, alerts, events, audit, callbacks, health):
        app.include_router(module.router)
    install_error_handlers(app)
    eservices.install(app, container)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=container.settings.api_max_body_bytes,
        body_limits=eservices.body_limits(container),
        body_timeout_seconds=container.settings.api_body_timeout_seconds,
    )
    return app
