"""The establishment's own settings: `/portal/contacts` (defaults and language), `/portal/keys` (the API
key: create, rotate, revoke), `/portal/users` (who may sign in for the establishment)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from jawazat_events.domain.errors import DomainError
from jawazat_events.domain.portal_user import UnknownPortalUser
from jawazat_events.portal.forms import Errors, field_errors
from jawazat_events.portal.web import EstablishmentUser, PageNotFound, Portal, redirect, render, url
from jawazat_events.services.portal_users import Principal

router = APIRouter()


# --- contacts ------------------------------------------------------------------------------------------


def _contacts_page(
    request: Request,
    portal: Portal,
    user: Principal,
    *,
    status: int = 200,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    defaults = portal.container.establishments.defaults(str(user.establishment))
    return render(
        request,
        "contacts.html",
        title_key="contacts.title",
        status=status,
        defaults=defaults,
        errors=errors or {},
        form=form or {"mobile": "", "email": "", "language": defaults["language"] or "ar"},
        notice=notice,
    )


@router.get("/contacts")
def contacts(request: Request, portal: Portal, user: EstablishmentUser, done: str | None = None) -> Response:
    return _contacts_page(request, portal, user, notice="contacts.saved" if done == "saved" else None)


@router.post("/contacts")
def save_contacts(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    mobile: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    language: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    form = {"mobile": mobile, "email": email, "language": language}
    try:
        portal.container.establishments.update_defaults(
            str(user.establishment),
            mobile=mobile.strip() or None,
            email=email.strip() or None,
            language=language or None,
        )
    except DomainError as error:
        return _contacts_page(request, portal, user, status=422, errors=field_errors(error), form=form)
    portal.api.catch_up_index()
    return redirect(request, url("/contacts", done="saved"))


# --- API key -------------------------------------------------------------------------------------------


def _keys_page(request: Request, portal: Portal, user: Principal, **context: Any) -> Response:
    active = portal.container.establishments.has_api_key(str(user.establishment))
    return render(request, "keys.html", title_key="keys.title", active=active, **context)


@router.get("/keys")
def keys(request: Request, portal: Portal, user: EstablishmentUser) -> Response:
    return _keys_page(request, portal, user, new_key=None, notice=None)


@router.post("/keys/rotate")
def rotate(request: Request, portal: Portal, user: EstablishmentUser) -> Response:
    """A new key, shown on this answer only (only its hash is stored); the old one stops working."""
    key = portal.container.establishments.rotate_api_key(str(user.establishment))
    return _keys_page(request, portal, user, new_key=key, notice=None)


@router.post("/keys/revoke")
def revoke(request: Request, portal: Portal, user: EstablishmentUser) -> Response:
    portal.container.establishments.revoke_api_key(str(user.establishment))
    return _keys_page(request, portal, user, new_key=None, notice="keys.revoked")


# --- portal users --------------------------------------------------------------------------------------


def _users_page(
    request: Request,
    portal: Portal,
    user: Principal,
    *,
    status: int = 200,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
    notice_values: dict[str, object] | None = None,
) -> Response:
    return render(
        request,
        "users.html",
        title_key="users.title",
        status=status,
        users=portal.container.portal_users.list_users(user.establishment),
        errors=errors or {},
        form=form or {"name": "", "email": "", "mobile": ""},
        notice=notice,
        notice_values=notice_values or {},
    )


@router.get("/users")
def users(
    request: Request, portal: Portal, user: EstablishmentUser, added: str = "", removed: str = ""
) -> Response:
    if added:
        return _users_page(request, portal, user, notice="users.added", notice_values={"login": added[:320]})
    if removed:
        return _users_page(
            request, portal, user, notice="users.removed", notice_values={"login": removed[:320]}
        )
    return _users_page(request, portal, user)


@router.post("/users")
def add_user(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    name: Annotated[str, Form(max_length=400)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    mobile: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    form = {"name": name, "email": email, "mobile": mobile}
    if not email.strip():
        return _users_page(
            request, portal, user, status=422, errors={"email": "field.email.invalid"}, form=form
        )
    try:
        added = portal.container.portal_users.add_user(
            unified_number=user.establishment,
            email=email.strip(),
            mobile=mobile.strip() or None,
            name=name,
        )
    except DomainError as error:
        return _users_page(request, portal, user, status=422, errors=field_errors(error), form=form)
    return redirect(request, url("/users", added=added.login))


@router.post("/users/remove")
def remove_user(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    login: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    try:
        removed = portal.container.portal_users.remove_user(login, unified_number=user.establishment)
    except (UnknownPortalUser, DomainError):
        raise PageNotFound from None
    return redirect(request, url("/users", removed=removed))
