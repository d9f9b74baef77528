"""`/healthz` and `/metrics` reuse what they read from the store for a moment: a flood of probes or scrapes
costs the database one read per period, and the figures still follow the store after it."""

from __future__ import annotations

import re
import time

import pytest

from jawazat_events.bootstrap import Container
from tests.support import CITIZEN, RESIDENT, VISITOR
from tests.support.api import api_world

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# Long enough for the probes "within" the period to be made inside it on a slow, loaded machine (at 0.5 s
# they sometimes were not: 50 requests and a registration can take longer there).
PERIOD = 3.0


def _metrics_head(text: str) -> int:
    return int(_value(text, "jawazat_store_head_position"))


def _value(text: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


def test_probes_reuse_the_stores_answer_within_the_period_and_follow_it_after(container: Container) -> None:
    with api_world(container, api_health_cache_seconds=PERIOD) as world:
        world.person(RESIDENT)
        first = world.client.get("/healthz").json()["head"]
        read_at = time.monotonic()
        first_metrics = _metrics_head(world.client.get("/metrics").text)
        world.person(CITIZEN)  # the store moves on

        within = [world.client.get("/healthz").json()["head"] for _ in range(50)]
        within_text = world.client.get("/metrics").text
        within_metrics = _metrics_head(within_text)
        within_took = time.monotonic() - read_at
        time.sleep(PERIOD * 1.5)
        after = world.client.get("/healthz").json()["head"]
        after_metrics = _metrics_head(world.client.get("/metrics").text)
        world.person(VISITOR)
        process_counter = world.client.get("/metrics").text

    assert within_took < PERIOD, f"the probes within the period took {within_took:.2f} s"
    assert first == first_metrics and set(within) == {first} and within_metrics == first
    assert after == after_metrics > first
    # This process's own counters are never held back: only the store's figures are reused.
    probes = 'jawazat_http_requests_total{method="GET",route="/healthz",status="200"}'
    assert _value(process_counter, probes) - _value(within_text, probes) == 1


def test_the_default_period_is_short(container: Container) -> None:
    assert 1 <= container.settings.api_health_cache_seconds <= 5
