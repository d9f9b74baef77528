"""The daily digest job: folds each establishment's open digest items into one `Digest` per day.

The fan-out keeps the e-mails an establishment folds into its digest (passport-expiry warnings, when it
chose so) as open `digest_items`. Once a day (`JAWAZAT_DIGEST_JOB_TIME`, after the expiry job) this job
records, per establishment and notification type with open items, ONE `Digest.Prepared` under the
deterministic id of (establishment, business day, type), listing the items (at most `MAX_ITEMS`; the
rest wait for the next day). The store refuses a second digest of the same id, so a re-run, a concurrent
scheduler or a restart after a crash can never make two; the fan-out turns the digest into one e-mail
alert and closes the items it lists. Items fanned out after the day's digest was made go in the next one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, cast

from eventsourcing.persistence import IntegrityError

from jawazat_events.domain.digest import MAX_ITEMS, Digest, digest_id
from jawazat_events.domain.establishment import Establishment
from jawazat_events.domain.identifiers import establishment_id


class OpenItems(Protocol):
    """The digest items no digest lists yet (the read model of `projections.channel_fanout`)."""

    def open_items(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """By (establishment, notification type), oldest first: event_id, event_type, id_number,
        name_ar, name_en, fields."""
        ...


@dataclass
class DigestReport:
    """What one run of the job did."""

    day: date
    prepared: int = 0
    items: int = 0
    already: int = 0
    no_address: list[str] = field(default_factory=list)

    def summary(self) -> str:
        skipped = f"; no default e-mail for {', '.join(self.no_address)}" if self.no_address else ""
        return (
            f"digests {self.day.isoformat()}: prepared {self.prepared} listing {self.items} warning(s); "
            f"{self.already} already made today{skipped}"
        )


class DigestJob:
    """Records the day's digests, once each."""

    def __init__(self, *, app: Any, items: OpenItems) -> None:
        self.app = app
        self.items = items

    def run(self, *, today: date) -> DigestReport:
        report = DigestReport(day=today)
        groups = self.items.open_items()
        if not groups:
            return report
        keys = {establishment_id(unified) for unified, _ in groups}
        with self.app.batch_lock:
            establishments = self.app.load_many(keys)
            existing = self.app.load_many(digest_id(unified, today, kind) for unified, kind in groups)
        for (unified, kind), items in sorted(groups.items()):
            if digest_id(unified, today, kind) in existing:
                report.already += 1
                continue
            establishment = cast("Establishment | None", establishments.get(establishment_id(unified)))
            if establishment is None or not establishment.email:
                report.no_address.append(unified)
                continue
            listed = _listed(items[:MAX_ITEMS])
            digest = Digest(
                unified_number=unified,
                day=today,
                notification_type=kind,
                recipient=establishment.email,
                language=establishment.language,
                items=listed,
            )
            try:
                with self.app.batch_lock:
                    self.app.save(digest)
            except IntegrityError:  # another run made it first: that one stands
                report.already += 1
                continue
            report.prepared += 1
            report.items += len(listed)
        return report


def _listed(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    keys = ("event_id", "event_type", "id_number", "name_ar", "name_en", "fields")
    return [{key: item.get(key) for key in keys} for item in items]
