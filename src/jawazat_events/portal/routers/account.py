"""The establishment's own settings: `/portal/contacts` (defaults and language; the channels: webhook,
quiet hours, urgent types, digest), `/portal/keys` (the API key: create, rotate, revoke), `/portal/users`
(who may sign in for the establishment)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from jawazat_events.domain.errors import DomainError
from jawazat_events.domain.portal_user import UnknownPortalUser
from jawazat_events.portal.channel_form import DIGEST_CHOICES, URGENT_CHOICES, DeliveryForm, channel_errors
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
    webhook_form: dict[str, Any] | None = None,
    delivery_form: DeliveryForm | None = None,
    notice: str | None = None,
    secret: str | None = None,
    secret_until: datetime | None = None,
) -> Response:
    unified = str(user.establishment)
    defaults = portal.container.establishments.defaults(unified)
    channels = portal.container.channel_service.view(unified)
    return render(
        request,
        "contacts.html",
        title_key="contacts.title",
        status=status,
        defaults=defaults,
        channels=channels,
        errors=errors or {},
        form=form or {"mobile": "", "email": "", "language": defaults["language"] or "ar"},
        webhook_form=webhook_form
        or {"webhook_url": channels["webhook_url"] or "", "full_id": channels["webhook_full_id_number"]},
        delivery_form=delivery_form or DeliveryForm.of(channels),
        urgent_choices=URGENT_CHOICES,
        digest_choices=DIGEST_CHOICES,
        zone=portal.container.settings.timezone,
        notice=notice,
        secret=secret,
        secret_until=secret_until,
    )


_DONE = {
    "saved": "contacts.saved",
    "webhook": "contacts.webhook_saved",
    "webhook_removed": "contacts.webhook_removed",
    "delivery": "contacts.delivery_saved",
}


@router.get("/contacts")
def contacts(request: Request, portal: Portal, user: EstablishmentUser, done: str | None = None) -> Response:
    return _contacts_page(request, portal, user, notice=_DONE.get(done or ""))


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


def _save_channels(portal: Portal, user: Principal, **fields: Any) -> str | None:
    """Check the fields and save them with the establishment (as `PUT /v1/contacts` does); the webhook
    secret when this change made the establishment's first one (shown once), else None."""
    change = portal.container.channel_service.prepare(**fields)
    portal.container.establishments.update_defaults(str(user.establishment), channels=change)
    portal.api.catch_up_index()
    return change.new_secret


@router.post("/contacts/webhook")
def save_webhook(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    webhook_url: Annotated[str, Form(max_length=4096)] = "",
    full_id: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    form = {"webhook_url": webhook_url, "full_id": bool(full_id)}
    if not webhook_url.strip():
        errors = {"webhook_url": "field.webhook_url.required"}
        return _contacts_page(request, portal, user, status=422, errors=errors, webhook_form=form)
    try:
        secret = _save_channels(
            portal, user, webhook_url=webhook_url.strip(), webhook_full_id_number=bool(full_id)
        )
    except DomainError as error:
        errors = channel_errors(error)
        return _contacts_page(request, portal, user, status=422, errors=errors, webhook_form=form)
    if secret is not None:  # shown on this answer only: the store keeps it sealed
        return _contacts_page(request, portal, user, notice="contacts.webhook_saved", secret=secret)
    return redirect(request, url("/contacts", done="webhook"))


@router.post("/contacts/webhook/remove")
def remove_webhook(request: Request, portal: Portal, user: EstablishmentUser) -> Response:
    _save_channels(portal, user, webhook_url=None)
    return redirect(request, url("/contacts", done="webhook_removed"))


@router.post("/contacts/webhook-secret")
def rotate_webhook_secret(request: Request, portal: Portal, user: EstablishmentUser) -> Response:
    """A new signing secret, shown on this answer only; the old one signs beside it for a while."""
    try:
        secret, until = portal.container.channel_service.rotate_secret(str(user.establishment))
    except DomainError as error:
        return _contacts_page(request, portal, user, status=422, errors=channel_errors(error))
    return _contacts_page(request, portal, user, secret=secret, secret_until=until)


@router.post("/contacts/delivery")
def save_delivery(
    request: Request,
    portal: Portal,
    user: EstablishmentUser,
    quiet: Annotated[str, Form(max_length=10)] = "",
    quiet_start: Annotated[str, Form(max_length=10)] = "",
    quiet_end: Annotated[str, Form(max_length=10)] = "",
    urgent_types: Annotated[list[str] | None, Form()] = None,
    digest_types: Annotated[list[str] | None, Form()] = None,
) -> Response:
    form = DeliveryForm(
        quiet=bool(quiet),
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        urgent_types=[kind for kind in (urgent_types or []) if isinstance(kind, str)][:16],
        digest_types=[kind for kind in (digest_types or []) if isinstance(kind, str)][:16],
    )
    try:
        _save_channels(
            portal,
            user,
            quiet_hours=form.quiet_hours(),
            urgent_types=form.urgent_types,
            digest_types=form.digest_types,
        )
    except DomainError as error:
        errors = channel_errors(error)
        return _contacts_page(request, portal, user, status=422, errors=errors, delivery_form=form)
    return redirect(request, url("/contacts", done="delivery"))


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
