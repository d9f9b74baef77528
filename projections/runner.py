"""Batched followers of the application sequence: the worker's engine for every projection.

The library's `ProjectionRunner` processes one event per transaction; fan-out must keep up with ingest,
so these followers read up to `batch_size` notifications (filtered by the projection's topics in the
store), decode them with the application's mapper, and hand the batch to the projection, which commits
its rows and the tracking record of the batch in one transaction. The SQLite recorder has no
`subscribe()`, so following is polling; on PostgreSQL, a LISTEN on the events table's channel wakes the
worker as soon as new events are committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.persistence import Notification

from jawazat_events.projections.base import Positioned, Projection
from jawazat_events.projections.fanout import AlertFanout
from jawazat_events.services.application import JawazatApplication

log = logging.getLogger(__name__)


@dataclass
class StepResult:
    """What one step of a follower did."""

    read: int = 0
    alerts: int = 0
    advanced: bool = False


class Follower:
    """Follows the sequence for one projection (or a set of fan-out partitions)."""

    def __init__(
        self,
        app: JawazatApplication,
        projection: Projection,
        *,
        batch_size: int = 1000,
        partitions: Sequence[int] | None = None,
    ) -> None:
        self.app = app
        self.projection = projection
        self.batch_size = batch_size
        self.partitions = list(partitions) if partitions is not None else None

    @property
    def is_fanout(self) -> bool:
        return isinstance(self.projection, AlertFanout)

    def positions(self) -> dict[int, int]:
        """Current tracking position per held partition (one pseudo-partition for plain projections)."""
        db = self.projection.db
        if isinstance(self.projection, AlertFanout):
            held = self.partitions if self.partitions is not None else range(self.projection.partitions)
            return {k: db.position(self.projection.tracking_name(k)) for k in held}
        return {0: db.position(self.projection.tracking_names()[0])}

    def lag(self, head: int | None = None) -> int:
        """How many positions behind the head of the store this follower is."""
        head = head if head is not None else (self.app.recorder.max_notification_id() or 0)
        positions = self.positions()
        return max(0, head - min(positions.values())) if positions else 0

    def step(self, *, head: int | None = None) -> StepResult:
        """Process at most one batch; `advanced` is False when already caught up with `head`."""
        stop = head if head is not None else (self.app.recorder.max_notification_id() or 0)
        positions = self.positions()
        if not positions:
            return StepResult()
        start = min(positions.values())
        if start >= stop:
            return StepResult()
        notifications: Sequence[Notification] = self.app.recorder.select_notifications(
            start=start + 1, limit=self.batch_size, stop=stop, topics=self.projection.topics
        )
        # Fewer than a full batch means everything up to `stop` has been seen.
        upto = notifications[-1].id if len(notifications) >= self.batch_size else stop
        to_domain = self.app.mapper.to_domain_event
        batch = [Positioned(to_domain(n), n.id) for n in notifications]
        if isinstance(self.projection, AlertFanout):
            created = self.projection.process_partitions(batch, positions=positions, upto=upto)
            return StepResult(read=len(batch), alerts=created, advanced=True)
        self.projection.process_batch(batch, tracking_name=self.projection.tracking_names()[0], upto=upto)
        return StepResult(read=len(batch), advanced=True)

    def drain(self, *, head: int | None = None, stop_flag: threading.Event | None = None) -> StepResult:
        """Process batches until caught up with `head` (default: the head when called)."""
        head = head if head is not None else (self.app.recorder.max_notification_id() or 0)
        total = StepResult()
        while not (stop_flag and stop_flag.is_set()):
            result = self.step(head=head)
            if not result.advanced:
                break
            total.read += result.read
            total.alerts += result.alerts
        return total
