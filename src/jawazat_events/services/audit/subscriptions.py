"""An establishment's subscriptions as they stood at a recorded time, from the subscription index's versions.

The index keeps every version of every subscription with the recorded times it held between
(`from_time` inclusive, `to_time` exclusive: the timestamps of the events that made and replaced it), and
it is rebuilt from the events alone, so this is the record's answer, not a snapshot someone kept.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from jawazat_events.domain.identifiers import parse_unified_number
from jawazat_events.domain.moments import utc_moment
from jawazat_events.services.ports import SubscriptionLedger


def subscriptions_at(
    ledger: SubscriptionLedger, unified_number: str, at: datetime | None = None, *, zone: tzinfo
) -> list[dict[str, Any]]:
    """The establishment's active subscriptions at recorded time `at` (the current ones when None); a time
    without offset is read in the business time zone `zone`.

    Each is `{"id_number", "notification_types", "mobile", "email", "since"}`, as `subscriptions list`.
    """
    unified = parse_unified_number(unified_number, field="unified_number")
    return ledger.subscriptions_at(unified, utc_moment(at, zone) if at is not None else None)
