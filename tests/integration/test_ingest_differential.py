"""Differential: the bulk ingest path against the reference (the ingestor as it was, aggregate commands and
`save_keyed`), on generated feeds with bad lines, copies and re-applied events, in any batch size.

Both report the same result for every line and store the same rows: positions, originators, versions,
topics and state bytes (the library's timestamps are pinned so the bytes can be compared), the same
source event ids and the same hash-chain links. Encrypted, the decrypted states agree and the chain
verifies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import eventsourcing.domain
import pytest
from eventsourcing.postgres import PostgresDatastore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jawazat_events.audit import chain
from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.generate import FeedGenerator
from jawazat_events.library_internals import datastore_of
from jawazat_events.services.ingest import parse_lines
from tests.support import notifications
from tests.support.audit import TEST_KEY
from tests.support.reference_ingest import ReferenceIngestor
from tests.support.stores import FIXED_NOW, pg_database

# PostgreSQL examples each create two databases: a few are enough there, SQLite gets more.
EXAMPLES = {"sqlite": 25, "postgres": 4}
TIMESTAMP = datetime(2026, 7, 1, 8, 59, 30, 123456, tzinfo=UTC)


Item = dict[str, Any]
CORRUPTIONS: list[Callable[[Item], Item]] = [
    lambda e: {**e, "id_number": "2000000001"},  # fails its check digit
    lambda e: {**e, "occurred_at": "2099-01-01T00:00:00+03:00"},  # in the future
    lambda e: {**e, "gate": "B7"},  # not a field
    lambda e: {k: v for k, v in e.items() if k != "occurred_at"},
    lambda e: {**e, "type": "passport_expired"},  # made by the engine
    lambda e: {**e, "event_id": f" {e['event_id']} "},  # accepted, stripped (the reference decides)
    lambda e: {**e, "occurred_at": str(e.get("occurred_at"))[:16] + "+03:00"},  # no seconds (the reference's)
    lambda e: {**e, "event_id": e["event_id"] + "-again"},  # the same event again under a new id
]


@dataclass(frozen=True)
class Feed:
    lines: list[str]
    batch_size: int


@st.composite
def feeds(draw: st.DrawFn) -> Feed:
    people = draw(st.integers(min_value=1, max_value=5), label="people")
    events = people + draw(st.integers(min_value=0, max_value=25), label="life events")
    seed = draw(st.integers(min_value=0, max_value=100_000), label="seed")
    items = list(FeedGenerator(people=people, events=events, seed=seed))
    for _ in range(draw(st.integers(min_value=0, max_value=6), label="changes")):
        index = draw(st.integers(min_value=0, max_value=len(items) - 1))
        how = draw(st.integers(min_value=0, max_value=len(CORRUPTIONS) + 1))
        if how < len(CORRUPTIONS):
            changed = CORRUPTIONS[how](items[index])
        elif how == len(CORRUPTIONS):
            changed = dict(items[index])  # a copy: a duplicate
        else:
            changed = {
                "event_id": f"d-{index}-{len(items)}",
                "type": "person_details_changed",
                "id_number": items[index]["id_number"],
                "occurred_at": items[index].get("occurred_at", "2026-01-05T09:30:00+03:00"),
                "marital_status": draw(st.sampled_from(["married", "single"])),
                "mobile": draw(st.sampled_from([None, "0501234567"])),
            }
        at = draw(st.integers(min_value=index, max_value=len(items)))
        items.insert(at, changed)
    lines = [json.dumps(item, ensure_ascii=False) for item in items]
    lines.insert(draw(st.integers(min_value=0, max_value=len(lines))), "{not json")
    return Feed(lines, draw(st.integers(min_value=1, max_value=len(lines)), label="batch size"))


@pytest.fixture
def pinned_timestamps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every event the library makes takes this timestamp (the paths make theirs at different moments)."""
    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: TIMESTAMP)


def _url(backend: str, folder: Path, name: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / name}.db"
        return
    with pg_database() as url:
        yield url


def _container(url: str, folder: Path, batch_size: int, cipher_key: str | None) -> Container:
    wired = bootstrap(
        database_url=url, outbox_dir=folder / "outbox", ingest_batch_size=batch_size, cipher_key=cipher_key
    )
    wired.clock = lambda: FIXED_NOW
    return wired


Outcome = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], dict[str, int], list[tuple[Any, ...]]]


def _run(
    backend: str, folder: Path, name: str, feed: Feed, *, reference: bool, cipher_key: str | None = None
) -> Outcome:
    """Ingest the feed by one path into a fresh store: (results, rows, event ids, chain links)."""
    for url in _url(backend, folder, name):
        wired = _container(url, folder, feed.batch_size, cipher_key)
        try:
            results = _ingest(wired, feed.lines, reference=reference, batch_size=feed.batch_size)
            rows = []
            for n in notifications(wired.app):
                state = wired.app.mapper.cipher.decrypt(n.state) if wired.app.mapper.cipher else n.state
                rows.append((n.id, n.originator_id, n.originator_version, n.topic, state))
            source_ids = [r[2] for r in results if r[2] is not None]
            keyed = wired.app.store.notification_ids_of(source_ids)
            report = chain.verify(wired.app.store)
            assert report.intact, report.finding
            links = [] if cipher_key else _links(wired)
            return results, rows, keyed, links
        finally:
            wired.close()
    raise AssertionError("unreachable")


def _ingest(wired: Container, lines: list[str], *, reference: bool, batch_size: int) -> list[tuple[Any, ...]]:
    """Every line's (number, status, event id, reason, type), by the reference or the bulk path."""
    if reference:
        ingestor = ReferenceIngestor(wired.app, today=wired.today, now=wired.now, batch_size=batch_size)
        outcomes = list(ingestor.ingest(parse_lines(lines)))
    else:
        outcomes = list(wired.ingestor.ingest_lines(lines))
    return [(r.line, r.status, r.event_id, r.reason, kind) for r, kind in outcomes]


def _links(wired: Container) -> list[tuple[Any, ...]]:
    """The hash chain's rows: (position, previous position, link)."""
    query = f"SELECT notification_id, previous_id, link FROM {chain.CHAIN_TABLE} ORDER BY notification_id"
    datastore = datastore_of(wired.app)
    if isinstance(datastore, PostgresDatastore):
        with datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query)
            return [(r["notification_id"], r["previous_id"], bytes(r["link"])) for r in curs.fetchall()]
    with datastore.transaction(commit=False) as c:
        c.execute(query)
        return [(r[0], r[1], bytes(r[2])) for r in c.fetchall()]


def check_same(backend: str, folder: Path, feed: Feed, *, cipher_key: str | None = None) -> None:
    expected = _run(backend, folder, "reference", feed, reference=True, cipher_key=cipher_key)
    got = _run(backend, folder, "bulk", feed, reference=False, cipher_key=cipher_key)
    results, rows, keyed, links = got
    assert results == expected[0]
    assert rows == expected[1]
    assert keyed == expected[2]
    assert links == expected[3]
    assert {r[1] for r in results} <= {"accepted", "duplicate", "rejected"}


@pytest.mark.usefixtures("pinned_timestamps")
def test_the_bulk_path_stores_and_reports_what_the_reference_does(backend: str, tmp_path: Path) -> None:
    runs = iter(range(10**6))

    @settings(
        max_examples=EXAMPLES[backend],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(feeds())
    def agree(feed: Feed) -> None:
        folder = tmp_path / str(next(runs))
        folder.mkdir()
        check_same(backend, folder, feed)

    agree()


@pytest.mark.usefixtures("pinned_timestamps")
def test_a_larger_feed_in_many_batches_agrees(backend: str, tmp_path: Path) -> None:
    lines = list(FeedGenerator(people=60, events=900, seed=11).lines())
    lines[100:100] = lines[40:60]  # copies, some in the same batch, some in later ones
    check_same(backend, tmp_path, Feed(lines, 64))


@pytest.mark.usefixtures("pinned_timestamps")
def test_an_encrypted_store_agrees_and_its_chain_verifies(tmp_path: Path) -> None:
    lines = list(FeedGenerator(people=20, events=200, seed=3).lines())
    check_same("sqlite", tmp_path, Feed(lines, 16), cipher_key=TEST_KEY)


def _with_subscriptions(backend: str, folder: Path, name: str, *, reference: bool) -> tuple[Any, ...]:
    """People registered, each subscribed by its sponsor, then a year of life events with transfers."""
    generator = FeedGenerator(people=30, events=600, seed=21)
    lines = list(generator.lines())
    registrations, life = lines[:30], lines[30:]
    for url in _url(backend, folder, name):
        wired = _container(url, folder, 50, None)
        try:
            results = _ingest(wired, registrations, reference=reference, batch_size=50)
            for sponsor in sorted({json.loads(text)["sponsor"] for text in registrations}):
                wired.establishments.register(
                    unified_number=sponsor, name=f"Est {sponsor}", email="hr@x.example"
                )
            for text in registrations:
                item = json.loads(text)
                wired.establishments.subscribe(
                    item["sponsor"], item["id_number"], notification_types=["entry_exit"], mobile="0501234567"
                )
            results += _ingest(wired, life, reference=reference, batch_size=50)
            rows = [
                (n.id, n.originator_id, n.originator_version, n.topic, n.state)
                for n in notifications(wired.app)
                if "establishment" not in n.topic  # their API keys are random
            ]
            assert chain.verify(wired.app.store).intact
            return results, rows
        finally:
            wired.close()
    raise AssertionError("unreachable")


@pytest.mark.usefixtures("pinned_timestamps")
def test_transfers_end_the_old_sponsors_subscription_alike(backend: str, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    expected = _with_subscriptions(backend, tmp_path / "a", "reference", reference=True)
    got = _with_subscriptions(backend, tmp_path / "b", "bulk", reference=False)
    ended = [row for row in got[1] if row[3].endswith("Subscription.Ended")]
    assert ended, "the feed should end some subscriptions by transfer"
    assert got == expected
