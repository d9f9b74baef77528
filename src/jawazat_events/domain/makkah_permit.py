"""The MakkahPermit aggregate: a permit to enter Makkah in one Hajj season, and who may ask for it.

A season is a Hijri year; its permits are valid from 1 Shawwal to 15 Dhu al-Hijjah of that year (the
calendar itself lives outside the domain, see `services.hajj_seasons`). Individuals apply for themselves or
a dependant of an eligible category; establishments apply for a person they sponsor when they are based in
Makkah or the person holds a valid seasonal-work visa. One pending or approved permit per person and season
(guaranteed by the person's `PermitLedger` for that season). Officers approve, reject (with a reason) or
revoke an approved permit (with a reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.person import PersonDetails, Visa
from jawazat_events.domain.requests import (
    Contacts,
    NotEligible,
    OfficerStep,
    PermitAggregate,
    PermitStatus,
    Requester,
    RequestEvent,
    check_reason,
    plain_text,
    request_fields,
)

# The individuals' platform serves these categories (docs/eservices.md); others go through their
# establishment.
INDIVIDUAL_CATEGORIES = (
    "domestic_worker",
    "dependant",
    "premium_residency",
    "investor",
    "citizen",
    "gcc_citizen",
)
# How an establishment's city may be written when it is Makkah (compared without case and spaces).
MAKKAH_NAMES = frozenset({"makkah", "mecca", "makkahalmukarramah", "مكة", "مكةالمكرمة"})
MAX_DOCUMENTS = 10
_SEASON = re.compile(r"\d{4}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_OVERRIDE = re.compile(r"\s*(\d{4})\s*=\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*")


@dataclass(frozen=True)
class SeasonWindow:
    """The days a season's permits are valid (and applications accepted until `closes`)."""

    season: str
    opens: date
    closes: date


def parse_season(raw: object) -> str:
    """A season is the Hijri year of the Hajj as four digits (`"1448"`)."""
    if not isinstance(raw, str) or not _SEASON.fullmatch(raw.strip()):
        raise InvalidValue(f"season '{raw}' must be the Hijri year of the Hajj as four digits, e.g. '1448'")
    return raw.strip()


def parse_season_overrides(text: str) -> dict[str, SeasonWindow]:
    """`JAWAZAT_HAJJ_SEASONS`: comma-separated `YEAR=YYYY-MM-DD..YYYY-MM-DD` (Gregorian, days included)."""
    windows: dict[str, SeasonWindow] = {}
    for part in (p for p in text.split(",") if p.strip()):
        found = _OVERRIDE.fullmatch(part)
        if not found:
            raise InvalidValue(
                f"'{part.strip()}' must read YEAR=YYYY-MM-DD..YYYY-MM-DD, e.g. 1448=2027-03-09..2027-05-21"
            )
        season, start, end = found.groups()
        try:
            opens, closes = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError as error:
            raise InvalidValue(f"'{part.strip()}': {error}") from None
        if closes < opens:
            raise InvalidValue(f"'{part.strip()}': the season ends before it starts")
        windows[season] = SeasonWindow(season, opens, closes)
    return windows


def is_makkah(city: str | None) -> bool:
    """Whether an establishment's city is Makkah, however it was written."""
    return bool(city) and "".join((city or "").lower().replace("-", " ").split()) in MAKKAH_NAMES


def check_documents(raw: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """At least one, at most ten documents, each a name and the SHA-256 of its content."""
    if not raw:
        raise NotEligible("documents", "documents_required", "attach at least one document (name and sha256)")
    if len(raw) > MAX_DOCUMENTS:
        raise NotEligible("documents", "documents_count", f"at most {MAX_DOCUMENTS} documents")
    documents: list[dict[str, str]] = []
    for index, item in enumerate(raw):
        name = " ".join(str(item.get("name") or "").split())
        digest = str(item.get("sha256") or "").strip().lower()
        if not name or len(name) > 200:
            raise NotEligible(
                f"documents.{index}.name", "document_name", "a document needs a name of 1-200 characters"
            )
        if not _SHA256.fullmatch(digest):
            raise NotEligible(
                f"documents.{index}.sha256",
                "document_hash",
                "must be the document's SHA-256 as 64 hex digits",
            )
        documents.append(
            {"name": plain_text(name, field=f"documents.{index}.name", max_length=200), "sha256": digest}
        )
    return documents


def has_valid_seasonal_visa(visas: Iterable[Visa], day: date) -> bool:
    """A seasonal-work visa not cancelled, used or expired, whose validity has not ended by `day`."""
    return any(
        visa.visa_type == "seasonal_work"
        and visa.status in ("issued", "extended")
        and (visa.valid_until is None or visa.valid_until >= day)
        for visa in visas
    )


def person_category(id_number: str, details: PersonDetails) -> str | None:
    """The category on record; an ID number starting with 1 is a citizen's whatever the record says."""
    if details.category is None and id_number.startswith("1"):
        return "citizen"
    return details.category


def check_makkah_eligibility(
    *,
    channel: ActorKind,
    id_number: str,
    details: PersonDetails,
    establishment_city: str | None,
    visas: Iterable[Visa],
    day: date,
) -> None:
    """The contract's eligibility by channel and category, on the request's day."""
    if channel is ActorKind.INDIVIDUAL:
        category = person_category(id_number, details)
        if category not in INDIVIDUAL_CATEGORIES:
            shown = f"'{category}'" if category else "not on record"
            raise NotEligible(
                "id_number",
                "individual_category",
                f"the person's category is {shown}: the individuals' channel serves "
                f"{', '.join(INDIVIDUAL_CATEGORIES)}; a worker's sponsoring establishment applies",
            )
        return
    if not is_makkah(establishment_city) and not has_valid_seasonal_visa(visas, day):
        raise NotEligible(
            "id_number",
            "makkah_establishment_or_seasonal_visa",
            "the establishment is not based in Makkah and the person holds no valid seasonal_work visa",
        )


class MakkahPermit(PermitAggregate):
    """One application to enter Makkah in one Hajj season."""

    kind = "makkah_permit"

    @staticmethod
    def create_id(permit_id: str, **_: Any) -> UUID:
        return UUID(permit_id)

    class Requested(PermitAggregate.Created, RequestEvent):
        contract_type = "makkah_permit_requested"
        permit_id: str
        season: str
        valid_from: date
        valid_until: date
        documents: list[dict[str, str]]

    @event(Requested)
    def __init__(
        self,
        *,
        permit_id: str,
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
        season: str,
        valid_from: date,
        valid_until: date,
        documents: list[dict[str, str]],
    ) -> None:
        self.permit_id = permit_id
        self.request_id = request_id
        self.id_number = id_number
        self.requester = Requester(requester_kind, requester)
        self.status = status
        self.season = season
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.documents = [dict(d) for d in documents]
        self.requested_at = occurred_at
        self.reason = ""

    @classmethod
    def request(
        cls,
        *,
        permit_id: str,
        id_number: str,
        requester: Requester,
        at: datetime,
        notify: Contacts,
        window: SeasonWindow,
        documents: list[dict[str, str]],
    ) -> MakkahPermit:
        """A new pending application, valid for the season's window once approved."""
        return cls(
            permit_id=permit_id,
            season=window.season,
            valid_from=window.opens,
            valid_until=window.closes,
            documents=documents,
            **request_fields(
                kind=cls.kind,
                aggregate_id=UUID(permit_id),
                request_id=permit_id,
                version=1,
                id_number=id_number,
                requester=requester,
                at=at,
                status=PermitStatus.PENDING,
                notify=notify,
            ),
        )

    class Decided(OfficerStep):
        contract_type = "makkah_permit_decided"

    class Revoked(OfficerStep):
        contract_type = "makkah_permit_revoked"

    def revoke(self, *, reason: str | None, officer: Actor, at: datetime, notify: Contacts) -> None:
        """An officer revokes an approved permit, with a reason."""
        self.require_status((PermitStatus.APPROVED,), "revoked")
        why = check_reason(reason, required=True)
        fields = self.next_fields(at=at, status=PermitStatus.REVOKED, notify=notify)
        self.trigger_event(self.Revoked, **fields, reason=why, officer=officer.key)
