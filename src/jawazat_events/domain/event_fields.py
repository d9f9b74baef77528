"""An event's own fields, JSON-ready: the one place that decides what of a stored event is "its own".

Every stored event carries the library's bookkeeping (`LIBRARY_FIELDS`); person events also carry their
identity and business time, which each view shows under its own names (`IDENTITY_FIELDS`), and the
sponsor recorded at the event, which alerts and timelines show as the establishment (`PERSON_FACTS_BESIDES`).
Hashes of API keys and tokens (`…_hash`) are never anyone's to read and are always left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

LIBRARY_FIELDS = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp"})
IDENTITY_FIELDS = LIBRARY_FIELDS | {"event_id", "id_number", "occurred_at"}
PERSON_FACTS_BESIDES = IDENTITY_FIELDS | {"sponsor"}
SECRET_SUFFIX = "_hash"


def jsonable(value: Any) -> Any:
    """A value as JSON can carry it: dates and times as ISO 8601, ids as text, tuples as lists."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def own_fields(event: object, *, besides: Iterable[str] = LIBRARY_FIELDS) -> dict[str, Any]:
    """The event's fields other than `besides` (and never a stored hash), JSON-ready."""
    left_out = frozenset(besides)
    return {
        key: jsonable(value)
        for key, value in vars(event).items()
        if key not in left_out and not key.endswith(SECRET_SUFFIX)
    }
