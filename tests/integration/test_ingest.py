"""Ingest scenarios on the real store, each run on SQLite and on PostgreSQL (the `container` fixture)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.domain.identifiers import person_id, subscription_id
from jawazat_events.domain.person import Person, PersonEvent
from jawazat_events.domain.subscription import REASON_TRANSFER, Subscription
from jawazat_events.generate import FeedGenerator
from jawazat_events.services.ingest import LineResult, apply_event, parse_lines
from tests.integration.conftest import ContainerFactory
from tests.support import (
    CITIZEN,
    RESIDENT,
    SPONSOR_A,
    SPONSOR_B,
    SPONSOR_C,
    VISITOR,
    assert_stored_once,
    crossing,
    ingest,
    line,
    notifications,
    registration,
    renewal,
    transfer,
)


def statuses(results: list[LineResult]) -> list[tuple[int, str]]:
    return [(r.line, r.status) for r in results]


def person_events(container: Container, id_number: str = RESIDENT) -> list[PersonEvent]:
    """The person's stored events, read back from the store."""
    events = list(container.app.repository.event_store.get(person_id(id_number)))
    assert all(isinstance(e, PersonEvent) for e in events)
    return [e for e in events if isinstance(e, PersonEvent)]


def subscribe(container: Container, unified_number: str, id_number: str = RESIDENT) -> Subscription:
    subscription = Subscription(
        unified_number=unified_number,
        id_number=id_number,
        notification_types=("entry_exit",),
        mobile=None,
        email="a@b.example",
    )
    container.app.save(subscription)
    return subscription


def load_subscription(container: Container, unified_number: str, id_number: str = RESIDENT) -> Subscription:
    subscription = container.app.repository.get(subscription_id(unified_number, id_number))
    assert isinstance(subscription, Subscription)
    return subscription


# --- a generated feed, then the same again -----------------------------------------------------


def test_a_generated_feed_is_accepted_and_sending_it_again_stores_nothing(container: Container) -> None:
    lines = list(FeedGenerator(people=200, events=1000, seed=3).lines())
    event_ids = [json.loads(text)["event_id"] for text in lines]

    first, report = ingest(container, lines)

    assert (report.accepted, report.duplicate, report.rejected) == (1000, 0, 0), report.rejections[:3]
    assert [r.status for r in first] == ["accepted"] * 1000
    assert [r.line for r in first] == list(range(1, 1001))
    assert [r.event_id for r in first] == event_ids
    assert report.accepted_by_type["person_registered"] == 200
    assert sum(report.accepted_by_type.values()) == 1000
    assert container.app.recorder.max_notification_id() == 1000
    assert len(notifications(container.app)) == 1000
    assert_stored_once(container.app, event_ids)

    again, report = ingest(container, lines)

    assert (report.accepted, report.duplicate, report.rejected) == (0, 1000, 0)
    assert [(r.line, r.status, r.event_id) for r in again] == [
        (n, "duplicate", e) for n, e in enumerate(event_ids, start=1)
    ]
    assert container.app.recorder.max_notification_id() == 1000
    assert len(notifications(container.app)) == 1000
    assert_stored_once(container.app, event_ids)


def test_the_store_keeps_business_and_recording_time(container: Container) -> None:
    ingest(container, [line(registration("r-1")), line(crossing("x-1", "2025-06-01T10:00:00+03:00"))])

    [registered, crossed] = person_events(container)

    assert crossed.occurred_at.isoformat() == "2025-06-01T10:00:00+03:00"
    assert crossed.timestamp > crossed.occurred_at  # recorded now, long after it happened
    assert registered.event_id == "r-1"


# --- bad lines ---------------------------------------------------------------------------------


def test_bad_lines_are_named_by_number_and_reason_and_good_lines_are_stored(container: Container) -> None:
    good = [
        registration("r-1"),
        crossing("x-1", "2025-06-01T10:00:00+03:00"),
        crossing("x-2", "2025-06-20T10:00:00+03:00", direction="exit"),
    ]
    lines = [
        line(good[0]),
        '{"event_id": "b-1", "type": "border_crossing"',  # cut off
        line({**good[1], "event_id": "b-2", "occurred_at": "2025-06-01T10:00:00"}),
        line(good[1]),
        "",  # blank lines are skipped but counted
        line({**good[1], "event_id": "b-3", "type": "passport_expired"}),
        line({**good[1], "event_id": "b-4", "id_number": "2000000001"}),
        "[1, 2, 3]",
        line(good[2]),
        line({**good[1], "event_id": "b-5", "port": 7}),
    ]

    results, report = ingest(container, lines)

    assert statuses(results) == [
        (1, "accepted"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "accepted"),
        (6, "rejected"),
        (7, "rejected"),
        (8, "rejected"),
        (9, "accepted"),
        (10, "rejected"),
    ]
    reasons = {r.line: r.reason for r in report.rejections}
    assert reasons[2] is not None and reasons[2].startswith("invalid JSON")
    assert reasons[3] == "occurred_at: Input should have timezone info"
    assert reasons[6] == "type: 'passport_expired' is made by the engine and never accepted from a feed"
    assert reasons[7] == "id_number '2000000001' fails its check digit"
    assert reasons[8] == "a feed line must be a JSON object with the event's fields"
    assert reasons[10] == "port: Input should be a valid string"
    assert (report.accepted, report.duplicate, report.rejected) == (3, 0, 6)
    assert_stored_once(container.app, ["r-1", "x-1", "x-2"])


def test_events_for_unregistered_id_numbers_are_rejected_with_that_reason(container: Container) -> None:
    lines = [
        line(registration("r-1")),
        line(crossing("x-1", "2025-06-01T10:00:00+03:00", id_number=VISITOR)),
        line(transfer("t-1", "2025-06-01T10:00:00+03:00", SPONSOR_B, id_number=CITIZEN)),
        line(crossing("x-2", "2025-06-01T10:00:00+03:00")),
    ]

    results, _report = ingest(container, lines)

    assert statuses(results) == [(1, "accepted"), (2, "rejected"), (3, "rejected"), (4, "accepted")]
    assert results[1].reason == (
        f"id_number {VISITOR} is not registered: a person_registered event must come first"
    )
    assert results[2].reason is not None and f"id_number {CITIZEN} is not registered" in results[2].reason
    assert results[1].event_id == "x-1"
    assert_stored_once(container.app, ["r-1", "x-2"])
    assert list(container.app.repository.event_store.get(person_id(VISITOR))) == []


def test_a_second_registration_of_an_id_number_is_rejected(container: Container) -> None:
    results, _ = ingest(container, [line(registration("r-1")), line(registration("r-2", sponsor=SPONSOR_B))])

    assert statuses(results) == [(1, "accepted"), (2, "rejected")]
    assert results[1].reason == f"id_number {RESIDENT} is already registered"


# --- out of order, duplicates, exact per-line results ---------------------------------------------


def test_out_of_order_business_times_are_accepted(container: Container) -> None:
    lines = [
        line(registration("r-1", sponsor=SPONSOR_A)),
        line(transfer("t-2", "2026-02-01T00:00:00+03:00", SPONSOR_B)),
        line(crossing("x-3", "2026-03-01T10:00:00+03:00", direction="entry", port="KFIA")),
        line(crossing("x-1", "2025-11-01T10:00:00+03:00", direction="entry", port="RUH")),
        line(transfer("t-1", "2025-12-01T00:00:00+03:00", SPONSOR_C)),  # late: it happened before t-2
        line(crossing("x-2", "2026-01-01T10:00:00+03:00", direction="exit", port="JED")),
        line(crossing("x-0", "2025-11-15T10:00:00+03:00", direction="exit", port="DMM")),
    ]

    results, report = ingest(container, lines)

    assert [r.status for r in results] == ["accepted"] * 7, report.rejections
    person = container.app.repository.get(person_id(RESIDENT))
    assert isinstance(person, Person)
    assert person.last_crossing is not None and person.last_crossing[1:] == ("entry", "KFIA")
    assert [p[0] for p in person.sponsorship_periods()] == [SPONSOR_A, SPONSOR_C, SPONSOR_B]
    assert person.current_sponsor == SPONSOR_B
    recorded = {e.event_id: e.sponsor for e in person_events(container)}
    # Each event names the sponsor at its business time (as far as the store knew when recording it).
    assert recorded == {
        "r-1": SPONSOR_A,
        "t-2": SPONSOR_A,  # a transfer is recorded under the sponsor it moves away from
        "x-3": SPONSOR_B,
        "x-1": SPONSOR_A,
        "t-1": SPONSOR_A,
        "x-2": SPONSOR_C,  # within the late transfer's period
        "x-0": SPONSOR_A,
    }
    # Stored in recording order, not business order.
    assert [e.event_id for e in person_events(container)] == ["r-1", "t-2", "x-3", "x-1", "t-1", "x-2", "x-0"]


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_duplicates_within_one_batch_are_stored_once(container: Container, batch_size: int) -> None:
    container.ingestor.batch_size = batch_size
    reg = line(registration("r-1"))
    x1 = line(crossing("x-1", "2025-06-01T10:00:00+03:00"))
    x1_changed = line(crossing("x-1", "2025-06-02T10:00:00+03:00", port="JED"))  # same id, other body
    x2 = line(crossing("x-2", "2025-06-03T10:00:00+03:00", direction="exit"))

    results, report = ingest(container, [reg, x1, x1, reg, x1_changed, x2, x2])

    assert statuses(results) == [
        (1, "accepted"),
        (2, "accepted"),
        (3, "duplicate"),
        (4, "duplicate"),
        (5, "duplicate"),
        (6, "accepted"),
        (7, "duplicate"),
    ]
    assert (report.accepted, report.duplicate, report.rejected) == (3, 4, 0)
    assert_stored_once(container.app, ["r-1", "x-1", "x-2"])
    stored = {e.event_id: e for e in person_events(container)}
    assert isinstance(stored["x-1"], Person.BorderCrossed)
    assert stored["x-1"].port == "RUH"  # the first copy is the one kept


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_duplicate_whose_first_copy_was_rejected_is_treated_as_new(
    container: Container, batch_size: int
) -> None:
    container.ingestor.batch_size = batch_size
    x1 = crossing("x-1", "2025-06-01T10:00:00+03:00")
    lines = [
        line(x1),  # rejected: the person is not registered yet
        line({**x1, "event_id": "x-2", "port": 5}),  # rejected: invalid field
        line(registration("r-1")),
        line(x1),  # the same event again: now it is new, and valid
        line({**x1, "event_id": "x-2"}),  # corrected copy of the invalid line
        line(x1),  # and now it is a duplicate
    ]

    results, report = ingest(container, lines)

    assert statuses(results) == [
        (1, "rejected"),
        (2, "rejected"),
        (3, "accepted"),
        (4, "accepted"),
        (5, "accepted"),
        (6, "duplicate"),
    ]
    assert (report.accepted, report.duplicate, report.rejected) == (3, 1, 2)
    assert_stored_once(container.app, ["r-1", "x-1", "x-2"])


def test_a_rejected_event_sent_again_in_a_later_run_is_new(container: Container) -> None:
    x1 = line(crossing("x-1", "2025-06-01T10:00:00+03:00"))
    first, _ = ingest(container, [x1])
    ingest(container, [line(registration("r-1"))])
    again, _ = ingest(container, [x1])

    assert first[0].status == "rejected"
    assert again[0].status == "accepted"
    assert_stored_once(container.app, ["r-1", "x-1"])


def test_one_bad_line_in_a_batch_keeps_every_other_result_exact(container: Container) -> None:
    container.ingestor.batch_size = 1000
    lines = [
        line(registration("r-1", passport_number="P0000001")),
        line(crossing("x-1", "2026-01-01T10:00:00+03:00")),
        line(renewal("p-2", "2026-02-01T10:00:00+03:00", "P0000002", "2026-02-01", "2036-01-31")),
        # Rejected by the domain: not yet issued (today is 2026-07-01 for the container).
        line(renewal("p-bad", "2026-03-01T10:00:00+03:00", "P0000009", "2026-08-01", "2036-07-31")),
        line(renewal("p-3", "2026-04-01T10:00:00+03:00", "P0000003", "2026-04-01", "2036-03-31")),
        line(crossing("x-2", "2026-04-02T10:00:00+03:00", direction="exit")),
        line(renewal("p-rep", "2026-05-01T10:00:00+03:00", "P0000003", "2026-05-01", "2036-04-30")),
        line(crossing("x-3", "2026-05-02T10:00:00+03:00")),
    ]

    results, _report = ingest(container, lines)

    assert statuses(results) == [
        (1, "accepted"),
        (2, "accepted"),
        (3, "accepted"),
        (4, "rejected"),
        (5, "accepted"),
        (6, "accepted"),
        (7, "rejected"),
        (8, "accepted"),
    ]
    assert results[3].reason == (
        "issue_date 2026-08-01 is after today (2026-07-01): the new passport is not yet issued"
    )
    assert results[6].reason == "passport_number 'P0000003' repeats the current passport number"
    assert_stored_once(container.app, ["r-1", "x-1", "p-2", "p-3", "x-2", "x-3"])
    person = container.app.repository.get(person_id(RESIDENT))
    assert isinstance(person, Person)
    assert person.passport_number == "P0000003"
    assert person.version == 6


def test_batch_size_one_and_a_thousand_give_identical_results(
    container: Container, container_factory: ContainerFactory
) -> None:
    feed = list(FeedGenerator(people=20, events=200, seed=11).lines())
    # Re-sent lines, a line for nobody and a broken line mixed in, as a retrying source would send.
    lines = [
        *feed[:100],
        *feed[75:85],
        line(crossing("nobody-1", "2026-01-01T10:00:00+03:00", id_number=VISITOR)),
        "{broken",
        *feed[100:],
        *feed[190:],
    ]
    container.ingestor.batch_size = 1
    one_by_one, report_1 = ingest(container, lines)
    with container_factory() as other:
        other.ingestor.batch_size = 1000
        all_at_once, report_1000 = ingest(other, lines)
        other_state = _store_state(other)

    assert one_by_one == all_at_once
    assert (report_1.accepted, report_1.duplicate, report_1.rejected) == (200, 20, 2)
    assert (report_1000.accepted, report_1000.duplicate, report_1000.rejected) == (200, 20, 2)
    assert _store_state(container) == other_state


def _store_state(container: Container) -> dict[Any, Any]:
    """Each aggregate's events (without recording timestamps) and final state, independent of ids."""
    state: dict[Any, Any] = {}
    for row in notifications(container.app):
        event = container.app.mapper.to_domain_event(row)
        fields = {k: v for k, v in vars(event).items() if k != "timestamp"}
        state.setdefault(str(event.originator_id), []).append(
            (type(event).__name__, repr(sorted(fields.items())))
        )
    return state


# --- a transfer ends the old sponsor's subscription --------------------------------------------


def test_a_transfer_ends_the_old_sponsors_subscription_in_the_same_save(container: Container) -> None:
    ingest(container, [line(registration("r-1", sponsor=SPONSOR_A))])
    subscribe(container, SPONSOR_A)
    subscribe(container, SPONSOR_B)  # the new sponsor's own subscription must be left alone
    before = container.app.recorder.max_notification_id()
    assert before is not None

    results, _ = ingest(container, [line(transfer("t-1", "2026-03-01T09:00:00+03:00", SPONSOR_B))])

    assert statuses(results) == [(1, "accepted")]
    old = load_subscription(container, SPONSOR_A)
    assert old.active is False
    assert old.ended_reason == REASON_TRANSFER == "sponsorship_transferred"
    assert load_subscription(container, SPONSOR_B).active is True
    # The transfer and the end of the subscription were recorded together, one after the other.
    rows = notifications(container.app)[before:]
    events = [container.app.mapper.to_domain_event(row) for row in rows]
    assert [type(e) for e in events] == [Person.SponsorshipTransferred, Subscription.Ended]
    assert [row.id for row in rows] == [before + 1, before + 2]
    ended = events[1]
    assert isinstance(ended, Subscription.Ended)
    assert ended.reason == "sponsorship_transferred"
    assert ended.cause_event_id == "t-1"
    assert ended.effective_at.isoformat() == "2026-03-01T09:00:00+03:00"
    assert container.app.store.notification_ids_of(["t-1"]) == {"t-1": before + 1}


def test_a_transfer_in_the_same_batch_as_earlier_transfers_ends_the_right_subscription(
    container: Container,
) -> None:
    container.ingestor.batch_size = 1000
    ingest(container, [line(registration("r-1", sponsor=SPONSOR_A))])
    subscribe(container, SPONSOR_A)
    subscribe(container, SPONSOR_B)

    ingest(
        container,
        [
            line(transfer("t-1", "2026-03-01T09:00:00+03:00", SPONSOR_B)),
            line(crossing("x-1", "2026-03-05T09:00:00+03:00")),
            line(transfer("t-2", "2026-04-01T09:00:00+03:00", SPONSOR_C)),
        ],
    )

    for sponsor, cause in ((SPONSOR_A, "t-1"), (SPONSOR_B, "t-2")):
        ended = load_subscription(container, sponsor)
        assert (ended.active, ended.ended_reason) == (False, "sponsorship_transferred")
        last = list(container.app.repository.event_store.get(ended.id))[-1]
        assert isinstance(last, Subscription.Ended)
        assert last.cause_event_id == cause


def test_a_late_or_repeated_transfer_leaves_the_current_sponsors_subscription_alone(
    container: Container,
) -> None:
    ingest(
        container,
        [
            line(registration("r-1", sponsor=SPONSOR_A)),
            line(transfer("t-2", "2026-03-01T09:00:00+03:00", SPONSOR_B)),
        ],
    )
    subscribe(container, SPONSOR_B)
    before = container.app.recorder.max_notification_id()

    results, _ = ingest(
        container,
        [
            line(transfer("t-1", "2025-09-01T09:00:00+03:00", SPONSOR_C)),  # late: B stays current
            line(transfer("t-2", "2026-03-01T09:00:00+03:00", SPONSOR_B)),  # re-sent
        ],
    )

    assert statuses(results) == [(1, "accepted"), (2, "duplicate")]
    assert load_subscription(container, SPONSOR_B).active is True
    assert container.app.recorder.max_notification_id() == (before or 0) + 1


# --- another writer between the duplicate check and the load ----------------------------------


def test_an_event_another_writer_stores_mid_batch_counts_as_a_duplicate(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = bootstrap(database_url=container.settings.database_url, outbox_dir=container.settings.outbox_dir)
    other.clock = container.clock
    lines = [
        line(registration("r-1", passport_number="P0000001")),
        line(renewal("p-2", "2026-02-01T10:00:00+03:00", "P0000002", "2026-02-01", "2036-01-31")),
        line(crossing("x-1", "2026-03-01T10:00:00+03:00")),
    ]
    load_many = container.app.load_many
    raced: list[bool] = []

    def load_after_the_other_writer(ids: Any) -> Any:
        # Another writer stores the same events after this ingest looked for duplicates, before it loads.
        if not raced:
            raced.append(True)
            _store_without_ingest(other, lines)
        return load_many(ids)

    monkeypatch.setattr(container.app, "load_many", load_after_the_other_writer)
    try:
        results, report = ingest(container, [*lines, line(crossing("x-2", "2026-03-02T10:00:00+03:00"))])
    finally:
        other.close()

    # Applied again, the registration and the renewal would be refused ("already registered",
    # "repeats the current passport number"): they are the same events, so they are duplicates.
    assert statuses(results) == [(1, "duplicate"), (2, "duplicate"), (3, "duplicate"), (4, "accepted")]
    assert (report.accepted, report.duplicate, report.rejected) == (1, 3, 0)
    assert_stored_once(container.app, ["r-1", "p-2", "x-1", "x-2"])


def _store_without_ingest(container: Container, lines: list[str]) -> None:
    """Store events the way any writer may (domain rules, keyed save), without the ingestor's turn-taking."""
    people: dict[Any, Any] = {}
    for _, event in parse_lines(lines):
        assert not isinstance(event, str), event
        changed = apply_event(event, people=people, subscriptions={}, today=container.today())
        container.app.save_keyed(changed, [(event.event_id, changed[0].id, changed[0].version)])
