"""The isolation of poison events, as a property (hypothesis) on a real SQLite read-model database: for any
batch, any partitions and any set of events the read model cannot apply, one `process` call applies every
other event of the partitions it was given exactly once, parks exactly the poison ones, and leaves every
partition's position at the batch's end; events of partitions it was not given are left alone.
"""

from __future__ import annotations

import random
import tempfile
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from eventsourcing.sqlite import SQLiteDatastore
from hypothesis import given, settings
from hypothesis import strategies as st

from jawazat_events.projections import parking
from jawazat_events.projections.base import Positioned, ReadModel, ReadModelDatabase, Sql
from jawazat_events.projections.parking import parked_events


@dataclass(frozen=True)
class Happened:
    """A stand-in for a stored domain event: what `process` and `park` read of one."""

    originator_id: uuid.UUID
    originator_version: int
    event_id: str
    id_number: str


class Ledger(ReadModel):
    """A read model that writes one row per event and cannot apply the events it is told are poison."""

    name = "ledger"
    tables = ("ledger_rows",)
    poison: ClassVar[frozenset[int]] = frozenset()

    def schema(self) -> list[str]:
        return ["CREATE TABLE IF NOT EXISTS ledger_rows (position INTEGER NOT NULL)"]

    def tracking_name(self, partition: int) -> str:
        return f"Test/ledger#{partition}"

    def partition_of(self, event: Any) -> int:
        return zlib.crc32(event.id_number.encode()) % self.partitions

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        bad = [item.position for item in items if item.position in self.poison]
        if bad:
            raise ValueError(f"cannot apply position {bad[0]}")
        sql.executemany("INSERT INTO ledger_rows (position) VALUES (?)", [(item.position,) for item in items])
        return len(items)


def ledger(folder: Path, partitions: int) -> Ledger:
    db = ReadModelDatabase(SQLiteDatastore(str(folder / f"{uuid.uuid4().hex}.db")))
    model = Ledger(db, partitions=partitions)
    model.create_tables()
    db.create(parking.schema())
    return model


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=80),
    partitions=st.integers(min_value=1, max_value=4),
    poison_fraction=st.sampled_from([0.0, 0.02, 0.1, 0.5, 1.0]),
    given_partitions=st.data(),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_one_process_call_applies_the_healthy_once_and_parks_the_poison(
    size: int, partitions: int, poison_fraction: float, given_partitions: st.DataObject, seed: int
) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        model = ledger(Path(folder), partitions)
        # Positions with gaps (other read models' events in between), people spread over partitions.
        positions = sorted(rng.sample(range(1, size * 3 + 1), size))
        batch = [
            Positioned(Happened(uuid.uuid4(), 1, f"e{p}", f"{rng.randrange(10**9):010d}"), p)
            for p in positions
        ]
        poison = frozenset(p for p in positions if rng.random() < poison_fraction)
        Ledger.poison = poison
        mine = given_partitions.draw(st.sets(st.integers(0, partitions - 1), min_size=1), label="partitions")
        upto = positions[-1] + rng.randrange(0, 3)

        created = model.process(batch, positions=dict.fromkeys(mine, 0), upto=upto)

        wanted = {item.position for item in batch if model.partition_of(item.event) in mine}
        with model.db.reading() as sql:
            rows = [int(r["position"]) for r in sql.execute("SELECT position FROM ledger_rows").fetchall()]
        assert sorted(rows) == sorted(wanted - poison)  # each healthy event once, none of the others
        assert created == len(wanted - poison)
        parked = parked_events(model.db)
        assert sorted(p.position for p in parked) == sorted(wanted & poison)
        assert all(p.error_class == "ValueError" and p.projection == "ledger" for p in parked)
        assert model.positions() == {k: (upto if k in mine else 0) for k in range(partitions)}
