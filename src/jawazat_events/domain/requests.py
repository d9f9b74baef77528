"""What every e-service request shares: statuses, refusals, the requester's contacts, the event base.

A request (travel permit, Makkah permit, support ticket) is an aggregate whose every status change is an
event carrying the person concerned, the requester and the contacts to notify at that moment, so that the
notifications, the auditors' timeline and the read models are all functions of the store alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.errors import DomainError, InvalidValue
from jawazat_events.domain.text import clean_text

# The notification type of every message to a requester (establishments keep their four types).
REQUEST_STATUS = "request_status"
# Prefix of the event ids of request events (reserved in feeds: `feed.RESERVED_EVENT_ID_PREFIXES`).
EVENT_ID_PREFIX = "eservice:"


class PermitStatus(StrEnum):
    """Where a travel or Makkah permit stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    REVOKED = "revoked"


ACTIVE_PERMIT = (PermitStatus.PENDING, PermitStatus.APPROVED)


class Decision(StrEnum):
    """An officer's decision on a pending permit."""

    APPROVE = "approve"
    REJECT = "reject"


class RequestNotFound(DomainError):
    """No such request, or the caller may not see or act on it (the same answer for both)."""


class RequestConflict(DomainError):
    """The request's current state does not allow this (already decided, overlapping, duplicate…)."""


class NotEligible(DomainError):
    """An eligibility or validity rule refused the request; names the field and the rule."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message} (rule: {rule})")
        self.field = field
        self.rule = rule


MAX_REASON_LENGTH = 1000


def plain_text(text: str, *, field: str, max_length: int) -> str:
    """Free text a requester or officer wrote, with runs of spaces and line breaks made one space, held to
    the one text rule (`domain.text`: NFC, no control or bidirectional characters, not only invisible
    ones); `NotEligible` with rule `plain_text` otherwise. Empty text stays empty."""
    collapsed = " ".join(text.split())
    if not collapsed:
        return ""
    try:
        return clean_text(collapsed, field=field, max_length=max_length)
    except InvalidValue as error:
        raise NotEligible(field, "plain_text", str(error).removeprefix(f"{field} ")) from None


def check_reason(reason: str | None, *, required: bool, field: str = "reason") -> str:
    """A decision's reason or a message: one line of plain text (it is repeated in the requester's SMS
    and e-mail), at most 1,000 characters, required where a rule says."""
    cleaned = " ".join((reason or "").split())
    if required and not cleaned:
        raise NotEligible(field, f"{field}_required", f"{field} is required")
    if len(cleaned) > MAX_REASON_LENGTH:
        raise NotEligible(field, f"{field}_length", f"{field} must be at most {MAX_REASON_LENGTH} characters")
    return plain_text(cleaned, field=field, max_length=MAX_REASON_LENGTH)


@dataclass(frozen=True)
class Contacts:
    """Where the requester is told about a status change, and in which language."""

    mobile: str | None = None
    email: str | None = None
    language: str = "ar"


@dataclass(frozen=True)
class Requester:
    """Who made a request, as the request records it."""

    kind: str  # ActorKind value
    principal: str

    @classmethod
    def of(cls, actor: Actor) -> Requester:
        return cls(actor.kind.value, actor.principal)

    def is_actor(self, actor: Actor) -> bool:
        return self.kind == actor.kind.value and self.principal == actor.principal

    @property
    def key(self) -> str:
        """`individual:2…` or `establishment:7…` (as `Actor.key`), for listings by requester."""
        return f"{self.kind}:{self.principal}"

    @property
    def establishment(self) -> str:
        """The establishment's unified number when an establishment asked, else ''."""
        return self.principal if self.kind == ActorKind.ESTABLISHMENT.value else ""


class RequestEvent(Aggregate.Event):
    """Base of every request event: identity, the person concerned, the requester and whom to notify."""

    contract_type: ClassVar[str] = ""
    request_kind: ClassVar[str] = ""
    event_id: str
    request_id: str  # the permit id, or the ticket's tracking number
    id_number: str  # the person concerned; '' for an establishment's ticket about no one
    occurred_at: datetime
    status: str  # the request's status after this event
    requester_kind: str
    requester: str
    notify_mobile: str | None
    notify_email: str | None
    language: str


def event_id_for(kind: str, aggregate_id: UUID, version: int) -> str:
    """The id of a request event: kind, request and version (unique, and stable across replays)."""
    return f"{EVENT_ID_PREFIX}{kind}:{aggregate_id}:{version}"


def request_fields(
    *,
    kind: str,
    aggregate_id: UUID,
    request_id: str,
    version: int,
    id_number: str,
    requester: Requester,
    at: datetime,
    status: str,
    notify: Contacts,
) -> dict[str, Any]:
    """The fields every request event carries (`version`: the version the new event will have)."""
    return {
        "event_id": event_id_for(kind, aggregate_id, version),
        "request_id": request_id,
        "id_number": id_number,
        "occurred_at": at,
        "status": str(status),
        "requester_kind": requester.kind,
        "requester": requester.principal,
        "notify_mobile": notify.mobile,
        "notify_email": notify.email,
        "language": notify.language,
    }


class RequestAggregate(Aggregate):
    """Base of the request aggregates: who asked about whom, and the fields of their next event."""

    kind: ClassVar[str] = ""
    if TYPE_CHECKING:  # set by each subclass's creation event (not class attributes: the library's
        # metaclass would take annotations for fields of a creation event of its own)
        request_id: str
        id_number: str
        status: str
        requester: Requester

    def next_fields(self, *, at: datetime, status: str, notify: Contacts) -> dict[str, Any]:
        """The common fields of this request's next event."""
        return request_fields(
            kind=self.kind,
            aggregate_id=self.id,
            request_id=getattr(self, "request_id", ""),
            version=self.version + 1,
            id_number=getattr(self, "id_number", ""),
            requester=getattr(self, "requester", Requester("", "")),
            at=at,
            status=status,
            notify=notify,
        )

    def require_status(self, allowed: tuple[str, ...], doing: str) -> None:
        """Refuse (409) a step the current status does not allow."""
        status = getattr(self, "status", "")
        if status not in allowed:
            raise RequestConflict(
                f"this {self.kind.replace('_', ' ')} is {status}: it cannot be {doing} "
                f"(only when {' or '.join(allowed)})"
            )


class OfficerStep(RequestEvent):
    """Base of the events of an officer's step on a permit: the new status, the reason and who."""

    reason: str
    officer: str

    def apply(self, aggregate: Any) -> None:
        aggregate.status = self.status
        aggregate.reason = self.reason


class PermitAggregate(RequestAggregate):
    """Base of travel and Makkah permits: officers' decisions, and whether the permit holds its window.

    Each subclass nests its own `Decided(OfficerStep)` event class (its own stored topic)."""

    Decided: ClassVar[type[OfficerStep]]

    def decide(
        self, *, decision: Decision, reason: str | None, officer: Actor, at: datetime, notify: Contacts
    ) -> None:
        """An officer approves or rejects the pending permit (a reason is required to reject)."""
        self.require_status((PermitStatus.PENDING,), "decided")
        why = check_reason(reason, required=decision is Decision.REJECT)
        status = PermitStatus.APPROVED if decision is Decision.APPROVE else PermitStatus.REJECTED
        fields = self.next_fields(at=at, status=status, notify=notify)
        self.trigger_event(self.Decided, **fields, reason=why, officer=officer.key)

    @property
    def active(self) -> bool:
        """Pending or approved: it holds its window in the person's ledger."""
        return getattr(self, "status", "") in ACTIVE_PERMIT
