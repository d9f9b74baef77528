"""Subscription index: every establishment's contacts and every subscription, as versions by position.

Each version row says from which position in the store it holds (`from_position`, exclusive of the event
that made it) until which (`to_position`, NULL while current). "Who wants this event" at position p is then
one indexed look-up by ID number, exact whatever the worker's timing, and replays give the same answer.
The current rows (`to_position IS NULL`) serve listings; the times (`from_time`, `to_time`, recorded times)
serve the auditors' point-in-time view.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from eventsourcing.utils import get_topic

from jawazat_events.domain.establishment import Establishment
from jawazat_events.domain.moments import utc_iso
from jawazat_events.domain.subscription import REASON_TRANSFER, Subscription
from jawazat_events.projections.base import Column, Index, Positioned, ReadModel, Sql, columns
from jawazat_events.projections.channel_settings import CHANNEL_TOPICS, apply_channel_event, channel_schema
from jawazat_events.projections.tables import CHANNEL_SETTINGS, ESTABLISHMENTS, SUBSCRIPTIONS


class VersionStatus(StrEnum):
    """What a subscription version says: in force, ended, or ended by a sponsorship transfer (which still
    covers events that occurred before the transfer)."""

    ACTIVE = "active"
    ENDED = "ended"
    ENDED_BY_TRANSFER = "ended_by_transfer"


def _types(value: Sequence[str]) -> str:
    return ",".join(sorted(value))


class SubscriptionIndex(ReadModel):
    """Establishments' default contacts and subscriptions, versioned by position in the store."""

    name = "subscription_index"
    tables = (ESTABLISHMENTS, SUBSCRIPTIONS, CHANNEL_SETTINGS)
    # Versions are chained by position: an old event applied late would cut the chain in the wrong place.
    retry_in_place = False
    topics = CHANNEL_TOPICS + tuple(
        get_topic(cls)
        for cls in (
            Establishment.Registered,
            Establishment.DefaultContactsUpdated,
            Subscription.Subscribed,
            Subscription.Resubscribed,
            Subscription.Changed,
            Subscription.Ended,
        )
    )

    def schema(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {ESTABLISHMENTS} ("
            "unified_number TEXT NOT NULL, from_position BIGINT NOT NULL, to_position BIGINT, "
            "name TEXT NOT NULL, email TEXT, mobile TEXT, language TEXT NOT NULL, "
            "from_time TEXT NOT NULL, to_time TEXT, PRIMARY KEY (unified_number, from_position))",
            f"CREATE TABLE IF NOT EXISTS {SUBSCRIPTIONS} ("
            "unified_number TEXT NOT NULL, id_number TEXT NOT NULL, from_position BIGINT NOT NULL, "
            "to_position BIGINT, status TEXT NOT NULL, notification_types TEXT NOT NULL, "
            "mobile TEXT, email TEXT, covers_until TEXT, reason TEXT, since TEXT NOT NULL, "
            "from_time TEXT NOT NULL, to_time TEXT, "
            "PRIMARY KEY (unified_number, id_number, from_position))",
            # Not a deferred index (`indexes`): applying events reads through it (this index's current
            # versions of a batch's people, and the fan-out's matching), so a rebuild needs it all along.
            f"CREATE INDEX IF NOT EXISTS {SUBSCRIPTIONS}_by_id ON {SUBSCRIPTIONS} (id_number, from_position)",
            *channel_schema(),
        ]

    def indexes(self) -> list[Index]:
        return [Index(f"{SUBSCRIPTIONS}_current", SUBSCRIPTIONS, "unified_number, to_position, id_number")]

    def apply(self, sql: Sql, item: Positioned) -> None:
        self.apply_batch(sql, [item])

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        """Fold the batch's establishment and subscription events into new versions, in recording order,
        then write them set-wise: ONE update closing the versions current before the batch, ONE insert of
        the batch's versions (those replaced within the batch already closed) per table.

        The fold does what the per-event statements did (close the current version at the event's
        position, insert the new one; an end without a current version does nothing; a change keeps the
        `since` of the current version), on versions as they stand with the batch's earlier events applied.
        Channel settings live in a table of their own that reads nothing else: they are applied in order,
        event by event (they are rare).
        """
        for item in items:
            apply_channel_event(sql, item.event, item.position)
        ours = [item for item in items if isinstance(item.event, _VERSIONED)]
        if not ours:
            return 0
        establishments = _Versions(
            sql.fetch_any(
                f"SELECT * FROM {ESTABLISHMENTS} WHERE unified_number = ANY(?) AND to_position IS NULL",
                {item.event.unified_number for item in ours},
            ),
            key=("unified_number",),
        )
        subscriptions = _Versions(
            sql.fetch_any(
                f"SELECT * FROM {SUBSCRIPTIONS} WHERE id_number = ANY(?) AND to_position IS NULL",
                {item.event.id_number for item in ours if not isinstance(item.event, _ESTABLISHMENT_EVENTS)},
            ),
            key=("unified_number", "id_number"),
        )
        for item in ours:
            event, position = item.event, item.position
            when = event.timestamp.isoformat()
            if isinstance(event, _ESTABLISHMENT_EVENTS):
                current = establishments.current((event.unified_number,))
                name = (
                    event.name
                    if isinstance(event, Establishment.Registered)
                    else (current or {}).get("name", "")
                )
                establishments.add(
                    {
                        "unified_number": event.unified_number,
                        "from_position": position,
                        "name": name,
                        "email": event.email,
                        "mobile": event.mobile,
                        "language": event.language,
                        "from_time": when,
                    }
                )
            else:
                version = _subscription_version(
                    event, subscriptions.current((event.unified_number, event.id_number))
                )
                if version is not None:
                    subscriptions.add(version | {"from_position": position, "from_time": when})
        establishments.write(sql, ESTABLISHMENTS, _ESTABLISHMENT_COLUMNS)
        subscriptions.write(sql, SUBSCRIPTIONS, _SUBSCRIPTION_COLUMNS)
        return 0


_ESTABLISHMENT_EVENTS = (Establishment.Registered, Establishment.DefaultContactsUpdated)
_VERSIONED = (
    *_ESTABLISHMENT_EVENTS,
    Subscription.Subscribed,
    Subscription.Resubscribed,
    Subscription.Changed,
    Subscription.Ended,
)
_ESTABLISHMENT_COLUMNS = columns(
    "unified_number, from_position, name, email, mobile, language, from_time",
    types={"from_position": "bigint"},
)
_SUBSCRIPTION_COLUMNS = columns(
    "unified_number, id_number, from_position, status, notification_types, mobile, email, covers_until, "
    "reason, since, from_time",
    types={"from_position": "bigint"},
)
_CLOSING = columns("to_position, to_time", types={"to_position": "bigint"})


def _subscription_version(event: Any, current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The columns of the version a subscription event makes (None: it makes none)."""
    when = event.timestamp.isoformat()
    base = {
        "unified_number": event.unified_number,
        "id_number": event.id_number,
        "covers_until": None,
        "reason": None,
    }
    if isinstance(event, Subscription.Subscribed | Subscription.Resubscribed | Subscription.Changed):
        since = current["since"] if isinstance(event, Subscription.Changed) and current else when
        return base | {
            "status": VersionStatus.ACTIVE.value,
            "notification_types": _types(event.notification_types),
            "mobile": event.mobile,
            "email": event.email,
            "since": since,
        }
    if current is None:  # pragma: no cover - an Ended always follows a start
        return None
    by_transfer = event.reason == REASON_TRANSFER
    return base | {
        "status": (VersionStatus.ENDED_BY_TRANSFER if by_transfer else VersionStatus.ENDED).value,
        "notification_types": current["notification_types"],
        "mobile": current["mobile"],
        "email": current["email"],
        "since": current["since"],
        # UTC, like the fan-out's `occurred_at` it is compared with as text: an offset kept here would
        # shift the end of coverage by that many hours.
        "covers_until": utc_iso(event.effective_at) if by_transfer and event.effective_at else None,
        "reason": event.reason,
    }


class _Versions:
    """The current version of each key of one versions table, and what a batch's new versions write."""

    def __init__(self, rows: Sequence[dict[str, Any]], *, key: tuple[str, ...]) -> None:
        self.key = key
        self._current: dict[tuple[Any, ...], dict[str, Any]] = {
            tuple(row[k] for k in key): row for row in rows
        }
        self._stored = set(self._current)  # keys whose current version is already in the table
        self.closes: dict[tuple[Any, ...], tuple[int, str]] = {}  # stored versions the batch closes
        self.made: list[dict[str, Any]] = []

    def current(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        return self._current.get(key)

    def add(self, version: dict[str, Any]) -> None:
        """A new version from its `from_position`: the key's current one ends there."""
        key = tuple(version[k] for k in self.key)
        current = self._current.get(key)
        if current is not None:
            if key in self._stored:
                self._stored.discard(key)
                self.closes[key] = (version["from_position"], version["from_time"])
            else:
                current["to_position"], current["to_time"] = version["from_position"], version["from_time"]
        self._current[key] = version
        self.made.append(version)

    def write(self, sql: Sql, table: str, made_columns: Sequence[Column]) -> None:
        """Close the stored versions, then insert the new ones (an existing (key, position) stays)."""
        sql.update_rows(
            table,
            keys=[c for c in made_columns if c.name in self.key],
            values=_CLOSING,
            rows=[(*key, *closing) for key, closing in self.closes.items()],
            where_null="to_position",
        )
        sql.insert_rows(
            table,
            (*made_columns, *_CLOSING),
            [
                (*(version[c.name] for c in made_columns), version.get("to_position"), version.get("to_time"))
                for version in self.made
            ],
            conflict="ON CONFLICT DO NOTHING",
        )
