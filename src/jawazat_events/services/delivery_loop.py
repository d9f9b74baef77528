"""Delivery as a loop of its own, beside the projections: woken when alerts are added, claiming small groups
when traffic is light and larger ones under load.

The loop claims due alerts and sends them (`Dispatcher.deliver_batch`), then waits until it is woken
(`wake()`: the worker's listener hears the alerts table's NOTIFY), the next retry, hold or lease end
falls due, or its fallback poll (`poll()`, short while nobody listens: SQLite, or the LISTEN connection
down) runs out, whichever is first. A wake-up that arrives while a batch is being sent is kept, so the
loop looks again at once. The claim's size doubles while claims come back full (a backlog: fewer, larger
claims) and halves back towards the smallest, one group of sends, when they do not (light traffic: an
alert never waits for others to make up a group). Several loops (threads or worker processes) share the
queue: claims are leases taken with `FOR UPDATE SKIP LOCKED`, so no alert goes to two of them.

The loop keeps one event loop for its thread, so the channels' connections (SMTP, webhook sessions) stay
open from one batch to the next while alerts flow, and are closed after `KEEP_OPEN_SECONDS` without any.

A failed batch (the database away) is retried with back-off; the alerts it had claimed come back when
their lease ends. Setting `stop` ends the loop at the next group boundary (unsent claims are released).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from jawazat_events.domain.delivery import AttemptOutcome
from jawazat_events.services.dispatch import Dispatcher

log = logging.getLogger(__name__)

# The smallest claim is one group of the dispatcher's concurrent sends (fewer gains nothing: a claim of
# 20 when 3 are due takes 3); it doubles while claims come back full.
SMALLEST_CLAIM = 20
LARGEST_CLAIM = 200
MAX_BACKOFF_SECONDS = 10.0
STOP_CHECK_SECONDS = 0.1
# Channels' connections stay open between batches while alerts flow, and close after this long idle.
KEEP_OPEN_SECONDS = 5.0
DUE_CHECK_SECONDS = 1.0


class DeliveryLoop:
    """Claims and sends due alerts until stopped, waking on `wake()`, on the next due time, or by polling."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        stop: threading.Event,
        poll: Callable[[], float],
        repair: Callable[[], None] = lambda: None,
        smallest: int = SMALLEST_CLAIM,
        largest: int = LARGEST_CLAIM,
    ) -> None:
        self.dispatcher = dispatcher
        self.stop = stop
        self.poll = poll
        self.repair = repair
        self.smallest = smallest
        self.largest = largest
        self.limit = smallest
        self.batches = 0  # batches that claimed something (tests and logs)
        self.delivered: dict[str, int] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_claim = 0.0
        self._due_checked: float | None = None
        self._due_at: float | None = None

    def wake(self) -> None:
        """Look for due alerts now (new alerts were added, or the worker is stopping)."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="jawazat-delivery", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Deliver until `stop` is set (one event loop for the thread: channels reuse it)."""
        failures = 0
        with asyncio.Runner() as runner:
            while not self.stop.is_set():
                self._wake.clear()  # before claiming: a NOTIFY heard meanwhile makes the next wait short
                claimed = 0
                try:
                    claimed = self._one_batch(runner)
                    wait = 0.0 if claimed >= self.limit else self._idle_seconds()
                except Exception as error:
                    failures += 1
                    log.warning(
                        "delivery pass failed (%d in a row): %s: %s; retrying",
                        failures,
                        type(error).__name__,
                        str(error).strip().splitlines()[0] if str(error).strip() else "",
                        exc_info=failures == 1,
                    )
                    self._repair()
                    wait = min(MAX_BACKOFF_SECONDS, self.poll() * 2**failures)
                else:
                    if failures:
                        log.warning("delivery succeeded again after %d failed pass(es)", failures)
                    failures = 0
                self._resize(claimed)
                self._wait(wait)
            self._close_channels(runner)

    def _wait(self, seconds: float) -> None:
        # In slices, so that a stop flag set directly (not through `wake`) is seen soon too.
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if self._wake.wait(min(left, STOP_CHECK_SECONDS)):
                return

    def _one_batch(self, runner: asyncio.Runner) -> int:
        limit = self.limit
        try:
            summary = runner.run(self.dispatcher.deliver_batch(limit=limit, stop=self.stop, keep_open=True))
        except BaseException:
            self._close_channels(runner)  # a failure leaves no connection in an unknown state behind
            raise
        now = time.monotonic()
        if summary.claimed:
            self.batches += 1
            self._last_claim = now
            for outcome, count in summary.outcomes.items():
                self.delivered[outcome] = self.delivered.get(outcome, 0) + count
            if set(summary.outcomes) - {AttemptOutcome.SENT}:
                self._due_checked = None  # a retry or hold was scheduled: look for the next due time
        elif now - self._last_claim > KEEP_OPEN_SECONDS:
            self._close_channels(runner)  # idle: say goodbye rather than be timed out by the server
        return summary.claimed

    def _close_channels(self, runner: asyncio.Runner) -> None:
        try:
            runner.run(self.dispatcher.close_channels())
        except Exception as error:  # closing is best effort: a connection that is gone is gone
            log.info("closing the channels' connections: %s", error)

    def _resize(self, claimed: int) -> None:
        if claimed >= self.limit:
            self.limit = min(self.largest, self.limit * 2)
        elif claimed < self.limit // 2:
            self.limit = max(self.smallest, self.limit // 2)

    def _idle_seconds(self) -> float:
        # The next due time is read at most once a second (other workers' retries), and at once after this
        # loop scheduled a retry or hold: not after every message.
        now = time.monotonic()
        if self._due_checked is None or now - self._due_checked >= DUE_CHECK_SECONDS:
            until_due = self.dispatcher.seconds_until_due()
            self._due_at = None if until_due is None else now + until_due
            self._due_checked = now
        poll = self.poll()
        return poll if self._due_at is None else max(0.0, min(poll, self._due_at - now))

    def _repair(self) -> None:
        try:
            self.repair()
        except Exception as error:  # the server may still be away: the next pass finds out
            log.info("connections not checked: %s", error)
