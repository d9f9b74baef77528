"""`/portal/alerts`: the establishment's alerts, newest first, filterable, printable, exportable as CSV."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from jawazat_events.domain.moments import utc_iso
from jawazat_events.domain.notification_types import NotificationType
from jawazat_events.portal.bulk import write_csv
from jawazat_events.portal.explain import explain
from jawazat_events.portal.forms import Errors
from jawazat_events.portal.messages import translate
from jawazat_events.portal.web import EstablishmentUser, Portal, finish, page_language, render
from jawazat_events.projections.portal_queries import AlertFilter, iter_alerts, page_alerts

router = APIRouter()
PAGE_SIZE = 50
STATUSES = ("pending", "sent", "delivered", "retrying", "failed", "dead_letter")
TYPES = [t.value for t in NotificationType]
_ID = re.compile(r"\d{10}")
_CURSOR = re.compile(r"(\d{4}-\d\d-\d\dT[\d:.]+\+00:00)\|([0-9a-f-]{36})")


def _filters(
    request: Request, *, status: str, id_number: str, type_: str, since: str, until: str
) -> tuple[AlertFilter, Errors]:
    errors: Errors = {}
    zone = request.app.state.portal.container.settings.zone

    def day(value: str, field: str) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            errors[field] = "field.date.invalid"
            return None

    start, end = day(since, "since"), day(until, "until")
    if id_number and not _ID.fullmatch(id_number):
        errors["id_number"] = "field.id_number.digits"
    return (
        AlertFilter(
            status=status if status in STATUSES else None,
            id_number=id_number if "id_number" not in errors and id_number else None,
            notification_type=type_ if type_ in TYPES else None,
            since=utc_iso(datetime.combine(start, time(), zone)) if start else None,
            until=utc_iso(datetime.combine(end + timedelta(days=1), time(), zone)) if end else None,
        ),
        errors,
    )


@router.get("/alerts")
def alerts(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    status: str = "",
    id_number: str = "",
    type: str = "",
    since: str = "",
    until: str = "",
    before: str = "",
) -> Response:
    filters, errors = _filters(
        request, status=status, id_number=id_number.strip(), type_=type, since=since, until=until
    )
    found = _CURSOR.fullmatch(before)
    cursor = (found.group(1), found.group(2)) if found else None
    items, more = page_alerts(
        portal.container.read_models.db, str(user.establishment), filters, before=cursor, limit=PAGE_SIZE
    )
    query = {"status": status, "id_number": id_number, "type": type, "since": since, "until": until}
    return render(
        request,
        "alerts.html",
        title_key="alerts.title",
        status=200 if not errors else 422,
        items=[(alert, explain(alert)) for alert in items],
        more=more,
        older=f"{items[-1]['created_at']}|{items[-1]['alert_id']}" if more and items else None,
        paged=cursor is not None,
        query=query,
        statuses=STATUSES,
        types=TYPES,
        errors=errors,
    )


@router.get("/alerts.csv")
def export(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    status: str = "",
    id_number: str = "",
    type: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    filters, _ = _filters(
        request, status=status, id_number=id_number.strip(), type_=type, since=since, until=until
    )
    language = page_language(request)
    header = ["created_at", "event_type", "notification_type", "id_number", "channel", "recipient", "status"]
    header += ["attempts", "last_detail", "what_to_do"]

    def lines() -> Iterator[str]:
        yield "\ufeff" + write_csv(header, [])
        for alert in iter_alerts(portal.container.read_models.db, str(user.establishment), filters):
            attempts = alert["attempts"]
            row = [
                alert["created_at"],
                alert["event_type"],
                alert["notification_type"],
                alert["id_number"],
                alert["channel"],
                alert["recipient"],
                alert["status"],
                len(attempts),
                attempts[-1]["detail"] if attempts else "",
                str(translate(explain(alert).next_step, language)),
            ]
            yield write_csv([], [row]).split("\r\n", 1)[1]

    response = StreamingResponse(lines(), media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="alerts.csv"'
    return finish(request, response)
