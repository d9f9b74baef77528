"""An establishment's subscriptions as they stood at a recorded time, from the subscription index's versions.

The index keeps every version of every subscription with the recorded times it held between
(`from_time` inclusive, `to_time` exclusive: the timestamps of the events that made and replaced it), and
it is rebuilt from the events alone, so this is the record's answer, not a snapshot someone kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jawazat_events.domain.identifiers import parse_unified_number
from jawazat_events.projections.queries import subscription_shape
from jawazat_events.projections.subscription_index import SUBSCRIPTIONS
from jawazat_events.services.audit.records import utc_moment


def subscriptions_at(container: Any, unified_number: str, at: datetime | None = None) -> list[dict[str, Any]]:
    """The establishment's active subscriptions at recorded time `at` (the current ones when None).

    Each is `{"id_number", "notification_types", "mobile", "email", "since"}`, as `subscriptions list`.
    """
    unified = parse_unified_number(unified_number, field="unified_number")
    db = container.read_models.db
    params: tuple[str, ...]
    if at is None:
        when, params = "to_time IS NULL", (unified,)
    else:
        # Times are UTC ISO 8601 strings of one format, which sort as time does: one version per
        # subscription holds at any moment.
        moment = utc_moment(at, container.settings.zone).isoformat()
        when, params = "from_time <= ? AND (to_time IS NULL OR to_time > ?)", (unified, moment, moment)
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT id_number, notification_types, mobile, email, since FROM {SUBSCRIPTIONS} "
            f"WHERE unified_number = ? AND status = 'active' AND {when} ORDER BY id_number",
            params,
        ).fetchall()
    return [subscription_shape(row) for row in rows]
