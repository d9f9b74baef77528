"""The bulk path's writer thread: a failure stops the run with exactly the committed lines reported, and a
conflict with another writer in the middle of a pipelined run is worked out again, line results exact."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent

from jawazat_events.bootstrap import Container
from jawazat_events.generate import FeedGenerator
from tests.support import assert_stored_once, notifications


def _fail_on_write(
    container: Container, monkeypatch: pytest.MonkeyPatch, number: int, error: Exception
) -> None:
    """The store's `insert_events` fails on its `number`-th call (a lost server, a conflict)."""
    recorder = container.app.recorder
    original = recorder.insert_events
    calls = [0]

    def insert_events(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == number:
            raise error
        return original(stored_events, **kwargs)

    monkeypatch.setattr(recorder, "insert_events", insert_events)


def test_a_failed_write_stops_the_run_with_exactly_the_stored_lines_reported(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = list(FeedGenerator(people=20, events=200, seed=4).lines())
    container.ingestor.batch_size = 25
    _fail_on_write(container, monkeypatch, 3, OperationalError("the server closed the connection"))

    reported: list[Any] = []
    with pytest.raises(OperationalError):
        for result, _ in container.ingestor.ingest_lines(lines):
            reported.append(result)

    # Two batches stored and reported, in order; the third failed; the fourth (prepared while the third
    # was written) was never written.
    assert [r.line for r in reported] == list(range(1, 51))
    assert {r.status for r in reported} == {"accepted"}
    assert len(notifications(container.app)) == 50
    assert_stored_once(container.app, [r.event_id for r in reported if r.event_id])

    # Sent again, the stored lines are duplicates and the rest goes in.
    monkeypatch.undo()
    again = [r.status for r, _ in container.ingestor.ingest_lines(lines)]
    assert again == ["duplicate"] * 50 + ["accepted"] * 150


def test_a_failed_read_while_a_batch_is_written_still_reports_that_batch(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = list(FeedGenerator(people=20, events=200, seed=4).lines())
    container.ingestor.batch_size = 25
    store = container.app.store
    original = store.existing_event_ids
    calls = [0]

    def existing_event_ids(event_ids: Sequence[str]) -> set[str]:
        calls[0] += 1
        if calls[0] == 5:  # the third batch's first look, while the second is being written
            raise OperationalError("the server closed the connection")
        return original(event_ids)

    monkeypatch.setattr(store, "existing_event_ids", existing_event_ids)

    reported: list[Any] = []
    with pytest.raises(OperationalError):
        for result, _ in container.ingestor.ingest_lines(lines):
            reported.append(result)

    # Every stored line is reported, and only those.
    assert [r.line for r in reported] == list(range(1, 51))
    assert len(notifications(container.app)) == 50


def test_a_conflict_mid_run_is_worked_out_again_from_the_store(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = list(FeedGenerator(people=20, events=200, seed=4).lines())
    container.ingestor.batch_size = 25
    _fail_on_write(container, monkeypatch, 4, IntegrityError("another writer got there first"))

    results = [r for r, _ in container.ingestor.ingest_lines(lines)]

    assert [r.line for r in results] == list(range(1, 201))
    assert {r.status for r in results} == {"accepted"}
    assert_stored_once(container.app, [r.event_id for r in results if r.event_id])
