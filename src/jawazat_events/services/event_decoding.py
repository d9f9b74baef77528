"""Stored events back to domain events, fast: the read side's twin of `event_rows` (follower, rebuild).

The library's `Mapper.to_domain_event` decodes a state with the `json` module and an `object_hook` that
Python calls for every JSON object, turns `{"_type_": name, "_data_": data}` objects back into values
through the transcoding registered under that name, resolves the topic, converts the originator id, and
makes the event object without calling its `__init__`. That was the largest single client stage of a
rebuild and of a fan-out drain (docs/capacity.md, "Fan-out", "Replay").

`EventDecoder.to_domain_event` does the same steps with msgspec, whose JSON decoder yields the same dicts
(keys in the same order), lists, strings, ints, floats, booleans and Nones. Most states are flat: text,
numbers, None, lists, and transcoded text (times, dates, ids). msgspec decodes those against that shape
(`_Flat`), each transcoded value as a small struct, and one pass over the top-level values applies the
transcodings, the library's own datetime and UUID ones by calling what they call. Any other state (an
object as a value: an idempotent answer, a digest's items) is decoded untyped and walked, the transcodings
applied bottom-up as the `object_hook` applies them. The cipher and compressor are the application's
mapper's own, so encrypted stores take the fast path too.

Whatever it does not vouch for goes to the library's mapper for that event, so the answer is always the
library's (its object or its error): an unknown topic, a transcoder other than the library's JSON one, an
event class with upcasting (class versions), text msgspec refuses (`NaN`, out-of-range numbers, lone
surrogates), or a transcoding name the transcoder does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

_UNKNOWN = object()
_new = object.__new__
_set = object.__setattr__


class _NotVouched(Exception):
    """A state the fast decoder does not vouch for: the library's mapper decodes this event."""


class _Tagged(msgspec.Struct, forbid_unknown_fields=True):
    """A transcoded value with text data, `{"_type_": name, "_data_": text}` (both keys, nothing else):
    how times, dates and ids are stored."""

    name: str = msgspec.field(name="_type_")
    data: str = msgspec.field(name="_data_")


# A state whose values are text, numbers, booleans, None, lists, or transcoded text: msgspec checks that
# shape while it decodes (twice as fast as building every transcoding's dict); any other state (a plain
# object as a value) is decoded untyped and walked.
_Flat = dict[str, str | int | float | bool | _Tagged | list[Any] | None]


class _Plan:
    """What decoding an event of one topic needs: its class, and its originator id convertor for the id
    type last seen (PostgreSQL gives UUIDs, SQLite text), the two held as one pair for the read-ahead
    thread beside the main one."""

    __slots__ = ("cls", "ids")

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.ids: tuple[type, Callable[[Any], Any]] | None = None

    def convert_id(self, originator_id: Any) -> Any:
        kind = type(originator_id)
        ids = self.ids
        if ids is None or ids[0] is not kind:
            ids = self.ids = (kind, find_id_convertor(self.cls, cast(Hashable, kind)))
        return ids[1](originator_id)


def _text(transcoding: Any) -> Callable[[str], Any]:
    """The transcoding's decoding of text: for the library's own time and id transcodings, what their
    `decode` calls (their assertion that the data is text holds), without the extra call."""
    if type(transcoding) is DatetimeAsISO:
        return datetime.fromisoformat
    if type(transcoding) is UUIDAsHex:
        return UUID
    return cast(Callable[[str], Any], transcoding.decode)


def _any(transcoding: Any) -> Callable[[Any], Any]:
    """The transcoding's decoding of any data (nested values): text checked as the library asserts it."""
    parse = _text(transcoding)
    if type(transcoding) not in (DatetimeAsISO, UUIDAsHex):
        return parse

    def decode(data: Any) -> Any:
        if type(data) is not str:
            raise _NotVouched  # the library's assertion fails: its error, from the library
        return parse(data)

    return decode


class EventDecoder:
    """`Mapper.to_domain_event` for the events of one mapper, with one fast decoding of the state."""

    def __init__(self, mapper: Mapper[UUID]) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        # Only the library's JSON transcoder has a known byte format; any other decodes every event.
        self._vouched = type(transcoder) is JSONTranscoder
        names: dict[str, Any] = dict(transcoder.names) if self._vouched else {}  # type: ignore[attr-defined]
        # Per transcoding name: its decoding of text data (an event's times, dates and ids), and of any data.
        self._text: dict[str, Callable[[str], Any]] = {name: _text(t) for name, t in names.items()}
        self._any: dict[str, Callable[[Any], Any]] = {name: _any(t) for name, t in names.items()}
        self._decode_flat = msgspec.json.Decoder(_Flat).decode
        self._decode = msgspec.json.Decoder().decode
        self._plans: dict[str, _Plan | None] = {}

    def _plan(self, topic: str) -> _Plan | None:
        plan = self._plans.get(topic, _UNKNOWN)
        if plan is _UNKNOWN:
            try:
                cls = resolve_topic(topic)
            except Exception:  # an unknown topic: the library's error, from the library
                plan = None
            else:
                # Upcasting classes (class_version > 1) are left to the library.
                plan = _Plan(cls) if getattr(cls, "class_version", 1) == 1 else None
            self._plans[topic] = plan
        return cast("_Plan | None", plan)

    def to_domain_event(self, stored: StoredEvent) -> DomainEventProtocol[UUID]:
        """The library's domain event for this stored event (its class, `__dict__` and value types)."""
        plan = self._plans.get(stored.topic, _UNKNOWN)
        if plan is _UNKNOWN:
            plan = self._plan(stored.topic)
        if plan is None or not self._vouched:
            return self.mapper.to_domain_event(stored)
        assert isinstance(plan, _Plan)
        mapper = self.mapper
        try:
            data = stored.state
            if mapper.cipher:
                data = mapper.cipher.decrypt(data)
            if mapper.compressor:
                data = mapper.compressor.decompress(data)
            try:
                state = self._decode_flat(data)
            except msgspec.ValidationError:
                state = self._decode(data)
                if type(state) is not dict:
                    raise _NotVouched from None
                self._transcode(state)
            else:
                self._untag(state)
            if "class_version" in state:
                raise _NotVouched
            state["originator_id"] = plan.convert_id(stored.originator_id)
        except Exception:
            # Anything unexpected: the library decodes it (its event, or its error).
            return mapper.to_domain_event(stored)
        state["originator_version"] = stored.originator_version
        event: DomainEventProtocol[UUID] = _new(plan.cls)
        _set(event, "__dict__", state)
        return event

    def _untag(self, state: dict[str, Any]) -> None:
        """`_transcode` for a state msgspec decoded as `_Flat`: its transcoded values are `_Tagged`."""
        text = self._text
        for key, value in state.items():
            kind = type(value)
            if kind is _Tagged:
                state[key] = text[value.name](value.data)
            elif kind is list:
                state[key] = self._value(value)
        if len(state) == 2 and "_type_" in state and "_data_" in state:
            raise _NotVouched

    def _transcode(self, state: dict[str, Any]) -> None:
        """Replace, in place, what the library's `object_hook` would replace under the top-level object:
        an event's values are mostly text, None, numbers, or a transcoded time or date."""
        text = self._text
        for key, value in state.items():
            kind = type(value)
            if kind is dict:
                if len(value) == 2 and "_type_" in value and "_data_" in value:
                    name, data = value["_type_"], value["_data_"]
                    if type(name) is str and type(data) is str:
                        # The common transcoding: text data (times, dates, ids); the name must be known.
                        state[key] = text[name](data)
                        continue
                state[key] = self._value(value)
            elif kind is list:
                state[key] = self._value(value)
        # The top-level object itself is the state (a transcoding there: left to the library).
        if len(state) == 2 and "_type_" in state and "_data_" in state:
            raise _NotVouched

    def _value(self, value: Any) -> Any:
        """A decoded JSON value with the `object_hook` applied bottom-up, as the library's decoder does."""
        kind = type(value)
        if kind is list:
            return [self._value(item) for item in value]
        if kind is not dict:
            return value
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                value[key] = self._value(item)
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            name = value["_type_"]
            if type(name) is not str:
                raise _NotVouched  # an unhashable or unknown name: the library's error
            return self._any[name](value["_data_"])
        return value
