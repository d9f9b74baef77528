"""Makkah entry permits in Hajj season: applications by individuals and establishments, officers' decisions
and revocations; one pending or approved permit per person and season, guaranteed by the store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from jawazat_events.application import JawazatApplication
from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.makkah_permit import MakkahPermit, check_documents, check_makkah_eligibility
from jawazat_events.domain.permit_ledger import PermitLedger, ledger_id
from jawazat_events.domain.requests import Contacts, Decision, Requester, RequestNotFound
from jawazat_events.services.hajj_seasons import HajjSeasons
from jawazat_events.services.idempotency import Answer, Changes, IdempotencyClaim, RequestWriter
from jawazat_events.services.people import PeopleRecords
from jawazat_events.services.request_listing import Page, RequestListing
from jawazat_events.services.travel_permits import parse_permit_id

KIND = MakkahPermit.kind


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


class MakkahPermitService:
    """Applications (individuals, establishments), officers' decisions and revocations, and views."""

    def __init__(
        self,
        *,
        app: JawazatApplication,
        clock: Callable[[], datetime],
        today: Callable[[], date],
        listing: RequestListing,
        seasons: HajjSeasons,
    ) -> None:
        self.app = app
        self.clock = clock
        self.today = today
        self.listing = listing
        self.seasons = seasons
        self.people = PeopleRecords(app)
        self.writer = RequestWriter(app)

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
            ledger = self._ledger(person.id_number, window.season)
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

    def decide(
        self,
        actor: Actor,
        permit_id: str,
        *,
        decision: Decision,
        reason: str | None,
        claim: IdempotencyClaim | None = None,
    ) -> Answer:
        """An officer approves or rejects a pending application (a reject frees the season)."""

        def build() -> Changes:
            now = self.clock()
            permit = self._visible(actor, permit_id, officers_only=True)
            permit.decide(
                decision=decision, reason=reason, officer=actor, at=now, notify=self._notify(permit, now)
            )
            return self._with_ledger(permit)

        return self.writer.commit(build, claim=claim)

    def revoke(
        self, actor: Actor, permit_id: str, *, reason: str | None, claim: IdempotencyClaim | None = None
    ) -> Answer:
        """An officer revokes an approved permit, with a reason (the season is free again)."""

        def build() -> Changes:
            now = self.clock()
            permit = self._visible(actor, permit_id, officers_only=True)
            permit.revoke(reason=reason, officer=actor, at=now, notify=self._notify(permit, now))
            return self._with_ledger(permit)

        return self.writer.commit(build, claim=claim)

    def get(self, actor: Actor, permit_id: str) -> dict[str, Any]:
        """One permit, for its applicant and officers (404 for anyone else)."""
        return permit_view(self._visible(actor, permit_id))

    def list(self, actor: Actor, *, status: str | None, limit: int, cursor: str | None) -> Page:
        """The applicant's permits, or for officers every permit (`status="pending"`: their queue)."""
        requester = None if actor.is_officer else actor.key
        return self.listing.page(KIND, requester=requester, status=status, limit=limit, cursor=cursor)

    # --- helpers ---------------------------------------------------------------------------------

    def _visible(self, actor: Actor, permit_id: str, *, officers_only: bool = False) -> MakkahPermit:
        found = self.writer.find(parse_permit_id(permit_id))
        permit = found if isinstance(found, MakkahPermit) else None
        allowed = permit is not None and (
            actor.is_officer or (not officers_only and permit.requester.is_actor(actor))
        )
        if permit is None or not allowed:
            raise RequestNotFound(f"no Makkah permit {permit_id}")
        return permit

    def _notify(self, permit: MakkahPermit, now: datetime) -> Contacts:
        return self.people.requester_contacts(permit.requester, id_number=permit.id_number, at=now)

    def _ledger(self, id_number: str, season: str) -> PermitLedger:
        found = self.writer.find(ledger_id(KIND, id_number, season))
        if isinstance(found, PermitLedger):
            return found
        return PermitLedger(kind=KIND, id_number=id_number, scope=season)

    def _with_ledger(self, permit: MakkahPermit) -> Changes:
        touched: list[Any] = [permit]
        if not permit.active:
            ledger = self._ledger(permit.id_number, permit.season)
            ledger.release(permit.permit_id)
            touched.insert(0, ledger)
        return Changes(touched, permit_view(permit))
