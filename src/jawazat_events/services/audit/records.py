"""How stored domain events read in audit output: their contract type, identity, times and own fields."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from uuid import UUID

# Attributes every event has, which the audit output shows under their own names (or, for the library's
# `originator_topic` on first events, not at all: the record's type says the same).
_IDENTITY = {
    "originator_id",
    "originator_version",
    "originator_topic",
    "timestamp",
    "event_id",
    "id_number",
    "occurred_at",
}
_WORDS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


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


def event_type(event: Any) -> str:
    """The contract's type for person events (`border_crossing`…); `aggregate_event` for the others."""
    contract = getattr(type(event), "contract_type", "")
    if contract:
        return str(contract)
    names = type(event).__qualname__.split(".")
    return "_".join(_WORDS.sub("_", name).lower() for name in names)


def own_fields(event: Any) -> dict[str, Any]:
    """The event's own fields (everything but its identity and times), JSON-ready.

    Hashes of API keys and tokens (`…_hash`) are left out, as in the auditors' API: no one reads them.
    """
    return {
        key: jsonable(value)
        for key, value in vars(event).items()
        if key not in _IDENTITY and not key.endswith("_hash")
    }


def occurred_at(event: Any) -> str | None:
    """The business time of a person event, as the source sent it; None for other events."""
    value = getattr(event, "occurred_at", None)
    return value.isoformat() if isinstance(value, datetime) else None


def utc_moment(moment: datetime, zone: tzinfo) -> datetime:
    """A point in time in UTC; a time without offset is read in the business time zone."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    return aware.astimezone(UTC)
