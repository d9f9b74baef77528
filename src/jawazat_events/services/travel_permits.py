"""Family travel permits: the guardian requests and cancels, officers approve or reject (with reasons)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from jawazat_events.application import JawazatApplication
from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.permit_ledger import PermitLedger, ledger_id
from jawazat_events.domain.requests import Contacts, Decision, Requester, RequestNotFound
from jawazat_events.domain.travel_permit import (
    DEFAULT_MAX_DAYS,
    TravelPermit,
    check_travel_eligibility,
    check_travel_window,
)
from jawazat_events.services.idempotency import Answer, Changes, IdempotencyClaim, RequestWriter
from jawazat_events.services.people import PeopleRecords
from jawazat_events.services.request_listing import Page, RequestListing

KIND = TravelPermit.kind


def permit_view(permit: TravelPermit) -> dict[str, Any]:
    """A travel permit as its guardian and officers see it."""
    return {
        "permit_id": permit.permit_id,
        "id_number": permit.id_number,
        "guardian": permit.requester.principal,
        "status": permit.status,
        "valid_from": permit.valid_from.isoformat(),
        "valid_until": permit.valid_until.isoformat(),
        "requested_at": permit.requested_at.isoformat(),
        "reason": permit.reason or None,
    }


def parse_permit_id(raw: str) -> uuid.UUID:
    """A permit id as given in a path; anything that is not one is simply not found."""
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise RequestNotFound(f"no permit {raw!r}") from None


class TravelPermitService:
    """Guardians' requests and cancellations, officers' decisions, and who may see a permit."""

    def __init__(
        self,
        *,
        app: JawazatApplication,
        clock: Callable[[], datetime],
        today: Callable[[], date],
        listing: RequestListing,
        max_days: int = DEFAULT_MAX_DAYS,
    ) -> None:
        self.app = app
        self.clock = clock
        self.today = today
        self.listing = listing
        self.max_days = max_days
        self.people = PeopleRecords(app)
        self.writer = RequestWriter(app)

    def request(
        self,
        actor: Actor,
        *,
        id_number: str,
        valid_from: date,
        valid_until: date,
        claim: IdempotencyClaim | None = None,
    ) -> Answer:
        """A guardian asks for a permit for a dependant: single and under 21 on the request's day."""
        permit_id = str(uuid.uuid4())

        def build() -> Changes:
            now = self.clock()
            if actor.kind is not ActorKind.INDIVIDUAL:
                raise RequestNotFound("travel permits are requested by the person's guardian")
            person = self.people.acting_for(actor, id_number, at=now, guardian_only=True)
            today = self.today()
            check_travel_eligibility(person.details_at(now), today)
            check_travel_window(valid_from, valid_until, today=today, max_days=self.max_days)
            ledger = self._ledger(person.id_number)
            ledger.hold(
                permit_id=permit_id,
                valid_from=valid_from,
                valid_until=valid_until,
                conflict=f"the person already has a pending or approved travel permit overlapping "
                f"{valid_from} to {valid_until}",
            )
            permit = TravelPermit.request(
                permit_id=permit_id,
                id_number=person.id_number,
                requester=Requester.of(actor),
                at=now,
                notify=self.people.contacts(actor, subject=person, at=now),
                valid_from=valid_from,
                valid_until=valid_until,
            )
            return Changes([ledger, permit], {"permit_id": permit_id, "status": permit.status})

        return self.writer.commit(build, claim=claim)

    def decide(
        self,
        actor: Actor,
        permit_id: str,
        *,
        decision: Decision,
        reason: str | None,
        claim: IdempotencyClaim | None = None,
    ) -> Answer:
        """An officer approves or rejects a pending permit (a reject frees the window)."""

        def build() -> Changes:
            now = self.clock()
            permit = self._visible(actor, permit_id, officers_only=True)
            permit.decide(
                decision=decision, reason=reason, officer=actor, at=now, notify=self._notify(permit, now)
            )
            return self._with_ledger(permit)

        return self.writer.commit(build, claim=claim)

    def cancel(self, actor: Actor, permit_id: str, *, claim: IdempotencyClaim | None = None) -> Answer:
        """The guardian who asked cancels a pending or approved permit."""

        def build() -> Changes:
            now = self.clock()
            permit = self._load(permit_id)
            if permit is None or not permit.requester.is_actor(actor):
                raise RequestNotFound(f"no travel permit {permit_id} of the caller")
            permit.cancel(at=now, notify=self._notify(permit, now))
            return self._with_ledger(permit)

        return self.writer.commit(build, claim=claim)

    def get(self, actor: Actor, permit_id: str) -> dict[str, Any]:
        """One permit, for its guardian and officers (404 for anyone else)."""
        return permit_view(self._visible(actor, permit_id))

    def list(self, actor: Actor, *, status: str | None, limit: int, cursor: str | None) -> Page:
        """The guardian's permits, or for officers every permit (`status="pending"`: their queue)."""
        requester = None if actor.is_officer else actor.key
        return self.listing.page(KIND, requester=requester, status=status, limit=limit, cursor=cursor)

    # --- helpers ---------------------------------------------------------------------------------

    def _load(self, permit_id: str) -> TravelPermit | None:
        found = self.writer.find(parse_permit_id(permit_id))
        return found if isinstance(found, TravelPermit) else None

    def _visible(self, actor: Actor, permit_id: str, *, officers_only: bool = False) -> TravelPermit:
        permit = self._load(permit_id)
        allowed = permit is not None and (
            actor.is_officer or (not officers_only and permit.requester.is_actor(actor))
        )
        if permit is None or not allowed:
            raise RequestNotFound(f"no travel permit {permit_id}")
        return permit

    def _notify(self, permit: TravelPermit, now: datetime) -> Contacts:
        return self.people.requester_contacts(permit.requester, id_number=permit.id_number, at=now)

    def _ledger(self, id_number: str) -> PermitLedger:
        found = self.writer.find(ledger_id(KIND, id_number))
        if isinstance(found, PermitLedger):
            return found
        return PermitLedger(kind=KIND, id_number=id_number, scope="")

    def _with_ledger(self, permit: TravelPermit) -> Changes:
        touched: list[Any] = [permit]
        if not permit.active:
            ledger = self._ledger(permit.id_number)
            ledger.release(permit.permit_id)
            touched.insert(0, ledger)
        return Changes(touched, permit_view(permit))
