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

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.utils import get_topic

from jawazat_events.domain.establishment import Establishment
from jawazat_events.domain.moments import utc_iso
from jawazat_events.domain.subscription import REASON_TRANSFER, Subscription
from jawazat_events.projections.base import Positioned, ReadModel, Sql
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
            f"CREATE INDEX IF NOT EXISTS {SUBSCRIPTIONS}_by_id ON {SUBSCRIPTIONS} (id_number, from_position)",
            f"CREATE INDEX IF NOT EXISTS {SUBSCRIPTIONS}_current ON {SUBSCRIPTIONS} "
            "(unified_number, to_position, id_number)",
            *channel_schema(),
        ]

    def apply(self, sql: Sql, item: Positioned) -> None:
        self._on(item.event, sql, item.position)

    @singledispatchmethod
    def _on(self, event: Any, sql: Sql, position: int) -> None:
        """Channel settings (webhooks, quiet hours, digests) have a table of their own; others are ignored."""
        apply_channel_event(sql, event, position)

    @_on.register
    def _(self, event: Establishment.Registered, sql: Sql, position: int) -> None:
        self._new_establishment_version(
            sql,
            event.unified_number,
            position,
            event.timestamp.isoformat(),
            {"name": event.name, "email": event.email, "mobile": event.mobile, "language": event.language},
        )

    @_on.register
    def _(self, event: Establishment.DefaultContactsUpdated, sql: Sql, position: int) -> None:
        current = sql.execute(
            f"SELECT name FROM {ESTABLISHMENTS} WHERE unified_number = ? AND to_position IS NULL",
            (event.unified_number,),
        ).fetchone()
        name = current["name"] if current else ""
        self._new_establishment_version(
            sql,
            event.unified_number,
            position,
            event.timestamp.isoformat(),
            {"name": name, "email": event.email, "mobile": event.mobile, "language": event.language},
        )

    def _new_establishment_version(
        self, sql: Sql, unified: str, position: int, when: str, values: dict[str, Any]
    ) -> None:
        sql.execute(
            f"UPDATE {ESTABLISHMENTS} SET to_position = ?, to_time = ? "
            "WHERE unified_number = ? AND to_position IS NULL",
            (position, when, unified),
        )
        sql.execute(
            f"INSERT INTO {ESTABLISHMENTS} (unified_number, from_position, name, email, mobile, language, "
            "from_time) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (unified, position, values["name"], values["email"], values["mobile"], values["language"], when),
        )

    @_on.register(Subscription.Subscribed)
    @_on.register(Subscription.Resubscribed)
    def _started(
        self, event: Subscription.Subscribed | Subscription.Resubscribed, sql: Sql, position: int
    ) -> None:
        when = event.timestamp.isoformat()
        self._new_subscription_version(
            sql,
            event.unified_number,
            event.id_number,
            position,
            when,
            status=VersionStatus.ACTIVE,
            types=_types(event.notification_types),
            mobile=event.mobile,
            email=event.email,
            since=when,
        )

    @_on.register
    def _(self, event: Subscription.Changed, sql: Sql, position: int) -> None:
        current = self._current(sql, event.unified_number, event.id_number)
        self._new_subscription_version(
            sql,
            event.unified_number,
            event.id_number,
            position,
            event.timestamp.isoformat(),
            status=VersionStatus.ACTIVE,
            types=_types(event.notification_types),
            mobile=event.mobile,
            email=event.email,
            since=current["since"] if current else event.timestamp.isoformat(),
        )

    @_on.register
    def _(self, event: Subscription.Ended, sql: Sql, position: int) -> None:
        current = self._current(sql, event.unified_number, event.id_number)
        if current is None:  # pragma: no cover - an Ended always follows a start
            return
        by_transfer = event.reason == REASON_TRANSFER
        self._new_subscription_version(
            sql,
            event.unified_number,
            event.id_number,
            position,
            event.timestamp.isoformat(),
            status=VersionStatus.ENDED_BY_TRANSFER if by_transfer else VersionStatus.ENDED,
            types=current["notification_types"],
            mobile=current["mobile"],
            email=current["email"],
            since=current["since"],
            # UTC, like the fan-out's `occurred_at` it is compared with as text: an offset kept here
            # would shift the end of coverage by that many hours.
            covers_until=(utc_iso(event.effective_at) if by_transfer and event.effective_at else None),
            reason=event.reason,
        )

    def _current(self, sql: Sql, unified: str, id_number: str) -> dict[str, Any] | None:
        return sql.execute(
            f"SELECT * FROM {SUBSCRIPTIONS} WHERE unified_number = ? AND id_number = ? "
            "AND to_position IS NULL",
            (unified, id_number),
        ).fetchone()

    def _new_subscription_version(
        self,
        sql: Sql,
        unified: str,
        id_number: str,
        position: int,
        when: str,
        *,
        status: VersionStatus,
        types: str,
        mobile: str | None,
        email: str | None,
        since: str,
        covers_until: str | None = None,
        reason: str | None = None,
    ) -> None:
        sql.execute(
            f"UPDATE {SUBSCRIPTIONS} SET to_position = ?, to_time = ? "
            "WHERE unified_number = ? AND id_number = ? AND to_position IS NULL",
            (position, when, unified, id_number),
        )
        sql.execute(
            f"INSERT INTO {SUBSCRIPTIONS} (unified_number, id_number, from_position, status, "
            "notification_types, mobile, email, covers_until, reason, since, from_time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (unified, id_number, position, status, types, mobile, email, covers_until, reason, since, when),
        )
