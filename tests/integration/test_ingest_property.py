"""Property: any interleaving of a feed with re-sent copies, in any batch sizes, stores each event once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jawazat_events.generate import FeedGenerator
from tests.support import assert_stored_once, ingest, notifications
from tests.support.stores import fresh_container

# PostgreSQL examples each create a database: a few are enough there, SQLite gets more.
EXAMPLES = {"sqlite": 50, "postgres": 5}


@dataclass(frozen=True)
class Delivery:
    """A small feed, the order its lines (and their copies) are sent in, and the batch sizes used."""

    feed: list[str]
    order: list[int]  # indexes into `feed`; a repeated index is a re-sent copy
    runs: list[int]  # lines per ingest call; each call uses a batch of that size

    def expected_statuses(self) -> list[str]:
        seen: set[int] = set()
        statuses = []
        for index in self.order:
            statuses.append("duplicate" if index in seen else "accepted")
            seen.add(index)
        return statuses


@st.composite
def deliveries(draw: st.DrawFn) -> Delivery:
    people = draw(st.integers(min_value=1, max_value=4), label="people")
    events = people + draw(st.integers(min_value=0, max_value=14), label="life events")
    seed = draw(st.integers(min_value=0, max_value=100_000), label="seed")
    feed = list(FeedGenerator(people=people, events=events, seed=seed).lines())

    order = list(range(len(feed)))
    copies = draw(st.lists(st.integers(min_value=0, max_value=len(feed) - 1), max_size=2 * len(feed)))
    for index in copies:
        # A copy goes anywhere after its original: next to it, in the same batch, or much later.
        first = order.index(index)
        order.insert(draw(st.integers(min_value=first + 1, max_value=len(order))), index)

    runs: list[int] = []
    while sum(runs) < len(order):
        runs.append(draw(st.integers(min_value=1, max_value=max(1, len(order) - sum(runs)))))
    return Delivery(feed=feed, order=order, runs=runs)


def check_delivery(backend: str, folder: Path, delivery: Delivery) -> None:
    lines = [delivery.feed[i] for i in delivery.order]
    statuses: list[str] = []
    numbers: list[int] = []
    with fresh_container(backend, folder) as wired:
        start = 0
        for size in delivery.runs:
            wired.ingestor.batch_size = size
            results, _ = ingest(wired, lines[start : start + size], first_line=start + 1)
            statuses.extend(r.status for r in results)
            numbers.extend(r.line for r in results)
            start += size

        assert numbers == list(range(1, len(lines) + 1))
        assert statuses == delivery.expected_statuses()
        assert statuses.count("accepted") == len(delivery.feed)
        assert statuses.count("duplicate") == len(lines) - len(delivery.feed)
        assert len(notifications(wired.app)) == len(delivery.feed)
        assert_stored_once(wired.app, [json.loads(text)["event_id"] for text in delivery.feed])


def test_any_interleaving_of_duplicates_in_any_batch_sizes_stores_each_event_once(
    backend: str, tmp_path: Path
) -> None:
    @settings(
        max_examples=EXAMPLES[backend],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(delivery=deliveries())
    def property_holds(delivery: Delivery) -> None:
        check_delivery(backend, tmp_path, delivery)

    property_holds()
