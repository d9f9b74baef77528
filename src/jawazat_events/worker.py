"""The worker: runs the projections (subscription index, people view, e-service requests and their
notifications, alert fan-out, person links) and delivery.

`run_once()` drains everything pending and returns a summary; `run_forever()` follows new events until
stopped (SIGTERM/SIGINT set the stop flag; the current batch finishes or rolls back atomically).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from jawazat_events.bootstrap import Container
from jawazat_events.projections.claims import Claims
from jawazat_events.projections.runner import Follower

log = logging.getLogger(__name__)


@dataclass
class WorkerSummary:
    """What one drain did."""

    events_read: dict[str, int] = field(default_factory=dict)
    alerts_created: int = 0
    head: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)


class Worker:
    """Projections and delivery for one process; shares work with other workers on PostgreSQL."""

    def __init__(
        self, container: Container, *, stop: threading.Event | None = None, deliver: bool = True
    ) -> None:
        self.container = container
        self.deliver = deliver
        self.stop = stop or threading.Event()
        self.read_models = container.read_models
        self.claims = Claims(container.postgres_conninfo(), partitions=container.settings.fanout_partitions)

    def run_once(self) -> WorkerSummary:
        """Drain all pending work for the units this worker holds, up to the store's head now."""
        self.claims.rebalance()
        app = self.container.app
        head = app.recorder.max_notification_id() or 0
        summary = WorkerSummary(head=head)
        size = self.container.settings.projection_batch_size
        for model in self.read_models.all():
            held = self.claims.held(model)
            if not held:
                continue
            # A read model never runs ahead of those it reads (the fan-out matches against the index).
            upto = min(
                [head, *(min(self.read_models.named(d).positions().values()) for d in model.reads_from)]
            )
            follower = Follower(app, model, batch_size=size, partitions=sorted(held))
            result = follower.drain(head=upto, stop_flag=self.stop)
            summary.events_read[model.name] = result.read
            summary.alerts_created += result.alerts
        if self.deliver and not self.stop.is_set():
            # A SIGTERM during a backlog ends delivery at the next group, not after the backlog.
            summary.deliveries = self.container.delivery.deliver_due(stop=self.stop).outcomes
        return summary

    def run_forever(self, *, idle_wait: float = 0.2) -> None:
        """Follow new events until the stop flag is set."""
        failures = 0
        while not self.stop.is_set():
            try:
                summary = self.run_once()
            except Exception:
                # A failed batch rolled back as a whole (rows and tracking together): log it, wait a little
                # longer each time, and try again; the work is neither lost nor done twice.
                failures += 1
                log.exception("worker pass failed (%d in a row); retrying", failures)
                self.stop.wait(min(30.0, idle_wait * 2**failures))
                continue
            failures = 0
            if not any(summary.events_read.values()) and not summary.deliveries:
                self.stop.wait(idle_wait)
        self.claims.close()

    def close(self) -> None:
        self.claims.close()
