"""Per-key rate limiting for the HTTP API: one token bucket per caller, in this process's memory."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`per_minute` requests a minute per key: bursts up to that many, refilled at `per_minute / 60` a second.

    Buckets live in this process; with several server processes each enforces the limit on its own share.
    Idle buckets (full again) are dropped when the table grows past `max_keys`.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count one request for `key`: None when allowed, else the whole seconds to wait (Retry-After)."""
        with self._lock:
            bucket = self._refilled(key)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return self._wait(bucket)

    def _refilled(self, key: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(tokens=self.capacity, updated=now)
            return bucket
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        return bucket

    def _wait(self, bucket: _Bucket) -> int:
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _prune(self, now: float) -> None:
        full_after = self.capacity / self.rate
        idle = [k for k, b in self._buckets.items() if now - b.updated >= full_after]
        for key in idle:
            del self._buckets[key]
