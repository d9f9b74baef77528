"""The Person aggregate: one per ID number, holding everything source systems and the engine say about it."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from jawazat_events.domain.errors import (
    InvalidValue,
    PassportExpiresBeforeIssue,
    PassportNotYetIssued,
    PassportNumberRepeated,
    PassportRuleViolation,
    SponsorUnchanged,
)
from jawazat_events.domain.identifiers import person_id


@dataclass(frozen=True, slots=True)
class Visa:
    """A visa as the person's record knows it."""

    visa_number: str
    visa_type: str | None
    status: str
    valid_from: date | None
    valid_until: date | None


# The person's own facts the e-services rely on (docs/eservices.md, "People as users"); each may be
# absent (older feeds) and each may change later by `person_details_changed`.
DETAIL_FIELDS = ("birth_date", "marital_status", "guardian", "mobile", "email", "category")
# Fields a `person_details_changed` may clear (explicit null); the others can only be corrected.
CLEARABLE_DETAILS = ("guardian", "mobile", "email")


@dataclass(frozen=True, slots=True)
class PersonDetails:
    """The person's details as the record stood at some moment: facts at a date, not only now."""

    birth_date: date | None = None
    marital_status: str | None = None
    guardian: str | None = None
    mobile: str | None = None
    email: str | None = None
    category: str | None = None

    def age_on(self, day: date) -> int | None:
        """Whole years of age on `day` (a birthday counts from its own day), None without a birth date."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def changed(self, given: Mapping[str, Any], cleared: tuple[str, ...] = ()) -> PersonDetails:
        """These details with the given fields replaced and the cleared ones emptied."""
        updates: dict[str, Any] = {k: v for k, v in given.items() if k in DETAIL_FIELDS and v is not None}
        updates.update({k: None for k in cleared if k in CLEARABLE_DETAILS})
        return replace(self, **updates)


def check_passport_dates(issue_date: date, expiry_date: date) -> None:
    """A passport must expire after the day it was issued."""
    if expiry_date <= issue_date:
        raise PassportExpiresBeforeIssue(f"expiry_date {expiry_date} is not after issue_date {issue_date}")


class PersonEvent(Aggregate.Event):
    """Base of every person event: who, the source's id, the business time and the sponsor then."""

    contract_type: ClassVar[str] = ""
    id_number: str
    event_id: str
    occurred_at: datetime
    sponsor: str


class Person(Aggregate):
    """A resident, visitor or citizen known by ID number, with passport, visas, sponsor and crossings.

    Each command is two halves: `decide_…` holds the rules and returns the event's fields (or raises the
    domain's error), and the `@event` method applies them. Ingest's bulk path takes the decision and makes
    the event itself (`services/event_rows.py`); every other writer calls the command.
    """

    @staticmethod
    def create_id(id_number: str, **_: Any) -> UUID:
        return person_id(id_number)

    class Registered(Aggregate.Created, PersonEvent):
        contract_type = "person_registered"
        id_number: str
        name_ar: str
        name_en: str
        nationality: str
        passport_number: str
        passport_issue_date: date
        passport_expiry_date: date
        birth_date: date | None
        marital_status: str | None
        guardian: str | None
        mobile: str | None
        email: str | None
        category: str | None

    @event(Registered)
    def __init__(
        self,
        *,
        id_number: str,
        event_id: str,
        occurred_at: datetime,
        sponsor: str,
        name_ar: str,
        name_en: str,
        nationality: str,
        passport_number: str,
        passport_issue_date: date,
        passport_expiry_date: date,
        # Registrations recorded before the e-services carry none of these: they default to unknown.
        birth_date: date | None = None,
        marital_status: str | None = None,
        guardian: str | None = None,
        mobile: str | None = None,
        email: str | None = None,
        category: str | None = None,
    ) -> None:
        self.id_number = id_number
        self.name_ar = name_ar
        self.name_en = name_en
        self.nationality = nationality
        self.passport_number = passport_number
        self.passport_issue_date = passport_issue_date
        self.passport_expiry_date = passport_expiry_date
        # Sponsorship periods by business time: (start, sponsor); the first has no start.
        self._sponsor_starts: list[datetime] = []
        self._sponsors: list[str] = [sponsor]
        self.visas: dict[str, Visa] = {}
        self.last_crossing: tuple[datetime, str, str] | None = None
        self._registered_details = PersonDetails(
            birth_date=birth_date,
            marital_status=marital_status,
            guardian=guardian,
            mobile=mobile,
            email=email,
            category=category,
        )
        # Later changes by business time: (occurred_at, fields given, fields cleared), kept sorted.
        self._detail_changes: list[tuple[datetime, dict[str, Any], tuple[str, ...]]] = []

    @classmethod
    def register(
        cls,
        *,
        id_number: str,
        event_id: str,
        occurred_at: datetime,
        sponsor: str,
        name_ar: str,
        name_en: str,
        nationality: str,
        passport_number: str,
        passport_issue_date: date,
        passport_expiry_date: date,
        details: PersonDetails | None = None,
    ) -> Person:
        """Register a person with sponsor and passport (the first event of every person)."""
        return cls(
            **cls.decide_registration(
                id_number=id_number,
                event_id=event_id,
                occurred_at=occurred_at,
                sponsor=sponsor,
                name_ar=name_ar,
                name_en=name_en,
                nationality=nationality,
                passport_number=passport_number,
                passport_issue_date=passport_issue_date,
                passport_expiry_date=passport_expiry_date,
                details=details,
            )
        )

    @staticmethod
    def decide_registration(
        *,
        id_number: str,
        event_id: str,
        occurred_at: datetime,
        sponsor: str,
        name_ar: str,
        name_en: str,
        nationality: str,
        passport_number: str,
        passport_issue_date: date,
        passport_expiry_date: date,
        details: PersonDetails | None = None,
    ) -> dict[str, Any]:
        """The `Registered` event's fields if the rules allow the registration (else the domain's error)."""
        check_passport_dates(passport_issue_date, passport_expiry_date)
        given = details or PersonDetails()
        _require_not_own_guardian(id_number, given.guardian)
        return {
            "id_number": id_number,
            "event_id": event_id,
            "occurred_at": occurred_at,
            "sponsor": sponsor,
            "name_ar": name_ar,
            "name_en": name_en,
            "nationality": nationality,
            "passport_number": passport_number,
            "passport_issue_date": passport_issue_date,
            "passport_expiry_date": passport_expiry_date,
            "birth_date": given.birth_date,
            "marital_status": given.marital_status,
            "guardian": given.guardian,
            "mobile": given.mobile,
            "email": given.email,
            "category": given.category,
        }

    # --- queries -------------------------------------------------------------------------------

    def sponsor_at(self, when: datetime) -> str:
        """The establishment that sponsored the person at this business time, as recorded so far."""
        index = bisect.bisect_right(self._sponsor_starts, when)
        return self._sponsors[index]

    @property
    def current_sponsor(self) -> str:
        """The sponsor of the latest sponsorship period recorded."""
        return self._sponsors[-1]

    def sponsorship_periods(self) -> list[tuple[str, datetime | None, datetime | None]]:
        """(sponsor, from, until) by business time; None means open-ended."""
        starts: list[datetime | None] = [None, *self._sponsor_starts]
        ends: list[datetime | None] = [*self._sponsor_starts, None]
        return list(zip(self._sponsors, starts, ends, strict=True))

    def details_at(self, moment: datetime) -> PersonDetails:
        """The details as the record stood at this business time: the registration's, then every change
        that occurred by then, in business-time order (a change recorded late still counts from when it
        occurred)."""
        details = self._registered_details
        for occurred_at, given, cleared in self._detail_changes:
            if occurred_at > moment:
                break
            details = details.changed(given, cleared)
        return details

    @property
    def details(self) -> PersonDetails:
        """The details with every change recorded so far."""
        details = self._registered_details
        for _, given, cleared in self._detail_changes:
            details = details.changed(given, cleared)
        return details

    # --- details ---------------------------------------------------------------------------------

    class DetailsChanged(PersonEvent):
        contract_type = "person_details_changed"
        birth_date: date | None
        marital_status: str | None
        guardian: str | None
        mobile: str | None
        email: str | None
        category: str | None
        cleared: tuple[str, ...]

    def change_details(
        self, *, event_id: str, occurred_at: datetime, given: Mapping[str, Any], cleared: tuple[str, ...] = ()
    ) -> None:
        """Record new values of some details (None: not given) and the clearing of others."""
        self._details_changed(
            **self.decide_details(event_id=event_id, occurred_at=occurred_at, given=given, cleared=cleared)
        )

    def decide_details(
        self, *, event_id: str, occurred_at: datetime, given: Mapping[str, Any], cleared: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The `DetailsChanged` event's fields if the rules allow the change (else the domain's error)."""
        unknown = sorted(set(given) - set(DETAIL_FIELDS))
        if unknown:
            raise InvalidValue(f"{unknown[0]} is not a detail of a person")
        not_clearable = sorted(set(cleared) - set(CLEARABLE_DETAILS))
        if not_clearable:
            raise InvalidValue(f"{not_clearable[0]} cannot be cleared, only corrected")
        values = {name: given.get(name) for name in DETAIL_FIELDS}
        if all(v is None for v in values.values()) and not cleared:
            raise InvalidValue(
                f"a person_details_changed event must give at least one of {', '.join(DETAIL_FIELDS)}"
            )
        _require_not_own_guardian(self.id_number, values["guardian"])
        return {
            "id_number": self.id_number,
            "event_id": event_id,
            "occurred_at": occurred_at,
            "sponsor": self.sponsor_at(occurred_at),
            "cleared": tuple(sorted(set(cleared))),
            **values,
        }

    @event(DetailsChanged)
    def _details_changed(
        self,
        *,
        id_number: str,
        event_id: str,
        occurred_at: datetime,
        sponsor: str,
        birth_date: date | None,
        marital_status: str | None,
        guardian: str | None,
        mobile: str | None,
        email: str | None,
        category: str | None,
        cleared: tuple[str, ...],
    ) -> None:
        given = {
            "birth_date": birth_date,
            "marital_status": marital_status,
            "guardian": guardian,
            "mobile": mobile,
            "email": email,
            "category": category,
        }
        changes = self._detail_changes
        index = bisect.bisect_right([c[0] for c in changes], occurred_at)
        changes.insert(index, (occurred_at, given, tuple(cleared)))

    # --- border crossings ------------------------------------------------------------------------

    class BorderCrossed(PersonEvent):
        contract_type = "border_crossing"
        direction: str
        port: str

    def cross_border(self, *, event_id: str, occurred_at: datetime, direction: str, port: str) -> None:
        """Record an entry to or exit from the kingdom."""
        self._crossed(
            **self.decide_crossing(event_id=event_id, occurred_at=occurred_at, direction=direction, port=port)
        )

    def decide_crossing(
        self, *, event_id: str, occurred_at: datetime, direction: str, port: str
    ) -> dict[str, Any]:
        """The `BorderCrossed` event's fields if the rules allow the crossing (else the domain's error)."""
        if direction not in ("entry", "exit"):
            raise InvalidValue(f"direction '{direction}' must be 'entry' or 'exit'")
        return {
            "id_number": self.id_number,
            "event_id": event_id,
            "occurred_at": occurred_at,
            "sponsor": self.sponsor_at(occurred_at),
            "direction": direction,
            "port": port,
        }

    @event(BorderCrossed)
    def _crossed(
        self, *, id_number: str, event_id: str, occurred_at: datetime, sponsor: str, direction: str, port: str
    ) -> None:
        # Presence follows business time: a late crossing never overrides a newer one.
        if self.last_crossing is None or occurred_at >= self.last_crossing[0]:
            self.last_crossing = (occurred_at, direction, port)

    # --- passports -------------------------------------------------------------------------------

    class PassportRenewed(PersonEvent):
        contract_type = "passport_renewed"
        passport_number: str
        issue_date: date
        expiry_date: date

    def renew_passport(
        self,
        *,
        event_id: str,
        occurred_at: datetime,
        passport_number: str,
        issue_date: date,
        expiry_date: date,
        today: date,
    ) -> None:
        """Record a renewed passport, under the directorate's renewal rules."""
        self._renewed(
            **self.decide_renewal(
                event_id=event_id,
                occurred_at=occurred_at,
                passport_number=passport_number,
                issue_date=issue_date,
                expiry_date=expiry_date,
                today=today,
            )
        )

    def decide_renewal(
        self,
        *,
        event_id: str,
        occurred_at: datetime,
        passport_number: str,
        issue_date: date,
        expiry_date: date,
        today: date,
    ) -> dict[str, Any]:
        """The `PassportRenewed` event's fields if the renewal rules allow it (else the domain's error)."""
        if issue_date > today:
            raise PassportNotYetIssued(
                f"issue_date {issue_date} is after today ({today}): the new passport is not yet issued"
            )
        check_passport_dates(issue_date, expiry_date)
        if passport_number == self.passport_number:
            raise PassportNumberRepeated(
                f"passport_number '{passport_number}' repeats the current passport number"
            )
        return {
            "id_number": self.id_number,
            "event_id": event_id,
            "occurred_at": occurred_at,
            "sponsor": self.sponsor_at(occurred_at),
            "passport_number": passport_number,
            "issue_date": issue_date,
            "expiry_date": expiry_date,
        }

    @event(PassportRenewed)
    def _renewed(
        self,
        *,
        id_number: str,
        event_id: str,
        occurred_at: datetime,
        sponsor: str,
        passport_number: str,
        issue_date: date,
        expiry_date: date,
    ) -> None:
        # The current passport is the most recently issued one, whatever order renewals arrive in.
        if issue_date >= self.passport_issue_date:
            self.passport_number = passport_number
            self.passport_issue_date = issue_date
            self.passport_expiry_date = expiry_date

    class PassportExpiryApproaching(PersonEvent):
        contract_type = "passport_expiry_approaching"
        passport_number: str
        days_left: int
        expiry_date: date

    def warn_passport_expiry(
        self, *, event_id: str, occurred_at: datetime, days_left: int, passport_number: str
    ) -> None:
        """Record that the current passport is `days_left` days from expiry (made by the scheduler)."""
        self._require_current_passport(passport_number)
        self._expiry_approaching(
            id_number=self.id_number,
            event_id=event_id,
            occurred_at=occurred_at,
            sponsor=self.sponsor_at(occurred_at),
            passport_number=passport_number,
            days_left=days_left,
            expiry_date=self.passport_expiry_date,
        )

    @event(PassportExpiryApproaching)
    def _expiry_approaching(
        self,
        *,
        id_number: str,
        event_id: str,
        occurred_at: datetime,
        sponsor: str,
        passport_number: str,
        days_left: int,
        expiry_date: date,
    ) -> None:
        pass

    class PassportExpired(PersonEvent):
        contract_type = "passport_expired"
        passport_number: str
        expiry_date: date

    def expire_passport(self, *, event_id: str, occurred_at: datetime, passport_number: str) -> None:
        """Record that the current passport expired today (made by the scheduler)."""
        self._require_current_passport(passport_number)
        self._expired(
            id_number=self.id_number,
            event_id=event_id,
            occurred_at=occurred_at,
            sponsor=self.sponsor_at(occurred_at),
            passport_number=passport_number,
            expiry_date=self.passport_expiry_date,
        )

    @event(PassportExpired)
    def _expired(
        self,
        *,
        id_number: str,
        event_id: str,
        occurred_at: datetime,
        sponsor: str,
        passport_number: str,
        expiry_date: date,
    ) -> None:
        pass

    def _require_current_passport(self, passport_number: str) -> None:
        if passport_number != self.passport_number:
            raise PassportRuleViolation(
                f"passport {passport_number} is no longer current (current: {self.passport_number})"
            )

    # --- visas -----------------------------------------------------------------------------------

    class VisaIssued(PersonEvent):
        contract_type = "visa_issued"
        visa_number: str
        visa_type: str
        valid_from: date
        valid_until: date

    def issue_visa(
        self,
        *,
        event_id: str,
        occurred_at: datetime,
        visa_number: str,
        visa_type: str,
        valid_from: date,
        valid_until: date,
    ) -> None:
        """Record a new visa."""
        self._visa_issued(
            **self.decide_visa(
                event_id=event_id,
                occurred_at=occurred_at,
                visa_number=visa_number,
                visa_type=visa_type,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        )

    def decide_visa(
        self,
        *,
        event_id: str,
        occurred_at: datetime,
        visa_number: str,
        visa_type: str,
        valid_from: date,
        valid_until: date,
    ) -> dict[str, Any]:
        """The `VisaIssued` event's fields if the rules allow the visa (else the domain's error)."""
        if valid_until < valid_from:
            raise InvalidValue(f"valid_until {valid_until} is before valid_from {valid_from}")
        existing = self.visas.get(visa_number)
        if existing is not None and existing.visa_type is not None:
            raise InvalidValue(f"visa_number '{visa_number}' was already issued to this person")
        return {
            "id_number": self.id_number,
            "event_id": event_id,
            "occurred_at": occurred_at,
            "sponsor": self.sponsor_at(occurred_at),
            "visa_number": visa_number,
            "visa_type": visa_type,
            "valid_from": valid_from,
            "valid_until": valid_until,
        }

    @event(VisaIssued)
    def _visa_issued(
        self,
        *,
        id_number: str,
        event_id: str,
        occurred_at: datetime,
        sponsor: str,
        visa_number: str,
        visa_type: str,
        valid_from: date,
        valid_until: date,
    ) -> None:
        # A status change that arrived first (out of order) keeps its status.
        earlier = self.visas.get(visa_number)
        self.visas[visa_number] = Visa(
            visa_number=visa_number,
            visa_type=visa_type,
            status=earlier.status if earlier else "issued",
            valid_from=valid_from,
            valid_until=earlier.valid_until if earlier and earlier.valid_until else valid_until,
        )

    class VisaStatusChanged(PersonEvent):
        contract_type = "visa_status_changed"
        visa_number: str
        status: str
        valid_until: date | None

    def change_visa_status(
        self,
        *,
        event_id: str,
        occurred_at: datetime,
        visa_number: str,
        status: str,
        valid_until: date | None,
    ) -> None:
        """Record a visa's new status (used, cancelled, expired, extended)."""
        self._visa_status_changed(
            **self.decide_visa_status(
                event_id=event_id,
                occurred_at=occurred_at,
                visa_number=visa_number,
                status=status,
                valid_until=valid_until,
            )
        )

    def decide_visa_status(
        self,
        *,
        event_id: str,
        occurred_at: datetime,
        visa_number: str,
        status: str,
        valid_until: date | None,
    ) -> dict[str, Any]:
        """The `VisaStatusChanged` event's fields (no rule refuses a status change)."""
        return {
            "id_number": self.id_number,
            "event_id": event_id,
            "occurred_at": occurred_at,
            "sponsor": self.sponsor_at(occurred_at),
            "visa_number": visa_number,
            "status": status,
            "valid_until": valid_until,
        }

    @event(VisaStatusChanged)
    def _visa_status_changed(
        self,
        *,
        id_number: str,
        event_id: str,
        occurred_at: datetime,
        sponsor: str,
        visa_number: str,
        status: str,
        valid_until: date | None,
    ) -> None:
        # Source systems may send a status before the issue: keep what we know either way.
        earlier = self.visas.get(visa_number)
        self.visas[visa_number] = Visa(
            visa_number=visa_number,
            visa_type=earlier.visa_type if earlier else None,
            status=status,
            valid_from=earlier.valid_from if earlier else None,
            valid_until=valid_until or (earlier.valid_until if earlier else None),
        )

    # --- sponsorship -----------------------------------------------------------------------------

    class SponsorshipTransferred(PersonEvent):
        contract_type = "sponsorship_transferred"
        from_sponsor: str
        to_sponsor: str

    def transfer_sponsorship(self, *, event_id: str, occurred_at: datetime, to_sponsor: str) -> str | None:
        """Move sponsorship from `occurred_at` on; return the establishment that stops being the
        current sponsor (whose subscription must end), or None if the current sponsor is unchanged."""
        current_before = self.current_sponsor
        self._transferred(
            **self.decide_transfer(event_id=event_id, occurred_at=occurred_at, to_sponsor=to_sponsor)
        )
        return self.sponsor_left(current_before)

    def decide_transfer(self, *, event_id: str, occurred_at: datetime, to_sponsor: str) -> dict[str, Any]:
        """The `SponsorshipTransferred` event's fields if the rules allow the transfer (else the domain's
        error)."""
        sponsor_then = self.sponsor_at(occurred_at)
        if to_sponsor == sponsor_then:
            raise SponsorUnchanged(
                f"to_sponsor '{to_sponsor}' already sponsors this person at {occurred_at.isoformat()}"
            )
        return {
            "id_number": self.id_number,
            "event_id": event_id,
            "occurred_at": occurred_at,
            "sponsor": sponsor_then,
            "from_sponsor": sponsor_then,
            "to_sponsor": to_sponsor,
        }

    def sponsor_left(self, current_before: str) -> str | None:
        """After a transfer: the establishment that stopped being the current sponsor (its subscription
        ends), or None if the current sponsor is unchanged."""
        return current_before if self.current_sponsor != current_before else None

    @event(SponsorshipTransferred)
    def _transferred(
        self,
        *,
        id_number: str,
        event_id: str,
        occurred_at: datetime,
        sponsor: str,
        from_sponsor: str,
        to_sponsor: str,
    ) -> None:
        index = bisect.bisect_right(self._sponsor_starts, occurred_at)
        self._sponsor_starts.insert(index, occurred_at)
        self._sponsors.insert(index + 1, to_sponsor)


PERSON_EVENT_TYPES: dict[str, type[PersonEvent]] = {
    cls.contract_type: cls
    for cls in (
        Person.Registered,
        Person.BorderCrossed,
        Person.PassportRenewed,
        Person.PassportExpiryApproaching,
        Person.PassportExpired,
        Person.VisaIssued,
        Person.VisaStatusChanged,
        Person.SponsorshipTransferred,
        Person.DetailsChanged,
    )
}


def _require_not_own_guardian(id_number: str, guardian: str | None) -> None:
    if guardian is not None and guardian == id_number:
        raise InvalidValue(f"guardian {guardian} is the person's own ID number")
