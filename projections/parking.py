"""Parked events: events a read model could not apply, set aside so that the projection moves on.

`ReadModel.process` parks an event (its position, event id, projection and partition, the error's class and
message, the time) in the same transaction as the tracking record that moves past it, so an event is either
applied or parked, exactly once. Operators list them (`jawazat projections parked`), fix the cause, then
re-apply them (`jawazat projections retry-parked`): a re-applied event leaves the list in the transaction
that applies it; one that fails again stays, with the new error and one more retry counted. KurrentDB's
persistent subscriptions do the same with a message that fails after its retries. Re-applying lives in
`projections/parked_retry.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jawazat_events.domain.moments import utc_iso
from jawazat_events.projections.failures import describe
from jawazat_events.projections.tables import PARKED

if TYPE_CHECKING:  # base imports this module to park events inside its transactions
    from jawazat_events.projections.base import Positioned, ReadModel, ReadModelDatabase, Sql

# The table's columns as `ParkedEvent`'s fields.
COLUMNS = (
    "projection, partition_no AS partition, position, tracking_name, event_id, event_type, topic, "
    "originator_id, originator_version, id_number, unified_number, error_class, error_message, parked_at, "
    "retries, last_retried_at"
)


@dataclass(frozen=True)
class ParkedEvent:
    """One parked event, as operators see it."""

    projection: str
    partition: int
    position: int
    tracking_name: str
    event_id: str | None
    event_type: str
    topic: str
    originator_id: str
    originator_version: int
    id_number: str | None
    unified_number: str | None
    error_class: str
    error_message: str
    parked_at: str
    retries: int
    last_retried_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def now_iso() -> str:
    return utc_iso(datetime.now(UTC))


def event_type_of(item: Positioned) -> str:
    """The contract's type of the event when it has one, else its class's name."""
    contract = getattr(item.event, "contract_type", None)
    return str(contract) if contract else type(item.event).__qualname__


def park(sql: Sql, *, model: ReadModel, item: Positioned, error: BaseException) -> None:
    """Set the event aside inside the caller's transaction (the one that records the tracking position)."""
    event = item.event
    partition = model.partition_of(event)
    error_class, message = describe(error)
    source_id = getattr(event, "event_id", None)
    row = (
        model.name,
        partition,
        item.position,
        model.tracking_name(partition),
        str(source_id) if source_id is not None else None,
        event_type_of(item),
        item.topic,
        str(event.originator_id),
        int(event.originator_version),
        getattr(event, "id_number", None),
        getattr(event, "unified_number", None) or getattr(event, "sponsor", None),
        error_class,
        message,
        now_iso(),
    )
    # A rebuild replays an event parked before: it is parked again with today's error.
    sql.execute(
        f"INSERT INTO {PARKED} (projection, partition_no, position, tracking_name, event_id, event_type, "
        "topic, originator_id, originator_version, id_number, unified_number, error_class, error_message, "
        "parked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (projection, position) "
        "DO UPDATE SET error_class = excluded.error_class, error_message = excluded.error_message, "
        "parked_at = excluded.parked_at",
        row,
    )


def schema() -> list[str]:
    """The parked events' table (shared by every read model)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {PARKED} ("
        "projection TEXT NOT NULL, partition_no INTEGER NOT NULL, position BIGINT NOT NULL, "
        "tracking_name TEXT NOT NULL, event_id TEXT, event_type TEXT NOT NULL, topic TEXT NOT NULL, "
        "originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, id_number TEXT, "
        "unified_number TEXT, error_class TEXT NOT NULL, error_message TEXT NOT NULL, "
        "parked_at TEXT NOT NULL, retries INTEGER NOT NULL DEFAULT 0, last_retried_at TEXT, "
        "PRIMARY KEY (projection, position))",
        f"CREATE INDEX IF NOT EXISTS {PARKED}_by_person ON {PARKED} (id_number)",
    ]


def forget(sql: Sql, tracking_names: Sequence[str]) -> None:
    """Drop the parked events of these tracking names (a rebuild replays them, parking again what fails)."""
    if tracking_names:
        sql.execute(
            f"DELETE FROM {PARKED} WHERE tracking_name IN {sql.in_list(len(tracking_names))}",
            list(tracking_names),
        )


def parked_events(
    db: ReadModelDatabase,
    *,
    projection: str | None = None,
    position: int | None = None,
    id_number: str | None = None,
) -> list[ParkedEvent]:
    """Parked events, by position then projection, optionally only one projection, position or person."""
    where, params = _filter(projection=projection, position=position, id_number=id_number)
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT {COLUMNS} FROM {PARKED}{where} ORDER BY position, projection", params
        ).fetchall()
    return [ParkedEvent(**row) for row in rows]


def _filter(**equal: object) -> tuple[str, list[object]]:
    given = {column: value for column, value in equal.items() if value is not None}
    if not given:
        return "", []
    return " WHERE " + " AND ".join(f"{column} = ?" for column in given), list(given.values())


def parked_counts(db: ReadModelDatabase) -> dict[str, int]:
    """How many events each tracking name (projection partition) has parked."""
    with db.reading() as sql:
        rows = sql.execute(
            f"SELECT tracking_name, COUNT(*) AS n FROM {PARKED} GROUP BY tracking_name"
        ).fetchall()
    return {str(row["tracking_name"]): int(row["n"]) for row in rows}


def take(sql: Sql, parked: ParkedEvent) -> bool:
    """Remove a parked event inside the transaction that re-applies it; False when it is already gone."""
    return (
        sql.execute(
            f"DELETE FROM {PARKED} WHERE projection = ? AND position = ?",
            (parked.projection, parked.position),
        ).rowcount
        > 0
    )


def record_failure(db: ReadModelDatabase, parked: ParkedEvent, error: BaseException) -> str:
    """Keep a parked event that failed again, with the new error and one more retry counted."""
    error_class, message = describe(error)
    with db.transaction() as sql:
        sql.execute(
            f"UPDATE {PARKED} SET error_class = ?, error_message = ?, retries = retries + 1, "
            "last_retried_at = ? WHERE projection = ? AND position = ?",
            (error_class, message, now_iso(), parked.projection, parked.position),
        )
    return f"{error_class}: {message}"
