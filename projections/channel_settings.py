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
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

from jawazat_events.domain.establishment import Establishment
from jawazat_events.domain.subscription import Subscription
from jawazat_events.projections.base import Sql

CHANNEL_SETTINGS = "channel_settings_versions"
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


@dataclass(frozen=True)
class EstablishmentChannels:
    """An establishment's channel settings as they stood at one position."""

    webhook_url: str | None = None
    disabled_urls: frozenset[str] = frozenset()
    quiet_hours: str | None = None
    urgent_types: frozenset[str] = frozenset()
    full_id_number: bool = False
    digest_types: frozenset[str] = frozenset()

    @classmethod
    def of(cls, row: dict[str, Any] | None) -> EstablishmentChannels:
        if row is None:
            return cls()
        return cls(
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
        numbers = sorted(set(unified_numbers))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            rows += sql.execute(
                f"SELECT * FROM {CHANNEL_SETTINGS} WHERE unified_number IN {sql.in_list(len(chunk))}", chunk
            ).fetchall()
        return cls(rows)

    def establishment(self, unified: str, position: int | None) -> EstablishmentChannels:
        """Establishment-wide settings just before `position` (None: the current ones)."""
        return EstablishmentChannels.of(_at(self._rows.get((unified, ESTABLISHMENT_WIDE), ()), position))

    def webhook_for(self, unified: str, id_number: str, position: int) -> str | None:
        """The endpoint an alert at `position` goes to: the subscription's own, else the establishment's;
        None when neither is set or the endpoint was disabled by then."""
        settings = self.establishment(unified, position)
        own = _at(self._rows.get((unified, id_number), ()), position)
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
