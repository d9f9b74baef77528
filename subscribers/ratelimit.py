"""An asyncio token bucket that paces a channel's calls to its provider."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    """Token bucket: at most `burst` calls at once, then `rate_per_second` on average.

    A caller takes its token at once (the balance may go negative, which is a reservation) and then
    sleeps until the bucket would have held it. Taking the token happens without awaiting, so callers on
    one event loop are served in arrival order without a lock, and the limiter is not tied to one loop.
    """

    def __init__(
        self,
        rate_per_second: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be positive, not {rate_per_second}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self.rate_per_second = rate_per_second
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    @classmethod
    def for_channel(cls, rate_per_second: float) -> RateLimiter:
        """A channel's pace: `rate_per_second` on average, with up to a tenth of a second's worth of calls
        at once (one at 10/s or less). A group of sends then goes out together instead of one every 1/rate
        seconds, which at high rates would make the pacing itself, not the provider, the bottleneck."""
        return cls(rate_per_second, burst=max(1, int(rate_per_second / 10)))

    async def acquire(self) -> None:
        """Wait until one more call is allowed."""
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate_per_second)
        self._updated = now
        self._tokens -= 1.0
        if self._tokens >= 0:
            return
        try:
            await asyncio.sleep(-self._tokens / self.rate_per_second)
        except asyncio.CancelledError:
            self._tokens += 1.0  # give the reserved token back: the call will not happen
            raise
