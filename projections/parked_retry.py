"""Re-applying parked events once their cause is fixed (`jawazat projections retry-parked`).

Each parked event is read back from the store at its position, decoded, and applied by its read model in
one transaction that also removes it from the parked list: a repeated or concurrent run never applies an
event twice. One that fails again stays parked with the new error. A read model whose rows are versions by
position (`ReadModel.retry_in_place` False: the subscription index) cannot take an old event in place; its
parked events stay and the report says to rebuild it instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from jawazat_events.projections.base import Positioned, ReadModel
from jawazat_events.projections.failures import Failure, classify
from jawazat_events.projections.parking import ParkedEvent, parked_events, record_failure, take
from jawazat_events.services.application import JawazatApplication


@dataclass
class RetryReport:
    """What a retry did: applied (left the list), failing again (kept, with the new error), kept for a
    rebuild, and gone (applied by someone else meanwhile)."""

    applied: list[ParkedEvent] = field(default_factory=list)
    failing: list[tuple[ParkedEvent, str]] = field(default_factory=list)
    needs_rebuild: list[ParkedEvent] = field(default_factory=list)
    gone: int = 0


def retry_parked(
    app: JawazatApplication,
    models: Sequence[ReadModel],
    *,
    projection: str | None = None,
    position: int | None = None,
) -> RetryReport:
    """Re-apply parked events (all, one projection's, or the one at `position`) with today's code.

    A transient failure (the database gone) stops the run with its error: nothing of the event in hand was
    written, and what was applied before it stays applied.
    """
    by_name = {model.name: model for model in models}
    report = RetryReport()
    for parked in parked_events(models[0].db, projection=projection, position=position):
        model = by_name.get(parked.projection)
        if model is None or not model.retry_in_place:
            report.needs_rebuild.append(parked)
            continue
        item = _stored(app, parked)
        try:
            with model.db.transaction() as sql:
                taken = take(sql, parked)
                if taken:
                    model.apply_batch(sql, [item])
        except Exception as error:
            if classify(error) is Failure.TRANSIENT:
                raise
            report.failing.append((parked, record_failure(model.db, parked, error)))
            continue
        if taken:
            report.applied.append(parked)
        else:
            report.gone += 1
    return report


def _stored(app: JawazatApplication, parked: ParkedEvent) -> Positioned:
    """The parked event read back from the store at its position."""
    found = app.recorder.select_notifications(start=parked.position, limit=1)
    if not found or found[0].id != parked.position:  # pragma: no cover - positions are never deleted
        raise LookupError(f"the store has no event at position {parked.position}")
    return Positioned(app.decoder.to_domain_event(found[0]), found[0].id, found[0].topic)
