"""What the fan-out adds for channels beyond SMS and e-mail: webhook alerts, digest items, and notice alerts.

Called by `projections.fanout.AlertFanout` inside its transaction, from settings as they stood at each
event's position (the channel settings versions), so a replay makes the same rows:

* **webhook**: an alert on channel `webhook` for every matched event of an establishment with an endpoint
  (the subscription's own, else the establishment's; none once disabled), beside its SMS and e-mail;
* **digest**: an e-mail to the establishment's default address of a type it folds into the daily digest
  becomes a `digest_items` row instead of an alert; the scheduler's digest job lists the open items in a
  `Digest.Prepared` event, which makes ONE e-mail alert (its id derived from the digest's) and closes
  those items;
* **notices**: `Establishment.WebhookEndpointDisabled` makes an e-mail alert to the establishment's
  default address saying which endpoint was disabled and why.

Digest and notice rows concern no single person (`id_number` is empty) and are fanned out by partition 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from eventsourcing.utils import get_topic

from jawazat_events.domain.channel_settings import WEBHOOK_DISABLED_EVENT_TYPE
from jawazat_events.domain.digest import DIGEST_EVENT_TYPE, Digest
from jawazat_events.domain.establishment import Establishment
from jawazat_events.domain.identifiers import uuid5_text
from jawazat_events.domain.moments import utc_iso
from jawazat_events.projections.alert_status import AlertRow, insert_alerts
from jawazat_events.projections.base import Index, Positioned, ReadModelDatabase, Sql
from jawazat_events.projections.channel_settings import ChannelVersions
from jawazat_events.projections.tables import DIGEST_ITEMS, ESTABLISHMENTS, PEOPLE

NOTICE_EVENTS = (Digest.Prepared, Establishment.WebhookEndpointDisabled)
NOTICE_TOPICS = tuple(get_topic(cls) for cls in NOTICE_EVENTS)


def digest_schema() -> list[str]:
    """The digest items table (idempotent statements); its index of open items is `digest_indexes`."""
    return [
        f"CREATE TABLE IF NOT EXISTS {DIGEST_ITEMS} ("
        "unified_number TEXT NOT NULL, event_id TEXT NOT NULL, position BIGINT NOT NULL, "
        "notification_type TEXT NOT NULL, event_type TEXT NOT NULL, id_number TEXT NOT NULL, "
        "occurred_at TEXT NOT NULL, payload TEXT NOT NULL, digest_id TEXT, "
        "PRIMARY KEY (unified_number, event_id))",
    ]


def digest_indexes() -> list[Index]:
    """The digest job's index of open items."""
    return [Index(f"{DIGEST_ITEMS}_open", DIGEST_ITEMS, "digest_id, unified_number")]


def notice_alert_id(unified: str, key: str) -> str:
    """The deterministic id of an establishment notice (one per causing event)."""
    return uuid5_text(f"notice:{unified}:{key}")


class ChannelFanout:
    """The channel settings of one run of events, and the rows they add."""

    def __init__(self, versions: ChannelVersions) -> None:
        self.versions = versions

    @classmethod
    def load(cls, sql: Sql, sponsors: Iterable[str]) -> ChannelFanout:
        return cls(ChannelVersions.load(sql, sponsors))

    def webhook(self, establishment: str, id_number: str, position: int) -> str | None:
        """The webhook endpoint an alert at `position` goes to, if any."""
        return self.versions.webhook_for(establishment, id_number, position)

    def folds_into_digest(
        self,
        *,
        establishment: str,
        position: int,
        notification_type: str,
        email: str,
        default_email: str | None,
    ) -> bool:
        """True when this e-mail is one of the day's digest items instead of an alert of its own."""
        settings = self.versions.establishment(establishment, position)
        return notification_type in settings.digest_types and email == default_email

    @staticmethod
    def add_digest_item(
        sql: Sql, item: Positioned, *, establishment: str, notification_type: str, fields: dict[str, Any]
    ) -> None:
        event = item.event
        sql.execute(
            f"INSERT INTO {DIGEST_ITEMS} (unified_number, event_id, position, notification_type, event_type, "
            "id_number, occurred_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                establishment,
                event.event_id,
                item.position,
                notification_type,
                event.contract_type,
                event.id_number,
                utc_iso(event.occurred_at),
                json.dumps(fields, ensure_ascii=False, sort_keys=True),
            ),
        )


def close_digest_items(sql: Sql, event: Digest.Prepared) -> None:
    """Mark the items a digest lists as sent in it (items already in an earlier digest stay there).

    The items are the fan-out's rows of any partition, the digest's event is partition 0's: a rebuild
    whose partitions run in parallel applies this again once every partition is done (`AlertFanout.settle`).
    """
    digest = str(event.originator_id)
    ids = [entry["event_id"] for entry in event.items]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql.execute(
            f"UPDATE {DIGEST_ITEMS} SET digest_id = ? WHERE unified_number = ? AND digest_id IS NULL "
            f"AND event_id IN {sql.in_list(len(chunk))}",
            (digest, event.unified_number, *chunk),
        )


def notice_rows(sql: Sql, item: Positioned) -> int:
    """The alert a digest or a disabled endpoint makes (at most one); returns how many rows were made."""
    event = item.event
    created = utc_iso(event.timestamp)
    if isinstance(event, Digest.Prepared):
        digest = str(event.originator_id)
        close_digest_items(sql, event)
        payload = {"day": event.day.isoformat(), "items": event.items}
        row = AlertRow(
            # Not the digest's own id: the alert's AlertDelivery aggregate is keyed by the alert id.
            alert_id=notice_alert_id(event.unified_number, f"digest:{digest}"),
            position=item.position,
            event_id=f"digest:{event.unified_number}:{event.day.isoformat()}:{event.notification_type}",
            event_type=DIGEST_EVENT_TYPE,
            notification_type=event.notification_type,
            id_number="",
            establishment=event.unified_number,
            channel="email",
            recipient=event.recipient,
            language=event.language,
            occurred_at=created,
            created_at=created,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str),
            next_attempt_at=created,
        )
    else:
        contacts = sql.execute(
            f"SELECT email, language FROM {ESTABLISHMENTS} WHERE unified_number = ? AND from_position < ? "
            "AND (to_position IS NULL OR to_position > ?)",
            (event.unified_number, item.position, item.position),
        ).fetchone()
        if contacts is None or not contacts["email"]:
            return 0  # no address to tell: the disabled endpoint shows in the API and the record
        key = f"webhook-disabled:{event.originator_version}"
        payload = {"url": event.url, "reason": event.reason, "cause_alert_id": event.cause_alert_id}
        row = AlertRow(
            alert_id=notice_alert_id(event.unified_number, key),
            position=item.position,
            event_id=f"notice:{event.unified_number}:{key}",
            event_type=WEBHOOK_DISABLED_EVENT_TYPE,
            notification_type="webhook",
            id_number="",
            establishment=event.unified_number,
            channel="email",
            recipient=contacts["email"],
            language=contacts["language"],
            occurred_at=created,
            created_at=created,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            next_attempt_at=created,
        )
    insert_alerts(sql, [row])
    return 1


class OpenDigestItems:
    """The digest items no digest lists yet, with the people's names (for `digest.DigestJob`)."""

    def __init__(self, db: ReadModelDatabase) -> None:
        self.db = db

    def open_items(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        with self.db.reading() as sql:
            rows = sql.execute(
                f"SELECT d.unified_number, d.notification_type, d.event_id, d.event_type, d.id_number, "
                f"d.payload, p.name_ar, p.name_en FROM {DIGEST_ITEMS} d LEFT JOIN {PEOPLE} p "
                "ON p.id_number = d.id_number WHERE d.digest_id IS NULL ORDER BY d.unified_number, d.position"
            ).fetchall()
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows:
            item = {
                "event_id": row["event_id"],
                "event_type": row["event_type"],
                "id_number": row["id_number"],
                "name_ar": row["name_ar"] or "",
                "name_en": row["name_en"] or "",
                "fields": json.loads(row["payload"]),
            }
            groups.setdefault((row["unified_number"], row["notification_type"]), []).append(item)
        return groups
