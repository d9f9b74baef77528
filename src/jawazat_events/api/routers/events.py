"""`/v1/events`: source systems post batches of feed events, checked and idempotent like `jawazat ingest`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from jawazat_events.api.deps import SourceSystem, State
from jawazat_events.api.errors import AUTHENTICATED, responses
from jawazat_events.api.metrics import record_ingest
from jawazat_events.api.schemas import EventResult, EventsBatch, IngestOut
from jawazat_events.services.ingest import LineStatus

router = APIRouter(prefix="/v1/events", tags=["events"], responses=responses(*AUTHENTICATED))


@router.post(
    "",
    response_model=IngestOut,
    responses=responses(409, 413),
    summary="Post a batch of events (at most 1,000 events, 1 MiB)",
)
def post_events(body: EventsBatch, caller: SourceSystem, state: State) -> IngestOut:
    """Each event is validated on its own and reported as accepted, duplicate (same `event_id` as one
    already stored: stored once) or rejected with the reason. The batch is stored in one transaction."""
    limit = state.container.settings.api_max_events
    if len(body.events) > limit:
        raise HTTPException(
            status_code=413,
            detail=f"a batch holds at most {limit:,} events; this one has {len(body.events):,}",
        )
    with state.ingest_lock:
        outcomes = list(state.container.ingestor.ingest_items(body.events, first_line=0))
    record_ingest((result.status, event_type) for result, event_type in outcomes)
    results = [
        EventResult(
            index=r.line,
            status=r.status,
            event_id=r.event_id or _given_event_id(body.events[r.line]),
            reason=r.reason,
        )
        for r, _ in outcomes
    ]
    counts = {status.value: 0 for status in LineStatus}
    for result in results:
        counts[result.status] += 1
    return IngestOut(results=results, **counts)


def _given_event_id(item: Any) -> str | None:
    """The `event_id` a rejected item carries, if any, so the source can match the result to its event."""
    given = item.get("event_id") if isinstance(item, dict) else None
    return given if isinstance(given, str) and 0 < len(given) <= 200 else None
