"""Deferred advances: a following worker does not commit a read model's tracking position for a batch
that holds none of its events, for a little while.

Without this, every pass commits one transaction per read model per partition, most of them only to
move a position past events the read model does not read (each NOTIFY starts a pass: at 200 events/s, and
with delivery's own records, that was most of the worker's commits and, on one core, tens of ms before a
new alert). Instead the follower remembers, in memory, that the store holds none of the read model's
events between its stored position and the batch's end: `(base, upto)` per tracking name. Read from
`effective()`, the read model is at `upto` while its stored position is still `base` (or anywhere in
between, where another process moved it): the next batch reads from there, the fan-out may run up to it
(`reads_from`), and a batch that does have events commits from the stored position (which is what its
transaction checks) over the empty stretch. Should the stored position be anything else (a rebuild
started it again), what was remembered no longer applies and is ignored.

A position is still committed at least every `max_seconds` and before it falls `max_positions` behind,
so `projections lag`, `/metrics` and the store's scans stay short. Only the following worker defers;
`--once`, catch-ups and rebuilds commit every position as before.

NOT USED by the worker. Why it could stall was found later: another worker's fan-out runs up to the
subscription index's *stored* position, which cannot see what this process remembers; a worker holding
the index and idle never committed it, so the other's fan-out waited (`tests/integration/
test_claims_reconnect.py`, two workers whose sessions keep dying, failed 2 runs in 4). Never deferring a
read model named in another's `reads_from`, and committing everything after a quiet spell, passed 4 runs
in 4 when tried, but it saved little: at 20 events/s one worker's read-model
transactions fell from 5.8 to 5.2 per event, while each read model still read the new events itself
(3.9 `select_notifications` per event) and checked its fence (4.0). docs/capacity.md ("Latency") has the
figures. The `Follower` keeps the seam.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from jawazat_events.projections.base import ReadModel

MAX_POSITIONS = 10_000
MAX_SECONDS = 1.0


class DeferredAdvances:
    """What a worker knows beyond its read models' stored positions (this process only)."""

    def __init__(
        self,
        *,
        max_positions: int = MAX_POSITIONS,
        max_seconds: float = MAX_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_positions = max_positions
        self.max_seconds = max_seconds
        self.clock = clock
        self._known: dict[str, tuple[int, int]] = {}  # tracking name -> (stored base, empty up to)
        self._since: dict[str, float] = {}  # read model -> when its last empty stretch was committed
        self.deferred = 0

    def effective(self, model: ReadModel, stored: Mapping[int, int]) -> dict[int, int]:
        """The positions the read model's partitions have effectively reached."""
        reached: dict[int, int] = {}
        for k, position in stored.items():
            base, upto = self._known.get(model.tracking_name(k), (0, 0))
            reached[k] = upto if base <= position < upto else position
        return reached

    def defer(self, model: ReadModel, stored: Mapping[int, int], upto: int) -> bool:
        """Whether to leave these partitions' positions uncommitted for a batch with none of the read
        model's events up to `upto` (and remember the empty stretch); False: commit it now."""
        now = self.clock()
        since = self._since.setdefault(model.name, now)
        if upto - min(stored.values()) >= self.max_positions or now - since >= self.max_seconds:
            self._since[model.name] = now
            return False
        for k, position in stored.items():
            # The batch was read from the effective position: (stored, upto] holds none of its events.
            self._known[model.tracking_name(k)] = (position, upto)
        self.deferred += 1
        return True
