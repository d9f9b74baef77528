"""`/healthz` and `/metrics`: liveness with a store check, and Prometheus text."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from jawazat_events.api.deps import State
from jawazat_events.api.errors import responses
from jawazat_events.api.metrics import render_process, render_store
from jawazat_events.api.schemas import HealthOut

router = APIRouter(tags=["operations"])

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/healthz", response_model=HealthOut, responses=responses(503), summary="The store answers")
def healthz(state: State) -> HealthOut:
    """200 when the store answered a query within the last `JAWAZAT_API_HEALTH_CACHE_SECONDS`, 503
    otherwise (the answer is reused that long, so probes never load the database)."""
    app = state.container.app
    head = state.snapshots.get("healthz", lambda: app.recorder.max_notification_id() or 0)
    return HealthOut(status="ok", head=head)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "metrics"}},
    summary="Prometheus metrics",
)
def metrics(state: State) -> Response:
    """Events ingested by type, alerts by channel and status, projection lag, delivery latency, HTTP.
    The store's figures are reused for `JAWAZAT_API_HEALTH_CACHE_SECONDS`."""
    store_figures = state.snapshots.get("metrics", lambda: render_store(state.container))
    return Response(render_process() + store_figures, media_type=PROMETHEUS_TEXT)
