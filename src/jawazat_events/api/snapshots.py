"""What `/healthz` and `/metrics` read from the store, reused for a moment so a flood of probes or scrapes
costs the database one query per period, not one per request."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar, cast

T = TypeVar("T")


class Snapshots:
    """Values (or the error) computed at most once per `seconds` per name; 0 computes every time.

    One computation at a time per name: requests arriving while it runs wait and share its result.
    """

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._taken: dict[str, tuple[float, Any, Exception | None]] = {}

    def get(self, name: str, compute: Callable[[], T]) -> T:
        """The value of `name` taken within the last `seconds`, else a fresh one. Errors are reused too:
        a store that is down is not asked again by every probe."""
        with self._locks[name]:
            taken = self._taken.get(name)
            if taken is None or self.clock() - taken[0] >= self.seconds:
                try:
                    taken = (self.clock(), compute(), None)
                except Exception as failure:
                    taken = (self.clock(), None, failure)
                self._taken[name] = taken
        _, value, failed = taken
        if failed is not None:
            raise failed.with_traceback(None)
        return cast(T, value)
