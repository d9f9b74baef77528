"""The webhook SSRF guard: which URLs may be registered and which addresses a connection may reach.

Names are resolved through the guard's resolver seam (a table here), so a made-up name can resolve to a
private address without DNS or /etc/hosts.
"""

from __future__ import annotations

import asyncio

import pytest

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.subscribers.ssrf import (
    UnsafeUrl,
    WebhookAddressPolicy,
    parse_allow_list,
    registration_guard,
)

NAMES = {
    "hooks.example.sa": ["93.184.216.34"],
    "internal.test": ["10.1.2.3"],
    "mixed.test": ["93.184.216.34", "192.168.1.10"],
    "metadata.test": ["169.254.169.254"],
    "v6.test": ["2606:4700::6810:84e5"],
    "v6-loop.test": ["::1"],
}


async def table(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise OSError(f"{host}: name not known")
    return NAMES[host]


def policy(allow: str = "") -> WebhookAddressPolicy:
    return WebhookAddressPolicy(allow=parse_allow_list(allow), resolver=table)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://hooks.example.sa/x", "must be an https:// URL"),
        ("https:///path", "must be an https:// URL"),
        ("hooks.example.sa/x", "must be an https:// URL"),
        ("http://hooks.example.sa/x", "plain http is only allowed"),
        ("https://user:pw@hooks.example.sa/x", "user name or password"),
        ("https://hooks.example.sa/x#frag", "#fragment"),
        ("https://hooks.example.sa:99999/x", "not a valid URL"),
        ("https://127.0.0.1/x", "127.0.0.1 is a loopback address"),
        ("https://10.0.0.8/x", "is a private address"),
        ("https://192.168.0.1/x", "is a private address"),
        ("https://169.254.169.254/latest/meta-data", "is a link-local address"),
        ("https://[::1]/x", "loopback"),
        ("https://[fd00::1]/x", "private"),
        ("https://[::ffff:127.0.0.1]/x", "loopback"),
        ("https://100.64.0.1/x", "address; webhooks only go to public addresses"),
        ("https://0.0.0.0/x", "address"),
        ("https://internal.test/x", "internal.test (10.1.2.3) is a private address"),
        ("https://mixed.test/x", "mixed.test (192.168.1.10) is a private address"),
        ("https://metadata.test/x", "link-local"),
        ("https://v6-loop.test/x", "loopback"),
        ("https://hooks.example.sa/" + "x" * 2048, "at most 2048 characters"),
    ],
)
def test_refused_at_registration_naming_webhook_url(url: str, words: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        registration_guard(policy())(url)

    assert str(refused.value).startswith("webhook_url: ")
    assert words in str(refused.value)


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("https://hooks.example.sa/x", ""),
        ("https://v6.test/x", ""),
        ("https://not-yet-in-dns.example/x", ""),  # does not resolve now: checked at each connection
        ("http://127.0.0.1:8080/x", "127.0.0.1"),
        ("http://localhost:8080/x", "localhost"),
        ("https://internal.test/x", "internal.test"),
        ("https://internal.test/x", "10.0.0.0/8"),
        ("http://[::1]:9/x", "::1"),
    ],
)
def test_accepted(url: str, allow: str) -> None:
    assert registration_guard(policy(allow))(url) == url


def test_the_real_resolver_refuses_localhost() -> None:
    guard = registration_guard(WebhookAddressPolicy())

    with pytest.raises(InvalidValue, match=r"localhost .* is a loopback address"):
        guard("https://localhost/hooks")


def test_every_connection_is_vetted_again() -> None:
    # A name that resolved to a public address when registered and to a private one when sending.
    names = {"rebinding.test": ["93.184.216.34"]}

    async def changing(host: str, port: int) -> list[str]:
        return names[host]

    guard = WebhookAddressPolicy(resolver=changing)
    assert asyncio.run(guard.vet("rebinding.test", 443)) == ["93.184.216.34"]
    names["rebinding.test"] = ["127.0.0.1"]

    with pytest.raises(UnsafeUrl, match=r"rebinding\.test \(127\.0\.0\.1\) is a loopback address"):
        asyncio.run(guard.vet("rebinding.test", 443))


@pytest.mark.parametrize("entry", ["bad host", "http://x", "a/b/c", "user@host", "-x"])
def test_bad_allow_list_entries_are_named(entry: str) -> None:
    with pytest.raises(ValueError, match="neither a host name nor an IP address"):
        parse_allow_list(f"localhost,{entry}")


def test_allow_list_matches_names_without_case_or_trailing_dot_and_networks() -> None:
    allow = parse_allow_list(" Hooks.Internal. , 10.0.0.0/8,::1 ")

    assert allow.host_listed("hooks.internal")
    assert allow.host_listed("HOOKS.INTERNAL.")
    assert allow.host_listed("10.9.8.7")
    assert allow.host_listed("[::1]")
    assert not allow.host_listed("11.0.0.1")
    assert not allow.host_listed("other.internal")
