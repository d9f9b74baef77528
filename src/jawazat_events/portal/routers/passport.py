"""`/portal/passport`: an individual enters a renewed passport, their own or a dependant's, through
`PassportService` (the feed's renewal rules; the sponsoring establishment's alerts follow as usual)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from jawazat_events.domain.actors import Actor
from jawazat_events.domain.errors import DomainError
from jawazat_events.portal.actors import IndividualActor
from jawazat_events.portal.eservice_forms import form_claim, new_request_key, parse_day, refusal
from jawazat_events.portal.eservice_views import household
from jawazat_events.portal.forms import Errors
from jawazat_events.portal.web import Portal, page_language, redirect, render, url

router = APIRouter()

FIELDS = ("id_number", "passport_number", "issue_date", "expiry_date")
NOT_ALLOWED = ("id_number", "field.id_number.not_actable")


def _page(
    request: Request,
    portal: Portal,
    actor: Actor,
    *,
    code: int = 200,
    form: dict[str, str] | None = None,
    errors: Errors | None = None,
    saved: dict[str, str] | None = None,
) -> Response:
    language = page_language(request)
    people = household(portal, actor, language)
    directory = portal.container.person_directory
    passports: dict[str, tuple[str, date]] = {}
    for choice in people:
        record = directory.person(choice["id_number"])
        if record is not None:
            passports[choice["id_number"]] = (record.passport_number, record.passport_expiry_date)
    if saved and passports.get(saved["id_number"], ("",))[0] != saved["passport_number"]:
        saved = None  # a notice only for what the record now holds
    return render(
        request,
        "passport.html",
        title_key="passport.title",
        status=code,
        people=people,
        passports=passports,
        form=form or {name: "" for name in FIELDS},
        errors=errors or {},
        saved=saved,
        request_key=new_request_key(),
    )


@router.get("/passport")
def passport(
    request: Request, portal: Portal, actor: IndividualActor, id_number: str = "", number: str = ""
) -> Response:
    saved = {"id_number": id_number[:10], "passport_number": number[:40]} if id_number and number else None
    return _page(request, portal, actor, saved=saved)


@router.post("/passport")
def renew(
    request: Request,
    portal: Portal,
    actor: IndividualActor,
    id_number: Annotated[str, Form(max_length=100)] = "",
    passport_number: Annotated[str, Form(max_length=200)] = "",
    issue_date: Annotated[str, Form(max_length=100)] = "",
    expiry_date: Annotated[str, Form(max_length=100)] = "",
    request_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    form = {
        "id_number": id_number,
        "passport_number": passport_number,
        "issue_date": issue_date,
        "expiry_date": expiry_date,
    }
    errors: Errors = {}
    if not id_number.strip():
        errors["id_number"] = "field.id_number.required"
    if not passport_number.strip():
        errors["passport_number"] = "field.passport_number.required"
    issued = parse_day(issue_date, "issue_date", errors)
    expires = parse_day(expiry_date, "expiry_date", errors)
    if errors or issued is None or expires is None:
        return _page(request, portal, actor, code=422, form=form, errors=errors)
    body = {
        "id_number": id_number.strip(),
        "passport_number": passport_number.strip(),
        "issue_date": issued.isoformat(),
        "expiry_date": expires.isoformat(),
    }
    try:
        answer = portal.container.eservices.passports.renew(
            actor,
            id_number.strip(),
            passport_number=passport_number.strip(),
            issue_date=issued,
            expiry_date=expires,
            claim=form_claim(actor, request_key, "POST /passport", body),
        )
    except DomainError as error:
        code, errors = refusal(error, not_found=NOT_ALLOWED)
        return _page(request, portal, actor, code=code, form=form, errors=errors)
    return redirect(
        request, url("/passport", id_number=answer["id_number"], number=answer["passport_number"])
    )
