"""Request and response bodies of the e-services' routes (passports, travel and Makkah permits, tickets)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from jawazat_events.api.schemas import IdNumber

Reason = Annotated[str, StringConstraints(max_length=1000)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PassportUpdate(_Request):
    """The renewed passport's data, as on the passport itself."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"passport_number": "P7654321", "issue_date": "2026-05-01", "expiry_date": "2036-04-30"}
            ]
        },
    )

    passport_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    issue_date: date
    expiry_date: date


class PassportOut(BaseModel):
    """The passport now on the person's record."""

    id_number: str
    passport_number: str
    issue_date: str
    expiry_date: str
    event_id: str


class TravelPermitCreate(_Request):
    """A guardian's request for a dependant's travel permit."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"id_number": "2000000006", "valid_from": "2026-08-01", "valid_until": "2026-08-31"}]
        },
    )

    id_number: IdNumber
    valid_from: date
    valid_until: date


class Created(BaseModel):
    """A new request and its first status."""

    permit_id: str
    status: str


class DecisionIn(_Request):
    """An officer's decision; a reason is required to reject."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"decision": "reject", "reason": "missing documents"}]},
    )

    decision: Literal["approve", "reject"]
    reason: Reason | None = None


class RevokeIn(_Request):
    """Why an approved permit is revoked."""

    reason: Reason


class TravelPermitOut(BaseModel):
    """A travel permit as its guardian and officers see it."""

    permit_id: str
    id_number: str
    guardian: str
    status: str
    valid_from: str
    valid_until: str
    requested_at: str
    reason: str | None


class Document(_Request):
    """A document attached to an application, referenced by the SHA-256 of its content."""

    name: Annotated[str, StringConstraints(max_length=200)]
    sha256: Annotated[str, StringConstraints(max_length=64)]


class MakkahPermitCreate(_Request):
    """An application to enter Makkah in a Hajj season (the season's Hijri year)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id_number": "2000000006",
                    "season": "1448",
                    "documents": [{"name": "contract.pdf", "sha256": "ab" * 32}],
                }
            ]
        },
    )

    id_number: IdNumber
    season: Annotated[str, StringConstraints(max_length=8)]
    documents: Annotated[list[Document], Field(max_length=50)]


class Applicant(BaseModel):
    kind: str
    id: str


class MakkahPermitOut(BaseModel):
    """A Makkah permit as its applicant and officers see it."""

    permit_id: str
    id_number: str
    season: str
    applicant: Applicant
    status: str
    valid_from: str
    valid_until: str
    documents: list[dict[str, str]]
    requested_at: str
    reason: str | None


class PermitListItem(BaseModel):
    """One permit in a listing (oldest first)."""

    model_config = ConfigDict(extra="allow")

    permit_id: str
    id_number: str
    status: str
    valid_from: str | None
    valid_until: str | None
    requested_at: str
    updated_at: str
    reason: str | None


class PermitPage(BaseModel):
    items: list[PermitListItem]
    next_cursor: str | None


class TicketCreated(BaseModel):
    """A new ticket: its tracking number and first status."""

    tracking_number: str
    status: str


class TicketStatusIn(_Request):
    """An officer's status change, with a message for the ticket's owner."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "needs_information", "message": "attach the receipt"}]},
    )

    status: Literal["in_progress", "needs_information", "resolved", "closed"]
    message: Reason | None = None


class TicketMessageIn(_Request):
    """The owner's reply."""

    message: Annotated[str, StringConstraints(max_length=1000)]


class TicketOut(BaseModel):
    """A ticket as its owner and officers see it."""

    tracking_number: str
    status: str
    owner: Applicant
    problem_type: str
    procedure: str
    description: str
    attachments: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    received_at: str


class TicketListItem(BaseModel):
    tracking_number: str
    status: str
    problem_type: str | None
    procedure: str | None
    requested_at: str
    updated_at: str


class TicketPage(BaseModel):
    items: list[TicketListItem]
    next_cursor: str | None
