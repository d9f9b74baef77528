"""The tamper-evident hash chain on the real store (each backend, in clear and encrypted): `verify` passes an
untouched store, and names the first altered, deleted, inserted or reordered event when rows are changed
directly with SQL; checkpoints and external anchors catch a chain rewritten from scratch."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jawazat_events.audit import chain
from jawazat_events.audit.chain import GENESIS, link_of
from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.generate import FeedGenerator
from tests.support import ingest
from tests.support.audit import TEST_KEY


class Raw:
    """Direct SQL on the store's own tables, around the product (what a tamperer would do)."""

    def __init__(self, container: Container) -> None:
        self.postgres = container.database.backend == "postgres"
        self.events = container.app.store.events_table_name
        self.pos = "notification_id" if self.postgres else "rowid"
        if self.postgres:
            self.conn: Any = psycopg.connect(container.database.psycopg_conninfo(), autocommit=True)
        else:
            import sqlite3

            self.conn = sqlite3.connect(container.database.sqlite_path, isolation_level=None)

    def run(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        statement = statement.replace("{events}", self.events).replace("{pos}", self.pos)
        if self.postgres:
            cursor = self.conn.execute(statement.replace("?", "%s"), params)
            return list(cursor.fetchall()) if cursor.description else []
        return list(self.conn.execute(statement, params).fetchall())

    def row(self, position: int) -> tuple[Any, int, str, bytes]:
        ((originator, version, topic, state),) = self.run(
            "SELECT originator_id, originator_version, topic, state FROM {events} WHERE {pos} = ?",
            (position,),
        )
        return uuid.UUID(str(originator)), int(version), str(topic), bytes(state)

    def set_state(self, position: int, state: bytes) -> None:
        self.run("UPDATE {events} SET state = ? WHERE {pos} = ?", (state, position))

    def move(self, source: int, target: int) -> None:
        self.run("UPDATE {events} SET {pos} = ? WHERE {pos} = ?", (target, source))

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def store(database_url: str, tmp_path: Path, store_mode: str) -> Iterator[Container]:
    """A store of 80 generated events saved in batches of 7 (so the chain spans many transactions)."""
    overrides: dict[str, object] = {
        "database_url": database_url,
        "outbox_dir": tmp_path / "outbox",
        "ingest_batch_size": 7,
    }
    if store_mode == "encrypted":
        overrides["cipher_key"] = TEST_KEY
    wired = bootstrap(**overrides)
    ingest(wired, FeedGenerator(people=12, events=80, seed=5).lines())
    try:
        yield wired
    finally:
        wired.close()


@pytest.fixture
def raw(store: Container) -> Iterator[Raw]:
    tamper = Raw(store)
    try:
        yield tamper
    finally:
        tamper.close()


def check(container: Container, **kwargs: Any) -> chain.VerifyReport:
    return chain.verify(container.app.store, page_size=16, **kwargs)


def test_an_untouched_store_verifies(store: Container) -> None:
    report = check(store)
    head = store.app.recorder.max_notification_id()
    assert report.intact and report.finding is None
    assert (report.events, report.head_position) == (80, head)
    # The published link is the chain recomputed from the stored rows, from the genesis.
    assert report.head_link == _recompute(Raw(store))[head]


def test_the_chain_follows_every_transaction(store: Container) -> None:
    ingest(store, FeedGenerator(people=3, events=9, seed=99).lines())
    assert check(store).intact and check(store).events == 89


def test_an_altered_state_is_named(store: Container, raw: Raw) -> None:
    originator, version, _, state = raw.row(23)
    raw.set_state(23, state[:10] + bytes([state[10] ^ 0x01]) + state[11:])
    finding = check(store).finding
    assert finding is not None
    assert (finding.kind, finding.position) == ("altered", 23)
    assert (finding.originator_id, finding.originator_version) == (originator, version)


def test_an_altered_topic_is_named(store: Container, raw: Raw) -> None:
    raw.run("UPDATE {events} SET topic = ? WHERE {pos} = ?", ("jawazat_events.domain.person:Person.X", 31))
    finding = check(store).finding
    assert finding is not None and (finding.kind, finding.position) == ("altered", 31)


def test_a_deleted_event_is_named(store: Container, raw: Raw) -> None:
    originator, version, _, _ = raw.row(40)
    raw.run("DELETE FROM {events} WHERE {pos} = ?", (40,))
    finding = check(store).finding
    assert finding is not None
    assert (finding.kind, finding.position) == ("deleted", 40)
    assert (finding.originator_id, finding.originator_version) == (originator, version)


def test_an_event_deleted_with_its_link_is_named(store: Container, raw: Raw) -> None:
    raw.run("DELETE FROM {events} WHERE {pos} = ?", (40,))
    raw.run(f"DELETE FROM {chain.CHAIN_TABLE} WHERE notification_id = ?", (40,))
    finding = check(store).finding
    assert finding is not None and (finding.kind, finding.position) == ("deleted", 40)


def test_swapped_positions_are_named(store: Container, raw: Raw) -> None:
    recorded_at_12, _, _, _ = raw.row(12)
    moved_here, moved_version, _, _ = raw.row(57)
    raw.move(12, -1)
    raw.move(57, 12)
    raw.move(-1, 57)
    finding = check(store).finding
    assert finding is not None
    assert (finding.kind, finding.position) == ("reordered", 12)
    assert (finding.originator_id, finding.originator_version) == (moved_here, moved_version)
    assert str(recorded_at_12) in finding.detail


def test_swapped_states_and_topics_are_named(store: Container, raw: Raw) -> None:
    _, _, topic_a, state_a = raw.row(15)
    _, _, topic_b, state_b = raw.row(16)
    raw.run("UPDATE {events} SET topic = ?, state = ? WHERE {pos} = ?", (topic_b, state_b, 15))
    raw.run("UPDATE {events} SET topic = ?, state = ? WHERE {pos} = ?", (topic_a, state_a, 16))
    finding = check(store).finding
    assert finding is not None and (finding.kind, finding.position) == ("altered", 15)


def test_a_forged_row_is_named(store: Container, raw: Raw) -> None:
    _, _, topic, state = raw.row(30)
    forged = uuid.uuid4()
    raw.run(
        "INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        (forged if raw.postgres else forged.hex, 1, topic, state),
    )
    finding = check(store).finding
    assert finding is not None
    assert (finding.kind, finding.position, finding.originator_id) == ("inserted", 81, forged)


def test_the_first_of_several_changes_is_named(store: Container, raw: Raw) -> None:
    raw.run("DELETE FROM {events} WHERE {pos} = ?", (70,))
    _, _, _, state = raw.row(9)
    raw.set_state(9, state + b" ")
    finding = check(store).finding
    assert finding is not None and (finding.kind, finding.position) == ("altered", 9)


def test_a_rewritten_chain_needs_an_anchor_or_checkpoint_to_be_caught(store: Container, raw: Raw) -> None:
    before = check(store)
    anchor = (before.head_position or 0, before.head_link)
    _, _, _, state = raw.row(20)
    raw.set_state(20, state + b" ")
    # Someone who can write the database recomputes every link after the change…
    for position, link in _recompute(raw).items():
        raw.run(f"UPDATE {chain.CHAIN_TABLE} SET link = ? WHERE notification_id = ?", (link, position))
    assert check(store).intact  # …so the chain alone cannot tell (docs/audit.md)
    finding = check(store, anchors=[anchor]).finding
    assert finding is not None and (finding.kind, finding.position) == ("altered", anchor[0])
    assert "anchor" in finding.detail


def test_checkpoints_are_recorded_and_checked(
    store: Container, raw: Raw, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chain, "CHECKPOINT_EVERY", 10)
    ingest(store, FeedGenerator(people=5, events=40, seed=77).lines())
    stored = dict(raw.run(f"SELECT notification_id, link FROM {chain.CHECKPOINTS_TABLE}"))
    assert len(stored) >= 3  # 7-event batches crossing 90, 100, 110
    report = check(store)
    assert report.intact and report.checkpoints == len(stored)
    _, _, _, state = raw.row(85)
    raw.set_state(85, state + b" ")
    for position, link in _recompute(raw).items():
        raw.run(f"UPDATE {chain.CHAIN_TABLE} SET link = ? WHERE notification_id = ?", (link, position))
    finding = check(store).finding
    assert finding is not None and finding.kind == "altered" and "checkpoint" in finding.detail
    assert finding.position == min(p for p in stored if p >= 85)


def test_removed_tail_events_are_caught_by_an_anchor(store: Container, raw: Raw) -> None:
    anchor = check(store)
    raw.run("DELETE FROM {events} WHERE {pos} > ?", (75,))
    raw.run(f"DELETE FROM {chain.CHAIN_TABLE} WHERE notification_id > ?", (75,))
    assert check(store).intact
    finding = check(store, anchors=[(anchor.head_position or 0, anchor.head_link)]).finding
    assert finding is not None and (finding.kind, finding.position) == ("deleted", 80)


def test_concurrent_writers_keep_one_chain(store: Container, database_url: str, tmp_path: Path) -> None:
    def writer(seed: int) -> None:
        key = {"cipher_key": TEST_KEY} if store.settings.cipher_key is not None else {}
        other = bootstrap(database_url=database_url, outbox_dir=tmp_path / "o", ingest_batch_size=5, **key)
        try:
            ingest(other, FeedGenerator(people=10, events=60, seed=seed).lines())
        finally:
            other.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in (11, 12, 13)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = check(store)
    assert report.intact, report.finding
    assert report.events == store.app.recorder.max_notification_id() == 80 + 180


def _recompute(raw: Raw) -> dict[int, bytes]:
    """Every link recomputed from the rows as they are now (what a full rewrite of the chain writes)."""
    links: dict[int, bytes] = {}
    previous = GENESIS
    for position, originator, version, topic, state in raw.run(
        "SELECT {pos}, originator_id, originator_version, topic, state FROM {events} ORDER BY {pos}"
    ):
        previous = link_of(
            previous, int(position), uuid.UUID(str(originator)), int(version), topic, bytes(state)
        )
        links[int(position)] = previous
    return links
