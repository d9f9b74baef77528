"""`/healthz` and `/metrics`: liveness with a store check, and Prometheus text."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from jawazat_events.api.deps import Store
from jawazat_events.api.errors import responses
from jawazat_events.api.metrics import render
from jawazat_events.api.schemas import HealthOut

router = APIRouter(tags=["operations"])

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/healthz", response_model=HealthOut, responses=responses(503), summary="The store answers")
def healthz(container: Store) -> HealthOut:
    """200 when the store answered a query just now, 503 otherwise."""
    return HealthOut(status="ok", head=container.app.recorder.max_notification_id() or 0)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "metrics"}},
    summary="Prometheus metrics",
)
def metrics(container: Store) -> Response:
    """Events ingested by type, alerts by channel and status, projection lag, delivery latency, HTTP."""
    return Response(render(container), media_type=PROMETHEUS_TEXT)
