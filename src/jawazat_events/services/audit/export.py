"""Streamed export of stored events recorded in a time window, as JSON lines or CSV (UTF-8 with BOM).

The store is read in pages of notifications up to the head seen when the export starts, each event
decoded (and decrypted) by the application's mapper and kept when its recorded time (the domain event's
timestamp) lies in [since, until). Memory stays constant whatever the store's size.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TextIO

from jawazat_events.domain.event_fields import IDENTITY_FIELDS, own_fields
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.audit.records import event_type, occurred_at

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (
    "position",
    "recorded_at",
    "event_id",
    "type",
    "id_number",
    "occurred_at",
    "originator_id",
    "originator_version",
    "fields",
)
BOM = "\ufeff"  # spreadsheet tools read the CSV as UTF-8 (Arabic names) only with it


def export_record(position: int, event: Any) -> dict[str, Any]:
    """One stored event as an export record."""
    return {
        "position": position,
        "recorded_at": event.timestamp.isoformat(),
        "event_id": getattr(event, "event_id", None),
        "type": event_type(event),
        "id_number": getattr(event, "id_number", None),
        "occurred_at": occurred_at(event),
        "originator_id": str(event.originator_id),
        "originator_version": event.originator_version,
        "fields": own_fields(event, besides=IDENTITY_FIELDS),
    }


def stored_events(
    app: JawazatApplication,
    *,
    page_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Every stored event up to the current head, in recording order, as (position, domain event)."""
    head = app.recorder.max_notification_id() or 0
    start = 1
    while start <= head:
        page = app.recorder.select_notifications(start=start, limit=page_size, stop=head)
        if not page:
            break
        to_domain = app.decoder.to_domain_event
        for notification in page:
            yield notification.id, to_domain(notification)
        start = page[-1].id + 1
        if progress is not None:
            progress(page[-1].id, head)


def export_records(
    app: JawazatApplication,
    *,
    since: datetime,
    until: datetime,
    id_number: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Export records of the events recorded in [since, until), of one person when `id_number` is given."""
    for position, event in stored_events(app, progress=progress):
        if not since <= event.timestamp < until:
            continue
        if id_number is not None and getattr(event, "id_number", None) != id_number:
            continue
        yield export_record(position, event)


def write_jsonl(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    """One JSON object per line; returns how many were written."""
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        count += 1
    return count


def write_csv(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    """A BOM, a header row, then one row per record (fields as a JSON object); returns the row count."""
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records:
        row = {**record, "fields": json.dumps(record["fields"], ensure_ascii=False, sort_keys=True)}
        writer.writerow(["" if row[column] is None else row[column] for column in CSV_COLUMNS])
        count += 1
    return count


def write_export(records: Iterator[dict[str, Any]], out: TextIO, fmt: str) -> int:
    """Write records in the given format ('jsonl' or 'csv')."""
    if fmt == "jsonl":
        return write_jsonl(records, out)
    if fmt == "csv":
        return write_csv(records, out)
    raise ValueError(f"format '{fmt}' must be one of {', '.join(FORMATS)}")
