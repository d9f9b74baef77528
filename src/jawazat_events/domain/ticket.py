"""The Ticket aggregate (Tawasul): a support request about a failed transaction, and its tracking number.

A tracking number is ten symbols of Crockford's base 32 (no I, L, O or U, so it reads well over the
phone), shown as two groups of five: nine random symbols (45 bits, from the operating system's random
source, so one number says nothing about another) and a Luhn mod 32 check symbol, which catches every
single mistyped symbol and almost every swap of neighbours. Officers move the ticket through its statuses
with a message each time; the owner may reply until it is closed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from jawazat_events.domain.actors import Actor
from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.identifiers import NAMESPACE
from jawazat_events.domain.requests import (
    Contacts,
    NotEligible,
    RequestAggregate,
    RequestConflict,
    Requester,
    RequestEvent,
    check_reason,
    plain_text,
    request_fields,
)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_SYMBOLS = 9
# Symbols people read for others: accepted as the Crockford symbol they look like.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
MAX_PROCEDURE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 5000
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024


class ProblemType(StrEnum):
    """What went wrong (the documented list)."""

    TRANSACTION_FAILED = "transaction_failed"
    DATA_MISMATCH = "data_mismatch"
    PAYMENT_ISSUE = "payment_issue"
    ACCESS_ISSUE = "access_issue"
    OTHER = "other"


class TicketStatus(StrEnum):
    """Where a ticket stands; `closed` is final."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    NEEDS_INFORMATION = "needs_information"
    RESOLVED = "resolved"
    CLOSED = "closed"


OFFICER_STATUSES = (
    TicketStatus.IN_PROGRESS,
    TicketStatus.NEEDS_INFORMATION,
    TicketStatus.RESOLVED,
    TicketStatus.CLOSED,
)
OPEN_STATUSES = (
    TicketStatus.RECEIVED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.NEEDS_INFORMATION,
    TicketStatus.RESOLVED,
)
# Content types accepted for attachments, by their first bytes (never by the file's name).
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_content_type(head: bytes) -> str | None:
    """PDF, PNG or JPEG from the content's first bytes; None for anything else."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def _luhn_sum(symbols: str, *, double_first: bool) -> int:
    total, double = 0, double_first
    for symbol in reversed(symbols):
        value = ALPHABET.index(symbol) * (2 if double else 1)
        total += value // 32 + value % 32
        double = not double
    return total


def check_symbol(payload: str) -> str:
    """The Luhn mod 32 check symbol of a payload of Crockford symbols."""
    return ALPHABET[(32 - _luhn_sum(payload, double_first=True) % 32) % 32]


def _shown(symbols: str) -> str:
    return f"{symbols[:5]}-{symbols[5:]}"


def new_tracking_number(choose: Callable[[str], str] = secrets.choice) -> str:
    """A fresh tracking number: nine random symbols and the check symbol, as `XXXXX-XXXXX`."""
    payload = "".join(choose(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return _shown(payload + check_symbol(payload))


def parse_tracking_number(raw: str) -> str:
    """The canonical `XXXXX-XXXXX` form of a tracking number as someone typed it (any case, dashes or
    spaces anywhere, O/I/L for 0/1), or raise `InvalidValue` saying what is wrong."""
    symbols = "".join(raw.upper().split()).replace("-", "").translate(_LOOKALIKES)
    if len(symbols) != RANDOM_SYMBOLS + 1 or any(s not in ALPHABET for s in symbols):
        raise InvalidValue(
            f"tracking_number '{raw}' must be ten letters and digits, e.g. 7K3M9-QX2CB (no I, L, O or U)"
        )
    if _luhn_sum(symbols, double_first=False) % 32 != 0:
        raise InvalidValue(f"tracking_number '{raw}' is not valid: its check symbol does not match (a typo?)")
    return _shown(symbols)


def ticket_id(tracking_number: str) -> UUID:
    """The deterministic aggregate id of the ticket with this (canonical) tracking number."""
    return uuid5(NAMESPACE, f"ticket:{tracking_number}")


def check_ticket_text(*, procedure: str, description: str) -> tuple[str, str]:
    """The failed procedure (1-200 characters of plain text) and the description (1-5,000), trimmed."""
    cleaned_procedure = " ".join(procedure.split())
    cleaned_description = description.strip()
    if not cleaned_procedure:
        raise NotEligible("procedure", "procedure_required", "name the procedure that failed")
    if len(cleaned_procedure) > MAX_PROCEDURE_LENGTH:
        raise NotEligible(
            "procedure", "procedure_length", f"must be at most {MAX_PROCEDURE_LENGTH} characters"
        )
    if not cleaned_description:
        raise NotEligible("description", "description_required", "describe the problem")
    if len(cleaned_description) > MAX_DESCRIPTION_LENGTH:
        raise NotEligible(
            "description", "description_length", f"must be at most {MAX_DESCRIPTION_LENGTH} characters"
        )
    # The procedure is a name shown to officers and owners: the one text rule. The description keeps its
    # line breaks (it is the owner's account, never put into a message).
    return plain_text(
        cleaned_procedure, field="procedure", max_length=MAX_PROCEDURE_LENGTH
    ), cleaned_description


class Ticket(RequestAggregate):
    """One support request, its attachments' records, and its messages both ways."""

    kind = "ticket"

    @staticmethod
    def create_id(tracking_number: str, **_: Any) -> UUID:
        return ticket_id(tracking_number)

    class Received(RequestAggregate.Created, RequestEvent):
        contract_type = "ticket_received"
        tracking_number: str
        problem_type: str
        procedure: str
        description: str
        attachments: list[dict[str, Any]]

    @event(Received)
    def __init__(
        self,
        *,
        tracking_number: str,
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
        problem_type: str,
        procedure: str,
        description: str,
        attachments: list[dict[str, Any]],
    ) -> None:
        self.tracking_number = tracking_number
        self.request_id = request_id
        self.id_number = id_number
        self.requester = Requester(requester_kind, requester)
        self.status = status
        self.problem_type = problem_type
        self.procedure = procedure
        self.description = description
        self.attachments = [dict(a) for a in attachments]
        self.received_at = occurred_at
        self.messages: list[dict[str, Any]] = []

    @classmethod
    def open(
        cls,
        *,
        tracking_number: str,
        id_number: str,
        requester: Requester,
        at: datetime,
        notify: Contacts,
        problem_type: str,
        procedure: str,
        description: str,
        attachments: list[dict[str, Any]],
    ) -> Ticket:
        """A new ticket, status `received`."""
        try:
            problem = ProblemType(problem_type)
        except ValueError:
            known = ", ".join(p.value for p in ProblemType)
            raise NotEligible(
                "problem_type", "problem_type", f"'{problem_type}' is not a problem type (known: {known})"
            ) from None
        cleaned_procedure, cleaned_description = check_ticket_text(
            procedure=procedure, description=description
        )
        if len(attachments) > MAX_ATTACHMENTS:
            raise NotEligible("attachments", "attachments_count", f"at most {MAX_ATTACHMENTS} attachments")
        return cls(
            tracking_number=tracking_number,
            problem_type=problem.value,
            procedure=cleaned_procedure,
            description=cleaned_description,
            attachments=attachments,
            **request_fields(
                kind=cls.kind,
                aggregate_id=ticket_id(tracking_number),
                request_id=tracking_number,
                version=1,
                id_number=id_number,
                requester=requester,
                at=at,
                status=TicketStatus.RECEIVED,
                notify=notify,
            ),
        )

    class StatusChanged(RequestEvent):
        contract_type = "ticket_status_changed"
        message: str
        officer: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = self.status
            aggregate.messages.append(
                {"at": self.occurred_at, "by": "officer", "status": self.status, "message": self.message}
            )

    def change_status(
        self, *, status: str, message: str | None, officer: Actor, at: datetime, notify: Contacts
    ) -> None:
        """An officer moves the ticket on, with a message for the owner."""
        try:
            new = TicketStatus(status)
        except ValueError:
            new = None
        if new not in OFFICER_STATUSES:
            known = ", ".join(s.value for s in OFFICER_STATUSES)
            raise NotEligible(
                "status", "ticket_status", f"'{status}' is not a status officers set (known: {known})"
            )
        self.require_status(OPEN_STATUSES, "changed")
        if new == self.status:
            raise RequestConflict(f"the ticket is already {new.value}")
        text = check_reason(message, required=new is TicketStatus.NEEDS_INFORMATION, field="message")
        fields = self.next_fields(at=at, status=new, notify=notify)
        self.trigger_event(self.StatusChanged, **fields, message=text, officer=officer.key)

    class Replied(RequestEvent):
        contract_type = "ticket_message_added"
        message: str

        def apply(self, aggregate: Any) -> None:
            aggregate.messages.append(
                {"at": self.occurred_at, "by": "owner", "status": self.status, "message": self.message}
            )

    def reply(self, *, message: str | None, at: datetime, notify: Contacts) -> None:
        """The owner answers (the status stays as the officer left it)."""
        self.require_status(OPEN_STATUSES, "replied to")
        text = check_reason(message, required=True, field="message")
        self.trigger_event(
            self.Replied, **self.next_fields(at=at, status=self.status, notify=notify), message=text
        )
