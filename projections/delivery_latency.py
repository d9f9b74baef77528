"""Delivery latency as the delivery workers observed it: a histogram kept in the store, so that the API's
`/metrics` serves what every worker measured, on whichever host it runs.

One row per (channel, bucket): how many messages were accepted by their channel within that bucket's bound
(and above the previous one), and the sum of their latencies. A latency is the time from the alert's
event being recorded (`alerts.created_at`, the event's timestamp, taken as it is stored, so just before the
ingest's answer) to the channel accepting the message (the attempt's recorded time). The delivery worker
adds its group's observations in the transaction that applies the group's attempts to the alert rows
(`AlertQueue.apply`), in one order (channel, bound), so two workers never deadlock on these rows.

The rows are observations, not a projection of the record: a rebuild of the read models leaves them as
they are (like a Prometheus counter, they only grow). The table is bounded: channels x buckets rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from jawazat_events.projections.base import Sql
from jawazat_events.projections.tables import DELIVERY_LATENCY

# Upper bounds (seconds) of the histogram's buckets; +Inf is the last.
BUCKETS: tuple[float, ...] = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    math.inf,
)


def latency_schema() -> list[str]:
    """The histogram's table (an idempotent statement)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {DELIVERY_LATENCY} (channel TEXT NOT NULL, "
        "le DOUBLE PRECISION NOT NULL, n BIGINT NOT NULL, total_seconds DOUBLE PRECISION NOT NULL, "
        "PRIMARY KEY (channel, le))"
    ]


def bucket_of(seconds: float) -> float:
    """The upper bound of the bucket a latency falls in."""
    return next(le for le in BUCKETS if seconds <= le)


def observe(sql: Sql, observations: Iterable[tuple[str, float]]) -> None:
    """Add (channel, seconds) observations, one upsert per bucket touched, in (channel, bound) order."""
    counts: dict[tuple[str, float], tuple[int, float]] = {}
    for channel, seconds in observations:
        seconds = max(0.0, seconds)
        key = (channel, bucket_of(seconds))
        n, total = counts.get(key, (0, 0.0))
        counts[key] = (n + 1, total + seconds)
    sql.executemany(
        f"INSERT INTO {DELIVERY_LATENCY} (channel, le, n, total_seconds) VALUES (?, ?, ?, ?) "
        f"ON CONFLICT (channel, le) DO UPDATE SET n = {DELIVERY_LATENCY}.n + excluded.n, "
        f"total_seconds = {DELIVERY_LATENCY}.total_seconds + excluded.total_seconds",
        [(channel, le, n, total) for (channel, le), (n, total) in sorted(counts.items())],
    )


@dataclass
class ChannelLatency:
    """One channel's histogram: cumulative counts per upper bound (Prometheus' shape), and the sum."""

    buckets: list[tuple[float, int]] = field(default_factory=list)
    total_seconds: float = 0.0

    @property
    def count(self) -> int:
        return self.buckets[-1][1] if self.buckets else 0


def histograms(sql: Sql) -> dict[str, ChannelLatency]:
    """Every channel's histogram, read from the table (channels x buckets rows at most)."""
    found: dict[str, dict[float, tuple[int, float]]] = {}
    for row in sql.execute(f"SELECT channel, le, n, total_seconds FROM {DELIVERY_LATENCY}").fetchall():
        found.setdefault(str(row["channel"]), {})[float(row["le"])] = (
            int(row["n"]),
            float(row["total_seconds"]),
        )
    result: dict[str, ChannelLatency] = {}
    for channel, rows in sorted(found.items()):
        latency = ChannelLatency()
        running = 0
        for le in BUCKETS:
            n, total = rows.get(le, (0, 0.0))
            running += n
            latency.total_seconds += total
            latency.buckets.append((le, running))
        result[channel] = latency
    return result
