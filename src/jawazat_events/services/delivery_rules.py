"""Delivery's rules beyond send-and-retry: quiet hours, webhook messages, and retiring webhook endpoints.

The dispatcher (`services.dispatch`) calls `DeliveryRules` at two points of a group of claimed alerts:

* **before rendering** (`prepare`): an SMS of a type the establishment did not mark urgent, due inside its
  quiet hours (as set at the alert's position), is held: the result `held` ("held until …"), recorded as
  an attempt that leaves the alert `pending` until the window ends. E-mails and webhooks are never held.
  A webhook alert gets its JSON body (the ID number masked unless the establishment opted in, at the
  alert's position) and the establishment's current signing secrets; one whose endpoint was disabled
  since it was made fails without a send.
* **after recording** (`after_record`): a webhook answered 410 Gone, or a webhook alert dead-lettered
  after the whole schedule with no delivery to that endpoint since it was made, disables the endpoint (an
  event of the establishment); the fan-out then e-mails the establishment.

Alerts with no establishment (an individual's `request_status` alerts) have no channel settings: never
held, never by webhook. Settings come from the read models through `ChannelLedger`, the webhook body from
the subscribers through `WebhookRenderer`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from jawazat_events.domain.delivery import AttemptOutcome
from jawazat_events.domain.quiet_hours import parse_quiet_hours
from jawazat_events.services.channel_settings import ChannelService
from jawazat_events.services.channels import ENDPOINT_GONE, DeliveryResult, OutgoingMessage
from jawazat_events.services.ports import ChannelLedger, ChannelSettingsAt, QueuedAlert, WebhookRenderer
from jawazat_events.services.secretbox import UnsealError

log = logging.getLogger(__name__)

# A held attempt's detail starts with this, then the end of the quiet hours (ISO 8601, business time zone).
HELD_UNTIL = "held until "


def held_until(detail: str) -> datetime | None:
    """When a held attempt's message goes out, read back from the detail `prepare` wrote; None otherwise."""
    if not detail.startswith(HELD_UNTIL):
        return None
    try:
        return datetime.fromisoformat(detail.removeprefix(HELD_UNTIL).split(" ", 1)[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class Settled:
    """One recorded attempt: the alert as claimed, the outcome recorded, the channel's result."""

    alert: QueuedAlert
    outcome: AttemptOutcome
    result: DeliveryResult


class DeliveryRules:
    """Quiet hours and webhooks around the dispatcher's sends."""

    def __init__(
        self,
        *,
        ledger: ChannelLedger,
        webhooks: WebhookRenderer,
        owners: ChannelService,
        zone: tzinfo,
    ) -> None:
        self.ledger = ledger
        self.webhooks = webhooks
        self.owners = owners
        self.zone = zone

    # --- before sending ---------------------------------------------------------------------------------

    def prepare(
        self, alerts: Sequence[QueuedAlert], *, now: datetime
    ) -> dict[str, OutgoingMessage | DeliveryResult]:
        """For some alerts (by id): the message to send instead of the rendered one, or a result at once."""
        concerned = [a for a in alerts if a.establishment and a.channel in ("sms", "webhook")]
        if not concerned:
            return {}
        versions = self.ledger.settings({a.establishment for a in concerned})
        webhooks = [a for a in concerned if a.channel == "webhook"]
        secrets: dict[str, tuple[str, ...]] = {}
        unreadable = ""
        if webhooks:
            try:
                secrets = self.owners.signing_secrets({a.establishment for a in webhooks}, at=now)
            except UnsealError as error:
                unreadable = str(error)
        prepared: dict[str, OutgoingMessage | DeliveryResult] = {}
        for alert in concerned:
            if alert.channel == "webhook":
                prepared[alert.alert_id] = self._webhook(alert, versions, secrets, unreadable)
            elif (held := self._held(alert, versions, now)) is not None:
                prepared[alert.alert_id] = held
        return prepared

    def _held(self, alert: QueuedAlert, versions: ChannelSettingsAt, now: datetime) -> DeliveryResult | None:
        settings = versions.establishment(alert.establishment, alert.position)
        if not settings.quiet_hours or alert.notification_type in settings.urgent_types:
            return None
        window = parse_quiet_hours(settings.quiet_hours)
        until = window.held_until(now, self.zone)
        if until is None:
            return None
        return DeliveryResult.held(
            until, f"{HELD_UNTIL}{until.isoformat()} (quiet hours {window}, {self.zone}; not an urgent type)"
        )

    def _webhook(
        self,
        alert: QueuedAlert,
        versions: ChannelSettingsAt,
        secrets: Mapping[str, tuple[str, ...]],
        unreadable: str,
    ) -> OutgoingMessage | DeliveryResult:
        establishment = alert.establishment
        if alert.recipient in versions.establishment(establishment, None).disabled_urls:
            return DeliveryResult.failed(
                "the webhook endpoint was disabled after this alert was made; not sent"
            )
        if unreadable:
            return DeliveryResult.retry(unreadable)
        signing = secrets.get(establishment, ())
        if not signing:
            return DeliveryResult.retry("the establishment has no webhook secret to sign with")
        settings = versions.establishment(establishment, alert.position)
        return OutgoingMessage(
            alert_id=alert.alert_id,
            channel="webhook",
            recipient=alert.recipient,
            subject=None,
            text=self.webhooks.webhook_body(alert, full_id_number=settings.full_id_number),
            html=None,
            language="en" if alert.language == "en" else "ar",
            establishment=establishment,
            signing_secrets=signing,
        )

    # --- after recording ----------------------------------------------------------------------------------

    def after_record(self, settled: Sequence[Settled]) -> None:
        """Disable webhook endpoints that answered 410 or failed for the whole schedule (never raises)."""
        for item in settled:
            alert = item.alert
            if alert.channel != "webhook":
                continue
            reason = None
            if item.result.signal == ENDPOINT_GONE:
                reason = "the endpoint answered HTTP 410 Gone"
            elif item.outcome == AttemptOutcome.DEAD_LETTER and not self.ledger.webhook_delivered_since(
                establishment=alert.establishment, url=alert.recipient, since=alert.created_at
            ):
                reason = (
                    f"no delivery to it succeeded since {alert.created_at} over the whole retry schedule "
                    f"({item.result.detail})"
                )
            if reason is None:
                continue
            try:
                self.owners.disable_webhook(
                    alert.establishment, url=alert.recipient, reason=reason, cause_alert_id=alert.alert_id
                )
            except Exception:  # the attempt is on the record; the next failure tries to disable again
                log.exception("could not disable the webhook endpoint of %s", alert.establishment)
