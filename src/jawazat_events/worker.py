"""The worker: runs the projections (subscription index, people view, e-service requests and their
notifications, alert fan-out, person links) and delivery.

`run_once()` drains everything pending and returns a summary; `run_forever()` follows new events until
stopped (SIGTERM/SIGINT set the stop flag; the current batch finishes or rolls back atomically).

Faults: an event a projection cannot apply is parked by the projection and the worker moves on (see
`projections/base.py`); a pass that fails for the database's reasons (server restarting, connection lost,
lock timeout) is retried whole with exponential back-off, every connection reopening by itself (after a
failed pass the store's pool checks its idle connections and replaces the dead ones; the claims
connection reconnects at the next rebalance). A batch whose partition this worker no longer holds is
abandoned (`ClaimLost`) and the claims are checked again at the next pass.

Following (`run_forever`), three threads share the process: this one runs the projections pass after
pass; delivery runs beside it as its own loop (`services/delivery_loop.py`), so a message never waits for
a fan-out batch and a long fan-out never waits for delivery; on PostgreSQL a LISTEN connection
(`projections/listener.py`) wakes the projections when the store NOTIFYs new events and delivery when
the alerts table NOTIFYs new alerts. Both loops still poll as a fallback: every
`JAWAZAT_WORKER_LISTEN_POLL_SECONDS` while the listener is connected, every `JAWAZAT_WORKER_POLL_SECONDS`
without it (SQLite, or the connection down). `run_once` (`jawazat worker --once`) is unchanged: drain,
then deliver, in this thread. Why threads and not processes: docs/architecture.md ("The worker's loops").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eventsourcing.postgres import PostgresApplicationRecorder

from jawazat_events.bootstrap import Container
from jawazat_events.projections.base import ReadModel
from jawazat_events.projections.claims import Claims
from jawazat_events.projections.failures import ClaimLost
from jawazat_events.projections.listener import Listener
from jawazat_events.projections.runner import Follower, SharedReads, topics_of
from jawazat_events.projections.tables import ALERTS, ALERTS_CHANNEL
from jawazat_events.services.delivery_loop import DeliveryLoop

log = logging.getLogger(__name__)

# The longest wait between two failed passes (the back-off doubles from the idle wait up to it).
MAX_BACKOFF_SECONDS = 10.0
# Claims are rebalanced (with the heartbeat) at most this often while following, and a pass runs at
# least every HEARTBEAT_SECONDS even when nothing is notified (claims.LIVE_FOR is 15 s).
REBALANCE_SECONDS = 1.0
HEARTBEAT_SECONDS = 5.0
# How long `run_forever` waits for its LISTEN connection before its first pass.
LISTEN_START_SECONDS = 5.0


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
        self._rebalanced_at = 0.0
        self.woken = 0  # idle waits ended by a wake-up (a NOTIFY) rather than by their time running out
        self.listener: Listener | None = None
        self.delivery_loop: DeliveryLoop | None = None

    def run_once(self) -> WorkerSummary:
        """Drain all pending work for the units this worker holds, up to the store's head now, then
        deliver everything due (`jawazat worker --once`)."""
        summary = self._project(rebalance=True, models=self.read_models.all())
        if self.deliver and not self.stop.is_set():
            # A SIGTERM during a backlog ends delivery at the next group, not after the backlog.
            summary.deliveries = self.container.delivery.deliver_due(stop=self.stop).outcomes
        return summary

    def _project(self, *, rebalance: bool, models: list[ReadModel]) -> WorkerSummary:
        """One pass of the projections: every unit of `models` this worker holds, up to the store's head."""
        if rebalance:
            self.claims.rebalance()
            self._rebalanced_at = time.monotonic()
        app = self.container.app
        head = app.recorder.max_notification_id() or 0
        summary = WorkerSummary(head=head)
        size = self.container.settings.projection_batch_size
        # The pass's new events are read and decoded once for all its read models.
        shared = SharedReads(app, topics=topics_of(models), batch_size=size)
        for model in models:
            held = self.claims.held(model)
            if not held:
                continue
            # A read model never runs ahead of those it reads (the fan-out matches against the index).
            read = [min(self.read_models.named(name).positions().values()) for name in model.reads_from]
            upto = min([head, *read])
            fence = self.claims.fence(model)
            follower = Follower(
                app, model, batch_size=size, partitions=sorted(held), fence=fence, shared=shared
            )
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
        return summary

    def _pass_order(self) -> list[ReadModel]:
        """The read models in the order of `ReadModels.all()`, except that those making alerts come right
        after the ones they read: a new alert is committed (and NOTIFYed) before the other views' work."""
        models = self.read_models.all()
        read = {name for model in models for name in model.reads_from}
        return sorted(models, key=lambda m: 0 if m.name in read else 1 if ALERTS in m.tables else 2)

    def run_forever(self, *, idle_wait: float | None = None) -> None:
        """Follow new events until the stop flag is set: the projections in this thread, delivery in a
        thread of its own (`DeliveryLoop`), both woken by a LISTEN connection on PostgreSQL."""
        settings = self.container.settings
        short = idle_wait if idle_wait is not None else settings.worker_poll_seconds
        self.delivery_loop = (
            DeliveryLoop(self.container.delivery, stop=self.stop, poll=lambda: 0.0, repair=self._repair)
            if self.deliver
            else None
        )
        self.listener = self._listener(self.delivery_loop)

        def poll() -> float:
            listening = self.listener is not None and self.listener.listening
            return settings.worker_listen_poll_seconds if listening else short

        if self.delivery_loop is not None:
            self.delivery_loop.poll = poll
        if self.listener is not None:
            self.listener.start()
            self.listener.wait_listening(LISTEN_START_SECONDS)
        if self.delivery_loop is not None:
            self.delivery_loop.start()
        try:
            self._follow(short, poll)
        finally:
            self.stop.set()
            if self.delivery_loop is not None:
                self.delivery_loop.wake()
                self.delivery_loop.join()
            if self.listener is not None:
                self.listener.join(timeout=5)
            self.claims.close()

    def _follow(self, short: float, poll: Callable[[], float]) -> None:
        failures = 0
        rebalance = True
        order = self._pass_order()
        while not self.stop.is_set():
            try:
                due = time.monotonic() - self._rebalanced_at >= REBALANCE_SECONDS
                # Every position is committed at every pass: deferred advances are off for now
                # (projections/deferred.py says why).
                summary = self._project(rebalance=rebalance or due, models=order)
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
                rebalance = True
                self._idle(min(MAX_BACKOFF_SECONDS, short * 2**failures))
                continue
            if failures:
                log.warning("worker pass succeeded again after %d failed pass(es)", failures)
            failures = 0
            rebalance = bool(summary.claims_lost)
            listening = self.listener is not None and self.listener.listening
            if listening or not any(summary.events_read.values()):
                # Listening, anything recorded during the pass has NOTIFYed (the wait then ends at once):
                # no pass on spec. The claims' heartbeat still needs a pass every few seconds.
                self._idle(min(poll(), HEARTBEAT_SECONDS))

    def _listener(self, delivery: DeliveryLoop | None) -> Listener | None:
        """A LISTEN connection on the store's channel (and the alerts', when delivering): PostgreSQL only."""
        conninfo = self.container.postgres_conninfo()
        recorder = self.container.app.recorder
        if conninfo is None or not isinstance(recorder, PostgresApplicationRecorder):
            return None
        wakers = {recorder.channel_name: self.wake}
        if delivery is not None:
            wakers[ALERTS_CHANNEL] = delivery.wake
        return Listener(conninfo, wakers, stop=self.stop)

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
        if self.delivery_loop is not None:
            self.delivery_loop.wake()

    def _idle(self, seconds: float) -> None:
        # In slices, so that a stop flag set directly (not through `request_stop`) is seen soon too.
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if self._wake.wait(min(left, 0.1)):
                self.woken += 1
                break
        self._wake.clear()

    def close(self) -> None:
        self.claims.close()
