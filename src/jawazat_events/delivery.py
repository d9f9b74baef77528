"""Delivery: claim due alerts, render them, send them through the channels, and record every attempt.

Flow for one alert: claim it in the alerts read model (a lease; `FOR UPDATE SKIP LOCKED` on PostgreSQL so
several workers never take the same alert), render it, send it, then record the attempt as an event on
the alert's `AlertDelivery` aggregate (the record of truth) and update the alerts row at once.

The crash window, decided deliberately: a worker that dies after the provider accepted a message but
before the attempt was recorded leaves a claim behind. When the lease expires, the next worker records an
attempt with outcome `unknown` ("may have been delivered already") and sends again: at-least-once, with the
same e-mail Message-ID so mail systems can fold the copies; for SMS a duplicate is possible and is shown on
the alert. If the attempt was recorded but the row not updated, the row is repaired from the record and
nothing is sent again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from jawazat_events.delivery_rules import BasicRules, DeliveryRules, Settled
from jawazat_events.domain.delivery import AlertDelivery
from jawazat_events.domain.identifiers import person_id
from jawazat_events.projections.alert_status import ALERTS, apply_delivery_event
from jawazat_events.projections.base import ReadModelDatabase, Sql
from jawazat_events.projections.subscription_index import ESTABLISHMENTS
from jawazat_events.retry_policy import EXPONENTIAL_MAX_AGE, ExponentialBackoff
from jawazat_events.subscribers.base import Channel, DeliveryResult, OutgoingMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_AGE = EXPONENTIAL_MAX_AGE
DUE = ("pending", "retrying")


@dataclass
class DeliverySummary:
    """What one pass of delivery did."""

    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    repaired: int = 0

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass(frozen=True)
class Claimed:
    """An alert row this worker holds the lease on."""

    row: dict[str, Any]
    stale: bool  # a previous holder died with it claimed: its send may have happened


class DeliveryService:
    """Sends due alerts through the configured channels and keeps their record."""

    def __init__(
        self,
        *,
        app: Any,
        db: ReadModelDatabase,
        channels: Mapping[str, Channel],
        clock: Any,
        zone: Any,
        retry_base_seconds: float,
        max_attempts: int,
        worker_id: str,
        concurrency: int = 20,
        twilio_auth_token: str | None = None,
        lease_seconds: float = LEASE.total_seconds(),
        rules: DeliveryRules | None = None,
    ) -> None:
        self.app = app
        self.db = db
        self.channels = channels
        self.clock = clock
        self.zone = zone
        self.retry_base = retry_base_seconds
        self.max_attempts = max_attempts
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.twilio_auth_token = twilio_auth_token
        self.lease = timedelta(seconds=lease_seconds)
        # Per-channel rules (issue 15: quiet hours, webhooks, digests, retry schedules); without them
        # every channel retries with the exponential back-off below.
        self.rules: DeliveryRules = rules or BasicRules(
            ExponentialBackoff(base_seconds=retry_base_seconds, max_attempts=max_attempts)
        )

    # --- one pass --------------------------------------------------------------------------------

    def deliver_due(self, *, limit: int = 100, stop: threading.Event | None = None) -> DeliverySummary:
        """Send every alert that is due now (in passes of `limit`), then return what happened.

        A set `stop` ends the work at the next group boundary; alerts claimed but not sent are released.
        """
        total = DeliverySummary()
        while not (stop and stop.is_set()):
            summary = asyncio.run(self.deliver_batch(limit=limit, stop=stop))
            total.claimed += summary.claimed
            total.repaired += summary.repaired
            for outcome, count in summary.outcomes.items():
                total.outcomes[outcome] = total.outcomes.get(outcome, 0) + count
            if summary.claimed < limit:
                break
        return total

    async def deliver_batch(
        self, *, limit: int = 100, stop: threading.Event | None = None
    ) -> DeliverySummary:
        """Claim up to `limit` due alerts and send them in groups, recording each group as it completes.

        Recording per group (not per claim) keeps the window in which a crash leaves a send unrecorded
        to one group, and lets a provider's early status callback find the attempt it reports on.
        """
        summary = DeliverySummary()
        claimed = self._claim(limit)
        summary.claimed = len(claimed)
        if not claimed:
            return summary
        with self.app.batch_lock:
            records = self.app.load_many(UUID(c.row["alert_id"]) for c in claimed)
        to_send: list[Claimed] = []
        repaired: list[Claimed] = []
        for item in claimed:
            record = records.get(UUID(item.row["alert_id"]))
            # Recorded but the row not updated: repair the row from the record, send nothing.
            recorded = record is not None and record.attempts > item.row["attempt_count"]
            (repaired if recorded else to_send).append(item)
        summary.repaired = len(repaired)
        self._repair_rows(repaired)
        try:
            for start in range(0, len(to_send), self.concurrency):
                if stop is not None and stop.is_set():
                    self._release(to_send[start:])
                    break
                group = to_send[start : start + self.concurrency]
                results = await self._send_all(group)
                self._record(group, results, records, summary)
        finally:
            for channel in self.channels.values():
                await channel.aclose()
        return summary

    def _release(self, items: list[Claimed]) -> None:
        """Give back claims this worker will not send now (it is stopping)."""
        ids = [item.row["alert_id"] for item in items]
        with self.db.transaction() as sql:
            sql.execute(
                f"UPDATE {ALERTS} SET claimed_by = NULL, claimed_until = NULL "
                f"WHERE claimed_by = ? AND alert_id IN {sql.in_list(len(ids))}",
                (self.worker_id, *ids),
            )

    # --- claiming --------------------------------------------------------------------------------

    def _claim(self, limit: int) -> list[Claimed]:
        now = self.clock()
        now_iso = now.astimezone(UTC).isoformat()
        until = (now + self.lease).astimezone(UTC).isoformat()
        lock = "FOR UPDATE SKIP LOCKED" if self.db.postgres else ""
        with self.db.transaction() as sql:
            rows = sql.execute(
                f"SELECT alert_id, claimed_by FROM {ALERTS} WHERE status IN ('pending', 'retrying') "
                "AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) "
                f"ORDER BY next_attempt_at LIMIT ? {lock}",
                (now_iso, now_iso, limit),
            ).fetchall()
            if not rows:
                return []
            ids = [r["alert_id"] for r in rows]
            stale = {r["alert_id"] for r in rows if r["claimed_by"]}
            sql.execute(
                f"UPDATE {ALERTS} SET claimed_by = ?, claimed_until = ? "
                f"WHERE alert_id IN {sql.in_list(len(ids))}",
                (self.worker_id, until, *ids),
            )
            full = sql.execute(
                f"SELECT * FROM {ALERTS} WHERE alert_id IN {sql.in_list(len(ids))}", ids
            ).fetchall()
        return [Claimed(row=row, stale=row["alert_id"] in stale) for row in full]

    def _repair_rows(self, repaired: list[Claimed]) -> None:
        if not repaired:
            return
        with self.db.transaction() as sql:
            for item in repaired:
                self._replay_record(sql, UUID(item.row["alert_id"]), item.row["attempt_count"])

    def _replay_record(self, sql: Sql, key: UUID, known: int) -> None:
        for event in self.app.events.get(key):
            if isinstance(event, AlertDelivery.Attempted) and event.attempt > known:
                apply_delivery_event(sql, event)

    # --- sending ---------------------------------------------------------------------------------

    async def _send_all(self, items: list[Claimed]) -> list[DeliveryResult]:
        # Each channel paces itself to its declared rate (subscribers.ratelimit); this only sends.
        names = self._names({item.row["id_number"] for item in items})
        establishments = self._establishment_names({item.row["establishment"] for item in items})
        special = self.rules.prepare([item.row for item in items], now=self.clock())

        def prepare(item: Claimed) -> OutgoingMessage | DeliveryResult:
            if self.channels.get(item.row["channel"]) is None:
                return DeliveryResult.failed(f"no channel configured for {item.row['channel']}")
            if item.row["alert_id"] in special:  # held, a webhook's JSON, a digest (delivery_rules)
                return special[item.row["alert_id"]]
            try:
                return self._render(item.row, names=names, establishments=establishments)
            except Exception as error:  # a template bug must not lose the alert: retry, on the record
                log.exception("rendering alert %s failed", item.row["alert_id"])
                return DeliveryResult.retry(f"could not render the message: {error}")

        # Everything is rendered before the first send: rendering reads the read models synchronously,
        # and doing it between paced sends stalls the event loop, so that sends already started reach
        # the provider late, bunched up with the next ones, above the channel's rate.
        prepared = [prepare(item) for item in items]

        async def one(item: Claimed, message: OutgoingMessage | DeliveryResult) -> DeliveryResult:
            if isinstance(message, DeliveryResult):
                return message
            return await self.channels[item.row["channel"]].send(message)

        return list(await asyncio.gather(*(one(i, m) for i, m in zip(items, prepared, strict=True))))

    def _render(
        self,
        row: dict[str, Any],
        *,
        names: Mapping[str, tuple[str, str]],
        establishments: Mapping[str, str],
    ) -> OutgoingMessage:
        from jawazat_events.subscribers.rendering import AlertView, render

        name_ar, name_en = names.get(row["id_number"], ("", ""))
        view = AlertView(
            alert_id=row["alert_id"],
            event_type=row["event_type"],
            notification_type=row["notification_type"],
            id_number=row["id_number"],
            person_name_ar=name_ar,
            person_name_en=name_en,
            establishment_name=establishments.get(row["establishment"], row["establishment"]),
            occurred_at=datetime.fromisoformat(row["occurred_at"]),
            fields=json.loads(row["payload"]),
        )
        return render(
            view, channel=row["channel"], recipient=row["recipient"], language=row["language"], tz=self.zone
        )

    def _names(self, id_numbers: set[str]) -> dict[str, tuple[str, str]]:
        """People's names for a group of alerts, from the people view (the store if it lags behind)."""
        ids = sorted(id_numbers)
        with self.db.reading() as sql:
            rows = sql.execute(
                f"SELECT id_number, name_ar, name_en FROM people WHERE id_number IN {sql.in_list(len(ids))}",
                ids,
            ).fetchall()
        found = {row["id_number"]: (row["name_ar"], row["name_en"]) for row in rows}
        missing = [person_id(number) for number in ids if number not in found]
        if missing:
            for person in self.app.load_many(missing).values():
                found[person.id_number] = (person.name_ar, person.name_en)
        return found

    def _establishment_names(self, unified_numbers: set[str]) -> dict[str, str]:
        numbers = sorted(unified_numbers)
        with self.db.reading() as sql:
            rows = sql.execute(
                f"SELECT unified_number, name FROM {ESTABLISHMENTS} "
                f"WHERE to_position IS NULL AND unified_number IN {sql.in_list(len(numbers))}",
                numbers,
            ).fetchall()
        return {row["unified_number"]: row["name"] for row in rows}

    # --- recording -------------------------------------------------------------------------------

    def _record(
        self,
        items: list[Claimed],
        results: list[DeliveryResult],
        records: dict[UUID, Any],
        summary: DeliverySummary,
    ) -> None:
        now = self.clock()
        touched: dict[UUID, AlertDelivery] = {}
        settled: list[Settled] = []
        for item, result in zip(items, results, strict=True):
            row = item.row
            key = UUID(row["alert_id"])
            record = records.get(key)
            if record is None:
                record = AlertDelivery(
                    alert_id=row["alert_id"],
                    id_number=row["id_number"],
                    establishment=row["establishment"],
                    channel=row["channel"],
                )
            if item.stale:
                record.record_attempt(
                    outcome="unknown",
                    provider_id=None,
                    at=now,
                    next_attempt_at=now,
                    detail=f"a worker ({row['claimed_by']}) stopped during this send: the message may have "
                    "been delivered already; sending again (possible duplicate)",
                )
            # Quiet-hours holds are not failures: they do not count towards giving up.
            outcome, detail, next_at = self._outcome(row, result, record.attempts - record.holds, now)
            settled.append(Settled(row, outcome, result))
            record.record_attempt(
                outcome=outcome,
                detail=detail,
                provider_id=result.provider_id,
                at=now,
                next_attempt_at=next_at,
            )
            touched[key] = record
            summary.add(outcome)
        if not touched:
            return
        events = [event for record in touched.values() for event in record.collect_events()]
        try:
            with self.app.batch_lock:
                self.app.save(*events)
        except IntegrityError:
            # Another worker recorded the same alert concurrently (lease overrun): its record stands.
            self.app.cache.discard(touched)
            log.warning("delivery records raced with another worker; leaving theirs")
            return
        with self.db.transaction() as sql:
            for event in events:
                apply_delivery_event(sql, event)
        self.rules.after_record(settled)

    def _outcome(
        self, row: dict[str, Any], result: DeliveryResult, attempts_so_far: int, now: datetime
    ) -> tuple[str, str, datetime | None]:
        if result.outcome == "held":
            return "held", result.detail, result.hold_until
        if result.outcome != "retry":
            return result.outcome, result.detail or result.outcome, None
        age = now - datetime.fromisoformat(row["created_at"])
        return self.rules.retry_policy(row["channel"]).decide(
            failures=attempts_so_far + 1,
            age=age,
            now=now,
            reason=result.detail,
            retry_after=result.retry_after,
        )

    # --- provider callbacks ----------------------------------------------------------------------

    def handle_twilio_callback(self, params: Mapping[str, str], url: str, signature: str) -> bool:
        """A Twilio status callback: check its signature, then record delivered/failed for the SMS.

        Returns False when the signature is wrong (the caller answers 403); a status that changes nothing
        (queued, sent, a repeat) or an unknown message is accepted and ignored.
        """
        from jawazat_events.subscribers.twilio_callback import (
            status_change_from_callback,
            verify_twilio_signature,
        )

        if not self.twilio_auth_token or not verify_twilio_signature(
            self.twilio_auth_token, url, params, signature
        ):
            return False
        sid, change = status_change_from_callback(params)
        if change is not None and sid:
            self.confirm(provider_id=sid, status=change.status, detail=change.reason or change.status)
        return True

    def confirm(self, *, provider_id: str, status: str, detail: str) -> bool:
        """Record a provider's delivery report for the alert sent with `provider_id`."""
        with self.db.reading() as sql:
            row = sql.execute(
                f"SELECT alert_id FROM {ALERTS} WHERE provider_id = ?", (provider_id,)
            ).fetchone()
        if row is None:
            return False
        key = UUID(row["alert_id"])
        record = self.app.load_many([key]).get(key)
        if record is None:
            return False
        now = self.clock()
        with self.app.batch_lock:
            if not record.confirm(status=status, detail=detail, at=now):
                return True  # a repeat or a step backwards: harmless
            events = record.collect_events()
            self.app.save(*events)
        with self.db.transaction() as sql:
            for event in events:
                apply_delivery_event(sql, event)
        return True
