"""Alert fan-out: for each person event, the matching subscriptions at that position, one alert per channel.

The rule (CONTRACT.md, "Who gets an alert"): the establishment that sponsored the person when the event
occurred (recorded on the event by the domain, from the sponsorship known at recording) gets an alert if
its subscription for the ID number, as it stood at the event's position in the store, covers the event's
notification type. A subscription ended by a sponsorship transfer still covers events that occurred before
the transfer. Contacts are the subscription's own, else the establishment's defaults at that position.

Alert ids are uuid5 of (event, establishment, channel): one alert per (event, subscription, channel) by
construction, so a replay or a retried batch can never add a second. Work is split into partitions by ID
number; each partition has its own tracking position, so several workers can share it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid5

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from jawazat_events.domain.delivery import AlertDelivery
from jawazat_events.domain.identifiers import NAMESPACE
from jawazat_events.domain.notification_types import FIRED_BY
from jawazat_events.domain.person import Person, PersonEvent
from jawazat_events.projections.alert_status import ALERTS, apply_delivery_event
from jawazat_events.projections.base import Positioned, Projection, ReadModelDatabase, Sql
from jawazat_events.projections.channel_fanout import (
    DIGEST_ITEMS,
    NOTICE_EVENTS,
    NOTICE_TOPICS,
    ChannelFanout,
    digest_schema,
    notice_rows,
)
from jawazat_events.projections.subscription_index import ESTABLISHMENTS, SUBSCRIPTIONS

ALERTING_EVENTS = (
    Person.BorderCrossed,
    Person.PassportRenewed,
    Person.VisaIssued,
    Person.VisaStatusChanged,
    Person.PassportExpiryApproaching,
    Person.PassportExpired,
)
# Fields every person event has, which are not "the event's own fields".
_COMMON = {
    "originator_id",
    "originator_version",
    "timestamp",
    "event_id",
    "occurred_at",
    "sponsor",
    "id_number",
}


def partition_of(id_number: str, partitions: int) -> int:
    """The fan-out partition an ID number belongs to (stable across processes and versions)."""
    return zlib.crc32(id_number.encode("ascii")) % partitions


def alert_id(event_id: str, establishment: str, channel: str) -> str:
    """The deterministic id of the one alert for (event, establishment's subscription, channel)."""
    return str(uuid5(NAMESPACE, f"alert:{event_id}:{establishment}:{channel}"))


def event_fields(event: PersonEvent) -> dict[str, Any]:
    """The event's own fields (contract names), JSON-ready."""
    fields: dict[str, Any] = {}
    for key, value in vars(event).items():
        if key in _COMMON:
            continue
        fields[key] = value.isoformat() if isinstance(value, date | datetime) else value
    return fields


def utc_iso(moment: datetime) -> str:
    """Timestamps in read models are UTC ISO 8601 strings, which sort as time does."""
    return moment.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Match:
    """A subscription version that covers an event, with the contacts that apply."""

    establishment: str
    mobile: str | None
    email: str | None
    language: str
    default_email: str | None = None  # the establishment's own address at that position (digests)


class AlertFanout(Projection):
    """Turns person events into alert records, per partition of ID numbers."""

    name = "fanout"
    tables = (ALERTS, DIGEST_ITEMS)
    # Delivery events come too: a rebuilt alerts table gets every attempt and status back. Digests and
    # disabled webhook endpoints make notice alerts (projections.channel_fanout).
    topics = NOTICE_TOPICS + tuple(
        get_topic(cls) for cls in (*ALERTING_EVENTS, AlertDelivery.Attempted, AlertDelivery.Confirmed)
    )

    def __init__(self, db: ReadModelDatabase, *, partitions: int = 1) -> None:
        super().__init__(db)
        self.partitions = partitions

    def tracking_name(self, partition: int) -> str:
        return f"Jawazat/{self.name}#{partition}/{self.partitions}"

    def tracking_names(self) -> list[str]:
        return [self.tracking_name(k) for k in range(self.partitions)]

    def schema(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {ALERTS} ("
            "alert_id TEXT PRIMARY KEY, position BIGINT NOT NULL, event_id TEXT NOT NULL, "
            "event_type TEXT NOT NULL, notification_type TEXT NOT NULL, id_number TEXT NOT NULL, "
            "establishment TEXT NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL, "
            "language TEXT NOT NULL, occurred_at TEXT NOT NULL, created_at TEXT NOT NULL, "
            "payload TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', "
            "attempts TEXT NOT NULL DEFAULT '[]', attempt_count INTEGER NOT NULL DEFAULT 0, "
            "next_attempt_at TEXT NOT NULL, claimed_until TEXT, claimed_by TEXT, provider_id TEXT, "
            "updated_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS {ALERTS}_due ON {ALERTS} (status, next_attempt_at)",
            f"CREATE INDEX IF NOT EXISTS {ALERTS}_by_establishment ON {ALERTS} (establishment, created_at)",
            f"CREATE INDEX IF NOT EXISTS {ALERTS}_by_person ON {ALERTS} (id_number)",
            f"CREATE INDEX IF NOT EXISTS {ALERTS}_by_provider_id ON {ALERTS} (provider_id)",
            *digest_schema(),
        ]

    # --- batch processing ------------------------------------------------------------------------

    def process_partitions(self, batch: Sequence[Positioned], *, positions: dict[int, int], upto: int) -> int:
        """Fan out a batch for the partitions held (each from its own position); track all at `upto`.

        Returns the number of alerts created.
        """
        wanted = [
            item
            for item in batch
            # Notices (digests, disabled endpoints) name no person: partition 0 ("") makes them.
            if (k := partition_of(getattr(item.event, "id_number", ""), self.partitions)) in positions
            and item.position > positions[k]
        ]
        with self.db.transaction() as sql:
            created = self._fan_out(sql, wanted)
            # A partition taken over from another worker may already be past `upto` (the batch starts
            # at the slowest held partition): its position stays, the tracking upsert refuses to go back.
            for k, at in positions.items():
                if at < upto:
                    self.db.record_tracking(sql, Tracking(self.tracking_name(k), upto))
        return created

    def _fan_out(self, sql: Sql, items: Sequence[Positioned]) -> int:
        created = 0
        run: list[Positioned] = []
        # Person events are matched in runs; delivery events apply in order between them.
        for item in items:
            if isinstance(item.event, AlertDelivery.Event):
                created += self._match_run(sql, run)
                run = []
                apply_delivery_event(sql, item.event)
            elif isinstance(item.event, NOTICE_EVENTS):
                created += self._match_run(sql, run) + notice_rows(sql, item)
                run = []
            else:
                run.append(item)
        return created + self._match_run(sql, run)

    def _match_run(self, sql: Sql, items: Sequence[Positioned]) -> int:
        if not items:
            return 0
        versions = self._subscription_versions(sql, {i.event.id_number for i in items})
        sponsors = {i.event.sponsor for i in items}
        contacts = self._establishment_versions(sql, sponsors)
        channels = ChannelFanout.load(sql, sponsors)
        rows: list[tuple[Any, ...]] = []
        for item in items:
            event: PersonEvent = item.event
            notification_type = FIRED_BY[event.contract_type]
            match = self._match(event, item.position, notification_type.value, versions, contacts)
            if match is None:
                continue
            created_at = utc_iso(event.timestamp)
            payload = json.dumps(event_fields(event), ensure_ascii=False, sort_keys=True)
            webhook = channels.webhook(match.establishment, event.id_number, item.position)
            for channel, recipient in (("sms", match.mobile), ("email", match.email), ("webhook", webhook)):
                if not recipient:
                    continue
                if channel == "email" and channels.folds_into_digest(
                    establishment=match.establishment,
                    position=item.position,
                    notification_type=notification_type.value,
                    email=recipient,
                    default_email=match.default_email,
                ):
                    channels.add_digest_item(
                        sql,
                        item,
                        establishment=match.establishment,
                        notification_type=notification_type.value,
                        fields=event_fields(event),
                    )
                    continue
                rows.append(
                    (
                        alert_id(event.event_id, match.establishment, channel),
                        item.position,
                        event.event_id,
                        event.contract_type,
                        notification_type.value,
                        event.id_number,
                        match.establishment,
                        channel,
                        recipient,
                        match.language,
                        utc_iso(event.occurred_at),
                        created_at,
                        payload,
                        created_at,
                    )
                )
        sql.executemany(
            f"INSERT INTO {ALERTS} (alert_id, position, event_id, event_type, notification_type, id_number, "
            "establishment, channel, recipient, language, occurred_at, created_at, payload, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alert_id) DO NOTHING",
            rows,
        )
        return len(rows)

    def _subscription_versions(
        self, sql: Sql, id_numbers: set[str]
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        ids = sorted(id_numbers)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in sql.execute(
                f"SELECT unified_number, id_number, from_position, to_position, status, notification_types, "
                f"mobile, email, covers_until FROM {SUBSCRIPTIONS} "
                f"WHERE id_number IN {sql.in_list(len(chunk))}",
                chunk,
            ).fetchall():
                found.setdefault((row["unified_number"], row["id_number"]), []).append(row)
        return found

    def _establishment_versions(self, sql: Sql, unified_numbers: set[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        numbers = sorted(unified_numbers)
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            for row in sql.execute(
                f"SELECT unified_number, from_position, to_position, email, mobile, language "
                f"FROM {ESTABLISHMENTS} WHERE unified_number IN {sql.in_list(len(chunk))}",
                chunk,
            ).fetchall():
                found.setdefault(row["unified_number"], []).append(row)
        return found

    @staticmethod
    def _match(
        event: PersonEvent,
        position: int,
        notification_type: str,
        versions: dict[tuple[str, str], list[dict[str, Any]]],
        contacts: dict[str, list[dict[str, Any]]],
    ) -> Match | None:
        version = _at(versions.get((event.sponsor, event.id_number), ()), position)
        if version is None or notification_type not in version["notification_types"].split(","):
            return None
        if version["status"] == "ended":
            return None
        if version["status"] == "ended_by_transfer" and not (
            version["covers_until"] and utc_iso(event.occurred_at) < version["covers_until"]
        ):
            return None
        defaults = _at(contacts.get(event.sponsor, ()), position) or {}
        mobile, email = version["mobile"], version["email"]
        if not mobile and not email:
            mobile, email = defaults.get("mobile"), defaults.get("email")
        return Match(
            establishment=event.sponsor,
            mobile=mobile,
            email=email,
            language=defaults.get("language") or "ar",
            default_email=defaults.get("email"),
        )

    def apply(self, sql: Sql, item: Positioned) -> None:  # pragma: no cover - batches only
        self._fan_out(sql, [item])


def _at(rows: Sequence[dict[str, Any]], position: int) -> dict[str, Any] | None:
    """The version in force just before `position`: made earlier, not yet replaced then."""
    for row in rows:
        if row["from_position"] < position and (row["to_position"] is None or row["to_position"] > position):
            return row
    return None
