"""Domain events and their stored rows, built straight from a domain decision: the bulk path's event factory.

An aggregate command (`person.cross_border(...)`) goes through the library's `@event` machinery: argument
binding, signature filtering, then `Mapper.to_stored_event` with the `json` module: about half of
ingest's CPU. The bulk path instead takes the fields the domain decided (`Person.decide_crossing(...)`),
makes the event object exactly as the library does when it reads one back from the store (the class its
topic resolves to, its `__dict__` in the dataclass's field order), applies it with the library's own
`mutate` (the replay path: so live state equals replayed state), and encodes it once with msgspec into
the very bytes the library's `JSONTranscoder` writes (compact separators, no ASCII escaping, the same
`{"_type_", "_data_"}` transcodings, the same key order), then compresses and encrypts with the
application's mapper. A state holding anything the fast encoder does not vouch for (floats, str
subclasses, unregistered types) is encoded by the library's transcoder instead.

Stored bytes are identical to the reference path's (`tests/integration/test_ingest_differential.py`), so
existing stores read back unchanged and the hash chain links the same rows.
"""

from __future__ import annotations

import dataclasses
from itertools import compress
from typing import Any, cast
from uuid import UUID

import msgspec
from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent, Transcoding
from eventsourcing.utils import get_topic, resolve_topic


class _NotPlain(Exception):
    """A value the fast encoder does not vouch for: the library's transcoder encodes this state."""


_PLAIN = (str, int, bool, type(None))


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
        self._flat_kinds = frozenset({str, int, bool, type(None), *self._leaves})
        self._shapes: dict[type, tuple[type, str, tuple[str, ...]]] = {}

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

    def stored(self, event: object) -> StoredEvent:
        """`Mapper.to_stored_event`, with one fast encoding of the state."""
        state = dict(vars(event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        data = self.encode(state)
        if self.mapper.compressor:
            data = self.mapper.compressor.compress(data)
        if self.mapper.cipher:
            data = self.mapper.cipher.encrypt(data)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=self._topic(type(event)),
            state=data,
        )

    def _topic(self, cls: type) -> str:
        shape = self._shapes.get(cls)
        return shape[1] if shape is not None else get_topic(cls)

    def encode(self, state: dict[str, Any]) -> bytes:
        """The transcoder's bytes for this state (`JSONTranscoder.encode`'s exact output)."""
        if self._types is not None:
            try:
                return self._encode(self._flat(state) or self._plain_dict(state))
            except _NotPlain:
                pass
        return self.mapper.transcoder.encode(state)

    def _flat(self, state: dict[str, Any]) -> dict[str, Any] | None:
        """A flat state (text, None, numbers without floats, times and dates) made plain with C-level
        iteration only; None for anything else (the general walk then does it)."""
        kinds = list(map(type, state.values()))
        if not self._flat_kinds.issuperset(kinds) or not all(map(str.__instancecheck__, state)):
            return None
        plain = dict(state)
        leaves = self._leaves
        for key in compress(state, map(leaves.__contains__, kinds)):
            value = plain[key]
            name, encode = leaves[type(value)]
            data = encode(value)
            if type(data) is not str:
                return None
            plain[key] = {"_type_": name, "_data_": data}
        return plain

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
