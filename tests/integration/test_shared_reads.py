"""A worker pass reads the new events once for all its read models (`projections.runner.SharedReads`).

Passes whose followers share their reads (small batches, so that shares of full batches and followers
standing at different positions occur) give the reference model's alerts, and the same rows as the same
store's read models made again by a follower per read model reading for itself; a pass over new events
after the last one reads them from the store once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jawazat_events.bootstrap import Container
from jawazat_events.generate import luhn_complete
from jawazat_events.projections.runner import Follower, SharedReads, topics_of
from tests.support.reference import (
    ReferenceModel,
    alert_set,
    at,
    digests,
    drop_read_models,
    event_item,
    feed,
    registration_item,
)

SPONSOR = "7000000011"
EMAIL = "ops@example.com"
T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BATCH = 7
PEOPLE = [luhn_complete(f"2{n:08d}") for n in range(1, 13)]


def seed(container: Container, ref: ReferenceModel | None) -> None:
    container.establishments.register(unified_number=SPONSOR, name="Sponsor", email=EMAIL)
    items = [registration_item(f"reg-{n}", n, SPONSOR) for n in PEOPLE]
    assert set(feed(container, *items)) == {"accepted"}
    for number in PEOPLE[:8]:  # some people with a subscription, some without
        container.establishments.subscribe(SPONSOR, number, notification_types=["entry_exit"])
    if ref is not None:
        ref.register_establishment(SPONSOR, mobile=None, email=EMAIL)
        for number in PEOPLE:
            ref.register_person(number, SPONSOR)
        for number in PEOPLE[:8]:
            ref.subscribe(SPONSOR, number, types=["entry_exit"], mobile=None, email=None)


def crossings(container: Container, ref: ReferenceModel | None, round_: int, people: list[str]) -> None:
    items = []
    for index, number in enumerate(people):
        event_id = f"x-{round_}-{index}"
        when = T + timedelta(minutes=round_ * 100 + index)
        items.append(event_item(event_id, "border_crossing", number, at(when), index))
        if ref is not None:
            ref.event(event_id, "border_crossing", number, when)
    assert set(feed(container, *items)) == {"accepted"}


def one_pass(container: Container, *, shared: bool) -> SharedReads | None:
    """A worker's pass: each read model followed up to the head (and never past what it reads)."""
    app, models = container.app, container.read_models.all()
    reads = SharedReads(app, topics=topics_of(models), batch_size=BATCH) if shared else None
    head = app.recorder.max_notification_id() or 0
    for model in models:
        read = [min(container.read_models.named(name).positions().values()) for name in model.reads_from]
        Follower(app, model, batch_size=BATCH, shared=reads).drain(head=min([head, *read]))
    return reads


def test_followers_sharing_a_pass_s_reads_end_as_followers_reading_for_themselves(
    container: Container,
) -> None:
    ref = ReferenceModel()
    seed(container, ref)
    crossings(container, ref, 0, PEOPLE)
    one_pass(container, shared=True)

    # Every read model now stands at the head: the next pass reads its new events once.
    crossings(container, ref, 1, PEOPLE[:3])
    second = one_pass(container, shared=True)
    assert second is not None and second.reads == 1
    assert alert_set(container) == sorted(ref.alerts)

    # The same store's read models made again by followers reading for themselves: the same rows.
    shared_digests = digests(container)
    drop_read_models(container)
    for model in container.read_models.all():
        model.create_tables()
    one_pass(container, shared=False)
    assert digests(container) == shared_digests
