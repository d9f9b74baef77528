"""Channel settings read model: webhook endpoints, quiet hours, urgent and digest types, by position.

Part of the subscription index (same tracking position, same transaction: the fan-out never runs ahead of
it). Rows are versions valid from one position to the next, like the index's own: establishment-wide
settings under `id_number = ''`, a subscription's own webhook endpoint under its ID number. The fan-out
reads them at an event's position (which alerts to make), delivery at an alert's position (quiet hours,
full ID numbers in webhooks) and at the head (endpoints disabled since).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.utils import get_topic

from jawazat_events.domain.delivery import AlertStatus
from jawazat_events.domain.establishment import Establishment
from jawazat_events.domain.subscription import Subscription
from jawazat_events.projections.base import ReadModelDatabase, Sql
from jawazat_events.projections.tables import ALERTS, CHANNEL_SETTINGS
from jawazat_events.services.ports import EstablishmentChannels

ESTABLISHMENT_WIDE = ""
CHANNEL_EVENTS = (
    Establishment.WebhookEndpointSet,
    Establishment.WebhookEndpointRemoved,
    Establishment.WebhookEndpointDisabled,
    Establishment.WebhookEndpointEnabled,
    Establishment.DeliveryPreferencesChanged,
    Subscription.WebhookChanged,
)
CHANNEL_TOPICS = tuple(get_topic(cls) for cls in CHANNEL_EVENTS)
_COLUMNS = ("webhook_url", "disabled_urls", "quiet_hours", "urgent_types", "full_id_number", "digest_types")
_EMPTY: dict[str, Any] = {
    "webhook_url": None,
    "disabled_urls": "[]",
    "quiet_hours": None,
    "urgent_types": "",
    "full_id_number": 0,
    "digest_types": "",
}


def channel_schema() -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {CHANNEL_SETTINGS} ("
        "unified_number TEXT NOT NULL, id_number TEXT NOT NULL, from_position BIGINT NOT NULL, "
        "to_position BIGINT, webhook_url TEXT, disabled_urls TEXT NOT NULL DEFAULT '[]', quiet_hours TEXT, "
        "urgent_types TEXT NOT NULL DEFAULT '', full_id_number INTEGER NOT NULL DEFAULT 0, "
        "digest_types TEXT NOT NULL DEFAULT '', from_time TEXT NOT NULL, to_time TEXT, "
        "PRIMARY KEY (unified_number, id_number, from_position))",
    ]


def apply_channel_event(sql: Sql, event: Any, position: int) -> bool:
    """Apply one channel-settings event (True) or ignore any other event (False)."""
    if not isinstance(event, CHANNEL_EVENTS):
        return False
    unified = event.unified_number
    key = event.id_number if isinstance(event, Subscription.WebhookChanged) else ESTABLISHMENT_WIDE
    current = sql.execute(
        f"SELECT * FROM {CHANNEL_SETTINGS} WHERE unified_number = ? AND id_number = ? "
        "AND to_position IS NULL",
        (unified, key),
    ).fetchone()
    values = {column: (current or _EMPTY)[column] for column in _COLUMNS}
    disabled = set(json.loads(values["disabled_urls"]))
    if isinstance(event, Establishment.WebhookEndpointSet):
        values["webhook_url"] = event.url
        disabled.discard(event.url)
    elif isinstance(event, Establishment.WebhookEndpointRemoved):
        values["webhook_url"] = None
    elif isinstance(event, Establishment.WebhookEndpointDisabled):
        disabled.add(event.url)
    elif isinstance(event, Establishment.WebhookEndpointEnabled):
        disabled.discard(event.url)
    elif isinstance(event, Establishment.DeliveryPreferencesChanged):
        values["quiet_hours"] = event.quiet_hours
        values["urgent_types"] = ",".join(event.urgent_types)
        values["full_id_number"] = int(event.webhook_full_id_number)
        values["digest_types"] = ",".join(event.digest_types)
    else:
        values["webhook_url"] = event.webhook_url
    values["disabled_urls"] = json.dumps(sorted(disabled))
    when = event.timestamp.isoformat()
    sql.execute(
        f"UPDATE {CHANNEL_SETTINGS} SET to_position = ?, to_time = ? "
        "WHERE unified_number = ? AND id_number = ? AND to_position IS NULL",
        (position, when, unified, key),
    )
    sql.execute(
        f"INSERT INTO {CHANNEL_SETTINGS} (unified_number, id_number, from_position, "
        f"{', '.join(_COLUMNS)}, from_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (unified, key, position, *(values[c] for c in _COLUMNS), when),
    )
    return True


def _channels_of(row: dict[str, Any] | None) -> EstablishmentChannels:
    if row is None:
        return EstablishmentChannels()
    return EstablishmentChannels(
        webhook_url=row["webhook_url"],
        disabled_urls=frozenset(json.loads(row["disabled_urls"])),
        quiet_hours=row["quiet_hours"],
        urgent_types=frozenset(t for t in row["urgent_types"].split(",") if t),
        full_id_number=bool(row["full_id_number"]),
        digest_types=frozenset(t for t in row["digest_types"].split(",") if t),
    )


class ChannelVersions:
    """Versions of the settings of some establishments and subscriptions, for look-ups by position."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self._rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows:
            self._rows.setdefault((row["unified_number"], row["id_number"]), []).append(row)

    @classmethod
    def load(cls, sql: Sql, unified_numbers: Iterable[str]) -> ChannelVersions:
        """Every version of these establishments' settings and their subscriptions' endpoints."""
        return cls(
            sql.fetch_any(
                f"SELECT * FROM {CHANNEL_SETTINGS} WHERE unified_number = ANY(?)", set(unified_numbers)
            )
        )

    def establishment(self, unified: str, position: int | None) -> EstablishmentChannels:
        """Establishment-wide settings just before `position` (None: the current ones)."""
        return _channels_of(_at(self._rows.get((unified, ESTABLISHMENT_WIDE), ()), position))

    def webhook_for(self, unified: str, id_number: str | None, position: int) -> str | None:
        """The endpoint an alert at `position` goes to: the subscription's own (when the alert is about a
        subscribed ID number), else the establishment's; None when neither is set or it was disabled."""
        settings = self.establishment(unified, position)
        own = _at(self._rows.get((unified, id_number), ()), position) if id_number else None
        url = (own or {}).get("webhook_url") or settings.webhook_url
        return url if url and url not in settings.disabled_urls else None


def _at(rows: Sequence[dict[str, Any]], position: int | None) -> dict[str, Any] | None:
    """The version in force just before `position` (made earlier, not yet replaced); None: the current."""
    for row in rows:
        if position is None:
            if row["to_position"] is None:
                return row
        elif row["from_position"] < position and (
            row["to_position"] is None or row["to_position"] > position
        ):
            return row
    return None


class ChannelLedger:
    """What delivery reads about channels (`services.ports.ChannelLedger`): settings by position, and
    whether an endpoint took a delivery since a time."""

    def __init__(self, db: ReadModelDatabase) -> None:
        self.db = db

    def settings(self, unified_numbers: Iterable[str]) -> ChannelVersions:
        with self.db.reading() as sql:
            return ChannelVersions.load(sql, unified_numbers)

    def webhook_delivered_since(self, *, establishment: str, url: str, since: str) -> bool:
        with self.db.reading() as sql:
            found = sql.execute(
                f"SELECT 1 FROM {ALERTS} WHERE establishment = ? AND channel = 'webhook' AND recipient = ? "
                "AND status IN (?, ?) AND updated_at >= ? LIMIT 1",
                (establishment, url, AlertStatus.SENT, AlertStatus.DELIVERED, since),
            ).fetchone()
        return found is not None
