"""Parking inside a set-wise batch, on each backend: one poisonous event among many events of the same
people in ONE batch is parked alone, and every other event ends exactly as applying them one by one with
the former per-event statements does (the batch is halved until the poison stands alone, each half folded
and written set-wise)."""

from __future__ import annotations

from datetime import datetime, timedelta

from jawazat_events.bootstrap import Container
from jawazat_events.projections.base import ReadModel
from jawazat_events.projections.parking import parked_events
from jawazat_events.projections.runner import Follower
from tests.support import crossing, ingest, line, registration
from tests.support.audit import table_rows
from tests.support.parking import poisonous_crossing
from tests.support.per_event import PerEventPeople

PEOPLE = ("2000000006", "1000000008", "3000000001")
START = datetime.fromisoformat("2026-06-01T08:00:00+03:00")


def rebuilt(
    container: Container, model: ReadModel, batch_size: int
) -> tuple[list[str], list[tuple[int, str]]]:
    """The people view replayed from scratch by `model`; its rows and what it parked."""
    db = container.read_models.db
    db.drop(model.tables, model.tracking_names())
    model.create_tables()
    Follower(container.app, model, batch_size=batch_size).drain()
    parked = [(p.position, p.error_class) for p in parked_events(db, projection=model.name)]
    return table_rows(container, "people"), parked


def test_a_poisonous_event_in_a_set_wise_batch_is_parked_alone(container: Container) -> None:
    items = [registration(f"r{n}", id_number=number) for n, number in enumerate(PEOPLE)]
    # Crossings of every person, late ones among them (business times going back and forth).
    for step in range(40):
        when = START + timedelta(hours=(step * 7) % 23, minutes=step)
        items.append(
            crossing(
                f"c{step}",
                when.isoformat(),
                id_number=PEOPLE[step % 3],
                direction="entry" if step % 2 else "exit",
                port=("RUH", "JED", "DMM")[step % 3],
            )
        )
    _, report = ingest(container, [line(item) for item in items[:25]])
    poisonous_crossing(container, PEOPLE[1], "poison")
    _, more = ingest(container, [line(item) for item in items[25:]])
    assert report.accepted + more.accepted == len(items)

    set_wise = rebuilt(container, container.read_models.people, batch_size=1000)
    one_by_one = rebuilt(container, PerEventPeople(container.read_models.db), batch_size=1)

    rows, parked = set_wise
    assert [error for _, error in parked] == ["OverflowError"]
    assert len(rows) == len(PEOPLE)
    assert set_wise == one_by_one
    head = container.app.recorder.max_notification_id()
    assert container.read_models.people.positions() == {0: head}
