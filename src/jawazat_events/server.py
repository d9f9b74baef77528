"""What `jawazat serve` serves: the HTTP API with the web portal mounted under /portal/."""

from __future__ import annotations

from fastapi import FastAPI

from jawazat_events.api import create_app
from jawazat_events.api.state import ApiState
from jawazat_events.bootstrap import Container
from jawazat_events.portal import create_portal
from jawazat_events.portal.app import upload_limits


def create_server(container: Container) -> FastAPI:
    """The API and the portal over one wired container (which the caller owns and closes).

    The portal shares the API's state (rate limits, warm-up) and sits inside its middleware (request ids,
    body limits); it has its own pages, errors and CSRF check (docs/portal.md).
    """
    app = create_app(container, body_limits=upload_limits(container))
    state: ApiState = app.state.api
    app.mount("/portal", create_portal(container, state))
    return app
