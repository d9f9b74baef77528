"""What the travel-permit and Makkah-permit services share: finding a permit the caller may see, officers'
decisions, the requester's contacts, and the person's ledger that a permit holds its window in."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar, Generic, TypeVar

from jawazat_events.domain.actors import Actor
from jawazat_events.domain.permit_ledger import PermitLedger, ledger_id
from jawazat_events.domain.requests import Contacts, Decision, PermitAggregate, RequestNotFound
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.idempotency import Answer, Changes, IdempotencyClaim, RequestWriter
from jawazat_events.services.people import PeopleRecords
from jawazat_events.services.request_listing import Page, RequestListing

P = TypeVar("P", bound=PermitAggregate)


def parse_permit_id(raw: str) -> uuid.UUID:
    """A permit id as given in a path; anything that is not one is simply not found."""
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise RequestNotFound(f"no permit {raw!r}") from None


class PermitService(Generic[P]):
    """Officers' decisions and requesters' views of one kind of permit."""

    permit_class: ClassVar[type[PermitAggregate]]
    label: ClassVar[str] = "permit"

    def __init__(
        self,
        *,
        app: JawazatApplication,
        clock: Callable[[], datetime],
        today: Callable[[], date],
        listing: RequestListing,
    ) -> None:
        self.app = app
        self.clock = clock
        self.today = today
        self.listing = listing
        self.people = PeopleRecords(app)
        self.writer = RequestWriter(app)

    # --- to be given by each kind ----------------------------------------------------------------

    def view(self, permit: P) -> dict[str, Any]:
        """The permit as its requester and officers see it."""
        raise NotImplementedError

    def ledger_scope(self, permit: P) -> str:
        """The scope of the person's ledger the permit holds its window in ('' or the season)."""
        return ""

    # --- shared steps ----------------------------------------------------------------------------

    def decide(
        self,
        actor: Actor,
        permit_id: str,
        *,
        decision: Decision,
        reason: str | None,
        claim: IdempotencyClaim | None = None,
    ) -> Answer:
        """An officer approves or rejects a pending permit (a reject frees its window)."""

        def build() -> Changes:
            now = self.clock()
            permit = self.visible(actor, permit_id, officers_only=True)
            permit.decide(
                decision=decision, reason=reason, officer=actor, at=now, notify=self.notify(permit, now)
            )
            return self.with_ledger(permit)

        return self.writer.commit(build, claim=claim)

    def get(self, actor: Actor, permit_id: str) -> dict[str, Any]:
        """One permit, for its requester and officers (404 for anyone else)."""
        return self.view(self.visible(actor, permit_id))

    def list(self, actor: Actor, *, status: str | None, limit: int, cursor: str | None) -> Page:
        """The requester's permits, or for officers every permit (`status="pending"`: their queue)."""
        requester = None if actor.is_officer else actor.key
        kind = self.permit_class.kind
        return self.listing.page(kind, requester=requester, status=status, limit=limit, cursor=cursor)

    def visible(self, actor: Actor, permit_id: str, *, officers_only: bool = False) -> P:
        """The permit, when `actor` may see it (its requester, officers), else `RequestNotFound`."""
        found = self.writer.find(parse_permit_id(permit_id))
        permit: Any = found if isinstance(found, self.permit_class) else None
        allowed = permit is not None and (
            actor.is_officer or (not officers_only and permit.requester.is_actor(actor))
        )
        if permit is None or not allowed:
            raise RequestNotFound(f"no {self.label} {permit_id}")
        return permit  # type: ignore[no-any-return]

    def notify(self, permit: P, now: datetime) -> Contacts:
        """Where the permit's requester is told now."""
        return self.people.requester_contacts(permit.requester, id_number=permit.id_number, at=now)

    def ledger(self, id_number: str, scope: str) -> PermitLedger:
        """The person's ledger of this kind (and scope), new when they never had one."""
        kind = self.permit_class.kind
        found = self.writer.find(ledger_id(kind, id_number, scope))
        return (
            found
            if isinstance(found, PermitLedger)
            else PermitLedger(kind=kind, id_number=id_number, scope=scope)
        )

    def with_ledger(self, permit: P) -> Changes:
        """The permit's changes, with its ledger's when it stopped being active."""
        touched: list[Any] = [permit]
        if not permit.active:
            ledger = self.ledger(permit.id_number, self.ledger_scope(permit))
            ledger.release(permit.request_id)
            touched.insert(0, ledger)
        return Changes(touched, self.view(permit))
