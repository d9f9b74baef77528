"""The latest link of the hash chain, read without walking the chain (what an auditor publishes)."""

from __future__ import annotations

from jawazat_events.audit.chain import ChainReader
from jawazat_events.store import EventStoreRecorder


def latest_link(recorder: EventStoreRecorder) -> tuple[int, str] | None:
    """(position, link in hex) of the last chained event, or None for an empty store."""
    reader = ChainReader(recorder)
    with reader.snapshot() as cursor:
        head = reader.chain_head(cursor)
        if not head:
            return None
        marker = "%s" if reader.postgres else "?"
        cursor.execute(f"SELECT link FROM {reader.chain} WHERE notification_id = {marker}", (head,))
        row = cursor.fetchone()
    return (head, bytes(row["link"]).hex()) if row is not None else None
