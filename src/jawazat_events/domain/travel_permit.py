"""The TravelPermit aggregate: a guardian's permit for an unmarried dependant under 21 to travel.

Eligibility is a fact at the request's date (the record as it stood then): single, and under 21 on that
day. The validity window is bounded: it starts no earlier than the request's day and no later than a year
ahead, and lasts at most `max_days`. Officers approve or reject (a reason is required to reject); the
guardian may cancel while the permit is pending or approved.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from jawazat_events.domain.person import PersonDetails
from jawazat_events.domain.requests import (
    ACTIVE_PERMIT,
    Contacts,
    NotEligible,
    OfficerStep,
    PermitAggregate,
    PermitStatus,
    Requester,
    RequestEvent,
    request_fields,
)

ADULT_AGE = 21
MAX_DAYS_AHEAD = 365
DEFAULT_MAX_DAYS = 365


def check_travel_eligibility(details: PersonDetails, day: date) -> None:
    """Single and under 21 on `day`, by the record as it stood then."""
    age = details.age_on(day)
    if age is None:
        raise NotEligible("id_number", "under_21", "the person's birth date is not on record")
    if age >= ADULT_AGE:
        raise NotEligible(
            "id_number", "under_21", f"the person is {age} on {day} (born {details.birth_date}): 21 or older"
        )
    if details.marital_status is None:
        raise NotEligible("id_number", "single", "the person's marital status is not on record")
    if details.marital_status != "single":
        raise NotEligible(
            "id_number", "single", f"the person is {details.marital_status} on {day}, not single"
        )


def check_travel_window(valid_from: date, valid_until: date, *, today: date, max_days: int) -> None:
    """A sensible validity window: not in the past, not too far ahead, in order, not too long."""
    if valid_from < today:
        raise NotEligible(
            "valid_from", "window_not_past", f"valid_from {valid_from} is before today ({today})"
        )
    if valid_from > today + timedelta(days=MAX_DAYS_AHEAD):
        raise NotEligible(
            "valid_from",
            "window_start",
            f"valid_from {valid_from} is more than {MAX_DAYS_AHEAD} days ahead of today ({today})",
        )
    if valid_until < valid_from:
        raise NotEligible(
            "valid_until", "window_order", f"valid_until {valid_until} is before valid_from {valid_from}"
        )
    days = (valid_until - valid_from).days + 1
    if days > max_days:
        raise NotEligible(
            "valid_until",
            "window_length",
            f"the permit would last {days} days; at most {max_days} are allowed",
        )


class TravelPermit(PermitAggregate):
    """One travel permit for one person, requested by their guardian."""

    kind = "travel_permit"

    @staticmethod
    def create_id(permit_id: str, **_: Any) -> UUID:
        return UUID(permit_id)

    class Requested(PermitAggregate.Created, RequestEvent):
        contract_type = "travel_permit_requested"
        permit_id: str
        valid_from: date
        valid_until: date

    @event(Requested)
    def __init__(
        self,
        *,
        permit_id: str,
        event_id: str,
        request_id: str,
        id_number: str,
        occurred_at: datetime,
        status: str,
        requester_kind: str,
        requester: str,
        notify_mobile: str | None,
        notify_email: str | None,
        language: str,
        valid_from: date,
        valid_until: date,
    ) -> None:
        self.permit_id = permit_id
        self.request_id = request_id
        self.id_number = id_number
        self.requester = Requester(requester_kind, requester)
        self.status = status
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.requested_at = occurred_at
        self.reason = ""

    @classmethod
    def request(
        cls,
        *,
        permit_id: str,
        id_number: str,
        requester: Requester,
        at: datetime,
        notify: Contacts,
        valid_from: date,
        valid_until: date,
    ) -> TravelPermit:
        """A new pending permit (eligibility and the window are checked by the caller's rules above)."""
        return cls(
            permit_id=permit_id,
            valid_from=valid_from,
            valid_until=valid_until,
            **request_fields(
                kind=cls.kind,
                aggregate_id=UUID(permit_id),
                request_id=permit_id,
                version=1,
                id_number=id_number,
                requester=requester,
                at=at,
                status=PermitStatus.PENDING.value,
                notify=notify,
            ),
        )

    class Decided(OfficerStep):
        contract_type = "travel_permit_decided"

    class Cancelled(RequestEvent):
        contract_type = "travel_permit_cancelled"

        def apply(self, aggregate: Any) -> None:
            aggregate.status = self.status

    def cancel(self, *, at: datetime, notify: Contacts) -> None:
        """The guardian cancels the permit while it is pending or approved."""
        self.require_status(ACTIVE_PERMIT, "cancelled")
        self.trigger_event(
            self.Cancelled, **self.next_fields(at=at, status=PermitStatus.CANCELLED, notify=notify)
        )
