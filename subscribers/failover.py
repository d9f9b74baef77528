"""Provider failover: several SMTP servers or Twilio API bases in priority order, with a circuit breaker.

One `FailoverChannel` stands for one channel (e-mail or SMS) and holds its providers in the order the
operator listed them. A send tries the first provider not cooling down; a transient failure (the
provider's `retry`: unreachable, timed out, 4xx/5xx of the service, rate limited) opens that provider's
breaker for the cool-down and the same attempt goes on with the next one. A permanent failure (`failed`:
the recipient's number is invalid, the mailbox refused with 5xx) is the message's, not the provider's: it
is returned at once, without failing over. When every provider is cooling down, the one whose cool-down
ends first is tried anyway (half-open), so an attempt is never lost to the breaker alone.

Details name providers by position, `smtp#1`, `twilio#2`, never by address: each provider's host, port
and URL are scrubbed from the words its channel reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar
from urllib.parse import urlsplit

from jawazat_events.services.channels import Channel, DeliveryResult, OutgoingMessage


@dataclass
class Provider:
    """One provider of a channel: its label (`smtp#1`), its channel, and the words that would reveal it."""

    label: str
    channel: Channel
    hide: tuple[str, ...] = ()
    open_until: float = field(default=0.0)  # monotonic time until which the breaker skips it

    def scrub(self, text: str) -> str:
        """`text` with this provider's address words replaced by its label."""
        for word in sorted(self.hide, key=len, reverse=True):
            if word:
                text = text.replace(word, self.label)
        return text


def address_words(url: str) -> tuple[str, ...]:
    """What in a provider's URL identifies it: the URL, host:port, ('host', port), the host."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    words = [url.strip(), url.strip().rstrip("/"), parts.netloc]
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None:
        words += [f"{host}:{port}", f"('{host}', {port})", f"{host} on port {port}"]
    words.append(host)
    return tuple(dict.fromkeys(w for w in words if w))


def split_urls(value: str) -> list[str]:
    """A comma-separated setting as its list of values, in order (commas in passwords: use %2C)."""
    return [part.strip() for part in value.split(",") if part.strip()]


class FailoverChannel:
    """Providers of one channel in priority order, each skipped for `cooldown_seconds` after a failure."""

    name: ClassVar[str] = "failover"
    max_length: ClassVar[int | None] = None

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        cooldown_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not providers:
            raise ValueError("a failover channel needs at least one provider")
        self.providers = list(providers)
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self.max_per_second = providers[0].channel.max_per_second

    def order(self) -> list[Provider]:
        """Providers to try now: those not cooling down, in priority order; else the soonest to recover."""
        now = self._clock()
        ready = [p for p in self.providers if p.open_until <= now]
        return ready or [min(self.providers, key=lambda p: p.open_until)]

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Send through the first provider that takes it; permanent failures do not fail over."""
        failures: list[str] = []
        result: DeliveryResult | None = None
        for provider in self.order():
            outcome = await provider.channel.send(message)
            detail = f"{provider.label}: {provider.scrub(outcome.detail)}"
            result = replace(outcome, detail="; ".join([*failures, detail]))
            if outcome.outcome != "retry":
                return result
            provider.open_until = self._clock() + self.cooldown_seconds
            failures.append(f"{detail} (skipped for {self.cooldown_seconds:g} s)")
        assert result is not None
        return replace(result, detail="; ".join(failures))

    async def aclose(self) -> None:
        """Close every provider's connections."""
        for provider in self.providers:
            await provider.channel.aclose()
