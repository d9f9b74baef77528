"""The delivery rules of issue 15 (`delivery_rules.DeliveryRules`): quiet hours, webhook messages, digest
and notice e-mails, per-channel retry policies, and retiring webhook endpoints.

* **quiet hours**: an SMS of a type the establishment did not mark urgent, due inside its quiet hours (as
  set at the alert's position), is held: an attempt `held` ("held until …"), the alert stays `pending`
  and comes due when the window ends. E-mails and webhooks are never held.
* **webhook**: the JSON body (ID number masked unless the establishment opted in, at the alert's
  position) and the establishment's current signing secrets; an alert whose endpoint was disabled since
  it was made fails without a send.
* **digest and notices**: their e-mails (`subscribers.notices`).
* **after recording**: a webhook answered 410 Gone, or a webhook alert dead-lettered after the whole
  schedule with no delivery to that endpoint since it was made, disables the endpoint (an event); the
  fan-out then e-mails the establishment.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Protocol

from jawazat_events.delivery_rules import Settled
from jawazat_events.domain.quiet_hours import parse_quiet_hours
from jawazat_events.projections.alert_status import ALERTS
from jawazat_events.projections.base import ReadModelDatabase
from jawazat_events.projections.channel_settings import ChannelVersions
from jawazat_events.retry_policy import RetryPolicies, RetryPolicy
from jawazat_events.secretbox import UnsealError
from jawazat_events.subscribers.base import ENDPOINT_GONE, DeliveryResult, OutgoingMessage
from jawazat_events.subscribers.notices import NOTICE_TYPES, render_notice
from jawazat_events.subscribers.webhook import payload

log = logging.getLogger(__name__)


class WebhookOwners(Protocol):
    """What the rules need of the channel service (`channel_service.ChannelService`)."""

    def signing_secrets(self, unified_numbers: Any, *, at: datetime) -> dict[str, tuple[str, ...]]: ...

    def disable_webhook(
        self, unified_number: str, *, url: str, reason: str, cause_alert_id: str | None
    ) -> bool: ...


class ChannelRules:
    """Quiet hours, webhooks, digests and retry policies for the delivery service."""

    def __init__(
        self,
        *,
        db: ReadModelDatabase,
        zone: tzinfo,
        policies: RetryPolicies,
        owners: WebhookOwners,
    ) -> None:
        self.db = db
        self.zone = zone
        self.policies = policies
        self.owners = owners

    # --- before sending ---------------------------------------------------------------------------------

    def prepare(
        self, rows: Sequence[Mapping[str, Any]], *, now: datetime
    ) -> dict[str, OutgoingMessage | DeliveryResult]:
        prepared: dict[str, OutgoingMessage | DeliveryResult] = {}
        concerned = [r for r in rows if r["channel"] in ("sms", "webhook") or r["event_type"] in NOTICE_TYPES]
        if not concerned:
            return prepared
        with self.db.reading() as sql:
            versions = ChannelVersions.load(sql, {r["establishment"] for r in concerned})
        webhooks = [r for r in concerned if r["channel"] == "webhook"]
        secrets: dict[str, tuple[str, ...]] = {}
        unreadable = ""
        if webhooks:
            try:
                secrets = self.owners.signing_secrets({r["establishment"] for r in webhooks}, at=now)
            except UnsealError as error:
                unreadable = str(error)
        for row in concerned:
            alert = row["alert_id"]
            if row["event_type"] in NOTICE_TYPES:
                prepared[alert] = render_notice(row, tz=self.zone)  # type: ignore[arg-type]
            elif row["channel"] == "webhook":
                prepared[alert] = self._webhook(row, versions, secrets, unreadable)
            elif (held := self._held(row, versions, now)) is not None:
                prepared[alert] = held
        return prepared

    def _held(
        self, row: Mapping[str, Any], versions: ChannelVersions, now: datetime
    ) -> DeliveryResult | None:
        settings = versions.establishment(row["establishment"], row["position"])
        if not settings.quiet_hours or row["notification_type"] in settings.urgent_types:
            return None
        window = parse_quiet_hours(settings.quiet_hours)
        until = window.held_until(now, self.zone)
        if until is None:
            return None
        return DeliveryResult.held(
            until, f"held until {until.isoformat()} (quiet hours {window}, {self.zone}; not an urgent type)"
        )

    def _webhook(
        self,
        row: Mapping[str, Any],
        versions: ChannelVersions,
        secrets: Mapping[str, tuple[str, ...]],
        unreadable: str,
    ) -> OutgoingMessage | DeliveryResult:
        establishment = row["establishment"]
        if row["recipient"] in versions.establishment(establishment, None).disabled_urls:
            return DeliveryResult.failed(
                "the webhook endpoint was disabled after this alert was made; not sent"
            )
        if unreadable:
            return DeliveryResult.retry(unreadable)
        signing = secrets.get(establishment, ())
        if not signing:
            return DeliveryResult.retry("the establishment has no webhook secret to sign with")
        settings = versions.establishment(establishment, row["position"])
        return OutgoingMessage(
            alert_id=row["alert_id"],
            channel="webhook",
            recipient=row["recipient"],
            subject=None,
            text=payload(row, full_id_number=settings.full_id_number),
            html=None,
            language="en" if row["language"] == "en" else "ar",
            establishment=establishment,
            signing_secrets=signing,
        )

    # --- retries ----------------------------------------------------------------------------------------

    def retry_policy(self, channel: str) -> RetryPolicy:
        return self.policies.for_channel(channel)

    # --- after recording ----------------------------------------------------------------------------------

    def after_record(self, settled: Sequence[Settled]) -> None:
        for item in settled:
            row = item.row
            if row["channel"] != "webhook":
                continue
            reason = None
            if item.result.signal == ENDPOINT_GONE:
                reason = "the endpoint answered HTTP 410 Gone"
            elif item.outcome == "dead_letter" and not self._delivered_since(row):
                reason = (
                    f"no delivery to it succeeded since {row['created_at']} over the whole retry schedule "
                    f"({item.result.detail})"
                )
            if reason is None:
                continue
            try:
                self.owners.disable_webhook(
                    row["establishment"], url=row["recipient"], reason=reason, cause_alert_id=row["alert_id"]
                )
            except Exception:  # the attempt is on the record; the next failure tries to disable again
                log.exception("could not disable the webhook endpoint of %s", row["establishment"])

    def _delivered_since(self, row: Mapping[str, Any]) -> bool:
        with self.db.reading() as sql:
            found = sql.execute(
                f"SELECT 1 FROM {ALERTS} WHERE establishment = ? AND channel = 'webhook' AND recipient = ? "
                "AND status IN ('sent', 'delivered') AND updated_at >= ? LIMIT 1",
                (row["establishment"], row["recipient"], row["created_at"]),
            ).fetchone()
        return found is not None
