"""`/portal/`: the establishment's overview (subscriptions by type, the week's alerts, what needs action),
or the auditors' start page, or the start page another role registered in `ROLE_HOMES`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jawazat_events.domain.moments import utc_iso
from jawazat_events.domain.notification_types import NotificationType
from jawazat_events.domain.portal_user import PortalRole
from jawazat_events.portal.explain import explain
from jawazat_events.portal.web import Portal, PortalState, User, render
from jawazat_events.projections.portal_queries import (
    alerts_by_status,
    alerts_needing_action,
    count_active,
    subscriptions_by_type,
)
from jawazat_events.services.portal_users import Principal

router = APIRouter()
STATUSES = ("pending", "sent", "delivered", "retrying", "failed", "dead_letter")
# The start pages of other roles (individuals, officers: `routers/eservices_home.py`).
ROLE_HOMES: dict[PortalRole, Callable[[Request, PortalState, Principal], Response]] = {}


@router.get("/")
def dashboard(request: Request, portal: Portal, user: User) -> Response:
    if user.role is PortalRole.AUDITOR:
        return render(request, "audit_home.html", title_key="audit.title")
    if user.role in ROLE_HOMES:
        return ROLE_HOMES[user.role](request, portal, user)
    db = portal.container.read_models.db
    unified = str(user.establishment)
    by_type = subscriptions_by_type(db, unified)
    week = alerts_by_status(db, unified, since=utc_iso(portal.container.clock() - timedelta(days=7)))
    failing = alerts_needing_action(db, unified)
    return render(
        request,
        "dashboard.html",
        title_key="dashboard.title",
        by_type=[(t.value, by_type.get(t.value, 0)) for t in NotificationType],
        total=count_active(db, unified),
        week=[(status, week.get(status, 0)) for status in STATUSES if week.get(status)],
        failing=[(alert, explain(alert)) for alert in failing],
    )
