"""The webhook SSRF guard: which URLs an establishment may register and which addresses a send may reach.

Rules (docs/operations.md, "Webhooks"): only `https`, or `http` to a host listed in
`JAWAZAT_WEBHOOK_ALLOW_HOSTS`; no user:password in the URL; every address a host name resolves to must be
public (`ipaddress`'s `is_global`): private, loopback, link-local, shared, multicast and reserved ranges
are refused unless the host, the address or a network holding it is listed. The check runs when a URL is
registered (literal addresses, and names that resolve then) and again at every connection: the webhook
channel's aiohttp resolver is `GuardedResolver`, so the address checked is the address connected to (a
name cannot resolve to a public address for the check and a private one for the connection). Redirects
are never followed. `Resolver` is a seam: tests resolve made-up names to private addresses without DNS.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from jawazat_events.domain.channel_settings import MAX_WEBHOOK_URL_LENGTH
from jawazat_events.domain.errors import InvalidValue

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> the addresses it resolves to, as text.
Resolver = Callable[[str, int], Awaitable[list[str]]]
MAX_URL_LENGTH = MAX_WEBHOOK_URL_LENGTH
REGISTRATION_DNS_TIMEOUT = 3.0


class UnsafeUrl(ValueError):
    """A webhook URL or address the guard refuses; the message starts with `webhook_url:`."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (getaddrinfo), TCP addresses only."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _kind(address: IPAddress) -> str:
    """Why an address is not public, in words."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return _kind(mapped)
    for name, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return name
    return "non-public"


def _public(address: IPAddress) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return _public(mapped) if mapped is not None else bool(address.is_global)


@dataclass(frozen=True)
class AllowList:
    """Hosts (names) and networks an operator allows for plain http and for non-public addresses."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    def host_listed(self, host: str) -> bool:
        literal = _literal(host)
        if literal is not None:
            return self.address_listed(literal)
        return host.lower().rstrip(".") in self.names

    def address_listed(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks if network.version == address.version)


def parse_allow_list(text: str) -> AllowList:
    """`JAWAZAT_WEBHOOK_ALLOW_HOSTS`: comma-separated host names, IP addresses and networks (CIDR)."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        if not name or any(c in name for c in "/:@ ") or name.startswith("-"):
            raise ValueError(f"'{entry}' is neither a host name nor an IP address or network")
        names.add(name)
    return AllowList(frozenset(names), tuple(networks))


@dataclass(frozen=True)
class WebhookAddressPolicy:
    """The guard itself: URL rules at registration, address rules at registration and at each connection."""

    allow: AllowList = AllowList()
    resolver: Resolver = system_resolver

    def check_url(self, url: str) -> str:
        """The URL if its form is acceptable (scheme, no credentials, a host); else raise UnsafeUrl."""
        text = url.strip()
        if len(text) > MAX_URL_LENGTH:
            raise UnsafeUrl(f"webhook_url: must be at most {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            raise UnsafeUrl(f"webhook_url: '{text}' is not a valid URL") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise UnsafeUrl(f"webhook_url: '{text}' must be an https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise UnsafeUrl("webhook_url: must not carry a user name or password; put a token in the path")
        if parts.fragment:
            raise UnsafeUrl("webhook_url: must not have a #fragment")
        if any(c.isspace() or ord(c) < 32 for c in text):
            raise UnsafeUrl("webhook_url: must not contain spaces or control characters")
        if parts.scheme == "http" and not self.allow.host_listed(parts.hostname):
            raise UnsafeUrl(
                f"webhook_url: plain http is only allowed to hosts listed in JAWAZAT_WEBHOOK_ALLOW_HOSTS; "
                f"use https for '{parts.hostname}'"
            )
        literal = _literal(parts.hostname)
        if literal is not None:
            self.check_address(parts.hostname, literal)
        if port == 0:
            raise UnsafeUrl("webhook_url: port 0 cannot be connected to")
        return text

    def check_address(self, host: str, address: IPAddress) -> None:
        """Refuse a non-public address unless the host or the address is listed."""
        if _public(address) or self.allow.host_listed(host) or self.allow.address_listed(address):
            return
        shown = host if str(address) == host.strip("[]") else f"{host} ({address})"
        raise UnsafeUrl(
            f"webhook_url: {shown} is a {_kind(address)} address; webhooks only go to public addresses "
            "(an operator may allow a host in JAWAZAT_WEBHOOK_ALLOW_HOSTS)"
        )

    async def vet(self, host: str, port: int) -> list[str]:
        """Resolve `host` and check every address; the addresses to connect to, or raise UnsafeUrl."""
        literal = _literal(host)
        if literal is not None:
            self.check_address(host, literal)
            return [str(literal)]
        try:
            addresses = await self.resolver(host, port)
        except OSError as error:
            raise OSError(f"cannot resolve {host}: {error}") from error
        if not addresses:
            raise OSError(f"{host} resolves to no address")
        for text in addresses:
            self.check_address(host, ipaddress.ip_address(text))
        return addresses

    async def check_registration(self, url: str) -> str:
        """At registration: the URL's form, then its host's addresses if it resolves now.

        A name that does not resolve yet is accepted (DNS may follow); every connection is checked anyway.
        """
        text = self.check_url(url)
        parts = urlsplit(text)
        host = parts.hostname or ""
        if _literal(host) is not None:
            return text
        try:
            async with asyncio.timeout(REGISTRATION_DNS_TIMEOUT):
                await self.vet(host, parts.port or (443 if parts.scheme == "https" else 80))
        except (OSError, TimeoutError):
            pass
        return text


def registration_guard(policy: WebhookAddressPolicy) -> Callable[[str], str]:
    """The policy's registration check as the application services call it: synchronous, and raising
    the domain's InvalidValue (named `webhook_url`) for a refused URL."""

    def guard(url: str) -> str:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            runner: Callable[[], str] = lambda: asyncio.run(policy.check_registration(url))  # noqa: E731
        else:  # called from a running loop (an async route): check on a thread of its own

            def runner() -> str:
                with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                    return pool.submit(asyncio.run, policy.check_registration(url)).result()

        try:
            return runner()
        except UnsafeUrl as error:
            raise InvalidValue(str(error)) from None

    return guard


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver for the webhook channel: resolves through the policy, so only vetted addresses
    are ever connected to (the address is pinned for that connection)."""

    def __init__(self, policy: WebhookAddressPolicy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self.policy.vet(host, port)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        """Nothing to release."""
