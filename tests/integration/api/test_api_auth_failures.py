"""Failed authentications never lock out valid credentials: they are counted per client address and per
presented key prefix, apart from callers' own limits, and turn only further failures into 429; behind a
trusted proxy the client is the address `X-Forwarded-For` names, elsewhere that header is ignored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jawazat_events.api import create_app
from jawazat_events.api.auth_failures import client_address, key_prefix
from jawazat_events.bootstrap import Container
from jawazat_events.settings import Settings
from tests.support.api import SPONSOR_A, SPONSOR_B, bearer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LIMIT = 10


@contextmanager
def clients(container: Container, *addresses: str, **settings: Any) -> Iterator[list[TestClient]]:
    """TestClients over ONE app (one limiter), each calling from its own address."""
    container.settings = container.settings.model_copy(update={"api_rate_limit_per_minute": LIMIT} | settings)
    app = create_app(container)
    with TestClient(app, client=(addresses[0], 50000)) as first:
        yield [first, *(TestClient(app, client=(a, 50000)) for a in addresses[1:])]


def bad_keys(count: int) -> list[dict[str, str]]:
    """Wrong secrets for A's key, keys of nobody, a token of nobody, and text that is no key at all."""
    shapes = [
        f"jzk_{SPONSOR_A}_wrong{{}}",
        "jzk_7000000009_nobody{}",
        "jzt_0123456789abcdef_nope{}",
        "garbage-{}",
    ]
    return [bearer(shapes[n % len(shapes)].format(n)) for n in range(count)]


def test_many_bad_keys_from_one_address_never_lock_out_a_valid_key(container: Container) -> None:
    with clients(container, "203.0.113.5") as (client,):
        key_a = container.establishments.register(unified_number=SPONSOR_A, name="A", mobile="0501234567")
        key_b = container.establishments.register(unified_number=SPONSOR_B, name="B", mobile="0551234567")
        auditor = container.tokens.issue(role="auditor", name="audit office").token

        failed = [client.get("/v1/subscriptions", headers=h).status_code for h in bad_keys(25)]
        valid = [
            client.get("/v1/subscriptions", headers=bearer(key_a)).status_code,
            client.get("/v1/subscriptions", headers=bearer(key_b)).status_code,
            client.get("/v1/audit/events", headers=bearer(auditor)).status_code,
        ]
        limited = client.get("/v1/subscriptions", headers=bearer("jzk_7000000009_again"))

    assert failed[:LIMIT] == [401] * LIMIT
    assert set(failed[LIMIT:]) == {429}
    assert valid == [200, 200, 200]
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "failed authentications" in limited.json()["detail"]


def test_failures_against_one_key_from_many_addresses_are_limited_but_never_block_its_holder(
    container: Container,
) -> None:
    addresses = [f"198.51.100.{n}" for n in range(1, LIMIT + 3)]
    with clients(container, *addresses) as callers:
        key_a = container.establishments.register(unified_number=SPONSOR_A, name="A", mobile="0501234567")
        guesses = [c.get("/v1/subscriptions", headers=bearer(f"jzk_{SPONSOR_A}_guess")) for c in callers]
        holder = callers[-1].get("/v1/subscriptions", headers=bearer(key_a))
        other_key = callers[-1].get("/v1/subscriptions", headers=bearer("jzk_7007654321_typo"))

    assert [g.status_code for g in guesses] == [401] * LIMIT + [429, 429]
    assert holder.status_code == 200
    assert other_key.status_code == 401, "another key prefix from a fresh address is not limited"


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_forwarded_address(container: Container) -> None:
    with clients(container, "127.0.0.1", "192.0.2.66", api_trusted_proxies="127.0.0.1, 10.0.0.0/8") as (
        proxy,
        direct,
    ):
        key_a = container.establishments.register(unified_number=SPONSOR_A, name="A", mobile="0501234567")

        def via_proxy(forwarded: str, credential: str) -> int:
            headers = bearer(credential) | {"X-Forwarded-For": forwarded}
            return proxy.get("/v1/subscriptions", headers=headers).status_code

        attacker = [via_proxy("203.0.113.5", f"jzk_7000000009_bad{n}") for n in range(LIMIT + 2)]
        # The client's own claim is not believed: the hop the proxy added is (its last untrusted one).
        spoofed = via_proxy("198.51.100.7, 203.0.113.5, 10.1.2.3", "jzk_7000000009_bad")
        neighbour = via_proxy("198.51.100.7", "jzk_7007654321_typo")
        attacker_valid = via_proxy("203.0.113.5", key_a)
        # Not from a trusted proxy: X-Forwarded-For is ignored, the peer address counts (a new key prefix
        # and a new claimed address each time, so only the peer's count can reach the limit).
        direct_statuses = [
            direct.get(
                "/v1/subscriptions",
                headers=bearer(f"jzk_71{n:08d}_x") | {"X-Forwarded-For": f"198.51.100.{n}"},
            ).status_code
            for n in range(LIMIT + 2)
        ]

    assert attacker == [401] * LIMIT + [429, 429]
    assert spoofed == 429
    assert neighbour == 401
    assert attacker_valid == 200
    assert direct_statuses == [401] * LIMIT + [429, 429]


def test_the_failure_budget_is_its_own_setting(container: Container) -> None:
    with clients(
        container, "203.0.113.9", api_rate_limit_per_minute=1000, api_auth_failures_per_minute=3
    ) as (client,):
        statuses = [client.get("/v1/subscriptions", headers=h).status_code for h in bad_keys(5)]
    assert statuses == [401, 401, 401, 429, 429]


CLIENTS = [
    ("no proxy trusted", "203.0.113.5", ["198.51.100.1"], "", "203.0.113.5"),
    ("untrusted peer's header ignored", "203.0.113.5", ["198.51.100.1"], "127.0.0.1", "203.0.113.5"),
    ("trusted proxy", "127.0.0.1", ["198.51.100.1"], "127.0.0.1", "198.51.100.1"),
    ("chain of proxies", "10.0.0.2", ["198.51.100.1, 10.0.0.1"], "10.0.0.0/8", "198.51.100.1"),
    ("spoofed first hop", "127.0.0.1", ["6.6.6.6, 198.51.100.1"], "127.0.0.1", "198.51.100.1"),
    ("several headers", "127.0.0.1", ["6.6.6.6", "198.51.100.1"], "127.0.0.1", "198.51.100.1"),
    ("IPv6 client", "::1", ["2001:db8::7"], "::1", "2001:db8::7"),
    ("no header", "127.0.0.1", [], "127.0.0.1", "127.0.0.1"),
    ("garbage from the proxy", "127.0.0.1", ["not-an-ip"], "127.0.0.1", "unparsed:not-an-ip"),
]


@pytest.mark.parametrize(
    ("case", "peer", "forwarded", "trusted", "expected"), CLIENTS, ids=[c[0] for c in CLIENTS]
)
def test_client_address(case: str, peer: str, forwarded: list[str], trusted: str, expected: str) -> None:
    networks = Settings(api_trusted_proxies=trusted).trusted_proxies
    assert client_address(peer, forwarded, networks) == expected


@pytest.mark.parametrize(
    ("credential", "prefix"),
    [
        (f"jzk_{SPONSOR_A}_secret_with_underscores", f"jzk_{SPONSOR_A}"),
        ("jzt_0123456789abcdef_secret", "jzt_0123456789abcdef"),
        ("jzk_only-two", None),
        ("Basic abc", None),
        (None, None),
        ("jzk_" + "9" * 5000 + "_x", None),
    ],
)
def test_key_prefix_is_the_public_part_only(credential: str | None, prefix: str | None) -> None:
    assert key_prefix(credential) == prefix
