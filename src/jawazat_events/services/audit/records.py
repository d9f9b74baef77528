"""How stored domain events read in audit output: their contract type and their business time."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_WORDS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def event_type(event: Any) -> str:
    """The contract's type for person events (`border_crossing`…); `aggregate_event` for the others."""
    contract = getattr(type(event), "contract_type", "")
    if contract:
        return str(contract)
    names = type(event).__qualname__.split(".")
    return "_".join(_WORDS.sub("_", name).lower() for name in names)


def occurred_at(event: Any) -> str | None:
    """The business time of a person event, as the source sent it; None for other events."""
    value = getattr(event, "occurred_at", None)
    return value.isoformat() if isinstance(value, datetime) else None
