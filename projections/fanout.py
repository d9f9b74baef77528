"""Alert fan-out: for each person event, the matching subscriptions at that position, one alert per channel.

The rule (docs/architecture.md, "Fan-out"): the establishment that sponsored the person when the event
occurred (recorded on the event by the domain, from the sponsorship known at recording) gets an alert if its
subscription for the ID number, as it stood at the event's position in the store, covers the event's
notification type. A subscription ended by a sponsorship transfer still covers events that occurred before
the transfer. Contacts are the subscription's own, else the establishment's defaults at that position; a
webhook endpoint (the subscription's own, else the establishment's) adds an alert on channel `webhook`, and
an e-mail the establishment folds into its daily digest becomes a digest item instead
(`projections.channel_fanout`, which also makes the digests' and disabled endpoints' notice e-mails).

Alert ids are uuid5 of (event, establishment, channel): one alert per (event, subscription, channel) by
construction, so a replay or a retried batch can never add a second. Work is split into partitions by ID
number; each partition has its own tracking position, so several workers can share it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

from jawazat_events.domain.delivery import AlertDelivery
from jawazat_events.domain.digest import Digest
from jawazat_events.domain.event_fields import PERSON_FACTS_BESIDES, own_fields
from jawazat_events.domain.identifiers import uuid5_text
from jawazat_events.domain.moments import utc_iso
from jawazat_events.domain.notification_types import FIRED_BY
from jawazat_events.domain.person import Person, PersonEvent
from jawazat_events.projections.alert_status import (
    AlertRow,
    alerts_indexes,
    alerts_schema,
    apply_delivery_events,
    insert_alerts,
)
from jawazat_events.projections.base import Index, Positioned, ReadModel, Sql
from jawazat_events.projections.channel_fanout import (
    NOTICE_EVENTS,
    NOTICE_TOPICS,
    ChannelFanout,
    close_digest_items,
    digest_indexes,
    digest_schema,
    notice_rows,
)
from jawazat_events.projections.subscription_index import VersionStatus
from jawazat_events.projections.tables import ALERTS, DIGEST_ITEMS, ESTABLISHMENTS, SUBSCRIPTIONS

ALERTING_EVENTS = (
    Person.BorderCrossed,
    Person.PassportRenewed,
    Person.VisaIssued,
    Person.VisaStatusChanged,
    Person.PassportExpiryApproaching,
    Person.PassportExpired,
)


def partition_of(id_number: str, partitions: int) -> int:
    """The fan-out partition an ID number belongs to (stable across processes and versions)."""
    return zlib.crc32(id_number.encode("ascii")) % partitions


def alert_id(event_id: str, establishment: str, channel: str) -> str:
    """The deterministic id of the one alert for (event, establishment's subscription, channel)."""
    return uuid5_text(f"alert:{event_id}:{establishment}:{channel}")


@dataclass(frozen=True)
class Match:
    """A subscription version that covers an event, with the contacts that apply."""

    establishment: str
    mobile: str | None
    email: str | None
    language: str
    default_email: str | None = None  # the establishment's own address at that position (digests)


class AlertFanout(ReadModel):
    """Turns person events into alert records, per partition of ID numbers."""

    name = "fanout"
    tables = (ALERTS, DIGEST_ITEMS)
    # Delivery events come too: a rebuilt alerts table gets every attempt and status back. Digests and
    # disabled webhook endpoints make notice alerts (projections.channel_fanout).
    topics = NOTICE_TOPICS + tuple(
        get_topic(cls) for cls in (*ALERTING_EVENTS, AlertDelivery.Attempted, AlertDelivery.Confirmed)
    )

    # Matching reads the subscription index's versions: the fan-out never runs past its position.
    reads_from = ("subscription_index",)

    def tracking_name(self, partition: int) -> str:
        return f"Jawazat/{self.name}#{partition}/{self.partitions}"

    def partition_of(self, event: Any) -> int:
        # Notices (digests, disabled webhook endpoints) name no person: partition 0 ("") makes them.
        return partition_of(getattr(event, "id_number", ""), self.partitions)

    def schema(self) -> list[str]:
        return [*alerts_schema(postgres=self.db.postgres), *digest_schema()]

    def indexes(self) -> list[Index]:
        return [*alerts_indexes(), *digest_indexes()]

    # A digest (partition 0) closes digest items of every partition.
    settle_topics = (get_topic(Digest.Prepared),)

    def settle(self, sql: Sql, items: Sequence[Positioned]) -> None:
        for item in items:
            if isinstance(item.event, Digest.Prepared):
                close_digest_items(sql, item.event)

    # --- batch processing ------------------------------------------------------------------------

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        """Alerts for the batch's person events; delivery events applied in order between them."""
        return self._fan_out(sql, items)

    def _fan_out(self, sql: Sql, items: Sequence[Positioned]) -> int:
        created = 0
        run: list[Positioned] = []
        deliveries: list[AlertDelivery.Event] = []
        # Person events are matched in runs; runs of delivery events apply, set-wise, in order between them.
        for item in items:
            if isinstance(item.event, AlertDelivery.Event):
                created += self._match_run(sql, run)
                run = []
                deliveries.append(item.event)
                continue
            if deliveries:
                apply_delivery_events(sql, deliveries)
                deliveries = []
            if isinstance(item.event, NOTICE_EVENTS):
                created += self._match_run(sql, run) + notice_rows(sql, item)
                run = []
            else:
                run.append(item)
        apply_delivery_events(sql, deliveries)
        return created + self._match_run(sql, run)

    def _match_run(self, sql: Sql, items: Sequence[Positioned]) -> int:
        if not items:
            return 0
        versions = self._subscription_versions(sql, {i.event.id_number for i in items})
        sponsors = {i.event.sponsor for i in items}
        contacts = self._establishment_versions(sql, sponsors)
        channels = ChannelFanout.load(sql, sponsors)
        rows: list[AlertRow] = []
        for item in items:
            event: PersonEvent = item.event
            notification_type = FIRED_BY[event.contract_type]
            match = self._match(event, item.position, notification_type.value, versions, contacts)
            if match is None:
                continue
            created_at = utc_iso(event.timestamp)
            fields = own_fields(event, besides=PERSON_FACTS_BESIDES)
            payload = json.dumps(fields, ensure_ascii=False, sort_keys=True)
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
                        fields=fields,
                    )
                    continue
                rows.append(
                    AlertRow(
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
        insert_alerts(sql, rows)
        return len(rows)

    def _subscription_versions(
        self, sql: Sql, id_numbers: set[str]
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in sql.fetch_any(
            f"SELECT unified_number, id_number, from_position, to_position, status, notification_types, "
            f"mobile, email, covers_until FROM {SUBSCRIPTIONS} WHERE id_number = ANY(?)",
            id_numbers,
        ):
            found.setdefault((row["unified_number"], row["id_number"]), []).append(row)
        return found

    def _establishment_versions(self, sql: Sql, unified_numbers: set[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for row in sql.fetch_any(
            f"SELECT unified_number, from_position, to_position, email, mobile, language "
            f"FROM {ESTABLISHMENTS} WHERE unified_number = ANY(?)",
            unified_numbers,
        ):
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
        if version["status"] == VersionStatus.ENDED:
            return None
        if version["status"] == VersionStatus.ENDED_BY_TRANSFER and not (
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


def _at(rows: Sequence[dict[str, Any]], position: int) -> dict[str, Any] | None:
    """The version in force just before `position`: made earlier, not yet replaced then."""
    for row in rows:
        if row["from_position"] < position and (row["to_position"] is None or row["to_position"] > position):
            return row
    return None
