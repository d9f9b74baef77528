"""The alerts read model as delivery's work queue: leased claims (`FOR UPDATE SKIP LOCKED` on PostgreSQL),
released claims, when the next alert falls due, status updates from recorded delivery events (with the
delivery-latency histogram's observations), and the look-up of a provider's message id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jawazat_events.domain.delivery import DUE, AlertDelivery
from jawazat_events.domain.moments import utc_iso
from jawazat_events.projections import delivery_latency
from jawazat_events.projections.alert_status import apply_delivery_events
from jawazat_events.projections.base import ReadModelDatabase
from jawazat_events.projections.tables import ALERTS
from jawazat_events.services.ports import ClaimedAlert, QueuedAlert


class AlertQueue:
    """Claims due alerts for one worker at a time and keeps their rows in step with the record."""

    def __init__(self, db: ReadModelDatabase) -> None:
        self.db = db

    def claim(self, *, worker_id: str, now: datetime, until: datetime, limit: int) -> list[ClaimedAlert]:
        """Lease up to `limit` due alerts (oldest due first) to `worker_id` until `until`."""
        now_iso = utc_iso(now)
        lock = "FOR UPDATE SKIP LOCKED" if self.db.postgres else ""
        with self.db.transaction() as sql:
            rows = sql.execute(
                f"SELECT alert_id, claimed_by FROM {ALERTS} WHERE status IN {sql.in_list(len(DUE))} "
                "AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) "
                f"ORDER BY next_attempt_at LIMIT ? {lock}",
                (*DUE, now_iso, now_iso, limit),
            ).fetchall()
            if not rows:
                return []
            ids = [r["alert_id"] for r in rows]
            stale = {r["alert_id"]: r["claimed_by"] for r in rows if r["claimed_by"]}
            sql.execute(
                f"UPDATE {ALERTS} SET claimed_by = ?, claimed_until = ? "
                f"WHERE alert_id IN {sql.in_list(len(ids))}",
                (worker_id, utc_iso(until), *ids),
            )
            full = sql.execute(
                f"SELECT * FROM {ALERTS} WHERE alert_id IN {sql.in_list(len(ids))}", ids
            ).fetchall()
        return [ClaimedAlert(alert=_queued(row), stale_holder=stale.get(row["alert_id"])) for row in full]

    def renew(self, *, worker_id: str, alert_ids: Sequence[str], until: datetime) -> set[str]:
        """Extend this worker's leases on these alerts to `until` and return the ids it still holds: a
        lease that ran out may have been taken by another worker, whose claim then stands."""
        if not alert_ids:
            return set()
        with self.db.transaction() as sql:
            sql.execute(
                f"UPDATE {ALERTS} SET claimed_until = ? "
                f"WHERE claimed_by = ? AND alert_id IN {sql.in_list(len(alert_ids))}",
                (utc_iso(until), worker_id, *alert_ids),
            )
            rows = sql.execute(
                f"SELECT alert_id FROM {ALERTS} "
                f"WHERE claimed_by = ? AND alert_id IN {sql.in_list(len(alert_ids))}",
                (worker_id, *alert_ids),
            ).fetchall()
        return {row["alert_id"] for row in rows}

    def release(self, *, worker_id: str, alert_ids: Sequence[str]) -> None:
        """Give back claims this worker will not send now (it is stopping)."""
        with self.db.transaction() as sql:
            sql.execute(
                f"UPDATE {ALERTS} SET claimed_by = NULL, claimed_until = NULL "
                f"WHERE claimed_by = ? AND alert_id IN {sql.in_list(len(alert_ids))}",
                (worker_id, *alert_ids),
            )

    def next_due(self, *, now: datetime) -> datetime | None:
        """When the earliest alert not due yet falls due (a retry, a quiet-hours hold, a claim whose lease
        runs out); None: none waits."""
        with self.db.reading() as sql:
            due = f"{ALERTS} WHERE status IN {sql.in_list(len(DUE))}"
            row = sql.execute(
                f"SELECT (SELECT MIN(next_attempt_at) FROM {due} AND next_attempt_at > ?) AS retry, "
                f"(SELECT MIN(claimed_until) FROM {due} AND claimed_until > ?) AS lease",
                (*DUE, utc_iso(now), *DUE, utc_iso(now)),
            ).fetchone()
        found = [datetime.fromisoformat(value) for value in (row or {}).values() if value]
        return min(found) if found else None

    def apply(
        self, events: Sequence[AlertDelivery.Event], *, latencies: Sequence[tuple[str, float]] = ()
    ) -> None:
        """Apply recorded delivery events to their rows in one transaction (each once, set-wise), adding the
        (channel, seconds) latencies of the messages they record as accepted to the histogram."""
        with self.db.transaction() as sql:
            apply_delivery_events(sql, events)
            delivery_latency.observe(sql, latencies)

    def alert_sent_as(self, provider_id: str) -> str | None:
        """The alert a provider's message id belongs to."""
        with self.db.reading() as sql:
            row = sql.execute(
                f"SELECT alert_id FROM {ALERTS} WHERE provider_id = ?", (provider_id,)
            ).fetchone()
        return str(row["alert_id"]) if row is not None else None


def _queued(row: dict[str, Any]) -> QueuedAlert:
    return QueuedAlert(
        alert_id=row["alert_id"],
        position=int(row["position"]),
        event_id=row["event_id"],
        event_type=row["event_type"],
        notification_type=row["notification_type"],
        id_number=row["id_number"],
        establishment=row["establishment"],
        channel=row["channel"],
        recipient=row["recipient"],
        language=row["language"],
        occurred_at=row["occurred_at"],
        created_at=row["created_at"],
        payload=row["payload"],
        attempt_count=int(row["attempt_count"]),
    )
