"""`/v1/subscriptions`: an establishment's subscriptions to the ID numbers it sponsors."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import AfterValidator, StringConstraints

from jawazat_events.api.deps import CurrentEstablishment, State
from jawazat_events.api.errors import AUTHENTICATED, responses
from jawazat_events.api.schemas import (
    IdNumber,
    SubscriptionChange,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionPage,
)
from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.identifiers import parse_id_number
from jawazat_events.projections.queries import list_subscriptions
from jawazat_events.services.establishments import SubscriptionView

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"], responses=responses(*AUTHENTICATED))

_CURSOR_PREFIX = "s1:"


def encode_cursor(id_number: str) -> str:
    """An opaque cursor: the last ID number of a page."""
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + id_number).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The ID number a cursor stands for, or raise."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(_CURSOR_PREFIX):
        raise InvalidValue("cursor is not one this API gave out: pass next_cursor from the previous page")
    try:
        return parse_id_number(text.removeprefix(_CURSOR_PREFIX))
    except InvalidValue:
        raise InvalidValue(
            "cursor is not one this API gave out: pass next_cursor from the previous page"
        ) from None


Cursor = Annotated[str, StringConstraints(max_length=200), AfterValidator(decode_cursor)]
IdNumberPath = Annotated[IdNumber, Path(description="the person's ID number")]


def _out(view: SubscriptionView) -> SubscriptionOut:
    return SubscriptionOut.model_validate(
        view.as_dict() | {"webhook_url": view.webhook_url, "webhook_secret": view.webhook_secret}
    )


@router.post(
    "",
    status_code=201,
    response_model=SubscriptionOut,
    responses=responses(404, 409, 413),
    summary="Subscribe to an ID number the establishment sponsors",
)
def create_subscription(
    body: SubscriptionCreate, establishment: CurrentEstablishment, state: State, response: Response
) -> SubscriptionOut:
    """Without `mobile` and `email`, the establishment's default contacts are used (422 if it has none).
    An unknown ID number and one sponsored by another establishment get the same 404."""
    view = state.container.establishments.subscribe(
        establishment,
        body.id_number,
        notification_types=body.notification_types,
        mobile=body.mobile,
        email=body.email,
        webhook_url=body.webhook_url,
    )
    state.catch_up_index()
    response.headers["Location"] = f"/v1/subscriptions/{view.id_number}"
    return _out(view)


@router.get("", response_model=SubscriptionPage, summary="The establishment's active subscriptions")
def list_active(
    establishment: CurrentEstablishment,
    state: State,
    limit: Annotated[int, Query(ge=1, le=1000, description="page size")] = 100,
    cursor: Annotated[Cursor | None, Query(description="`next_cursor` of the previous page")] = None,
) -> SubscriptionPage:
    """Ordered by ID number; `next_cursor` is null on the last page."""
    rows = list_subscriptions(state.container.read_models.db, establishment, limit=limit + 1, after=cursor)
    more = len(rows) > limit
    items = [SubscriptionOut.model_validate(row) for row in rows[:limit]]
    return SubscriptionPage(items=items, next_cursor=encode_cursor(items[-1].id_number) if more else None)


@router.get(
    "/{id_number}",
    response_model=SubscriptionOut,
    responses=responses(404),
    summary="One active subscription",
)
def read_subscription(
    id_number: IdNumberPath, establishment: CurrentEstablishment, state: State
) -> SubscriptionOut:
    return _out(state.container.establishments.get(establishment, id_number))


@router.patch(
    "/{id_number}",
    response_model=SubscriptionOut,
    responses=responses(404, 413),
    summary="Change a subscription's types and/or contacts",
)
def change_subscription(
    id_number: IdNumberPath, body: SubscriptionChange, establishment: CurrentEstablishment, state: State
) -> SubscriptionOut:
    """Fields left out (or null) keep their value; the change covers events recorded after it."""
    view = state.container.establishments.change(
        establishment,
        id_number,
        notification_types=body.notification_types,
        mobile=body.mobile,
        email=body.email,
        webhook_url=body.webhook_url,
    )
    state.catch_up_index()
    return _out(view)


@router.delete(
    "/{id_number}",
    status_code=204,
    response_class=Response,
    responses=responses(404),
    summary="Cancel a subscription",
)
def delete_subscription(
    id_number: IdNumberPath, establishment: CurrentEstablishment, state: State
) -> Response:
    """Events recorded after the cancellation no longer alert the establishment."""
    state.container.establishments.unsubscribe(establishment, id_number)
    state.catch_up_index()
    return Response(status_code=204)
