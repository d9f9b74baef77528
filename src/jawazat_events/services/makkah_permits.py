"""Makkah entry permits in Hajj season: applications by individuals and establishments, officers' decisions
and revocations; one pending or approved permit per person and season, guaranteed by the store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.makkah_permit import MakkahPermit, check_documents, check_makkah_eligibility
from jawazat_events.domain.requests import Requester, RequestNotFound
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.hajj_seasons import HajjSeasons
from jawazat_events.services.idempotency import Answer, Changes, IdempotencyClaim
from jawazat_events.services.permits import PermitService
from jawazat_events.services.request_listing import RequestListing


def permit_view(permit: MakkahPermit) -> dict[str, Any]:
    """A Makkah permit as its applicant and officers see it."""
    return {
        "permit_id": permit.permit_id,
        "id_number": permit.id_number,
        "season": permit.season,
        "applicant": {"kind": permit.requester.kind, "id": permit.requester.principal},
        "status": permit.status,
        "valid_from": permit.valid_from.isoformat(),
        "valid_until": permit.valid_until.isoformat(),
        "documents": [dict(d) for d in permit.documents],
        "requested_at": permit.requested_at.isoformat(),
        "reason": permit.reason or None,
    }


class MakkahPermitService(PermitService[MakkahPermit]):
    """Applications (individuals, establishments), officers' decisions and revocations, and views."""

    permit_class = MakkahPermit
    label = "Makkah permit"

    def __init__(
        self,
        *,
        app: JawazatApplication,
        clock: Callable[[], datetime],
        today: Callable[[], date],
        listing: RequestListing,
        seasons: HajjSeasons,
    ) -> None:
        super().__init__(app=app, clock=clock, today=today, listing=listing)
        self.seasons = seasons

    def view(self, permit: MakkahPermit) -> dict[str, Any]:
        return permit_view(permit)

    def ledger_scope(self, permit: MakkahPermit) -> str:
        return permit.season

    def apply(
        self,
        actor: Actor,
        *,
        id_number: str,
        season: str,
        documents: Sequence[Mapping[str, Any]],
        claim: IdempotencyClaim | None = None,
    ) -> Answer:
        """An individual for themselves or a dependant, or an establishment for a person it sponsors."""
        permit_id = str(uuid.uuid4())

        def build() -> Changes:
            now = self.clock()
            if actor.kind not in (ActorKind.INDIVIDUAL, ActorKind.ESTABLISHMENT):
                raise RequestNotFound("Makkah permits are applied for by individuals and establishments")
            person = self.people.acting_for(actor, id_number, at=now)
            today = self.today()
            window = self.seasons.open_window(season, today)
            establishment = (
                self.people.establishment(actor.principal) if actor.kind is ActorKind.ESTABLISHMENT else None
            )
            check_makkah_eligibility(
                channel=actor.kind,
                id_number=person.id_number,
                details=person.details_at(now),
                establishment_city=establishment.city if establishment else None,
                visas=person.visas.values(),
                day=today,
            )
            checked = check_documents(documents)
            ledger = self.ledger(person.id_number, window.season)
            ledger.hold(
                permit_id=permit_id,
                valid_from=window.opens,
                valid_until=window.closes,
                conflict="the person already has a pending or approved Makkah permit for season "
                f"{window.season}",
            )
            permit = MakkahPermit.request(
                permit_id=permit_id,
                id_number=person.id_number,
                requester=Requester.of(actor),
                at=now,
                notify=self.people.contacts(actor, subject=person, at=now),
                window=window,
                documents=checked,
            )
            return Changes([ledger, permit], {"permit_id": permit_id, "status": permit.status})

        return self.writer.commit(build, claim=claim)

    def revoke(
        self, actor: Actor, permit_id: str, *, reason: str | None, claim: IdempotencyClaim | None = None
    ) -> Answer:
        """An officer revokes an approved permit, with a reason (the season is free again)."""

        def build() -> Changes:
            now = self.clock()
            permit = self.visible(actor, permit_id, officers_only=True)
            permit.revoke(reason=reason, officer=actor, at=now, notify=self.notify(permit, now))
            return self.with_ledger(permit)

        return self.writer.commit(build, claim=claim)
