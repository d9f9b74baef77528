"""Failed authentications: who the client is (trusted proxies) and how many failures it may make.

Failures are counted apart from callers' own rate limits, per client address and per presented key prefix
(`jzk_<unified>`, `jzt_<token id>`), and only ever decide between 401 and 429 for a *failed* attempt: a
valid key or token is always checked and let in, however many bad ones came before it from the same
address (or the same proxy) or for the same establishment.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable, Sequence

from jawazat_events.api.ratelimit import RateLimiter

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Presented credentials are counted by their public part only: the secret never becomes a bucket key.
_PREFIXES = ("jzk", "jzt")
_MAX_PREFIX_LENGTH = 64


def key_prefix(credential: str | None) -> str | None:
    """`jzk_<unified>` or `jzt_<token id>` of a presented credential, or None for anything else."""
    if not credential:
        return None
    parts = credential.split("_", 2)
    if len(parts) != 3 or parts[0] not in _PREFIXES or not parts[1] or len(parts[1]) > _MAX_PREFIX_LENGTH:
        return None
    return f"{parts[0]}_{parts[1]}"


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(text: str, networks: Sequence[Network]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in networks)


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the last address of
    `X-Forwarded-For` that is not itself a trusted proxy (what a client writes there is never believed
    beyond the first untrusted hop)."""
    peer = peer or "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            address = _address(hop)
            return str(address) if address is not None else f"unparsed:{hop[:64]}"
    return hops[0] if hops else peer


class AuthFailures:
    """`per_minute` failed authentications per client address and per key prefix (token buckets)."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._limiter = RateLimiter(per_minute, clock=clock)

    def record(self, address: str, prefix: str | None) -> int | None:
        """Count one failure; None while within the limits, else the seconds to wait (Retry-After)."""
        waits = [self._limiter.hit(f"ip:{address}")]
        if prefix is not None:
            waits.append(self._limiter.hit(f"key:{prefix}"))
        spent = [wait for wait in waits if wait is not None]
        return max(spent) if spent else None
