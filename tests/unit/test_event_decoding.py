"""The fast decoder against the library's mapper: for generated events of every event class the store can
hold (and states the fast path leaves to the library), the same object, or the same error.

"The same" is strict: the same class, the same `__dict__` in the same key order, and the same value types
all the way down (lists where the library gives lists, aware datetimes with the same offset, dates, UUIDs,
Decimals, floats with the same repr).
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import pkgutil
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import jawazat_events.domain
from jawazat_events.domain.person import Person
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.event_decoding import EventDecoder
from jawazat_events.store import CIPHER_TOPIC
from tests.support.decoding import assert_same


def _event_classes() -> list[type]:
    """Every domain event class of ours, as the store's readers resolve its topic."""
    for module in pkgutil.iter_modules(jawazat_events.domain.__path__):
        importlib.import_module(f"jawazat_events.domain.{module.name}")
    found: set[type] = set()
    todo = [DomainEvent]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    # The `@event` decorator defines some classes twice under one topic: the topic names the one stored.
    topics = {f"{c.__module__}:{c.__qualname__}" for c in found if c.__module__.startswith("jawazat_events.")}
    return [resolve_topic(topic) for topic in sorted(topics)]


EVENT_CLASSES = _event_classes()
KEY = base64.b64encode(bytes(range(32))).decode("ascii")
POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
MAPPERS = {
    "clear": JawazatApplication(env=POPO).mapper,
    "encrypted": JawazatApplication(env=POPO | {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": KEY}).mapper,
    "compressed": JawazatApplication(
        env=POPO | {"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}
    ).mapper,
}
DECODERS = {mode: EventDecoder(mapper) for mode, mapper in MAPPERS.items()}

ZONES = st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(-timedelta(hours=5, minutes=30))])
TIMES = st.datetimes(timezones=ZONES)
TEXT = st.one_of(
    st.sampled_from(["", "2000000006", "محمد علي", "RUH", "a@example.com"]), st.text(max_size=12)
)
# Anything a state may hold: what the domain stores, and what it might one day (or a hand-made store) hold.
LEAVES = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.dates(),
    TIMES,
    st.datetimes(),  # naive
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False),
)
ANY = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(
            st.sampled_from(["_type_", "_data_", "a", "kind"]) | st.text(max_size=4), inner, max_size=3
        ),
    ),
    max_leaves=6,
)
# What each annotation of our event classes holds when the domain writes it.
BY_ANNOTATION: dict[str, st.SearchStrategy[Any]] = {
    "str": TEXT,
    "str | None": st.none() | TEXT,
    "int": st.integers(min_value=-(2**70), max_value=2**70),
    "bool": st.booleans(),
    "datetime": TIMES,
    "datetime | None": st.none() | TIMES,
    "date": st.dates(),
    "date | None": st.none() | st.dates(),
    "tuple[str, ...]": st.lists(TEXT, max_size=4).map(tuple),
    "list[dict[str, str]]": st.lists(st.dictionaries(st.text(max_size=6), TEXT, max_size=3), max_size=3),
    "list[dict[str, Any]]": st.lists(st.dictionaries(st.text(max_size=6), ANY, max_size=3), max_size=3),
    "dict[str, Any]": st.dictionaries(st.text(max_size=6), ANY, max_size=4),
}
# The Any-valued fields as the domain fills them (attachments' details, request fields): JSON's own
# values, finite numbers, no keys of the library's transcoding tags. ANY goes further on purpose, to hold
# the decoder to the library's answer where it must hand over.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_infinity=False, allow_nan=False)
    | TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(max_size=4).filter(lambda k: k not in ("_type_", "_data_")), inner, max_size=3
        )
    ),
    max_leaves=6,
)
AS_THE_DOMAIN_WRITES = BY_ANNOTATION | {
    "list[dict[str, Any]]": st.lists(
        st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3), max_size=3
    ),
    "dict[str, Any]": st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4),
}


@st.composite
def events(draw: st.DrawFn, classes: list[type] = EVENT_CLASSES) -> object:
    """An event of some class as the domain would make it: each field of its annotated kind, now and then
    anything at all (the fast path must then give the library's answer too)."""
    cls = draw(st.sampled_from(classes))
    state: dict[str, Any] = {
        "originator_id": draw(st.uuids()),
        "originator_version": draw(st.integers(min_value=1, max_value=2**40)),
        "timestamp": draw(TIMES),
    }
    for item in dataclasses.fields(cls)[3:]:
        kind = BY_ANNOTATION.get(str(item.type), ANY)
        state[item.name] = draw(ANY if draw(st.integers(0, 9)) == 0 else kind)
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    return event


def decode_both(mode: str, stored: StoredEvent) -> None:
    """The decoder's answer for `stored` is the mapper's: the same event, or the same error."""
    mapper: Mapper[UUID] = MAPPERS[mode]
    try:
        expected: Any = mapper.to_domain_event(stored)
    except Exception as error:
        with pytest.raises(type(error)) as raised:
            DECODERS[mode].to_domain_event(stored)
        assert str(raised.value) == str(error)
        return
    got = DECODERS[mode].to_domain_event(stored)
    assert type(got) is type(expected)
    assert_same(vars(got), vars(expected), type(expected).__qualname__)


def test_every_event_class_of_the_domain_is_generated() -> None:
    # The enumeration finds the aggregates' events (a guard against an empty or partial walk).
    topics = {get_topic(c) for c in EVENT_CLASSES}
    assert get_topic(Person.BorderCrossed) in topics
    assert len(topics) > 60
    unknown = {str(f.type) for c in EVENT_CLASSES for f in dataclasses.fields(c)[3:]} - set(BY_ANNOTATION)
    assert not unknown, f"annotations the generator writes only as 'anything': {unknown}"


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(), st.sampled_from(sorted(MAPPERS)), st.booleans())
def test_the_decoder_gives_the_mappers_event(event: Any, mode: str, text_ids: bool) -> None:
    stored = MAPPERS[mode].to_stored_event(event)
    if text_ids:  # SQLite's recorder gives originator ids as text: the library converts them
        stored = StoredEvent(str(stored.originator_id), stored.originator_version, stored.topic, stored.state)
    decode_both(mode, stored)


ODD_STATES = [
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-01-05T09:30:00+03:00"},"port":NaN}',
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-01-05T09:30:00+03:00"},"n":1e400}',
    b'{"timestamp":{"_type_":"no_such_type","_data_":"x"}}',
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"not a time"}}',
    b'{"timestamp":{"_type_":"datetime_iso","_data_":1}}',
    b'{"timestamp":{"_type_":["datetime_iso"],"_data_":"2026-01-05T09:30:00+03:00"}}',
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-01-05T09:30:00+03:00"},"class_version":1}',
    b'{"_type_":"uuid_hex","_data_":"00000000000000000000000000000007"}',
    b'{"a":{"_type_":{"_type_":"uuid_hex","_data_":"00000000000000000000000000000007"},"_data_":"x"}}',
    b'{"a":{"_type_":"uuid_hex","_data_":{"_type_":"date_iso","_data_":"2026-01-05"}}}',
    b'{"a":{"_type_":"date_iso"},"b":{"_data_":"2026-01-05"},"c":{"_type_":"date_iso","_data_":"x","d":1}}',
    b'{"a":[{"_type_":"date_iso","_data_":"2026-01-05"},[{"_type_":"uuid_hex","_data_":"00000000000000000000000000000007"}]]}',
    b'{"s":"\\ud800"}',
    b'{"s":"a","s":"b"}',
    b"[]",
    b"not json",
    b'{"big":123456789012345678901234567890,"neg":-0.0}',
]


@pytest.mark.parametrize("state", ODD_STATES)
def test_states_the_fast_path_leaves_to_the_library_get_its_answer(state: bytes) -> None:
    stored = StoredEvent(UUID(int=5), 3, get_topic(Person.BorderCrossed), state)
    decode_both("clear", stored)


def _crossing() -> Person.BorderCrossed:
    """One border crossing, as the domain records it."""
    return Person.BorderCrossed(
        originator_id=UUID(int=1),
        originator_version=2,
        timestamp=datetime(2026, 1, 5, tzinfo=UTC),
        id_number="2000000006",
        event_id="e-1",
        occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
        sponsor="7000000001",
        direction="exit",
        port="RUH",
    )


def test_an_unknown_topic_gets_the_librarys_error() -> None:
    stored = MAPPERS["clear"].to_stored_event(_crossing())
    decode_both(
        "clear", StoredEvent(stored.originator_id, 2, "jawazat_events.domain.person:Nobody", stored.state)
    )
    decode_both("clear", StoredEvent(stored.originator_id, 2, "no_such_module:Nobody", stored.state))


class Upcast(DomainEvent):
    """An event class with a class version: upcasting is the library's, the decoder leaves it to it."""

    class_version: ClassVar[int] = 2
    name: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["name"] = state.pop("old_name", "?")


@example(name="x", version=1)
@given(st.text(max_size=5), st.integers(1, 2))
def test_an_upcasting_class_gets_the_librarys_event(name: str, version: int) -> None:
    timestamp = '{"_type_":"datetime_iso","_data_":"2026-01-05T09:30:00+03:00"}'
    state = f'{{"timestamp":{timestamp},"old_name":"{name}"}}' if version == 1 else None
    if state is None:
        state = f'{{"timestamp":{timestamp},"name":"{name}","class_version":2}}'
    decode_both("clear", StoredEvent(UUID(int=9), 1, get_topic(Upcast), state.encode()))


def test_a_wrong_key_gets_the_librarys_error() -> None:
    event = _crossing()
    other_key = base64.b64encode(bytes(range(1, 33))).decode("ascii")
    other = JawazatApplication(env=POPO | {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": other_key}).mapper
    decode_both("encrypted", other.to_stored_event(event))
    decode_both("encrypted", MAPPERS["clear"].to_stored_event(event))
    decode_both("clear", MAPPERS["encrypted"].to_stored_event(event))
    assert isinstance(
        DECODERS["encrypted"].to_domain_event(MAPPERS["encrypted"].to_stored_event(event)), type(event)
    )


def test_an_event_read_back_is_not_a_date_or_a_tuple_where_the_library_gives_text_or_a_list() -> None:
    # The library gives tuples back as lists: so must the decoder (a read model may rely on either).
    when = datetime(2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(hours=3)))
    event = object.__new__(resolve_topic("jawazat_events.domain.subscription:Subscription.Changed"))
    object.__setattr__(
        event,
        "__dict__",
        {
            "originator_id": UUID(int=3),
            "originator_version": 4,
            "timestamp": when,
            "unified_number": "7000000001",
            "id_number": "2000000006",
            "notification_types": ("entry_exit", "visa"),
            "mobile": None,
            "email": "2026-01-05",
        },
    )
    got = DECODERS["clear"].to_domain_event(MAPPERS["clear"].to_stored_event(event))
    assert vars(got)["notification_types"] == ["entry_exit", "visa"]
    assert vars(got)["email"] == "2026-01-05"
    assert vars(got)["timestamp"].isoformat() == "2026-01-05T09:30:00+03:00"
    assert list(vars(got))[-2:] == ["originator_id", "originator_version"]
    decode_both("clear", MAPPERS["clear"].to_stored_event(event))


def test_dates_and_times_of_every_kind() -> None:
    # Fixed examples beside the generated ones: the edges of isoformat's text.
    for value in [
        date(1, 1, 1),
        date(9999, 12, 31),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 5, 9, 30, 0, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(seconds=-1))),
        datetime(2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(microseconds=7))),
        datetime(2026, 1, 5, 9, 30),
        Decimal("1.10"),
        UUID(int=2**128 - 1),
    ]:
        event = object.__new__(Person.BorderCrossed)
        object.__setattr__(
            event,
            "__dict__",
            {"originator_id": UUID(int=1), "originator_version": 1, "timestamp": value, "port": [value]},
        )
        for mode in MAPPERS:
            decode_both(mode, MAPPERS[mode].to_stored_event(event))


class CountingMapper(Mapper[UUID]):
    """The library's mapper, counting the events handed to it."""

    calls = 0

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        self.calls += 1
        return super().to_domain_event(stored_event)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.sampled_from(sorted(MAPPERS)))
def test_the_domains_events_take_the_fast_path(data: st.DataObject, mode: str) -> None:
    # Events as the domain writes them (every field of its annotated kind) never reach the library's mapper.
    library = MAPPERS[mode]
    counting = CountingMapper(
        transcoder=library.transcoder, compressor=library.compressor, cipher=library.cipher
    )
    cls = data.draw(st.sampled_from(EVENT_CLASSES))
    state: dict[str, Any] = {
        "originator_id": data.draw(st.uuids()),
        "originator_version": 1,
        "timestamp": data.draw(TIMES),
    }
    for item in dataclasses.fields(cls)[3:]:
        kind = AS_THE_DOMAIN_WRITES[str(item.type)]
        state[item.name] = data.draw(kind.filter(lambda v: not isinstance(v, float)))
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    stored = library.to_stored_event(event)
    got = EventDecoder(counting).to_domain_event(stored)
    assert counting.calls == 0
    assert_same(vars(got), vars(library.to_domain_event(stored)))
