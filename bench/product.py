"""Driving the product exactly as `jawazat ingest` does, and describing what it stored.

Shared by the PostgreSQL and SQLite ingest benchmarks (and the profile): `bootstrap(database_url=...)`,
then `container.ingestor.ingest_lines(open(file))` with every result consumed into an
`IngestReport`. Opening the store (table creation, first pool connection) happens before the clock starts;
reading, parsing, validation, idempotency checks, domain rules and the saves are all timed.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Timer


@dataclass
class IngestRun:
    accepted: int
    duplicate: int
    rejected: int
    wall: float
    cpu: float  # this process's CPU seconds (the product's Python side)
    server_cpu: float | None = None  # PostgreSQL backends' CPU seconds, when measurable
    events_table: str = "stored_events"  # the store's events table (named by the library)
    first_rejections: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.accepted + self.duplicate + self.rejected

    @property
    def rate(self) -> float:
        return self.total / self.wall if self.wall > 0 else 0.0

    def describe(self) -> str:
        text = (
            f"{self.total:,} lines in {self.wall:.2f} s = {self.rate:,.0f}/s "
            f"(accepted {self.accepted:,}, duplicate {self.duplicate:,}, rejected {self.rejected:,}; "
            f"client CPU {self.cpu:.2f} s"
        )
        if self.server_cpu is not None:
            text += f", PostgreSQL backend CPU {self.server_cpu:.2f} s"
        return text + ")"


def open_container(database_url: str, batch_size: int) -> Any:
    """The wired product, its store opened (tables created) so that the clock only sees ingest."""
    from jawazat_events.bootstrap import bootstrap

    container = bootstrap(database_url=database_url, ingest_batch_size=batch_size)
    _ = container.app  # creates the tables, opens the pool
    return container


def ingest_file(
    container: Any,
    feed_path: Path,
    *,
    server_cpu: Callable[[], float] | None = None,
) -> IngestRun:
    """Time `container.ingestor.ingest_lines(open(file))`, consuming every result."""
    from jawazat_events.services.ingest import IngestReport

    report = IngestReport()
    server_before = server_cpu() if server_cpu else None
    with Timer() as timer, open(feed_path, encoding="utf-8") as handle:
        for result, event_type in container.ingestor.ingest_lines(handle):
            report.add(result, event_type)
    server_used = (server_cpu() - server_before) if server_cpu and server_before is not None else None
    return IngestRun(
        accepted=report.accepted,
        duplicate=report.duplicate,
        rejected=report.rejected,
        wall=timer.wall,
        cpu=timer.cpu,
        server_cpu=server_used,
        first_rejections=[f"line {r.line}: {r.reason}" for r in report.rejections[:3]],
        events_table=container.app.store.events_table_name,
    )


def ingest_once(
    database_url: str,
    feed_path: Path,
    batch_size: int,
    *,
    server_cpu_for: Callable[[Any], Callable[[], float] | None] | None = None,
) -> IngestRun:
    """One `jawazat ingest`-equivalent run: a new container (so a cold aggregate cache), then close."""
    container = open_container(database_url, batch_size)
    try:
        probe = server_cpu_for(container) if server_cpu_for else None
        return ingest_file(container, feed_path, server_cpu=probe)
    finally:
        container.close()


# ------------------------------------------------------------------------ rows for the raw baselines


@dataclass(frozen=True)
class TopicShape:
    topic: str
    count: int
    avg_state_bytes: int


def average_state_bytes(shapes: list[TopicShape]) -> float:
    total = sum(s.count for s in shapes)
    return sum(s.count * s.avg_state_bytes for s in shapes) / total if total else 0.0


def baseline_rows(shapes: list[TopicShape], *, uuid_as_hex: bool = False) -> list[tuple[Any, ...]]:
    """Rows shaped like the stored events: same count, same topics, same state size per topic.

    Originator ids are fresh uuids (about four events each, like the feed), versions count up per id,
    states are random bytes of the measured average size of their topic. Built before any clock starts.
    """
    rng = random.Random(7)
    topics: list[TopicShape] = []
    for shape in shapes:
        topics.extend([shape] * shape.count)
    rng.shuffle(topics)
    rows: list[tuple[Any, ...]] = []
    originator: Any = None
    version = 0
    for index, shape in enumerate(topics):
        if index % 4 == 0:
            originator = uuid.uuid4()
            version = 0
        version += 1
        state = os.urandom(shape.avg_state_bytes)
        rows.append((originator.hex if uuid_as_hex else originator, version, shape.topic, state))
    return rows
