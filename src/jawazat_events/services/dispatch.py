"""Delivery of alerts: claim the due ones, render them, send them through the channels, record every attempt.

Flow for one alert: claim it in the alert queue (a lease, so several workers never take the same alert),
render it, send it, then record the attempt as an event on the alert's `AlertDelivery` aggregate (the
record of truth) and apply it to the alert's row at once. The queue, the names, the templates and the
channels are adapters this service receives as Protocols (`services.ports`, `services.channels`).
`DeliveryRules` (`services.delivery_rules`) acts before rendering (an SMS held by quiet hours, a webhook's
signed JSON) and after recording (retiring a webhook endpoint); a transient failure is retried on the
policy of the alert's channel (`services.retry.RetryPolicies`); holds are not failures and never count
towards giving up.

The crash window, decided deliberately: a worker that dies after the provider accepted a message but
before the attempt was recorded leaves a claim behind. When the lease expires, the next worker records an
attempt with outcome `unknown` ("may have been delivered already") and sends again: at-least-once, with the
same e-mail Message-ID so mail systems can fold the copies; for SMS a duplicate is possible and is shown on
the alert. If the attempt was recorded but the row not updated, the row is repaired from the record and
nothing is sent again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from jawazat_events.domain.delivery import AlertDelivery, AlertStatus, AttemptOutcome
from jawazat_events.domain.identifiers import person_id
from jawazat_events.domain.person import Person
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.channels import Channel, DeliveryResult, OutgoingMessage
from jawazat_events.services.delivery_rules import DeliveryRules, Settled
from jawazat_events.services.ports import (
    AlertQueue,
    ClaimedAlert,
    MessageRenderer,
    NameDirectory,
    QueuedAlert,
)
from jawazat_events.services.retry import RetryPolicies

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)


@dataclass
class DeliverySummary:
    """What one pass of delivery did."""

    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    repaired: int = 0

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def describe(self) -> str:
        """`claimed 3; outcomes retry 1, sent 2; repaired 0`: one line for operators."""
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "none"
        return f"claimed {self.claimed}; outcomes {outcomes}; repaired {self.repaired}"


class Dispatcher:
    """Sends due alerts through the configured channels and keeps their record."""

    def __init__(
        self,
        *,
        app: JawazatApplication,
        queue: AlertQueue,
        names: NameDirectory,
        renderer: MessageRenderer,
        channels: Mapping[str, Channel],
        clock: Callable[[], datetime],
        retry: RetryPolicies,
        rules: DeliveryRules,
        worker_id: str,
        concurrency: int = 20,
        lease_seconds: float = LEASE.total_seconds(),
    ) -> None:
        self.app = app
        self.queue = queue
        self.names = names
        self.renderer = renderer
        self.channels = channels
        self.clock = clock
        self.retry = retry
        self.rules = rules
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease_seconds)
        # Claims of a batch that failed (the database away) before their group went out: given back at the
        # start of the next batch, so they go out at once and are not taken for a dead worker's sends.
        self._unsent: list[str] = []

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
        self, *, limit: int = 100, stop: threading.Event | None = None, keep_open: bool = False
    ) -> DeliverySummary:
        """Claim up to `limit` due alerts and send them in groups, recording each group as it completes.

        Recording per group (not per claim) keeps the window in which a crash leaves a send unrecorded
        to one group, and lets a provider's early status callback find the attempt it reports on.
        `keep_open` leaves the channels' connections open for the next batch on the same event loop (a
        delivery loop's), which then calls `close_channels()`.
        """
        summary = DeliverySummary()
        if self._unsent:
            self.queue.release(worker_id=self.worker_id, alert_ids=self._unsent)
            self._unsent = []
        claimed = self.claim(limit)
        summary.claimed = len(claimed)
        if not claimed:
            return summary
        with self.app.batch_lock:
            records = self._records(UUID(c.alert.alert_id) for c in claimed)
        to_send: list[ClaimedAlert] = []
        repaired: list[ClaimedAlert] = []
        for item in claimed:
            record = records.get(UUID(item.alert.alert_id))
            # Recorded but the row not updated: repair the row from the record, send nothing.
            recorded = record is not None and record.attempts > item.alert.attempt_count
            (repaired if recorded else to_send).append(item)
        summary.repaired = len(repaired)
        self._repair(repaired)
        unsent = 0  # to_send[unsent:] have not been handed to a channel
        try:
            for start in range(0, len(to_send), self.concurrency):
                if stop is not None and stop.is_set():
                    rest = [item.alert.alert_id for item in to_send[start:]]
                    self.queue.release(worker_id=self.worker_id, alert_ids=rest)
                    break
                group = self._still_held(to_send[start : start + self.concurrency])
                unsent = start + self.concurrency
                if not group:
                    continue
                results = await self._send_all(group)
                self._record(group, results, records, summary)
        except Exception:
            self._unsent = [item.alert.alert_id for item in to_send[unsent:]]
            raise
        finally:
            if not keep_open:
                await self.close_channels()
        return summary

    def _still_held(self, group: Sequence[ClaimedAlert]) -> list[ClaimedAlert]:
        """Renew the lease of a group just before sending it and keep only the alerts still held.

        A claim is leased for `LEASE`; a slow batch (a provider answering slowly, a loaded machine) may
        reach its last groups after their leases ran out, when another worker may have claimed and sent
        them. Renewing per group bounds the window to one group's sends: an alert taken over is left to
        the worker that holds it now, never sent twice unreported.
        """
        ids = [item.alert.alert_id for item in group]
        held = self.queue.renew(worker_id=self.worker_id, alert_ids=ids, until=self.clock() + self.lease)
        if len(held) < len(ids):
            log.warning(
                "%d of %d claimed alerts were taken over by another worker after their lease ran out; "
                "leaving them to it",
                len(ids) - len(held),
                len(ids),
            )
        return [item for item in group if item.alert.alert_id in held]

    async def close_channels(self) -> None:
        """Close the channels' connections (they open again when the next message goes)."""
        for channel in self.channels.values():
            await channel.aclose()

    def claim(self, limit: int) -> list[ClaimedAlert]:
        """Lease up to `limit` due alerts to this worker for the lease's length."""
        now = self.clock()
        return self.queue.claim(worker_id=self.worker_id, now=now, until=now + self.lease, limit=limit)

    def seconds_until_due(self) -> float | None:
        """How long until the next alert that is not due yet falls due (None: none is waiting)."""
        now = self.clock()
        due = self.queue.next_due(now=now)
        return max(0.0, (due - now).total_seconds()) if due is not None else None

    def _records(self, keys: Iterable[UUID]) -> dict[UUID, AlertDelivery]:
        loaded = self.app.load_many(keys)
        return {key: record for key, record in loaded.items() if isinstance(record, AlertDelivery)}

    def _repair(self, repaired: Sequence[ClaimedAlert]) -> None:
        """Bring rows whose attempt was recorded (but not applied) up to the record."""
        events: list[AlertDelivery.Event] = []
        for item in repaired:
            known = item.alert.attempt_count
            for event in self.app.events.get(UUID(item.alert.alert_id)):
                if isinstance(event, AlertDelivery.Attempted) and event.attempt > known:
                    events.append(event)
        if repaired:
            self.queue.apply(events)

    # --- sending ---------------------------------------------------------------------------------

    async def _send_all(self, items: Sequence[ClaimedAlert]) -> list[DeliveryResult]:
        # Each channel paces itself to its declared rate (subscribers.ratelimit); this only sends.
        names = self._person_names({item.alert.id_number for item in items})
        establishments = self.names.establishment_names(sorted({item.alert.establishment for item in items}))
        special = self.rules.prepare([item.alert for item in items], now=self.clock())

        def prepare(item: ClaimedAlert) -> OutgoingMessage | DeliveryResult:
            alert = item.alert
            if self.channels.get(alert.channel) is None:
                return DeliveryResult.failed(f"no channel configured for {alert.channel}")
            if alert.alert_id in special:  # held by quiet hours, or a webhook's signed JSON
                return special[alert.alert_id]
            try:
                return self.renderer.render(
                    alert,
                    person_names=names.get(alert.id_number, ("", "")),
                    establishment_name=establishments.get(alert.establishment, alert.establishment),
                )
            except Exception as error:  # a template bug must not lose the alert: retry, on the record
                log.exception("rendering alert %s failed", alert.alert_id)
                return DeliveryResult.retry(f"could not render the message: {error}")

        # Everything is rendered before the first send: rendering reads the read models synchronously,
        # and doing it between paced sends stalls the event loop, so that sends already started reach
        # the provider late, bunched up with the next ones, above the channel's rate.
        prepared = [prepare(item) for item in items]

        async def one(item: ClaimedAlert, message: OutgoingMessage | DeliveryResult) -> DeliveryResult:
            if isinstance(message, DeliveryResult):
                return message
            return await self.channels[item.alert.channel].send(message)

        return list(await asyncio.gather(*(one(i, m) for i, m in zip(items, prepared, strict=True))))

    def _person_names(self, id_numbers: set[str]) -> dict[str, tuple[str, str]]:
        """People's names for a group of alerts, from the people view (the store if it lags behind)."""
        ids = sorted(id_numbers)
        found = self.names.person_names(ids)
        missing = [person_id(number) for number in ids if number not in found]
        if missing:
            for person in self.app.load_many(missing).values():
                if isinstance(person, Person):
                    found[person.id_number] = (person.name_ar, person.name_en)
        return found

    # --- recording -------------------------------------------------------------------------------

    def _record(
        self,
        items: Sequence[ClaimedAlert],
        results: Sequence[DeliveryResult],
        records: Mapping[UUID, AlertDelivery],
        summary: DeliverySummary,
    ) -> None:
        now = self.clock()
        touched: dict[UUID, AlertDelivery] = {}
        settled: list[Settled] = []
        # (channel, seconds from the event's recording to the channel's acceptance) of each message sent.
        latencies: list[tuple[str, float]] = []
        for item, result in zip(items, results, strict=True):
            alert = item.alert
            key = UUID(alert.alert_id)
            record = records.get(key)
            if record is None:
                record = AlertDelivery(
                    alert_id=alert.alert_id,
                    id_number=alert.id_number,
                    establishment=alert.establishment,
                    channel=alert.channel,
                )
            if item.stale:
                record.record_attempt(
                    outcome=AttemptOutcome.UNKNOWN,
                    provider_id=None,
                    at=now,
                    next_attempt_at=now,
                    detail=f"a worker ({item.stale_holder}) stopped during this send: the message may have "
                    "been delivered already; sending again (possible duplicate)",
                )
            # Quiet-hours holds are not failures: they do not count towards giving up.
            outcome, detail, next_at = self._outcome(alert, result, record.attempts - record.holds, now)
            settled.append(Settled(alert, outcome, result))
            record.record_attempt(
                outcome=outcome,
                detail=detail,
                provider_id=result.provider_id,
                at=now,
                next_attempt_at=next_at,
            )
            touched[key] = record
            summary.add(outcome)
            if outcome == AttemptOutcome.SENT:
                recorded = datetime.fromisoformat(alert.created_at)
                latencies.append((alert.channel, (now - recorded).total_seconds()))
        if not touched:
            return
        events = [
            cast(AlertDelivery.Event, event)
            for record in touched.values()
            for event in record.collect_events()
        ]
        try:
            with self.app.batch_lock:
                self.app.save(*events)
        except IntegrityError:
            # Another worker recorded the same alert concurrently (lease overrun): its record stands.
            self.app.cache.discard(touched)
            log.warning("delivery records raced with another worker; leaving theirs")
            return
        self.queue.apply(events, latencies=latencies)
        self.rules.after_record(settled)

    def _outcome(
        self, alert: QueuedAlert, result: DeliveryResult, attempts_so_far: int, now: datetime
    ) -> tuple[AttemptOutcome, str, datetime | None]:
        """The outcome to record for this result, its detail, and when to try again (None: never)."""
        if result.outcome == AttemptOutcome.HELD:
            return AttemptOutcome.HELD, result.detail, result.hold_until
        if result.outcome != AttemptOutcome.RETRY:
            return result.outcome, result.detail or result.outcome, None
        return self.retry.for_channel(alert.channel).decide(
            failures=attempts_so_far + 1,
            age=now - datetime.fromisoformat(alert.created_at),
            now=now,
            reason=result.detail,
            retry_after=result.retry_after,
        )

    # --- provider reports ------------------------------------------------------------------------

    def confirm(self, *, provider_id: str, status: AlertStatus, detail: str) -> bool:
        """Record a provider's delivery report for the alert sent with `provider_id`."""
        alert_id = self.queue.alert_sent_as(provider_id)
        if alert_id is None:
            return False
        key = UUID(alert_id)
        record = self._records([key]).get(key)
        if record is None:
            return False
        now = self.clock()
        with self.app.batch_lock:
            if not record.confirm(status=status, detail=detail, at=now):
                return True  # a repeat or a step backwards: harmless
            events = [cast(AlertDelivery.Event, event) for event in record.collect_events()]
            self.app.save(*events)
        self.queue.apply(events)
        return True
