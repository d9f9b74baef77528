"""Domain events and their stored rows, built straight from a domain decision: the bulk path's event factory.

An aggregate command (`person.cross_border(...)`) goes through the library's `@event` machinery: argument
binding, signature filtering, then `Mapper.to_stored_event` with the `json` module: about half of
ingest's CPU. The bulk path instead takes the fields the domain decided (`Person.decide_crossing(...)`),
makes the event object exactly as the library does when it reads one back from the store (the class its
topic resolves to, its `__dict__` in the dataclass's field order), applies it as the library's `mutate`
does on replay (for an `@event` method's event: that method's body called with the decided fields, which
are exactly the arguments `mutate` would pick from the event; for a created event such as a registration:
the new aggregate's `__base_init__` and `__init__`, likewise; otherwise `mutate` itself), so live state
equals replayed state, and encodes it once with msgspec into
the very bytes the library's `JSONTranscoder` writes (compact separators, no ASCII escaping, the same
`{"_type_", "_data_"}` transcodings, the same key order), then compresses and encrypts with the
application's mapper. A state holding anything the fast encoder does not vouch for (floats, str
subclasses, unregistered types) is encoded by the library's transcoder instead.

Stored bytes are identical to the reference path's (`tests/integration/test_ingest_differential.py`), so
existing stores read back unchanged and the hash chain links the same rows.
"""

from __future__ import annotations

import dataclasses
import inspect
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

import msgspec
from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, StoredEvent, Transcoding
from eventsourcing.utils import get_topic, resolve_topic

from jawazat_events.library_internals import aggregate_initialiser, decorated_body
from jawazat_events.services.application import DateAsISO


class _NotPlain(Exception):
    """A value the fast encoder does not vouch for: the library's transcoder encodes this state."""


_PLAIN = (str, int, bool, type(None))
# Dates whose text is kept (a bulk run meets the same document dates again and again).
_DATE_TEXTS = 4096


_UNKNOWN = object()
_HEAD = ("originator_id", "originator_version", "timestamp")
_new = object.__new__


def _parameters(body: Any) -> frozenset[str]:
    """The names the library's `filter_kwargs_for_method_params` keeps for this body (self excluded)."""
    return frozenset(inspect.signature(body).parameters) - {"self"}


def _state(event: object, class_version: int) -> dict[str, Any]:
    """The state `Mapper.to_stored_event` encodes: the event's attributes but its originator id and
    version, and its class version when above 1."""
    state = dict(vars(event))
    del state["originator_id"], state["originator_version"]
    if class_version > 1:
        state["class_version"] = class_version
    return state


class EventRows:
    """Makes domain events from decided fields and encodes them as the application's mapper would."""

    def __init__(self, mapper: Mapper[UUID]) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        # Only the library's JSON transcoder has a known byte format to match; any other: its own encode.
        self._types: dict[type, Transcoding] | None = (
            dict(transcoder.types) if type(transcoder) is JSONTranscoder else None
        )
        self._encode = msgspec.json.Encoder().encode
        # Transcodings of types the json module never writes natively (a subclass of str, int, float,
        # list, tuple or dict would be written as such, not transcoded).
        natives = (str, int, float, list, tuple, dict)
        self._leaves: dict[type, tuple[str, Any]] = {
            kind: (t.name, t.encode)
            for kind, t in (self._types or {}).items()
            if not issubclass(kind, natives)
        }
        # The types whose transcoding writes `isoformat()` (the library's datetimes, our dates).
        self._iso: dict[type, str] = {
            kind: t.name
            for kind, t in (self._types or {}).items()
            if kind in (datetime, date) and type(t) in (DatetimeAsISO, DateAsISO)
        }
        self._date_texts: dict[date, str] = {}
        self._shapes: dict[type, tuple[type, str, tuple[str, ...]]] = {}
        self._plans: dict[type, tuple[str, int]] = {}
        self._bodies: dict[type, Any] = {}
        self._initialisers: dict[tuple[type, str], Any] = {}
        self._next_plans: dict[type, tuple[Any, tuple[str, ...], Any]] = {}

    def _shape(self, event_class: type) -> tuple[type, str, tuple[str, ...]]:
        shape = self._shapes.get(event_class)
        if shape is None:
            topic = get_topic(event_class)
            resolved = resolve_topic(topic)  # the class the store's readers construct
            names = tuple(f.name for f in dataclasses.fields(resolved))
            shape = self._shapes[event_class] = (resolved, topic, names)
        return shape

    def event(
        self,
        event_class: type,
        *,
        originator_id: UUID,
        originator_version: int,
        fields: dict[str, Any],
        originator_topic: str | None = None,
    ) -> CanMutateAggregate[UUID]:
        """The event the library would have made for these decided fields (timestamp now)."""
        resolved, _, names = self._shape(event_class)
        if originator_topic is None and names[3:] == tuple(fields) and names[:3] == _HEAD:
            # The decided fields already in the class's field order: the state in one go.
            state = {
                "originator_id": originator_id,
                "originator_version": originator_version,
                "timestamp": cast(type[CanMutateAggregate[UUID]], resolved).create_timestamp(),
                **fields,
            }
            made: CanMutateAggregate[UUID] = _new(resolved)
            object.__setattr__(made, "__dict__", state)
            return made
        values = dict(fields)
        values["originator_id"] = originator_id
        values["originator_version"] = originator_version
        values["timestamp"] = cast(type[CanMutateAggregate[UUID]], resolved).create_timestamp()
        if originator_topic is not None:
            values["originator_topic"] = originator_topic
        state = {name: values[name] for name in names}
        event: CanMutateAggregate[UUID] = object.__new__(resolved)
        object.__setattr__(event, "__dict__", state)
        return event

    def apply(self, event: CanMutateAggregate[UUID], aggregate: Any, fields: dict[str, Any]) -> None:
        """`event.mutate(aggregate)` for an event made by `event(…, fields=fields)`: the `@event` method's
        body called with the decided fields (exactly its arguments), as the library's `mutate` calls it."""
        cls = type(event)
        body = self._bodies.get(cls, _UNKNOWN)
        if body is _UNKNOWN:
            found = decorated_body(cls)
            names = _parameters(found) if found is not None else None
            body = self._bodies[cls] = (found, names) if found is not None else None
        state = vars(event)
        if (
            body is None
            or body[1] != fields.keys()
            or state["originator_id"] != aggregate.id
            or state["originator_version"] != aggregate.version + 1
        ):
            event.mutate(aggregate)  # the library's own path (and its errors)
            return
        body[0](aggregate, **fields)
        aggregate.version = state["originator_version"]
        aggregate.modified_on = state["timestamp"]

    def next_event(
        self, event_class: type, aggregate: Any, fields: dict[str, Any]
    ) -> CanMutateAggregate[UUID]:
        """The aggregate's next event from the decided fields, applied to it: `event(…)` at the aggregate's
        id and next version, then `apply(…)`.

        In one step when the fields are the event class's own, in its field order, and exactly its `@event`
        body's arguments (the domain's `decide_…` returns them so): the event is built from the aggregate's
        own id and version, so the sequence checks `apply` makes hold by construction.
        """
        plan = self._next_plans.get(event_class)
        if plan is None:
            plan = self._next_plans[event_class] = self._next_plan(event_class)
        resolved, field_names, body = plan
        if body is None or tuple(fields) != field_names:
            made = self.event(
                event_class,
                originator_id=aggregate.id,
                originator_version=aggregate.version + 1,
                fields=fields,
            )
            self.apply(made, aggregate, fields)
            return made
        version = aggregate.version + 1
        timestamp = resolved.create_timestamp()
        made = _new(resolved)
        state = {
            "originator_id": aggregate.id,
            "originator_version": version,
            "timestamp": timestamp,
            **fields,
        }
        object.__setattr__(made, "__dict__", state)
        body(aggregate, **fields)
        aggregate.version = version
        aggregate.modified_on = timestamp
        return made

    def _next_plan(self, event_class: type) -> tuple[Any, tuple[str, ...], Any]:
        """(the class readers construct, its fields after the head, its `@event` body or None)."""
        resolved, _, names = self._shape(event_class)
        body = decorated_body(resolved)
        if body is None or names[:3] != _HEAD or _parameters(body) != frozenset(names[3:]):
            body = None
        return resolved, names[3:], body

    def create(self, event: CanMutateAggregate[UUID], fields: dict[str, Any]) -> Any:
        """`event.mutate(None)` for a created event made by `event(…, fields=fields, originator_topic=…)`:
        a new aggregate of the topic's class, its `__base_init__` and `__init__` called with the event's
        id, version and timestamp and the decided fields (exactly the arguments the library's `mutate`
        picks from the event)."""
        state = vars(event)
        topic = state["originator_topic"]
        plan = self._initialisers.get((type(event), topic), _UNKNOWN)
        if plan is _UNKNOWN:
            aggregate_class = resolve_topic(topic)
            init = aggregate_initialiser(type(event), aggregate_class)
            names = _parameters(init) if init is not None else frozenset()
            usable = init is not None and not names & {*_HEAD, "originator_topic"}
            plan = self._initialisers[(type(event), topic)] = (
                (aggregate_class, init, names) if usable else None
            )
        if plan is None or plan[2] != fields.keys():
            return event.mutate(None)  # the library's own path (and its errors)
        aggregate_class, init, _ = plan
        aggregate = aggregate_class.__new__(aggregate_class)
        aggregate.__base_init__(state["originator_id"], state["originator_version"], state["timestamp"])
        init(aggregate, **fields)
        return aggregate

    def stored(self, event: object) -> StoredEvent:
        """`Mapper.to_stored_event`, with one fast encoding of the state."""
        cls = type(event)
        plan = self._plans.get(cls)
        if plan is None:
            plan = self._plans[cls] = (self._topic(cls), getattr(cls, "class_version", 1))
        topic, class_version = plan
        state = _state(event, class_version)
        if self._types is not None and self._made_plain(state):
            data = self._encode(state)
        else:
            data = self.encode(_state(event, class_version))
        if self.mapper.compressor:
            data = self.mapper.compressor.compress(data)
        if self.mapper.cipher:
            data = self.mapper.cipher.encrypt(data)
        # `StoredEvent(…)` without the frozen dataclass's four `object.__setattr__` calls: the same object.
        row: StoredEvent = _new(StoredEvent)
        head = vars(event)
        object.__setattr__(
            row,
            "__dict__",
            {
                "originator_id": head["originator_id"],
                "originator_version": head["originator_version"],
                "topic": topic,
                "state": data,
            },
        )
        return row

    def _topic(self, cls: type) -> str:
        shape = self._shapes.get(cls)
        return shape[1] if shape is not None else get_topic(cls)

    def encode(self, state: dict[str, Any]) -> bytes:
        """The transcoder's bytes for this state (`JSONTranscoder.encode`'s exact output)."""
        if self._types is not None:
            plain = dict(state)
            if self._made_plain(plain):
                return self._encode(plain)
            try:
                return self._encode(self._plain_dict(state))
            except _NotPlain:
                pass
        return self.mapper.transcoder.encode(state)

    def _made_plain(self, state: dict[str, Any]) -> bool:
        """Make a flat state (text, None, times and dates written by `isoformat`) plain in place; False
        (the state then partly replaced) for anything else, which the general walk then does."""
        iso = self._iso
        dates = self._date_texts
        for key, value in state.items():
            kind = type(value)
            if kind is str or value is None:
                continue
            name = iso.get(kind)
            if name is None:
                if kind is int or kind is bool:
                    continue
                return False
            if kind is date:
                # A date's text depends on its value alone: documents' dates recur across events.
                text = dates.get(value)
                if text is None:
                    if len(dates) >= _DATE_TEXTS:
                        dates.clear()
                    text = dates[value] = value.isoformat()
            else:
                text = value.isoformat()
            state[key] = {"_type_": name, "_data_": text}
        return all(map(str.__instancecheck__, state))

    def _plain_dict(self, value: dict[Any, Any]) -> dict[str, Any]:
        plain: dict[str, Any] = {}
        leaves = self._leaves
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            kind = type(item)
            # An event's values are mostly text, None, or a time or date: no call for them.
            if item is None or kind is str:
                plain[key] = item
            elif kind in leaves:
                name, encode = leaves[kind]
                data = encode(item)
                plain[key] = {"_type_": name, "_data_": data if type(data) is str else self._plain(data)}
            else:
                plain[key] = self._plain(item)
        return plain

    def _plain(self, value: Any) -> Any:
        kind = type(value)
        if kind in _PLAIN:
            return value
        if kind is list or kind is tuple:
            return [self._plain(item) for item in value]
        if kind is dict:
            return self._plain_dict(value)
        if isinstance(value, (str, int, float, list, tuple, dict)):
            raise _NotPlain  # floats (their repr may differ), subclasses the json module writes natively
        assert self._types is not None
        transcoding = self._types.get(kind)
        if transcoding is None:
            raise _NotPlain  # a type with no transcoding: the library's error
        return {"_type_": transcoding.name, "_data_": self._plain(transcoding.encode(value))}
