"""`/v1/audit/…`: auditors' read-only views: stored events, a person's timeline, subscriptions at a time."""

from __future__ import annotations

from typing import Annotated, Any

from eventsourcing.utils import TopicError
from fastapi import APIRouter, Path, Query
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
from jawazat_events.domain.event_fields import own_fields
from jawazat_events.services.audit.records import event_type

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=responses(*AUTHENTICATED))

At = Annotated[
    QueryTime | None,
    Query(description="as known at this time (ISO 8601 with offset); now when left out"),
]


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
            event: Any = app.decoder.to_domain_event(notification)
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
                fields=own_fields(event),
            )
        )
    return AuditEventPage(items=items, next_after=items[-1].position if items else after)


@router.get(
    "/people/{id_number}/timeline",
    responses={200: {"model": TimelineOut}, **responses(404)},
    summary="A person's timeline: events, alerts and sponsorships",
)
def person_timeline(
    id_number: Annotated[IdNumber, Path(description="the person's ID number")],
    _: Auditor,
    container: Store,
    at: At = None,
) -> JSONResponse:
    """Events in business-time order, as recorded by `at`; 404 for an ID number never registered."""
    return JSONResponse(jsonable_encoder(container.audit.person_timeline(id_number, at)))


@router.get(
    "/establishments/{unified}/subscriptions",
    responses={200: {"model": SubscriptionsAtOut}, **responses(404)},
    summary="An establishment's subscriptions at a point in time",
)
def subscriptions_at(
    unified: Annotated[UnifiedNumber, Path(description="the establishment's unified number")],
    _: Auditor,
    container: Store,
    at: At = None,
) -> JSONResponse:
    """The subscriptions in force at `at` (now when left out); 404 for an establishment never registered."""
    container.establishments.defaults(unified)
    items = container.audit.subscriptions_at(unified, at)
    body = {"unified_number": unified, "at": iso(at), "items": items}
    return JSONResponse(jsonable_encoder(body))
