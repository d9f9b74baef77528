"""The alerts read model's table: its schema and insert (shared by every projection that makes alerts:
the fan-out, request notifications), and delivery status, one idempotent update shared by the delivery
worker (right after it records an attempt) and the fan-out projection (when it replays delivery events).

On PostgreSQL a statement trigger on the table NOTIFYs `ALERTS_CHANNEL` whenever alerts are inserted, so
the announcement commits with the rows (and only then reaches the delivery loops that LISTEN), whichever
projection or statement (row by row, set-wise, COPY) wrote them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from jawazat_events.domain.delivery import RANK, AlertDelivery, AlertStatus, status_after
from jawazat_events.domain.moments import utc_iso
from jawazat_events.projections.base import Sql, columns
from jawazat_events.projections.delivery_latency import latency_schema
from jawazat_events.projections.tables import ALERTS, ALERTS_CHANNEL


class AlertRow(NamedTuple):
    """One new alert: one message for one (event, recipient, channel)."""

    alert_id: str
    position: int
    event_id: str
    event_type: str
    notification_type: str
    id_number: str
    establishment: str
    channel: str
    recipient: str
    language: str
    occurred_at: str
    created_at: str
    payload: str
    next_attempt_at: str


def alerts_schema(*, postgres: bool) -> list[str]:
    """The alerts table, its indexes, its NOTIFY trigger (PostgreSQL) and the delivery-latency histogram's
    table beside it (idempotent statements)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {ALERTS} ("
        "alert_id TEXT PRIMARY KEY, position BIGINT NOT NULL, event_id TEXT NOT NULL, "
        "event_type TEXT NOT NULL, notification_type TEXT NOT NULL, id_number TEXT NOT NULL, "
        "establishment TEXT NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL, "
        "language TEXT NOT NULL, occurred_at TEXT NOT NULL, created_at TEXT NOT NULL, "
        f"payload TEXT NOT NULL, status TEXT NOT NULL DEFAULT '{AlertStatus.PENDING}', "
        "attempts TEXT NOT NULL DEFAULT '[]', attempt_count INTEGER NOT NULL DEFAULT 0, "
        "next_attempt_at TEXT NOT NULL, claimed_until TEXT, claimed_by TEXT, provider_id TEXT, "
        "updated_at TEXT)",
        f"CREATE INDEX IF NOT EXISTS {ALERTS}_due ON {ALERTS} (status, next_attempt_at)",
        f"CREATE INDEX IF NOT EXISTS {ALERTS}_by_establishment ON {ALERTS} (establishment, created_at)",
        f"CREATE INDEX IF NOT EXISTS {ALERTS}_by_person ON {ALERTS} (id_number)",
        f"CREATE INDEX IF NOT EXISTS {ALERTS}_by_provider_id ON {ALERTS} (provider_id)",
        *(_announce_schema() if postgres else []),
        *latency_schema(),
    ]


def _announce_schema() -> list[str]:
    # Once per inserting statement; PostgreSQL folds identical notifications of one transaction into one.
    function = f"{ALERTS}_announce"
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{ALERTS_CHANNEL}', ''); RETURN NULL; END $$",
        f"CREATE OR REPLACE TRIGGER {function} AFTER INSERT ON {ALERTS} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


_ALERT_COLUMNS = columns(", ".join(AlertRow._fields), types={"position": "bigint"})


def insert_alerts(sql: Sql, rows: Sequence[AlertRow]) -> None:
    """Add new alerts in one set-wise insert; an alert id already present is left as it is (replays add
    nothing, and neither does a second row of one id in the same batch)."""
    sql.insert_rows(ALERTS, _ALERT_COLUMNS, rows, conflict="ON CONFLICT (alert_id) DO NOTHING")


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
