"""The batched follower of the application sequence: the one engine for every read model, in the worker,
the API's read-your-writes, the expiry job's catch-up and the rebuild.

The library's `ProjectionRunner` processes one event per transaction; fan-out must keep up with ingest,
so a follower reads up to `batch_size` notifications (filtered by its read models' topics in the store),
decodes them once (the application's `decoder`: the mapper's events, faster), and hands each read model its
share through `ReadModel.process`, which commits the rows and the tracking record of the batch in one
transaction (parking what cannot be applied, fencing with the worker's claims).

A follower only steps when called: it has no loop and no wake-up of its own. The worker calls `drain()`
on each pass and polls between passes (`Worker.run_forever`'s idle wait); nothing here LISTENs for the
store's NOTIFY. A caller that learns of new events sooner (a LISTEN connection, a delivery loop of its
own) just calls `step()`/`drain()` again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from eventsourcing.persistence import IntegrityError, Notification

from jawazat_events.projections.base import Fence, Positioned, ReadModel
from jawazat_events.projections.deferred import DeferredAdvances
from jawazat_events.projections.failures import PositionMoved
from jawazat_events.services.application import JawazatApplication
from jawazat_events.store import recorder_of

log = logging.getLogger(__name__)
# Read-your-writes catch-ups give up after this many refusals by a concurrent follower.
CATCH_UP_ATTEMPTS = 5


@dataclass
class StepResult:
    """What one step of a follower did."""

    read: int = 0
    alerts: int = 0
    advanced: bool = False
    upto: int = 0  # the position every followed partition has reached


def topics_of(models: Sequence[ReadModel]) -> tuple[str, ...]:
    """One filter for all: the union of the read models' topics, unless one reads every event (())."""
    topics = [frozenset(model.topics) for model in models]
    return tuple(sorted(frozenset().union(*topics))) if all(topics) else ()


class SharedReads:
    """The new events of one worker pass, read and decoded once for all its read models.

    Between NOTIFYs a worker's read models usually all stand at the previous head, so each of their
    followers would read (and decode) the same few new events from the store. With one of these, the
    first follower to start from a position reads the stretch with the pass's topics (the union of its
    read models'), and each follower starting from the same position takes its own topics' share of it:
    the same events, positions and `upto` a read of its own would give (a share of a full batch ends
    where the batch ends: its next step reads on from there). Only a step's first batch comes from here;
    batches read ahead while draining a backlog are the follower's own.
    """

    def __init__(self, app: JawazatApplication, *, topics: Sequence[str], batch_size: int) -> None:
        self.app = app
        self.topics = tuple(topics)
        self._covered = frozenset(topics)
        self.batch_size = batch_size
        self._last: tuple[tuple[int, int], list[Positioned], int] | None = None
        self.reads = 0  # stretches read from the store

    def read(self, start: int, stop: int, topics: Sequence[str]) -> tuple[list[Positioned], int] | None:
        """The events from `start` up to `stop` with one of `topics` (every topic when empty), and the
        position covered; None if the pass's topics do not cover `topics` (the follower reads itself)."""
        wanted = frozenset(topics)
        if self._covered and not (wanted and wanted <= self._covered):
            return None
        if self._last is None or self._last[0] != (start, stop):
            self._last = ((start, stop), *_read_decoded(self.app, start, stop, self.topics, self.batch_size))
            self.reads += 1
        _, batch, upto = self._last
        if wanted == self._covered:
            return batch, upto
        return [item for item in batch if item.topic in wanted], upto


def _read_decoded(
    app: JawazatApplication, start: int, stop: int, topics: Sequence[str], batch_size: int
) -> tuple[list[Positioned], int]:
    """Up to `batch_size` events from `start` (up to `stop`, with one of `topics`), decoded, and the
    position they cover up to."""
    notifications: Sequence[Notification] = app.recorder.select_notifications(
        start=start, limit=batch_size, stop=stop, topics=topics
    )
    # Fewer than a full batch means everything up to `stop` has been seen.
    upto = notifications[-1].id if len(notifications) >= batch_size else stop
    to_domain = app.decoder.to_domain_event
    return [Positioned(to_domain(n), n.id, n.topic) for n in notifications], upto


class Follower:
    """Follows the sequence for one or more read models (all their partitions, or the ones named).

    With several read models, each batch is read and decoded once and handed to each in the order given.
    `fence` is checked in each batch's transaction (the worker's claims); `ClaimLost` leaves `step()`.
    `partitions` names the partitions of the partitioned read models (a single unit is followed whole).
    While draining, the next batch is read and decoded in a thread while the current one is applied
    (`read_ahead`; by default on PostgreSQL, whose pool gives the thread a connection of its own).
    """

    def __init__(
        self,
        app: JawazatApplication,
        *models: ReadModel,
        batch_size: int = 1000,
        partitions: Sequence[int] | None = None,
        fence: Fence | None = None,
        read_ahead: bool | None = None,
        deferred: DeferredAdvances | None = None,
        shared: SharedReads | None = None,
    ) -> None:
        if not models:
            raise ValueError("a follower needs at least one read model")
        self.app = app
        self.models = models
        self.batch_size = batch_size
        self.partitions = list(partitions) if partitions is not None else None
        self.fence = fence
        # Read ahead by default on PostgreSQL (a reading thread has a pooled connection of its own).
        self.read_ahead = models[0].db.postgres if read_ahead is None else read_ahead
        self._reading = False
        self._reader: ThreadPoolExecutor | None = None
        self._ahead: tuple[tuple[int, int], Future[tuple[list[Positioned], int]]] | None = None
        self.deferred = deferred  # a following worker's: positions of empty stretches committed later
        self.shared = shared  # a worker pass's: the new events read once for all its read models
        self.topics = topics_of(models)
        self._statistics_checked = False

    def positions(self) -> dict[int, int]:
        """Tracking position per followed partition of the (first) read model."""
        return self.models[0].positions(self.partitions)

    def _positions(self) -> list[dict[int, int]]:
        # The partitions named are those of the partitioned read models; a single unit is followed whole.
        # One read for every model's positions: a step under light traffic is mostly such round trips.
        wanted = [
            model.held_names(self.partitions if model.partitions > 1 else None) for model in self.models
        ]
        found = self.models[0].db.positions([name for names in wanted for name in names.values()])
        return [{k: found[name] for k, name in names.items()} for names in wanted]

    def _head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def lag(self, head: int | None = None) -> int:
        """How many positions behind the head of the store the slowest followed partition is."""
        head = head if head is not None else self._head()
        lowest = [p for positions in self._positions() for p in positions.values()]
        return max(0, head - min(lowest)) if lowest else 0

    def _read(self, start: int, stop: int) -> tuple[list[Positioned], int]:
        """The decoded batch from `start` and the position it covers up to."""
        return _read_decoded(self.app, start, stop, self.topics, self.batch_size)

    def _batch(self, start: int, stop: int) -> tuple[list[Positioned], int]:
        """The batch from `start`: the one read ahead if it starts there, else read now; and, while
        draining, the next one is read ahead (in a thread) while this one is applied."""
        if stop - start >= self.batch_size and not self._statistics_checked:
            # A backlog (more positions than a batch): its batches are read by positions, planned from
            # the store's statistics, which a bulk load leaves stale until autovacuum runs (if it runs).
            # Checked once per follower, before the first of them is read.
            self._statistics_checked = True
            recorder_of(self.app).refresh_statistics()
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == (start, stop):
            batch, upto = ahead[1].result()
        elif self.shared is not None and (share := self.shared.read(start, stop, self.topics)) is not None:
            batch, upto = share
        else:
            batch, upto = self._read(start, stop)
        if self._reading and upto < stop:
            if self._reader is None:  # started at the first full batch: a short catch-up never needs it
                self._reader = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
            self._ahead = ((upto + 1, stop), self._reader.submit(self._read, upto + 1, stop))
        return batch, upto

    def step(self, *, head: int | None = None) -> StepResult:
        """Process at most one batch; `advanced` is False when already caught up with `head`."""
        stop = head if head is not None else self._head()
        positions = self._positions()
        reached = positions
        if self.deferred is not None:
            deferred = self.deferred
            reached = [deferred.effective(m, p) for m, p in zip(self.models, positions, strict=True)]
        lowest = [p for by_partition in reached for p in by_partition.values()]
        if not lowest or min(lowest) >= stop:
            return StepResult()
        batch, upto = self._batch(min(lowest) + 1, stop)
        created = 0
        for model, by_partition, by_reached in zip(self.models, positions, reached, strict=True):
            behind = {k: p for k, p in by_partition.items() if by_reached[k] < upto}
            if behind:
                mine = [item for item in batch if model.reads(item.topic)]
                if not mine and self.deferred is not None and self.deferred.defer(model, behind, upto):
                    continue
                try:
                    created += model.process(mine, positions=behind, upto=upto, fence=self.fence)
                except PositionMoved as moved:
                    # Another process applied this stretch (the API's read-your-writes beside a worker):
                    # nothing of ours was written; the next step starts from the positions as they are now.
                    log.info("%s: %s; reading the positions again", model.name, moved)
                    return StepResult(read=0, alerts=created, advanced=True)
        return StepResult(read=len(batch), alerts=created, advanced=True, upto=upto)

    def drain(self, *, head: int | None = None, stop_flag: threading.Event | None = None) -> StepResult:
        """Process batches until caught up with `head` (default: the head when called).

        With `read_ahead`, the next batch is read and decoded in a thread while the current one is
        applied (docs/capacity.md, "Replay", says what that gains)."""
        head = head if head is not None else self._head()
        total = StepResult()
        with self.reading_ahead():
            while not (stop_flag and stop_flag.is_set()):
                result = self.step(head=head)
                if not result.advanced:
                    break
                total.read += result.read
                total.alerts += result.alerts
                total.upto = result.upto or total.upto
                if result.upto >= head:
                    break  # every followed partition is at the head: no second read of the positions
        return total

    @contextmanager
    def reading_ahead(self) -> Iterator[None]:
        """While inside (and the follower reads ahead), each step reads and decodes the next batch in a
        thread while its own is applied; a batch read ahead from a position no step starts at is dropped."""
        if not self.read_ahead or self._reading:
            yield
            return
        self._reading = True
        try:
            yield
        finally:
            reader, self._reader, self._ahead, self._reading = self._reader, None, None, False
            if reader is not None:
                reader.shutdown(wait=True, cancel_futures=True)


def catch_up(app: JawazatApplication, model: ReadModel, *, batch_size: int) -> None:
    """Bring `model` to the store's head (read-your-writes after a change).

    A worker (or another API process) may be advancing the same read model: its tracking record then
    refuses our batch, and the next attempt starts from where it got to.
    """
    for attempt in range(CATCH_UP_ATTEMPTS):
        try:
            Follower(app, model, batch_size=batch_size).drain()
            return
        except IntegrityError:
            if attempt == CATCH_UP_ATTEMPTS - 1:
                raise
