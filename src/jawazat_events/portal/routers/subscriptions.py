"""`/portal/subscriptions`: search and page, add one, add many from a CSV, change, unsubscribe.

Every change goes through `EstablishmentService` (the API's and the CLI's rules), then the subscription
index is brought to the store's head, so the next page load shows it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.datastructures import UploadFile as StarletteUpload

from jawazat_events.domain.errors import DomainError, InvalidValue
from jawazat_events.domain.identifiers import parse_id_number
from jawazat_events.domain.notification_types import NotificationType
from jawazat_events.portal.bulk import UnreadableFile, read_rows, results_csv, subscribe_rows
from jawazat_events.portal.forms import Errors, field_errors
from jawazat_events.portal.messages import translate
from jawazat_events.portal.web import (
    EstablishmentUser,
    PageNotFound,
    Portal,
    page_language,
    redirect,
    render,
    url,
)
from jawazat_events.projections.portal_queries import page_subscriptions
from jawazat_events.services.portal_users import Principal

router = APIRouter()
PAGE_SIZE = 50
TYPES = [t.value for t in NotificationType]
_CURSOR = re.compile(r"\d{10}")
_DIGITS = re.compile(r"\d{1,10}")


def _cursor(value: str | None) -> str | None:
    return value if value and _CURSOR.fullmatch(value) else None


def _list_page(
    request: Request,
    portal: Portal,
    user: Principal,
    *,
    q: str = "",
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    status: int = 200,
    form: Mapping[str, object] | None = None,
    errors: Errors | None = None,
    upload_errors: Errors | None = None,
    results: list[object] | None = None,
    results_href: str | None = None,
    notice: str | None = None,
    notice_values: Mapping[str, object] | None = None,
) -> Response:
    query = q.strip()
    search_errors: Errors = {}
    if query and not _DIGITS.fullmatch(query):
        search_errors = {"q": "field.q.invalid"}
    page = page_subscriptions(
        portal.container.read_models.db,
        str(user.establishment),
        q=query if not search_errors else None,
        after=_cursor(after),
        before=_cursor(before),
        last=last,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "subscriptions.html",
        title_key="subs.title",
        status=status,
        q=query,
        page=page,
        types=TYPES,
        form=form or {"id_number": "", "notification_types": [], "mobile": "", "email": ""},
        errors=errors or {},
        search_errors=search_errors,
        upload_errors=upload_errors or {},
        results=results,
        results_href=results_href,
        upload_limit=portal.container.settings.portal_upload_max_lines,
        notice=notice,
        notice_values=notice_values or {},
    )


@router.get("/subscriptions")
def subscriptions(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    q: str = "",
    after: str | None = None,
    before: str | None = None,
    last: str | None = None,
    removed: str | None = None,
) -> Response:
    notice, values = None, {}
    if removed and _CURSOR.fullmatch(removed):
        notice, values = "sub.unsubscribed", {"id": removed}
    return _list_page(
        request,
        portal,
        user,
        q=q[:50],
        after=after,
        before=before,
        last=bool(last),
        notice=notice,
        notice_values=values,
    )


@router.post("/subscriptions")
def add_subscription(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    id_number: Annotated[str, Form(max_length=100)] = "",
    notification_types: Annotated[list[str] | None, Form()] = None,
    mobile: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    chosen = [t for t in (notification_types or []) if isinstance(t, str)][:10]
    form = {"id_number": id_number, "notification_types": chosen, "mobile": mobile, "email": email}
    errors: Errors = {}
    if not id_number.strip():
        errors["id_number"] = "field.id_number.required"
    if not chosen:
        errors["notification_types"] = "field.notification_types.required"
    if not errors:
        try:
            view = portal.container.establishments.subscribe(
                str(user.establishment),
                id_number,
                notification_types=chosen,
                mobile=mobile.strip() or None,
                email=email.strip() or None,
            )
        except DomainError as error:
            errors = field_errors(error)
        else:
            portal.api.catch_up_index()
            return redirect(request, url(f"/subscriptions/{view.id_number}", done="added"))
    return _list_page(request, portal, user, status=422, form=form, errors=errors)


@router.post("/subscriptions/upload")
def upload(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if not isinstance(file, StarletteUpload) or not file.filename:
        return _list_page(request, portal, user, status=422, upload_errors={"file": "field.file.required"})
    limit = portal.container.settings.portal_upload_max_lines
    try:
        rows = read_rows(file.file.read(), max_lines=limit)
    except UnreadableFile as error:
        return _list_page(request, portal, user, status=422, upload_errors={"file": error.key})
    results = subscribe_rows(portal.container.establishments, str(user.establishment), rows)
    portal.api.catch_up_index()
    language = page_language(request)
    text = results_csv(results, lambda key: str(translate(key, language)))
    href = "data:text/csv;charset=utf-8;base64," + base64.b64encode(("\ufeff" + text).encode()).decode()
    return _list_page(request, portal, user, results=list(results), results_href=href)


def _number(id_number: str) -> str:
    try:
        return parse_id_number(id_number)
    except InvalidValue:
        raise PageNotFound from None


def _detail(
    request: Request,
    portal: Portal,
    user: Principal,
    id_number: str,
    *,
    status: int = 200,
    errors: Errors | None = None,
    form: Mapping[str, object] | None = None,
    done: str | None = None,
) -> Response:
    try:
        view = portal.container.establishments.get(str(user.establishment), _number(id_number))
    except DomainError:
        raise PageNotFound from None
    notices = {"added": "subs.added", "changed": "sub.changed"}
    return render(
        request,
        "subscription.html",
        title_key="sub.title",
        title_values={"id": view.id_number},
        status=status,
        sub=view,
        types=TYPES,
        errors=errors or {},
        form=form or {"notification_types": view.notification_types, "mobile": "", "email": ""},
        notice=notices.get(done or ""),
    )


@router.get("/subscriptions/{id_number}")
def subscription(
    request: Request, portal: Portal, user: EstablishmentUser, id_number: str, done: str | None = None
) -> Response:
    return _detail(request, portal, user, id_number, done=done)


@router.post("/subscriptions/{id_number}")
def change_subscription(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    id_number: str,
    notification_types: Annotated[list[str] | None, Form()] = None,
    mobile: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    number = _number(id_number)
    chosen = [t for t in (notification_types or []) if isinstance(t, str)][:10]
    form = {"notification_types": chosen, "mobile": mobile, "email": email}
    if not chosen:
        errors: Errors = {"notification_types": "field.notification_types.required"}
        return _detail(request, portal, user, number, status=422, errors=errors, form=form)
    try:
        portal.container.establishments.change(
            str(user.establishment),
            number,
            notification_types=chosen,
            mobile=mobile.strip() or None,
            email=email.strip() or None,
        )
    except DomainError as error:
        problems = field_errors(error)
        if "id_number" in problems:  # the subscription is gone (another tab, another user)
            raise PageNotFound from None
        return _detail(request, portal, user, number, status=422, errors=problems, form=form)
    portal.api.catch_up_index()
    return redirect(request, url(f"/subscriptions/{number}", done="changed"))


@router.get("/subscriptions/{id_number}/unsubscribe")
def confirm_unsubscribe(
    request: Request, portal: Portal, user: EstablishmentUser, id_number: str
) -> Response:
    try:
        view = portal.container.establishments.get(str(user.establishment), _number(id_number))
    except DomainError:
        raise PageNotFound from None
    return render(
        request,
        "unsubscribe.html",
        title_key="sub.confirm_title",
        sub=view,
    )


@router.post("/subscriptions/{id_number}/unsubscribe")
def unsubscribe(request: Request, portal: Portal, user: EstablishmentUser, id_number: str) -> Response:
    number = _number(id_number)
    try:
        portal.container.establishments.unsubscribe(str(user.establishment), number)
    except DomainError:
        raise PageNotFound from None
    portal.api.catch_up_index()
    return redirect(request, url("/subscriptions", removed=number))
