"""`/portal/` for individuals (their household, their services, their latest requests) and for officers
(the queue: pending requests of every kind, oldest first), and the e-services' menu entries by role."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jawazat_events.domain.actors import Actor
from jawazat_events.domain.portal_user import PortalRole
from jawazat_events.portal.actors import actor_of
from jawazat_events.portal.eservice_views import household, person_names
from jawazat_events.portal.navigation import NavItem, add_page
from jawazat_events.portal.routers.dashboard import ROLE_HOMES
from jawazat_events.portal.web import PageNotFound, PortalState, page_language, render
from jawazat_events.services.portal_users import Principal

router = APIRouter()  # no routes of its own: `/portal/` is the dashboard's, which hands over by role

for _path, _key, _roles in (
    ("/", "nav.my_services", (PortalRole.INDIVIDUAL,)),
    ("/", "nav.queue", (PortalRole.OFFICER,)),
    ("/travel-permits", "nav.travel_permits", (PortalRole.INDIVIDUAL, PortalRole.OFFICER)),
    ("/passport", "nav.passport", (PortalRole.INDIVIDUAL,)),
    (
        "/makkah-permits",
        "nav.makkah_permits",
        (PortalRole.INDIVIDUAL, PortalRole.ESTABLISHMENT, PortalRole.OFFICER),
    ),
    ("/tickets", "nav.tickets", (PortalRole.INDIVIDUAL, PortalRole.ESTABLISHMENT, PortalRole.OFFICER)),
):
    for _role in _roles:
        add_page(NavItem(_path, _key, _role))

KINDS = ("travel_permit", "makkah_permit", "ticket")
PATHS = {"travel_permit": "/travel-permits", "makkah_permit": "/makkah-permits", "ticket": "/tickets"}
# What waits for an officer: undecided permits, tickets nobody answered yet or being worked on, and tickets
# whose requester answered the officer's question (their status stays `needs_information`).
QUEUE = (
    ("travel_permit", "pending"),
    ("makkah_permit", "pending"),
    ("ticket", "received"),
    ("ticket", "in_progress"),
    ("ticket", "needs_information"),
)
QUEUE_SIZE = 50
LATEST = 10


def _items(
    portal: PortalState, actor: Actor, kind: str, status: str | None, limit: int
) -> list[dict[str, Any]]:
    services = portal.container.eservices
    service: Any = {
        "travel_permit": services.travel_permits,
        "makkah_permit": services.makkah_permits,
        "ticket": services.tickets,
    }[kind]
    page = service.list(actor, status=status, limit=limit, cursor=None)
    return [
        {
            **item,
            "kind": kind,
            "ref": item.get("tracking_number") or str(item.get("permit_id", ""))[:8],
            "href": f"{PATHS[kind]}/{item.get('tracking_number') or item.get('permit_id')}",
        }
        for item in page.items
    ]


def individual_home(request: Request, portal: PortalState, principal: Principal) -> Response:
    """A person's start page: who they may act for, what they can do, and their latest requests."""
    actor = actor_of(principal)
    if actor is None:
        raise PageNotFound
    language = page_language(request)
    items = [item for kind in KINDS for item in _items(portal, actor, kind, None, 100)]
    latest = sorted(items, key=lambda i: i["requested_at"], reverse=True)[:LATEST]
    return render(
        request,
        "individual_home.html",
        title_key="home.title",
        people=household(portal, actor, language),
        latest=latest,
        names=person_names(portal, [i.get("id_number", "") for i in latest], language),
    )


def _answered(portal: PortalState, actor: Actor, tracking_number: str) -> bool:
    """Whether the ticket's last message is its owner's (an answer the officers have not acted on)."""
    messages = portal.container.eservices.tickets.get(actor, tracking_number)["messages"]
    return bool(messages) and messages[-1]["by"] == "owner"


def officer_queue(request: Request, portal: PortalState, principal: Principal) -> Response:
    """The officers' start page: the oldest pending requests of every kind (or of one), oldest first."""
    actor = actor_of(principal)
    if actor is None:
        raise PageNotFound
    kind = request.query_params.get("kind")
    wanted = [(k, s) for k, s in QUEUE if kind not in KINDS or k == kind]
    items = sorted(
        (
            item
            for k, s in wanted
            for item in _items(portal, actor, k, s, QUEUE_SIZE)
            if s != "needs_information" or _answered(portal, actor, item["tracking_number"])
        ),
        key=lambda i: i["requested_at"],
    )
    return render(
        request,
        "officer_queue.html",
        title_key="queue.title",
        items=items,
        kinds=KINDS,
        kind=kind if kind in KINDS else "",
        shown=QUEUE_SIZE,
        names=person_names(portal, [i.get("id_number", "") for i in items], page_language(request)),
    )


ROLE_HOMES[PortalRole.INDIVIDUAL] = individual_home
ROLE_HOMES[PortalRole.OFFICER] = officer_queue
