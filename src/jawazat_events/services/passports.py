"""Renewed passports entered by the person, their guardian or their sponsoring establishment.

The renewal goes through the same domain command as a feed's `passport_renewed` (the same rules, the same
event), saved with a source event id of its own, so everything that follows renewals (alerts to
subscribed establishments, the expiry calendar, the expiry job's check of the current passport) follows
this one too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime

from jawazat_events.domain.actors import Actor
from jawazat_events.domain.plausible import check_document_date
from jawazat_events.domain.requests import EVENT_ID_PREFIX
from jawazat_events.domain.text import parse_code
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.idempotency import Answer, Changes, IdempotencyClaim, RequestWriter
from jawazat_events.services.people import PeopleRecords


class PassportService:
    """`POST /v1/people/{id_number}/passport` and its CLI/portal equivalents."""

    def __init__(
        self,
        *,
        app: JawazatApplication,
        clock: Callable[[], datetime],
        today: Callable[[], date],
    ) -> None:
        self.app = app
        self.clock = clock
        self.today = today
        self.people = PeopleRecords(app)
        self.writer = RequestWriter(app)

    def renew(
        self,
        actor: Actor,
        id_number: str,
        *,
        passport_number: str,
        issue_date: date,
        expiry_date: date,
        claim: IdempotencyClaim | None = None,
    ) -> Answer:
        """Record the person's renewed passport; 404 (`RequestNotFound`) for anyone who may not."""
        # The feed's own rules for the fields: the text rule and the plausible dates (`domain.plausible`).
        number = parse_code(passport_number, field="passport_number")
        for field, day in (("issue_date", issue_date), ("expiry_date", expiry_date)):
            check_document_date(day, today=self.today(), field=field)
        event_id = f"{EVENT_ID_PREFIX}passport:{uuid.uuid4()}"

        def build() -> Changes:
            now = self.clock()
            person = self.people.acting_for(actor, id_number, at=now)
            person.renew_passport(
                event_id=event_id,
                occurred_at=now,
                passport_number=number,
                issue_date=issue_date,
                expiry_date=expiry_date,
                today=self.today(),
            )
            answer = {
                "id_number": person.id_number,
                "passport_number": number,
                "issue_date": issue_date.isoformat(),
                "expiry_date": expiry_date.isoformat(),
                "event_id": event_id,
            }
            return Changes([person], answer, event_keys=[(event_id, person.id, person.version)])

        return self.writer.commit(build, claim=claim)
