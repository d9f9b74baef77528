"""The PermitLedger aggregate: a person's active permits of one kind (and season), the store's guarantee
against duplicates.

Every permit that is pending or approved holds its validity window in its person's ledger, saved in the
same transaction as the permit. The ledger has a deterministic id (kind, ID number, scope), so two
concurrent requests for the same person both write the ledger's next version and the store refuses the
second: "no overlapping permits" and "one permit per season" hold under concurrency, not only in a check.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from jawazat_events.domain.identifiers import NAMESPACE
from jawazat_events.domain.requests import RequestConflict


def ledger_id(kind: str, id_number: str, scope: str = "") -> UUID:
    """The deterministic id of one person's ledger for one kind of permit (and scope, e.g. a season)."""
    return uuid5(NAMESPACE, f"permit-ledger:{kind}:{id_number}:{scope}")


class PermitLedger(Aggregate):
    """Windows of one person's active permits of one kind; overlapping windows are refused."""

    @staticmethod
    def create_id(kind: str, id_number: str, scope: str = "", **_: Any) -> UUID:
        return ledger_id(kind, id_number, scope)

    class Opened(Aggregate.Created):
        kind: str
        id_number: str
        scope: str

    @event(Opened)
    def __init__(self, *, kind: str, id_number: str, scope: str) -> None:
        self.kind = kind
        self.id_number = id_number
        self.scope = scope
        self.held: dict[str, tuple[date, date]] = {}

    class Held(Aggregate.Event):
        permit_id: str
        valid_from: date
        valid_until: date

    def hold(self, *, permit_id: str, valid_from: date, valid_until: date, conflict: str) -> None:
        """Hold a window for a new active permit; `conflict` is the sentence when one overlaps."""
        for other, (start, end) in sorted(self.held.items()):
            if start <= valid_until and valid_from <= end and other != permit_id:
                raise RequestConflict(f"{conflict} (permit {other}, {start} to {end})")
        self._held(permit_id=permit_id, valid_from=valid_from, valid_until=valid_until)

    @event(Held)
    def _held(self, *, permit_id: str, valid_from: date, valid_until: date) -> None:
        self.held[permit_id] = (valid_from, valid_until)

    class Released(Aggregate.Event):
        permit_id: str

    def release(self, permit_id: str) -> None:
        """The permit is no longer active (rejected, cancelled, revoked): its window is free again."""
        if permit_id in self.held:
            self._released(permit_id=permit_id)

    @event(Released)
    def _released(self, *, permit_id: str) -> None:
        self.held.pop(permit_id, None)
