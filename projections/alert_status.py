"""The alerts read model's table: its schema and insert (shared by every projection that makes alerts:
the fan-out, request notifications), and delivery status, one idempotent update shared by the delivery
worker (right after it records an attempt) and the fan-out projection (when it replays delivery events).

On PostgreSQL a statement trigger on the table NOTIFYs `ALERTS_CHANNEL` whenever alerts are inserted, so
the announcement commits with the rows (and only then reaches the delivery loops that LISTEN), whichever
projection or statement (row by row, set-wise, COPY) wrote them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from jawazat_events.domain.delivery import RANK, AlertDelivery, AlertStatus, status_after
from jawazat_events.domain.moments import utc_iso
from jawazat_events.projections.base import Index, Sql, columns
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
    """The alerts table, its NOTIFY trigger (PostgreSQL) and the delivery-latency histogram's table beside
    it (idempotent statements); its secondary indexes are `alerts_indexes`."""
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
        *(_announce_schema() if postgres else []),
        *latency_schema(),
    ]


def alerts_indexes() -> list[Index]:
    """The alerts' secondary indexes: delivery's due alerts, the listings, provider callbacks."""
    return [
        Index(f"{ALERTS}_due", ALERTS, "status, next_attempt_at"),
        Index(f"{ALERTS}_by_establishment", ALERTS, "establishment, created_at"),
        Index(f"{ALERTS}_by_person", ALERTS, "id_number"),
        Index(f"{ALERTS}_by_provider_id", ALERTS, "provider_id"),
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


@dataclass
class _Row:
    """An alert row's delivery state while a batch of delivery events is applied to it."""

    status: str
    attempts_json: str
    attempt_count: int
    next_attempt_at: str
    provider_id: str | None
    updated_at: str | None
    attempts: list[dict[str, str]] | None = None  # parsed on first change
    attempted: bool = False  # an attempt was added: the claim goes and the guard applies
    confirmed: bool = False

    def history(self) -> list[dict[str, str]]:
        if self.attempts is None:
            self.attempts = json.loads(self.attempts_json)
        return self.attempts


def apply_delivery_events(sql: Sql, events: Sequence[AlertDelivery.Event]) -> None:
    """Apply recorded delivery events (attempts, provider confirmations), in order, to their alert rows:
    ONE read of the rows and at most two set-wise updates, whatever the number of events.

    Each attempt is added once (an attempt number the row already has is skipped, and the update only
    applies to a row whose count is still below it, so a concurrent applier's write stands); a provider's
    confirmation only moves the status forward, so a repeat is harmless.
    """
    if not events:
        return
    rows = {
        found["alert_id"]: _Row(
            status=found["status"],
            attempts_json=found["attempts"],
            attempt_count=int(found["attempt_count"]),
            next_attempt_at=found["next_attempt_at"],
            provider_id=found["provider_id"],
            updated_at=found["updated_at"],
        )
        for found in sql.fetch_any(
            f"SELECT alert_id, status, attempts, attempt_count, next_attempt_at, provider_id, updated_at "
            f"FROM {ALERTS} WHERE alert_id = ANY(?)",
            [event.alert_id for event in events],
        )
    }
    for event in events:
        row = rows.get(event.alert_id)
        if row is None:
            continue
        if isinstance(event, AlertDelivery.Attempted):
            if row.attempt_count >= event.attempt:
                continue
            entry = {"at": utc_iso(event.at), "outcome": event.outcome, "detail": event.detail}
            if event.provider_id:
                entry["provider_id"] = event.provider_id
            row.history().append(entry)
            row.status = status_after(event.outcome)
            row.attempt_count = event.attempt
            row.next_attempt_at = utc_iso(event.next_attempt_at or event.at)
            row.provider_id = event.provider_id or row.provider_id
            row.updated_at = utc_iso(event.at)
            row.attempted = True
        elif isinstance(event, AlertDelivery.Confirmed):
            if RANK.get(event.status, 0) <= RANK.get(row.status, 0):
                continue
            row.history().append({"at": utc_iso(event.at), "outcome": event.status, "detail": event.detail})
            row.status = event.status
            row.updated_at = utc_iso(event.at)
            row.confirmed = True
    _write_attempts(sql, [(alert_id, row) for alert_id, row in rows.items() if row.attempted])
    sql.update_rows(
        ALERTS,
        keys=_KEY,
        values=_CONFIRMED,
        rows=[
            (alert_id, row.status, json.dumps(row.history(), ensure_ascii=False), row.updated_at)
            for alert_id, row in rows.items()
            if row.confirmed and not row.attempted
        ],
    )


_KEY = columns("alert_id")
_CONFIRMED = columns("status, attempts, updated_at")
_ATTEMPTED = columns(
    "status, attempts, attempt_count, next_attempt_at, provider_id, updated_at",
    types={"attempt_count": "int"},
)


def _write_attempts(sql: Sql, rows: Sequence[tuple[str, _Row]]) -> None:
    # Guarded by the attempt count, so that a row another applier moved on meanwhile keeps its write; an
    # attempt ends the claim.
    sql.update_rows(
        ALERTS,
        keys=_KEY,
        values=_ATTEMPTED,
        rows=[
            (
                alert_id,
                row.status,
                json.dumps(row.history(), ensure_ascii=False),
                row.attempt_count,
                row.next_attempt_at,
                row.provider_id,
                row.updated_at,
            )
            for alert_id, row in rows
        ],
        below="attempt_count",
        also="claimed_by = NULL, claimed_until = NULL",
    )
