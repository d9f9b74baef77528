"""The eventsourcing internals the product relies on (`library_internals.PINNED_SHAPES`) still have the shape
it relies on: an upgrade that renames, removes or re-shapes one fails here, naming it, instead of failing
deep inside ingest or a projection."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jawazat_events.library_internals import PINNED_SHAPES, PINNED_VERSION, PinnedShape

if TYPE_CHECKING:
    from datetime import datetime

    from jawazat_events.domain.person import Person


def test_the_pinned_library_version_is_installed() -> None:
    installed = version("eventsourcing")

    assert installed.startswith(PINNED_VERSION + "."), (
        f"eventsourcing {installed} is installed, library_internals was written for {PINNED_VERSION}.x: "
        "check every entry of PINNED_SHAPES against the new version, then move PINNED_VERSION"
    )


@pytest.mark.parametrize("shape", PINNED_SHAPES, ids=lambda s: f"{s.owner.__name__}.{s.name}")
def test_each_private_method_keeps_its_shape(shape: PinnedShape) -> None:
    method = getattr(shape.owner, shape.name, None)

    assert callable(method), f"{shape.owner.__qualname__}.{shape.name} is gone from eventsourcing"
    parameters = inspect.signature(method).parameters.values()
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    var_keyword = any(p.kind is p.VAR_KEYWORD for p in parameters)
    assert (len(positional), var_keyword) == (shape.positional, shape.var_keyword), (
        f"{shape.owner.__qualname__}.{shape.name}{inspect.signature(method)} changed shape: "
        f"library_internals expects {shape.positional} positional parameters"
        + (" and **kwargs" if shape.var_keyword else "")
    )


@pytest.mark.parametrize(
    ("module", "call"),
    [
        ("eventsourcing.application", "self._record("),
        ("eventsourcing.application", "self._notify("),
        ("eventsourcing.postgres", "self._insert_stored_events("),
        ("eventsourcing.postgres", "self._fetch_ids_after_insert_events("),
        ("eventsourcing.sqlite", "self._insert_events("),
    ],
)
def test_the_library_still_calls_the_steps_we_replace_or_call(module: str, call: str) -> None:
    # An override nobody calls any more would silently switch off the source-event-id table and the chain.
    source = inspect.getsource(importlib.import_module(module))

    assert call in source, f"{module} no longer calls {call}...): library_internals' hooks would be bypassed"


def test_our_recorders_replace_exactly_those_steps() -> None:
    from eventsourcing.postgres import PostgresApplicationRecorder
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    from jawazat_events.store import PostgresEventStoreRecorder, SQLiteEventStoreRecorder

    for name in ("_insert_stored_events", "_fetch_ids_after_insert_events"):
        assert getattr(PostgresEventStoreRecorder, name) is not getattr(PostgresApplicationRecorder, name)
    assert SQLiteEventStoreRecorder._insert_events is not SQLiteApplicationRecorder._insert_events


def _salem(when: datetime) -> Person:
    """A person registered through the aggregate's command (the library's path), with one event."""
    from datetime import date

    from jawazat_events.domain.person import Person

    return Person.register(
        id_number="1000000008",
        event_id="e-1",
        occurred_at=when,
        sponsor="7000000001",
        name_ar="سالم",
        name_en="Salem",
        nationality="SAU",
        passport_number="A1234567",
        passport_issue_date=date(2020, 1, 1),
        passport_expiry_date=date(2030, 1, 1),
    )


def test_an_event_applied_through_its_decorated_body_changes_the_aggregate_as_mutate_does() -> None:
    import copy
    from datetime import UTC, date, datetime

    from jawazat_events.domain.person import Person
    from jawazat_events.library_internals import decorated_body
    from jawazat_events.services.application import JawazatApplication
    from jawazat_events.services.event_rows import EventRows

    rows = EventRows(JawazatApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper)
    when = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    by_library = _salem(when)
    by_library.collect_events()
    by_body = copy.deepcopy(by_library)
    assert isinstance(by_library, Person) and isinstance(by_body, Person)
    fields = by_library.decide_visa(
        event_id="e-2",
        occurred_at=when,
        visa_number="V1",
        visa_type="work",
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
    )
    made = rows.event(
        Person.VisaIssued,
        originator_id=by_library.id,
        originator_version=by_library.version + 1,
        fields=fields,
    )
    assert decorated_body(type(made)) is not None
    made.mutate(by_library)
    rows.apply(made, by_body, fields)

    assert vars(by_body) == vars(by_library)
    assert by_body.version == 2 and by_body.modified_on == made.timestamp
    assert by_body.visas["V1"].visa_type == "work"


# A registration's optional details: each absent or given (the fast path must build the same person).
_DETAILS = {
    "birth_date": st.none() | st.dates(),
    "marital_status": st.none() | st.sampled_from(["single", "married"]),
    "guardian": st.none() | st.just("1000000016"),
    "mobile": st.none() | st.just("+966501234567"),
    "email": st.none() | st.just("salem@example.com"),
    "category": st.none() | st.sampled_from(["worker", "student"]),
}


@settings(max_examples=50, deadline=None)
@given(details=st.fixed_dictionaries(_DETAILS), name_en=st.text(min_size=1, max_size=20))
def test_a_registration_built_through_the_aggregates_init_equals_the_librarys_mutate(
    details: dict[str, object], name_en: str
) -> None:
    from datetime import UTC, date, datetime

    from eventsourcing.utils import get_topic

    from jawazat_events.domain.identifiers import person_id
    from jawazat_events.domain.person import Person, PersonDetails
    from jawazat_events.library_internals import aggregate_initialiser
    from jawazat_events.services.application import JawazatApplication
    from jawazat_events.services.event_rows import EventRows

    rows = EventRows(JawazatApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper)
    fields = Person.decide_registration(
        id_number="1000000008",
        event_id="e-1",
        occurred_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
        sponsor="7000000001",
        name_ar="سالم",
        name_en=name_en,
        nationality="SAU",
        passport_number="A1234567",
        passport_issue_date=date(2020, 1, 1),
        passport_expiry_date=date(2030, 1, 1),
        details=PersonDetails(**details),  # type: ignore[arg-type]
    )
    made = rows.event(
        Person.Registered,
        originator_id=person_id("1000000008"),
        originator_version=1,
        fields=fields,
        originator_topic=get_topic(Person),
    )
    assert aggregate_initialiser(type(made), Person) is not None  # the fast path, not the fallback

    by_library = made.mutate(None)
    by_init = rows.create(made, fields)

    assert type(by_init) is type(by_library) is Person
    assert vars(by_init) == vars(by_library)
    assert (by_init.id, by_init.version, by_init.created_on) == (made.originator_id, 1, made.timestamp)


def test_an_aggregate_class_the_library_builds_otherwise_is_left_to_mutate() -> None:
    from eventsourcing.domain import Aggregate

    from jawazat_events.domain.person import Person
    from jawazat_events.library_internals import aggregate_initialiser

    class Named(Aggregate):
        def __init__(self, id: object, name: str) -> None:  # the library passes the id by name
            self.name = name

    assert aggregate_initialiser(Person.Registered, Named) is None  # its __init__ takes the id
    assert aggregate_initialiser(Person.BorderCrossed, Person) is None  # not a created event


def test_an_event_made_and_applied_in_one_step_equals_event_then_mutate() -> None:
    import copy
    from datetime import UTC, date, datetime

    from jawazat_events.domain.person import Person
    from jawazat_events.services.application import JawazatApplication
    from jawazat_events.services.event_rows import EventRows

    rows = EventRows(JawazatApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper)
    when = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    person = _salem(when)
    person.collect_events()
    decisions = [
        (Person.BorderCrossed, person.decide_crossing, {"direction": "entry", "port": "RUH"}),
        (
            Person.VisaIssued,
            person.decide_visa,
            {
                "visa_number": "V1",
                "visa_type": "work",
                "valid_from": date(2026, 1, 1),
                "valid_until": date(2027, 1, 1),
            },
        ),
        (Person.SponsorshipTransferred, person.decide_transfer, {"to_sponsor": "7000000002"}),
    ]
    by_library = copy.deepcopy(person)
    for number, (event_class, decide, values) in enumerate(decisions, start=2):
        fields = decide(event_id=f"e-{number}", occurred_at=when, **values)
        made = rows.next_event(event_class, person, fields)
        expected = rows.event(
            event_class, originator_id=by_library.id, originator_version=by_library.version + 1, fields=fields
        )
        made.mutate(by_library)

        assert type(made) is type(expected)
        assert list(vars(made)) == list(vars(expected))
        assert {**vars(made), "timestamp": None} == {**vars(expected), "timestamp": None}
        assert vars(person) == vars(by_library)
        assert (person.version, person.modified_on) == (number, made.timestamp)
