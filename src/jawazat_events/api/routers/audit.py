"""`/v1/audit/…`: auditors' read-only views: the stored events, a person's timeline, subscriptions at a time.

The timeline and point-in-time subscriptions come from `jawazat_events.audit` (imported when first asked,
so the API runs without it: those two routes then answer 503).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Annotated, Any

from eventsourcing.utils import TopicError
from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from jawazat_events.api.deps import Auditor, Store
from jawazat_events.api.errors import AUTHENTICATED, responses
from jawazat_events.api.schemas import (
    AuditEvent,
    AuditEventPage,
    IdNumber,
    QueryTime,
    SubscriptionsAtOut,
    TimelineOut,
    UnifiedNumber,
    iso,
)
from jawazat_events.audit.records import event_type, jsonable

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=responses(*AUTHENTICATED))

# Stored fields that are never shown, whoever asks: hashes of keys and tokens.
_SECRET_SUFFIX = "_hash"
_LIBRARY_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})

At = Annotated[
    QueryTime | None,
    Query(description="as known at this time (ISO 8601 with offset); now when left out"),
]


def event_fields(event: Any) -> dict[str, Any]:
    """The event's fields, JSON-ready, without the library's bookkeeping or any stored hash."""
    return {
        key: jsonable(value)
        for key, value in vars(event).items()
        if key not in _LIBRARY_FIELDS and not key.endswith(_SECRET_SUFFIX)
    }


@router.get("/events", response_model=AuditEventPage, summary="Stored events in recording order")
def stored_events(
    _: Auditor,
    container: Store,
    after: Annotated[int, Query(ge=0, le=2**62, description="position to start after (0: the first)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many")] = 100,
) -> AuditEventPage:
    """Every event the store recorded (people, establishments, subscriptions, tokens), with its position;
    hashes of keys and tokens are left out."""
    app = container.app
    items: list[AuditEvent] = []
    for notification in app.recorder.select_notifications(start=after + 1, limit=limit):
        try:
            event: Any = app.mapper.to_domain_event(notification)
        except TopicError:  # a class this version does not know: show what the store holds
            items.append(
                AuditEvent(
                    position=notification.id,
                    type=notification.topic,
                    originator_id=str(notification.originator_id),
                    version=notification.originator_version,
                    recorded_at="",
                    fields={},
                )
            )
            continue
        items.append(
            AuditEvent(
                position=notification.id,
                type=event_type(event),
                originator_id=str(event.originator_id),
                version=event.originator_version,
                recorded_at=event.timestamp.isoformat(),
                fields=event_fields(event),
            )
        )
    return AuditEventPage(items=items, next_after=items[-1].position if items else after)


def _audit_function(module: str, name: str) -> Callable[..., Any]:
    try:
        found = importlib.import_module(f"jawazat_events.audit.{module}")
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith("jawazat_events.audit"):
            raise HTTPException(status_code=503, detail="the audit module is not available") from None
        raise
    function = getattr(found, name, None)
    if function is None:
        raise HTTPException(status_code=503, detail=f"the audit module has no {name}")
    return function  # type: ignore[no-any-return]


@router.get(
    "/people/{id_number}/timeline",
    responses={200: {"model": TimelineOut}, **responses(404, 503)},
    summary="A person's timeline: events, alerts and sponsorships",
)
def person_timeline(
    id_number: Annotated[IdNumber, Path(description="the person's ID number")],
    _: Auditor,
    container: Store,
    at: At = None,
) -> JSONResponse:
    """Events in business-time order, as recorded by `at`; 404 for an ID number never registered."""
    timeline = _audit_function("timeline", "person_timeline")
    return JSONResponse(jsonable_encoder(timeline(container, id_number, at)))


@router.get(
    "/establishments/{unified}/subscriptions",
    responses={200: {"model": SubscriptionsAtOut}, **responses(404, 503)},
    summary="An establishment's subscriptions at a point in time",
)
def subscriptions_at(
    unified: Annotated[UnifiedNumber, Path(description="the establishment's unified number")],
    _: Auditor,
    container: Store,
    at: At = None,
) -> JSONResponse:
    """The subscriptions in force at `at` (now when left out); 404 for an establishment never registered."""
    function = _audit_function("subscriptions", "subscriptions_at")
    container.establishments.defaults(unified)
    items = function(container, unified, at)
    body = {"unified_number": unified, "at": iso(at), "items": items}
    return JSONResponse(jsonable_encoder(body))
