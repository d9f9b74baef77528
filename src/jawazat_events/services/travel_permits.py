"""Family travel permits: the guardian requests and cancels, officers approve or reject (with reasons)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.requests import Requester, RequestNotFound
from jawazat_events.domain.travel_permit import (
    DEFAULT_MAX_DAYS,
    TravelPermit,
    check_travel_eligibility,
    check_travel_window,
)
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.idempotency import Answer, Changes, IdempotencyClaim
from jawazat_events.services.permits import PermitService
from jawazat_events.services.request_listing import RequestListing


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


class TravelPermitService(PermitService[TravelPermit]):
    """Guardians' requests and cancellations, officers' decisions, and who may see a permit."""

    permit_class = TravelPermit
    label = "travel permit"

    def __init__(
        self,
        *,
        app: JawazatApplication,
        clock: Callable[[], datetime],
        today: Callable[[], date],
        listing: RequestListing,
        max_days: int = DEFAULT_MAX_DAYS,
    ) -> None:
        super().__init__(app=app, clock=clock, today=today, listing=listing)
        self.max_days = max_days

    def view(self, permit: TravelPermit) -> dict[str, Any]:
        return permit_view(permit)

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
            ledger = self.ledger(person.id_number, "")
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

    def cancel(self, actor: Actor, permit_id: str, *, claim: IdempotencyClaim | None = None) -> Answer:
        """The guardian who asked cancels a pending or approved permit."""

        def build() -> Changes:
            now = self.clock()
            permit = self.visible(actor, permit_id)
            if not permit.requester.is_actor(actor):
                raise RequestNotFound(f"no travel permit {permit_id} of the caller")
            permit.cancel(at=now, notify=self.notify(permit, now))
            return self.with_ledger(permit)

        return self.writer.commit(build, claim=claim)
