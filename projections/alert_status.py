"""Alert delivery status in the alerts read model: one idempotent update shared by the delivery worker
(right after it records an attempt) and the fan-out projection (when it replays delivery events)."""

from __future__ import annotations

import json
from datetime import datetime

from jawazat_events.domain.delivery import RANK, AlertDelivery, status_after
from jawazat_events.domain.moments import utc_iso
from jawazat_events.projections.base import Sql
from jawazat_events.projections.tables import ALERTS


def apply_attempt(
    sql: Sql,
    *,
    alert_id: str,
    attempt: int,
    outcome: str,
    detail: str,
    provider_id: str | None,
    at: datetime,
    next_attempt_at: datetime | None,
) -> None:
    """Add attempt number `attempt` to the alert's history (once) and move its status."""
    row = sql.execute(
        f"SELECT attempts, attempt_count FROM {ALERTS} WHERE alert_id = ?", (alert_id,)
    ).fetchone()
    if row is None or row["attempt_count"] >= attempt:
        return
    attempts = json.loads(row["attempts"])
    entry = {"at": utc_iso(at), "outcome": outcome, "detail": detail}
    if provider_id:
        entry["provider_id"] = provider_id
    attempts.append(entry)
    sql.execute(
        f"UPDATE {ALERTS} SET status = ?, attempts = ?, attempt_count = ?, next_attempt_at = ?, "
        "provider_id = COALESCE(?, provider_id), claimed_by = NULL, claimed_until = NULL, updated_at = ? "
        "WHERE alert_id = ? AND attempt_count < ?",
        (
            status_after(outcome),
            json.dumps(attempts, ensure_ascii=False),
            attempt,
            utc_iso(next_attempt_at or at),
            provider_id,
            utc_iso(at),
            alert_id,
            attempt,
        ),
    )


def apply_confirmation(sql: Sql, *, alert_id: str, status: str, detail: str, at: datetime) -> None:
    """A provider's delivery report: statuses only move forward; a repeat is harmless."""
    row = sql.execute(f"SELECT status, attempts FROM {ALERTS} WHERE alert_id = ?", (alert_id,)).fetchone()
    if row is None or RANK.get(status, 0) <= RANK.get(row["status"], 0):
        return
    attempts = json.loads(row["attempts"])
    attempts.append({"at": utc_iso(at), "outcome": status, "detail": detail})
    sql.execute(
        f"UPDATE {ALERTS} SET status = ?, attempts = ?, updated_at = ? WHERE alert_id = ?",
        (status, json.dumps(attempts, ensure_ascii=False), utc_iso(at), alert_id),
    )


def apply_delivery_event(sql: Sql, event: AlertDelivery.Event) -> None:
    """Apply one recorded delivery event (attempt or provider confirmation) to its alert row."""
    if isinstance(event, AlertDelivery.Attempted):
        apply_attempt(
            sql,
            alert_id=event.alert_id,
            attempt=event.attempt,
            outcome=event.outcome,
            detail=event.detail,
            provider_id=event.provider_id,
            at=event.at,
            next_attempt_at=event.next_attempt_at,
        )
    elif isinstance(event, AlertDelivery.Confirmed):
        apply_confirmation(
            sql, alert_id=event.alert_id, status=event.status, detail=event.detail, at=event.at
        )
