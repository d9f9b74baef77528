"""Read-side queries over the read models: subscription listings, alerts and subscriptions at a time, in the
API's JSON shapes (docs/api.md)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jawazat_events.domain.moments import utc_iso
from jawazat_events.projections.base import ReadModelDatabase
from jawazat_events.projections.subscription_index import VersionStatus
from jawazat_events.projections.tables import ALERTS, SUBSCRIPTIONS


def list_subscriptions(
    db: ReadModelDatabase, unified_number: str, *, limit: int = 100, after: str | None = None
) -> list[dict[str, Any]]:
    """Active subscriptions of an establishment, ordered by ID number, from `after` (cursor) on."""
    params: list[Any] = [unified_number]
    where = ""
    if after:
        where = "AND id_number > ? "
        params.append(after)
    params.append(limit)
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT id_number, notification_types, mobile, email, since FROM {SUBSCRIPTIONS} "
            f"WHERE unified_number = ? AND to_position IS NULL AND status = '{VersionStatus.ACTIVE}' {where}"
            "ORDER BY id_number LIMIT ?",
            params,
        ).fetchall()
    return [subscription_shape(row) for row in rows]


def subscription_shape(row: dict[str, Any]) -> dict[str, Any]:
    """A subscription version row in the contract's JSON shape."""
    return {
        "id_number": row["id_number"],
        "notification_types": row["notification_types"].split(","),
        "mobile": row["mobile"],
        "email": row["email"],
        "since": row["since"],
    }


def alert_shape(row: dict[str, Any]) -> dict[str, Any]:
    """An alert row in the contract's JSON shape."""
    return {
        "alert_id": row["alert_id"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "notification_type": row["notification_type"],
        "id_number": row["id_number"],
        "establishment": row["establishment"],
        "channel": row["channel"],
        "recipient": row["recipient"],
        "status": row["status"],
        "created_at": row["created_at"],
        "attempts": json.loads(row["attempts"]),
    }


def list_alerts(
    db: ReadModelDatabase,
    *,
    establishment: str | None = None,
    id_number: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> list[dict[str, Any]]:
    """Alerts with their attempts, oldest first, filtered as asked."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("establishment", establishment), ("id_number", id_number), ("status", status)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since)
    if after is not None:
        clauses.append("alert_id > ?")
        params.append(after)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    tail = ""
    if limit is not None:
        tail = " LIMIT ?"
        params.append(limit)
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT * FROM {ALERTS} {where} ORDER BY created_at, position, alert_id{tail}", params
        ).fetchall()
    return [alert_shape(row) for row in rows]


def subscriptions_at(db: ReadModelDatabase, unified_number: str, at: datetime | None) -> list[dict[str, Any]]:
    """An establishment's active subscriptions at recorded time `at` (UTC; the current ones when None)."""
    params: tuple[str, ...]
    if at is None:
        when, params = "to_time IS NULL", (unified_number,)
    else:
        # Times are UTC ISO 8601 strings of one format, which sort as time does: one version per
        # subscription holds at any moment.
        moment = utc_iso(at)
        when, params = "from_time <= ? AND (to_time IS NULL OR to_time > ?)", (unified_number, moment, moment)
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT id_number, notification_types, mobile, email, since FROM {SUBSCRIPTIONS} "
            f"WHERE unified_number = ? AND status = '{VersionStatus.ACTIVE}' AND {when} ORDER BY id_number",
            params,
        ).fetchall()
    return [subscription_shape(row) for row in rows]


class Ledgers:
    """The auditors' read-model ports (`services.ports.AlertLedger`, `SubscriptionLedger`) over one db."""

    def __init__(self, db: ReadModelDatabase) -> None:
        self.db = db

    def alerts(self, *, id_number: str) -> list[dict[str, Any]]:
        """Every alert about this person, oldest first."""
        return list_alerts(self.db, id_number=id_number)

    def subscriptions_at(self, unified_number: str, at: datetime | None) -> list[dict[str, Any]]:
        """Active subscriptions at recorded time `at` (UTC; the current ones when None)."""
        return subscriptions_at(self.db, unified_number, at)
