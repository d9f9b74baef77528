"""The auditors' views of the record, bound to what they read: timelines and subscriptions at a time."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.audit import subscriptions, timeline
from jawazat_events.services.ports import AlertLedger, RequestIndex, SubscriptionLedger


class AuditTrail:
    """What the auditors' CLI commands and API routes ask of the record."""

    def __init__(
        self,
        *,
        app: JawazatApplication,
        alerts: AlertLedger,
        requests: RequestIndex,
        subscriptions: SubscriptionLedger,
        zone: tzinfo,
    ) -> None:
        self.app = app
        self.alerts = alerts
        self.requests = requests
        self.subscriptions = subscriptions
        self.zone = zone

    def person_timeline(self, id_number: str, at: datetime | None = None) -> dict[str, Any]:
        """Every event of the person and of the requests about them in business-time order, their alerts
        and sponsorships, as of `at`."""
        return timeline.person_timeline(
            self.app, self.alerts, id_number, at, requests=self.requests, zone=self.zone
        )

    def subscriptions_at(self, unified_number: str, at: datetime | None = None) -> list[dict[str, Any]]:
        """The establishment's active subscriptions at recorded time `at` (the current ones when None)."""
        return subscriptions.subscriptions_at(self.subscriptions, unified_number, at, zone=self.zone)
