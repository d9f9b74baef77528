"""Property: for random sequences of subscription changes, transfers and events (late ones included), with
worker passes at random points, the alerts are exactly those the reference model of the contract's rule
computes, and a rebuild of the read models from scratch gives the same rows.

Every refusal the product gives (not sponsored, already subscribed, no contact, sponsor unchanged…) must be
the one the model predicts, so the model and the product walk the same history.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.generate import luhn_complete
from tests.support.reference import (
    ENGINE_MADE,
    FIRES,
    NOTIFICATION_TYPES,
    ReferenceModel,
    alert_set,
    at,
    drain,
    event_item,
    feed,
    outcome,
    rebuild,
    record_expiry,
    registration_item,
    table_rows,
    transfer_item,
)
from tests.support.stores import FIXED_NOW, pg_database

ESTABLISHMENTS = ("7000000011", "7000000022", "7000000033")
PEOPLE = (luhn_complete("200000001"), "3000000003")
MOBILES = ("+966501234567", "+966551234567", "+966561234567")
EMAILS = ("ops@example.com", "hr@example.com", "gm@example.com")
BASE = datetime(2026, 1, 1, tzinfo=UTC)
OFFSETS = (3, 0, -5, 5.5)  # a feed may write business times with any offset
PARTITIONS = 3
SPONSOR = "sponsor"  # in an operation: the person's current sponsor (so most subscriptions are allowed)

est = st.integers(0, len(ESTABLISHMENTS) - 1)
person = st.integers(0, len(PEOPLE) - 1)
who = st.one_of(st.just(SPONSOR), est)
types = st.frozensets(st.sampled_from(NOTIFICATION_TYPES), min_size=1)
mobile = st.one_of(st.none(), st.sampled_from(MOBILES))
email = st.one_of(st.none(), st.sampled_from(EMAILS))
# Minutes over ten hours: later operations often carry earlier business times (late events), and
# transfers and events often lie within a few hours of each other, where time zones matter.
minute = st.integers(0, 600)
offset = st.sampled_from(OFFSETS)
OPERATIONS = {
    "event": st.tuples(st.just("event"), st.sampled_from(sorted(FIRES)), person, minute, offset),
    "subscribe": st.tuples(st.just("subscribe"), who, person, types, mobile, email),
    "change": st.tuples(st.just("change"), who, person, st.one_of(st.none(), types), mobile, email),
    "unsubscribe": st.tuples(st.just("unsubscribe"), who, person),
    "defaults": st.tuples(st.just("defaults"), est, mobile, email),
    "transfer": st.tuples(st.just("transfer"), person, est, minute, offset),
    "work": st.tuples(st.just("work")),
}
# Weighted: events most often, then subscriptions; every kind appears in most histories.
WEIGHTS = {"event": 6, "subscribe": 2, "change": 1, "unsubscribe": 1, "defaults": 1, "transfer": 2, "work": 2}
operation = st.sampled_from([kind for kind, weight in WEIGHTS.items() for _ in range(weight)]).flatmap(
    OPERATIONS.__getitem__
)
defaults = st.tuples(st.sampled_from((*MOBILES, None)), st.sampled_from((*EMAILS, None)))


def opening_step(p: int) -> st.SearchStrategy[tuple[Any, ...]]:
    """Three times in four, person `p` starts subscribed by its sponsor, so events have someone to reach."""
    subscribe = st.tuples(st.just("subscribe"), st.just(SPONSOR), st.just(p), types, mobile, email)

    def step(wanted: bool) -> st.SearchStrategy[tuple[Any, ...]]:
        return subscribe if wanted else st.just(("work",))

    return st.sampled_from((True, True, True, False)).flatmap(step)


opening = st.tuples(*(opening_step(p) for p in range(len(PEOPLE)))).map(list)
history = st.tuples(
    st.lists(est, min_size=len(PEOPLE), max_size=len(PEOPLE)),  # first sponsor of each person
    st.lists(defaults, min_size=len(ESTABLISHMENTS), max_size=len(ESTABLISHMENTS)),
    st.tuples(opening, st.lists(operation, min_size=8, max_size=40)).map(lambda parts: parts[0] + parts[1]),
)


@dataclass
class Walk:
    """Applies one history to the product and to the reference model, side by side."""

    container: Container
    ref: ReferenceModel

    def setup(self, sponsors: list[int], contacts: list[tuple[str | None, str | None]]) -> None:
        service = self.container.establishments
        for number, (mob, mail) in zip(ESTABLISHMENTS, contacts, strict=True):
            service.register(unified_number=number, name=f"Est {number}", mobile=mob, email=mail)
            self.ref.register_establishment(number, mobile=mob, email=mail)
        items = []
        for index, (id_number, sponsor) in enumerate(zip(PEOPLE, sponsors, strict=True)):
            items.append(registration_item(f"reg-{index}", id_number, ESTABLISHMENTS[sponsor]))
            self.ref.register_person(id_number, ESTABLISHMENTS[sponsor])
        assert feed(self.container, *items) == ["accepted"] * len(PEOPLE)

    def establishment(self, choice: Any, id_number: str) -> str:
        return self.ref.current_sponsor(id_number) if choice == SPONSOR else ESTABLISHMENTS[choice]

    def apply(self, step: int, op: tuple[Any, ...]) -> None:
        service = self.container.establishments
        kind = op[0]
        if kind == "work":
            drain(self.container)
        elif kind == "defaults":
            _, e, mob, mail = op
            service.update_defaults(ESTABLISHMENTS[e], mobile=mob, email=mail)
            self.ref.update_defaults(ESTABLISHMENTS[e], mobile=mob, email=mail)
        elif kind in ("subscribe", "change", "unsubscribe"):
            self._subscription(kind, op)
        elif kind == "transfer":
            _, p, e, minutes, hours = op
            when = self._when(step, minutes)
            expected = self.ref.transfer(PEOPLE[p], when, ESTABLISHMENTS[e])
            got = feed(
                self.container, transfer_item(f"tr-{step}", PEOPLE[p], at(when, hours), ESTABLISHMENTS[e])
            )
            assert _status(got) == ("accepted" if expected is None else "rejected"), (op, got)
        else:
            _, event_type, p, minutes, hours = op
            when = self._when(step, minutes)
            event_id = f"ev-{step}"
            if event_type in ENGINE_MADE:
                record_expiry(self.container, event_id, event_type, PEOPLE[p], when)
            else:
                item = event_item(event_id, event_type, PEOPLE[p], at(when, hours), step)
                assert feed(self.container, item) == ["accepted"], op
            self.ref.event(event_id, event_type, PEOPLE[p], when)

    def _subscription(self, kind: str, op: tuple[Any, ...]) -> None:
        service = self.container.establishments
        id_number = PEOPLE[op[2]]
        unified = self.establishment(op[1], id_number)
        if kind == "subscribe":
            _, _, _, chosen, mob, mail = op
            got = outcome(
                service.subscribe,
                unified,
                id_number,
                notification_types=sorted(chosen),
                mobile=mob,
                email=mail,
            )
            expected = self.ref.subscribe(unified, id_number, types=chosen, mobile=mob, email=mail)
        elif kind == "change":
            _, _, _, chosen, mob, mail = op
            got = outcome(
                service.change,
                unified,
                id_number,
                notification_types=sorted(chosen) if chosen is not None else None,
                mobile=mob,
                email=mail,
            )
            expected = self.ref.change(unified, id_number, types=chosen, mobile=mob, email=mail)
        else:
            got = outcome(service.unsubscribe, unified, id_number)
            expected = self.ref.unsubscribe(unified, id_number)
        assert got == expected, (op, unified)

    @staticmethod
    def _when(step: int, minutes: int) -> datetime:
        # Distinct business times (the step in the seconds), so no two events tie.
        return BASE + timedelta(minutes=minutes, seconds=step)


def _status(results: list[str]) -> str:
    assert len(results) == 1, results
    return results[0].split(":", 1)[0]


@contextmanager
def store(backend: str) -> Iterator[Container]:
    """A fresh store with three fan-out partitions, dropped afterwards."""
    with tempfile.TemporaryDirectory(prefix="jawazat_property_") as folder, ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{Path(folder) / 'store.db'}"
        else:
            url = stack.enter_context(pg_database())
        wired = bootstrap(database_url=url, outbox_dir=Path(folder) / "outbox", fanout_partitions=PARTITIONS)
        wired.clock = lambda: FIXED_NOW
        try:
            yield wired
        finally:
            wired.close()


def check_history(
    backend: str, case: tuple[list[int], list[tuple[str | None, str | None]], list[Any]]
) -> None:
    sponsors, contacts, operations = case
    with store(backend) as container:
        walk = Walk(container, ReferenceModel())
        walk.setup(sponsors, contacts)
        for step, op in enumerate(operations):
            walk.apply(step, op)
        drain(container)
        target(float(len(walk.ref.alerts)), label="alerts expected")  # steer towards busy histories
        alerts = alert_set(container)
        assert len(alerts) == len(set(alerts)), "an (event, establishment, channel) alerted twice"
        assert set(alerts) == walk.ref.alerts
        live = table_rows(container, "alerts")
        rebuild(container)
        assert table_rows(container, "alerts") == live


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=history)
def test_alerts_equal_the_reference_model_sqlite(case: Any) -> None:
    check_history("sqlite", case)


@pytest.mark.postgres
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=history)
def test_alerts_equal_the_reference_model_postgres(case: Any) -> None:
    check_history("postgres", case)
