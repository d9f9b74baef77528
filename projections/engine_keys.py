"""The engine's own keys kept in the database: the key sealing webhook secrets when `JAWAZAT_SECRETS_KEY`
is unset (`services.secretbox`).

Not a read model: nothing replays into it and no rebuild drops it (losing it would leave every sealed
webhook secret unreadable). The first process that needs the key makes it; every later one reads the same
row (`ON CONFLICT DO NOTHING`, then read back), so concurrent processes agree.
"""

from __future__ import annotations

import base64

from jawazat_events.projections.base import ReadModelDatabase
from jawazat_events.projections.tables import ENGINE_KEYS
from jawazat_events.services.secretbox import new_key

SECRETS_KEY_NAME = "secrets_key"


def database_secrets_key(db: ReadModelDatabase) -> bytes:
    """The key kept in the `engine_keys` table, made (256 random bits) by the first process that asks."""
    db.create([f"CREATE TABLE IF NOT EXISTS {ENGINE_KEYS} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"])
    with db.transaction() as sql:
        sql.execute(
            f"INSERT INTO {ENGINE_KEYS} (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (SECRETS_KEY_NAME, base64.b64encode(new_key()).decode("ascii")),
        )
        row = sql.execute(f"SELECT value FROM {ENGINE_KEYS} WHERE name = ?", (SECRETS_KEY_NAME,)).fetchone()
    if row is None:  # the row was inserted or already there in this same transaction
        raise RuntimeError(f"{ENGINE_KEYS} holds no {SECRETS_KEY_NAME} after inserting it")
    return base64.b64decode(row["value"])
