"""Auditors' pages under `/portal/audit/`: a person's timeline as of a time, an establishment's
subscriptions at a time, and the record's integrity (the hash chain's verification and latest link).

They read what the auditors' API reads (`jawazat_events.audit`); nothing here changes the store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jawazat_events.audit.chain import verify
from jawazat_events.audit.head import latest_link
from jawazat_events.domain.errors import DomainError, InvalidValue
from jawazat_events.domain.identifiers import parse_id_number, parse_unified_number
from jawazat_events.domain.plausible import check_query_time
from jawazat_events.portal.explain import explain
from jawazat_events.portal.forms import Errors
from jawazat_events.portal.web import AuditorUser, PageNotFound, Portal, redirect, render, url
from jawazat_events.store import recorder_of

router = APIRouter(prefix="/audit")
SHOWN = 500


def _at(value: str, errors: Errors) -> datetime | None:
    """The "as of" time, inside the query window (`domain.plausible`; a time without offset is checked as
    if UTC, it is read in the business time zone later), else None with the field's error."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        check_query_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    except ValueError:  # InvalidValue is one
        errors["at"] = "field.at.invalid"
        return None
    return moment


@router.get("")
@router.get("/")
def audit_home(request: Request, user: AuditorUser) -> Response:
    return redirect(request, url("/"))


@router.get("/people")
def people(request: Request, user: AuditorUser, id_number: str = "", at: str = "") -> Response:
    errors: Errors = {}
    if id_number:
        try:
            number = parse_id_number(id_number)
        except InvalidValue:
            errors["id_number"] = "field.id_number.digits"
        else:
            return redirect(request, url(f"/audit/people/{number}", at=at.strip()[:40]))
    return render(
        request,
        "audit_people.html",
        title_key="audit.person_title",
        status=422 if errors else 200,
        errors=errors,
        form={"id_number": id_number[:40], "at": at[:40]},
    )


def _fields(event: dict[str, Any]) -> list[tuple[str, Any]]:
    hidden = {"event_id", "type", "occurred_at", "recorded_at", "id_number"}
    return [(key, value) for key, value in event.items() if key not in hidden]


@router.get("/people/{id_number}")
def timeline(request: Request, portal: Portal, user: AuditorUser, id_number: str, at: str = "") -> Response:
    try:
        number = parse_id_number(id_number)
    except InvalidValue:
        raise PageNotFound from None
    errors: Errors = {}
    moment = _at(at[:40], errors)
    try:
        found = portal.container.audit.person_timeline(number, moment)
    except DomainError:
        raise PageNotFound from None
    return render(
        request,
        "audit_timeline.html",
        title_key="audit.timeline_title",
        title_values={"id": number},
        status=422 if errors else 200,
        number=number,
        timeline=found,
        events=[(event, _fields(event)) for event in found["events"]],
        alerts=[(alert, explain(alert)) for alert in found["alerts"]],
        errors=errors,
        at=at[:40],
    )


@router.get("/establishments")
def establishment_subscriptions(
    request: Request, portal: Portal, user: AuditorUser, unified: str = "", at: str = ""
) -> Response:
    errors: Errors = {}
    items: list[dict[str, Any]] | None = None
    moment = _at(at[:40], errors)
    if unified:
        try:
            number = parse_unified_number(unified, field="unified_number")
            portal.container.establishments.defaults(number)
        except InvalidValue:
            errors["unified"] = "field.unified.invalid"
        except DomainError:
            errors["unified"] = "field.unified.unknown"
        else:
            if not errors:
                items = portal.container.audit.subscriptions_at(number, moment)
    return render(
        request,
        "audit_establishments.html",
        title_key="audit.est_title",
        status=422 if errors else 200,
        errors=errors,
        form={"unified": unified[:40], "at": at[:40]},
        items=items[:SHOWN] if items is not None else None,
        count=len(items) if items is not None else 0,
        shown=SHOWN,
    )


@router.get("/integrity")
def integrity(request: Request, portal: Portal, user: AuditorUser, verify_now: str = "") -> Response:
    recorder = recorder_of(portal.container.app)
    report = verify(recorder) if verify_now else None
    return render(
        request,
        "audit_integrity.html",
        title_key="audit.integrity_title",
        latest=latest_link(recorder),
        report=report,
    )
