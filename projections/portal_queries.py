"""Read-side queries of the web portal: paged and searched subscriptions, alert pages and counts.

Every query names the establishment it reads for, so a page can only ever show the signed-in
establishment's rows. Paging is by key (ID number for subscriptions; creation time and alert id for
alerts), so the last page of 100,000 subscriptions costs what the first does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jawazat_events.projections.base import ReadModelDatabase
from jawazat_events.projections.queries import alert_shape, subscription_shape
from jawazat_events.projections.tables import ALERTS, ESTABLISHMENTS, SUBSCRIPTIONS

_ACTIVE = "unified_number = ? AND to_position IS NULL AND status = 'active'"
# Statuses that need someone to act (a wrong number, a refused address, gave up).
NEEDS_ACTION = ("failed", "dead_letter")


def establishment_numbers(db: ReadModelDatabase) -> list[str]:
    """Unified numbers of every registered establishment, in order."""
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT unified_number FROM {ESTABLISHMENTS} WHERE to_position IS NULL ORDER BY unified_number"
        ).fetchall()
    return [row["unified_number"] for row in rows]


def _prefix(q: str | None) -> tuple[str, list[Any]]:
    """A range over ID numbers starting with the digits `q` (':' sorts right after '9')."""
    if not q:
        return "", []
    return " AND id_number >= ? AND id_number < ?", [q, q + ":"]


@dataclass
class SubscriptionPage:
    """One page of an establishment's active subscriptions, with the cursors around it."""

    items: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    has_before: bool = False
    has_after: bool = False


def page_subscriptions(
    db: ReadModelDatabase,
    unified_number: str,
    *,
    q: str | None = None,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    limit: int = 50,
) -> SubscriptionPage:
    """Active subscriptions ordered by ID number: the first page, the one after/before an ID, or the last.

    `q` (digits) keeps those whose ID number starts with it."""
    where, params = _prefix(q)
    page = SubscriptionPage()
    columns = "id_number, notification_types, mobile, email, since"
    with db.reading() as sql:
        row = sql.execute(
            f"SELECT COUNT(*) AS n FROM {SUBSCRIPTIONS} WHERE {_ACTIVE}{where}", [unified_number, *params]
        ).fetchone()
        page.total = int(row["n"]) if row else 0
        if before is not None or last:
            bound = " AND id_number < ?" if before is not None else ""
            rows = sql.execute(
                f"SELECT {columns} FROM {SUBSCRIPTIONS} WHERE {_ACTIVE}{where}{bound} "
                "ORDER BY id_number DESC LIMIT ?",
                [unified_number, *params, *([before] if before is not None else []), limit + 1],
            ).fetchall()
            page.has_before = len(rows) > limit
            rows = list(reversed(rows[:limit]))
            page.has_after = before is not None
        else:
            bound = " AND id_number > ?" if after is not None else ""
            rows = sql.execute(
                f"SELECT {columns} FROM {SUBSCRIPTIONS} WHERE {_ACTIVE}{where}{bound} "
                "ORDER BY id_number LIMIT ?",
                [unified_number, *params, *([after] if after is not None else []), limit + 1],
            ).fetchall()
            page.has_after = len(rows) > limit
            rows = rows[:limit]
            page.has_before = after is not None
    page.items = [subscription_shape(r) for r in rows]
    return page


def count_active(db: ReadModelDatabase, unified_number: str) -> int:
    """How many active subscriptions the establishment has."""
    with db.reading() as sql:
        row = sql.execute(
            f"SELECT COUNT(*) AS n FROM {SUBSCRIPTIONS} WHERE {_ACTIVE}", [unified_number]
        ).fetchone()
    return int(row["n"]) if row else 0


def subscriptions_by_type(db: ReadModelDatabase, unified_number: str) -> dict[str, int]:
    """How many active subscriptions cover each notification type."""
    counts: dict[str, int] = {}
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT notification_types, COUNT(*) AS n FROM {SUBSCRIPTIONS} WHERE {_ACTIVE} "
            "GROUP BY notification_types",
            [unified_number],
        ).fetchall()
    for row in rows:
        for name in row["notification_types"].split(","):
            counts[name] = counts.get(name, 0) + int(row["n"])
    return counts


@dataclass(frozen=True)
class AlertFilter:
    """What the alerts page filters on; every field optional."""

    status: str | None = None
    id_number: str | None = None
    notification_type: str | None = None
    since: str | None = None  # UTC ISO 8601: created at or after
    until: str | None = None  # UTC ISO 8601: created before


def _alert_where(unified_number: str, filters: AlertFilter) -> tuple[str, list[Any]]:
    clauses = ["establishment = ?"]
    params: list[Any] = [unified_number]
    for column, value in (
        ("status", filters.status),
        ("id_number", filters.id_number),
        ("notification_type", filters.notification_type),
    ):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if filters.since:
        clauses.append("created_at >= ?")
        params.append(filters.since)
    if filters.until:
        clauses.append("created_at < ?")
        params.append(filters.until)
    return " AND ".join(clauses), params


def page_alerts(
    db: ReadModelDatabase,
    unified_number: str,
    filters: AlertFilter,
    *,
    before: tuple[str, str] | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], bool]:
    """The establishment's alerts, newest first, from just before `(created_at, alert_id)`; and if more."""
    where, params = _alert_where(unified_number, filters)
    if before is not None:
        where += " AND (created_at < ? OR (created_at = ? AND alert_id < ?))"
        params += [before[0], before[0], before[1]]
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT * FROM {ALERTS} WHERE {where} ORDER BY created_at DESC, alert_id DESC LIMIT ?",
            [*params, limit + 1],
        ).fetchall()
    return [alert_shape(r) for r in rows[:limit]], len(rows) > limit


def iter_alerts(
    db: ReadModelDatabase, unified_number: str, filters: AlertFilter, *, page_size: int = 1000
) -> Iterator[dict[str, Any]]:
    """Every alert the filter keeps, newest first, read page by page (for exports)."""
    before: tuple[str, str] | None = None
    while True:
        items, more = page_alerts(db, unified_number, filters, before=before, limit=page_size)
        yield from items
        if not more or not items:
            return
        before = (items[-1]["created_at"], items[-1]["alert_id"])


def alerts_by_status(db: ReadModelDatabase, unified_number: str, *, since: str) -> dict[str, int]:
    """How many of the establishment's alerts created since `since` are in each status."""
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT status, COUNT(*) AS n FROM {ALERTS} WHERE establishment = ? AND created_at >= ? "
            "GROUP BY status",
            [unified_number, since],
        ).fetchall()
    return {row["status"]: int(row["n"]) for row in rows}


def alerts_needing_action(
    db: ReadModelDatabase, unified_number: str, *, limit: int = 10
) -> list[dict[str, Any]]:
    """The establishment's most recent alerts that failed for good (a wrong number, a refused address)."""
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT * FROM {ALERTS} WHERE establishment = ? AND status IN (?, ?) "
            "ORDER BY created_at DESC, alert_id DESC LIMIT ?",
            [unified_number, *NEEDS_ACTION, limit],
        ).fetchall()
    return [alert_shape(r) for r in rows]
