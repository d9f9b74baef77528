"""Requests view: every e-service request (travel permits, Makkah permits, tickets) with its status, for
listings by requester and officers' queues (oldest first), and for finding a person's requests.

One row per request, rewritten by each of its events; every value comes from the events, so a rebuild
gives the same rows. Listings bring the view up to date first (`RequestsQueries`), so a requester always
sees what they just did.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.makkah_permit import MakkahPermit
from jawazat_events.domain.moments import utc_iso
from jawazat_events.domain.requests import RequestEvent
from jawazat_events.domain.ticket import Ticket
from jawazat_events.domain.travel_permit import TravelPermit
from jawazat_events.projections.base import Index, Positioned, ReadModel, ReadModelDatabase, Sql
from jawazat_events.projections.tables import REQUESTS
from jawazat_events.services.request_listing import Page

REQUEST_EVENTS = (
    TravelPermit.Requested,
    TravelPermit.Decided,
    TravelPermit.Cancelled,
    MakkahPermit.Requested,
    MakkahPermit.Decided,
    MakkahPermit.Revoked,
    Ticket.Received,
    Ticket.StatusChanged,
    Ticket.Replied,
)
_CURSOR_PREFIX = "r1|"


class RequestsView(ReadModel):
    """The current status of every request, by kind, requester, status and person."""

    name = "requests"
    tables = (REQUESTS,)
    topics = tuple(get_topic(cls) for cls in REQUEST_EVENTS)

    def schema(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {REQUESTS} ("
            "kind TEXT NOT NULL, request_id TEXT NOT NULL, aggregate_id TEXT NOT NULL, "
            "id_number TEXT NOT NULL, requester TEXT NOT NULL, status TEXT NOT NULL, "
            "season TEXT, valid_from TEXT, valid_until TEXT, problem_type TEXT, procedure TEXT, "
            "reason TEXT, requested_at TEXT NOT NULL, updated_at TEXT NOT NULL, position BIGINT NOT NULL, "
            "first_position BIGINT NOT NULL, "
            "PRIMARY KEY (kind, request_id))",
            # Applying a status change finds the request by its aggregate (`apply`'s UPDATE): needed while
            # events are applied, a rebuild's replay included, so it is part of the table, not `indexes()`.
            f"CREATE INDEX IF NOT EXISTS {REQUESTS}_by_aggregate ON {REQUESTS} (aggregate_id)",
        ]

    def indexes(self) -> list[Index]:
        return [
            Index(f"{REQUESTS}_queue", REQUESTS, "kind, status, requested_at, first_position"),
            Index(f"{REQUESTS}_by_requester", REQUESTS, "kind, requester, requested_at, first_position"),
            Index(f"{REQUESTS}_by_person", REQUESTS, "id_number"),
        ]

    def apply(self, sql: Sql, item: Positioned) -> None:
        event = item.event
        if not isinstance(event, RequestEvent):
            return  # other events do not change this view
        if isinstance(event, TravelPermit.Requested | MakkahPermit.Requested | Ticket.Received):
            self._insert(sql, event, item.position)
            return
        reason = getattr(event, "reason", None) or getattr(event, "message", None)
        sql.execute(
            f"UPDATE {REQUESTS} SET status = ?, reason = COALESCE(?, reason), updated_at = ?, position = ? "
            "WHERE aggregate_id = ? AND position < ?",
            (
                event.status,
                reason if not isinstance(event, Ticket.Replied) else None,
                utc_iso(event.occurred_at),
                item.position,
                str(event.originator_id),
                item.position,
            ),
        )

    def _insert(self, sql: Sql, event: Any, position: int) -> None:
        kind = type(event).__qualname__.split(".")[0]
        sql.execute(
            f"INSERT INTO {REQUESTS} (kind, request_id, aggregate_id, id_number, requester, status, season, "
            "valid_from, valid_until, problem_type, procedure, reason, requested_at, updated_at, position, "
            "first_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                {"TravelPermit": "travel_permit", "MakkahPermit": "makkah_permit", "Ticket": "ticket"}[kind],
                event.request_id,
                str(event.originator_id),
                event.id_number,
                f"{event.requester_kind}:{event.requester}",
                event.status,
                getattr(event, "season", None),
                _iso(getattr(event, "valid_from", None)),
                _iso(getattr(event, "valid_until", None)),
                getattr(event, "problem_type", None),
                getattr(event, "procedure", None),
                None,
                utc_iso(event.occurred_at),
                utc_iso(event.occurred_at),
                position,
                position,
            ),
        )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def encode_cursor(requested_at: str, first_position: int) -> str:
    """An opaque cursor: where the previous page ended."""
    text = f"{_CURSOR_PREFIX}{requested_at}|{first_position}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """(requested_at, first position) of a cursor this API gave out, or raise naming `cursor`."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    parts = text.removeprefix(_CURSOR_PREFIX).split("|")
    if not text.startswith(_CURSOR_PREFIX) or len(parts) != 2 or not parts[1].isdigit():
        raise InvalidValue("cursor is not one this API gave out: pass next_cursor from the previous page")
    return parts[0], int(parts[1])


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    """A listing item in the kind's own shape."""
    kind = row["kind"]
    common = {"status": row["status"], "requested_at": row["requested_at"], "updated_at": row["updated_at"]}
    if kind == "ticket":
        return {
            "tracking_number": row["request_id"],
            "problem_type": row["problem_type"],
            "procedure": row["procedure"],
            **common,
        }
    shaped = {
        "permit_id": row["request_id"],
        "id_number": row["id_number"],
        "valid_from": row["valid_from"],
        "valid_until": row["valid_until"],
        "reason": row["reason"],
        **common,
    }
    if kind == "makkah_permit":
        shaped["season"] = row["season"]
    return shaped


class RequestsQueries:
    """The `RequestListing` the request services read: listings and queues, oldest first."""

    def __init__(self, db: ReadModelDatabase, *, catch_up: Callable[[], None]) -> None:
        self.db = db
        self.catch_up = catch_up

    def page(
        self, kind: str, *, requester: str | None, status: str | None, limit: int, cursor: str | None
    ) -> Page:
        """Requests of one kind, oldest first (then in recording order); narrowed by requester, status."""
        self.catch_up()
        clauses: list[str] = ["kind = ?"]
        params: list[Any] = [kind]
        if requester is not None:
            clauses.append("requester = ?")
            params.append(requester)
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if cursor is not None:
            after_time, after_id = decode_cursor(cursor)
            clauses.append("(requested_at > ? OR (requested_at = ? AND first_position > ?))")
            params += [after_time, after_time, after_id]
        with self.db.reading() as sql:
            rows = sql.execute(
                f"SELECT * FROM {REQUESTS} WHERE {' AND '.join(clauses)} "
                "ORDER BY requested_at, first_position LIMIT ?",
                [*params, limit + 1],
            ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        following = encode_cursor(rows[-1]["requested_at"], rows[-1]["first_position"]) if more else None
        return Page(items=[_shape(row) for row in rows], next_cursor=following)

    def aggregate_ids_about(self, id_number: str) -> list[UUID]:
        """The requests about this person (for the auditors' timeline)."""
        self.catch_up()
        with self.db.reading() as sql:
            rows = sql.execute(
                f"SELECT aggregate_id FROM {REQUESTS} WHERE id_number = ? ORDER BY position", (id_number,)
            ).fetchall()
        return [UUID(row["aggregate_id"]) for row in rows]
