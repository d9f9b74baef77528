"""The worker: runs the projections (subscription index, people view, e-service requests and their
notifications, alert fan-out) and delivery.

`run_once()` drains everything pending and returns a summary; `run_forever()` follows new events until
stopped (SIGTERM/SIGINT set the stop flag; the current batch finishes or rolls back atomically).

Faults: an event a projection cannot apply is parked by the projection and the worker moves on (see
`projections/base.py`); a pass that fails for the database's reasons (server restarting, connection lost,
lock timeout) is retried whole with exponential back-off, every connection reopening by itself (after a
failed pass the store's pool checks its idle connections and replaces the dead ones; the claims
connection reconnects at the next rebalance). A batch whose partition this worker no longer holds is
abandoned (`ClaimLost`) and the claims are checked again at the next pass.

Between passes the worker polls (`idle_wait`); `wake()` ends an idle wait early, the seam for a LISTEN
connection on the store's NOTIFY channel or a delivery loop of its own, which this module does not have.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from jawazat_events.bootstrap import Container
from jawazat_events.projections.claims import Claims
from jawazat_events.projections.failures import ClaimLost
from jawazat_events.projections.runner import Follower

log = logging.getLogger(__name__)

# The longest wait between two failed passes (the back-off doubles from the idle wait up to it).
MAX_BACKOFF_SECONDS = 10.0


@dataclass
class WorkerSummary:
    """What one drain did."""

    events_read: dict[str, int] = field(default_factory=dict)
    alerts_created: int = 0
    head: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    claims_lost: list[str] = field(default_factory=list)


class Worker:
    """Projections and delivery for one process; shares work with other workers on PostgreSQL."""

    def __init__(
        self, container: Container, *, stop: threading.Event | None = None, deliver: bool = True
    ) -> None:
        self.container = container
        self.deliver = deliver
        self.stop = stop or threading.Event()
        self._wake = threading.Event()
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
            fence = self.claims.fence(model)
            follower = Follower(app, model, batch_size=size, partitions=sorted(held), fence=fence)
            try:
                result = follower.drain(head=upto, stop_flag=self.stop)
            except ClaimLost as lost:
                # Nothing of the batch was written; the next rebalance checks what this worker holds.
                log.warning("%s; leaving it until the claims are checked again", lost)
                self.claims.forget(model)
                summary.claims_lost.append(model.name)
                continue
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
            except Exception as error:
                # A failed batch rolled back as a whole (rows and tracking together): log it, wait a little
                # longer each time, and try again; the work is neither lost nor done twice.
                failures += 1
                log.warning(
                    "worker pass failed (%d in a row): %s: %s; retrying",
                    failures,
                    type(error).__name__,
                    str(error).strip().splitlines()[0] if str(error).strip() else "",
                    exc_info=failures == 1 or log.isEnabledFor(logging.DEBUG),
                )
                self._repair()
                self._idle(min(MAX_BACKOFF_SECONDS, idle_wait * 2**failures))
                continue
            if failures:
                log.warning("worker pass succeeded again after %d failed pass(es)", failures)
            failures = 0
            if not any(summary.events_read.values()) and not summary.deliveries:
                self._idle(idle_wait)
        self.claims.close()

    def _repair(self) -> None:
        try:
            self.container.repair_connections()
        except Exception as error:  # the server may still be away: the next pass finds out
            log.info("connections not checked: %s", error)

    def wake(self) -> None:
        """End the current idle wait now (new events are known to be there)."""
        self._wake.set()

    def request_stop(self) -> None:
        """Stop after the current batch (what SIGTERM/SIGINT do)."""
        self.stop.set()
        self._wake.set()

    def _idle(self, seconds: float) -> None:
        # In slices, so that a stop flag set directly (not through `request_stop`) is seen soon too.
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if self._wake.wait(min(left, 0.1)):
                break
        self._wake.clear()

    def close(self) -> None:
        self.claims.close()
