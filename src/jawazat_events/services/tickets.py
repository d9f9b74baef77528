"""Support tickets (Tawasul): opened by establishments and individuals with attachments, moved on by
officers with a message each time, answered by their owner; visible to their owner and officers only."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.requests import NotEligible, Requester, RequestNotFound
from jawazat_events.domain.ticket import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    Ticket,
    new_tracking_number,
    parse_tracking_number,
    sniff_content_type,
    ticket_id,
)
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.idempotency import Answer, Changes, IdempotencyClaim, RequestWriter
from jawazat_events.services.people import PeopleRecords
from jawazat_events.services.request_listing import Page, RequestListing

KIND = Ticket.kind
MAX_FILENAME = 200


@dataclass(frozen=True)
class Upload:
    """One attached file as received: the name the sender gave it and its bytes."""

    filename: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class AttachmentStore(Protocol):
    """Where attachments' contents live, outside the event store, addressed by their SHA-256."""

    def put(self, content: bytes, sha256: str) -> None:
        """Keep the content (a second put of the same content changes nothing)."""
        ...

    def get(self, sha256: str) -> bytes | None:
        """The content kept under this SHA-256, or None."""
        ...


def check_attachments(uploads: Sequence[Upload]) -> list[dict[str, Any]]:
    """At most five files of at most 5 MB each, PDF, PNG or JPEG by content: their records."""
    if len(uploads) > MAX_ATTACHMENTS:
        raise NotEligible("attachments", "attachments_count", f"at most {MAX_ATTACHMENTS} files")
    records: list[dict[str, Any]] = []
    for index, upload in enumerate(uploads):
        name = posixpath.basename(upload.filename.replace("\\", "/")).strip() or f"attachment-{index + 1}"
        if not upload.content:
            raise NotEligible(f"attachments.{index}", "attachment_empty", f"'{name}' is empty")
        if len(upload.content) > MAX_ATTACHMENT_BYTES:
            raise NotEligible(
                f"attachments.{index}",
                "attachment_size",
                f"'{name}' is {len(upload.content):,} bytes; at most {MAX_ATTACHMENT_BYTES:,} (5 MB)",
            )
        content_type = sniff_content_type(upload.content[:16])
        if content_type is None:
            raise NotEligible(
                f"attachments.{index}",
                "attachment_type",
                f"'{name}' is not a PDF, PNG or JPEG file (judged by its content, not its name)",
            )
        records.append(
            {
                "name": name[:MAX_FILENAME],
                "content_type": content_type,
                "size": len(upload.content),
                "sha256": upload.sha256,
            }
        )
    return records


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    """A ticket as its owner and officers see it."""
    return {
        "tracking_number": ticket.tracking_number,
        "status": ticket.status,
        "owner": {"kind": ticket.requester.kind, "id": ticket.requester.principal},
        "problem_type": ticket.problem_type,
        "procedure": ticket.procedure,
        "description": ticket.description,
        "attachments": [dict(a) for a in ticket.attachments],
        "messages": [{**m, "at": m["at"].isoformat()} for m in ticket.messages],
        "received_at": ticket.received_at.isoformat(),
    }


class TicketService:
    """Opening, moving on and answering tickets; who may see them."""

    def __init__(
        self,
        *,
        app: JawazatApplication,
        clock: Callable[[], datetime],
        listing: RequestListing,
        attachments: AttachmentStore,
    ) -> None:
        self.app = app
        self.clock = clock
        self.listing = listing
        self.attachments = attachments
        self.people = PeopleRecords(app)
        self.writer = RequestWriter(app)

    def open(
        self,
        actor: Actor,
        *,
        problem_type: str,
        procedure: str,
        description: str,
        uploads: Sequence[Upload] = (),
        claim: IdempotencyClaim | None = None,
    ) -> Answer:
        """A new ticket (status `received`); its tracking number is the answer."""
        if actor.kind not in (ActorKind.INDIVIDUAL, ActorKind.ESTABLISHMENT):
            raise RequestNotFound("tickets are opened by establishments and individuals")
        earlier = self.writer.earlier_answer(claim)
        if earlier is not None:
            return earlier
        records = check_attachments(uploads)
        # About whom: an individual's ticket is about themselves (and shows in their audit timeline).
        id_number = actor.principal if actor.kind is ActorKind.INDIVIDUAL else ""

        def build() -> Changes:
            now = self.clock()
            subject = self.people.person(id_number) if id_number else None
            ticket = Ticket.open(
                tracking_number=new_tracking_number(),
                id_number=id_number,
                requester=Requester.of(actor),
                at=now,
                notify=self.people.contacts(actor, subject=subject, at=now),
                problem_type=problem_type,
                procedure=procedure,
                description=description,
                attachments=records,
            )
            # Contents go outside the store, only once the ticket is valid; a lost race leaves none behind
            # that another ticket would not also name (content-addressed).
            for upload in uploads:
                self.attachments.put(upload.content, upload.sha256)
            return Changes([ticket], {"tracking_number": ticket.tracking_number, "status": ticket.status})

        return self.writer.commit(build, claim=claim)

    def change_status(
        self,
        actor: Actor,
        tracking_number: str,
        *,
        status: str,
        message: str | None,
        claim: IdempotencyClaim | None = None,
    ) -> Answer:
        """An officer moves the ticket on with a message for its owner."""

        def build() -> Changes:
            now = self.clock()
            ticket = self._visible(actor, tracking_number, officers_only=True)
            notify = self.people.requester_contacts(ticket.requester, id_number=ticket.id_number, at=now)
            ticket.change_status(status=status, message=message, officer=actor, at=now, notify=notify)
            return Changes([ticket], ticket_view(ticket))

        return self.writer.commit(build, claim=claim)

    def reply(
        self,
        actor: Actor,
        tracking_number: str,
        *,
        message: str | None,
        claim: IdempotencyClaim | None = None,
    ) -> Answer:
        """The owner adds a message (while the ticket is not closed)."""

        def build() -> Changes:
            now = self.clock()
            ticket = self._visible(actor, tracking_number, owner_only=True)
            notify = self.people.requester_contacts(ticket.requester, id_number=ticket.id_number, at=now)
            ticket.reply(message=message, at=now, notify=notify)
            return Changes([ticket], ticket_view(ticket))

        return self.writer.commit(build, claim=claim)

    def get(self, actor: Actor, tracking_number: str) -> dict[str, Any]:
        """One ticket, for its owner and officers (404 for anyone else)."""
        return ticket_view(self._visible(actor, tracking_number))

    def attachment(self, actor: Actor, tracking_number: str, sha256: str) -> tuple[dict[str, Any], bytes]:
        """One attachment's record and content, for the ticket's owner and officers."""
        ticket = self._visible(actor, tracking_number)
        for record in ticket.attachments:
            if record["sha256"] == sha256.lower():
                content = self.attachments.get(record["sha256"])
                if content is not None:
                    return dict(record), content
        raise RequestNotFound(f"ticket {ticket.tracking_number} has no attachment {sha256}")

    def list(self, actor: Actor, *, status: str | None, limit: int, cursor: str | None) -> Page:
        """The owner's tickets, or for officers every ticket (`status="received"`: the newest work)."""
        requester = None if actor.is_officer else actor.key
        return self.listing.page(KIND, requester=requester, status=status, limit=limit, cursor=cursor)

    def _visible(
        self, actor: Actor, tracking_number: str, *, officers_only: bool = False, owner_only: bool = False
    ) -> Ticket:
        number = parse_tracking_number(tracking_number)
        found = self.writer.find(ticket_id(number))
        ticket = found if isinstance(found, Ticket) else None
        is_owner = ticket is not None and ticket.requester.is_actor(actor)
        allowed = (actor.is_officer and not owner_only) or (is_owner and not officers_only)
        if ticket is None or not allowed:
            raise RequestNotFound(f"no ticket {number}")
        return ticket
