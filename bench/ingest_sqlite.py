"""`ingest-sqlite`: the product's batch ingest path into a fresh embedded SQLite store, beside a raw baseline.

Per round (each in a fresh file in its own temporary directory):
  1. ingest the generated feed exactly as `jawazat ingest FILE` does with `sqlite:///FILE`, timed;
  2. re-ingest the same feed with a new container (every line a duplicate), timed;
  3. measure what was stored (events per topic, average `length(state)` per topic);
  4. baseline: `sqlite3` `executemany` of as many rows of the same shape (hex uuid text, integer version,
     topic text, state blob of the measured size) into a plain table in another fresh file, WAL mode and
     default synchronous setting like the library's connections, `--batch-size` rows per transaction.

    python -m bench.ingest_sqlite [--events 200000] [--people 50000] [--rounds 3] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Any

from bench.common import (
    Timer,
    chunked,
    code_under_test,
    generated_feed,
    log,
    machine_note,
    median,
    run_standalone,
    size_arguments,
    sqlite_file,
    summary_line,
)
from bench.product import TopicShape, average_state_bytes, baseline_rows, ingest_once

NAME = "ingest-sqlite"
FULL = {"events": 200_000, "people": 50_000, "rounds": 3}
QUICK = {"events": 20_000, "people": 5_000, "rounds": 3}
TARGET_RATIO = 0.5


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    sizes = QUICK if quick else FULL
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest_sqlite", description=__doc__.split("\n\n")[0]
    )
    size_arguments(parser, **sizes)
    return parser


def stored_shapes(path: Path, events_table: str) -> tuple[list[TopicShape], int]:
    with sqlite3.connect(path) as conn:
        shapes = [
            TopicShape(topic, count, round(avg))
            for topic, count, avg in conn.execute(
                f'SELECT topic, count(*), avg(length(state)) FROM "{events_table}" '
                "GROUP BY topic ORDER BY count(*) DESC"
            ).fetchall()
        ]
    conn.close()
    return shapes, path.stat().st_size


def sqlite_raw_insert(path: Path, rows: list[tuple[Any, ...]], batch_size: int) -> float:
    """`executemany`, `batch_size` rows per transaction, into a plain table of a fresh WAL file."""
    conn = sqlite3.connect(path, isolation_level=None)  # explicit BEGIN/COMMIT, like the library
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE bench_raw_insert (originator_id TEXT, originator_version INTEGER, "
            "topic TEXT, state BLOB)"
        )
        statement = (
            "INSERT INTO bench_raw_insert (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)"
        )
        with Timer() as timer:
            for chunk in chunked(rows, batch_size):
                conn.execute("BEGIN")
                conn.executemany(statement, chunk)
                conn.execute("COMMIT")
        (count,) = conn.execute("SELECT count(*) FROM bench_raw_insert").fetchone()
        assert count == len(rows), (count, len(rows))
    finally:
        conn.close()
    return timer.wall


def run(args: argparse.Namespace) -> list[str]:
    log(code_under_test())
    log(machine_note())
    log(
        f"[ingest-sqlite] SQLite: {args.events:,} events over {args.people:,} people, "
        f"batch {args.batch_size}, {args.rounds} round(s)"
    )
    ingest_rates: list[float] = []
    duplicate_rates: list[float] = []
    baseline_rates: list[float] = []
    with generated_feed(people=args.people, events=args.events, seed=args.seed) as feed_path:
        for number in range(1, args.rounds + 1):
            with sqlite_file("store.db") as store_path:
                url = f"sqlite:///{store_path}"
                first = ingest_once(url, feed_path, args.batch_size)
                log(f"  round {number}: ingest     {first.describe()}")
                if first.rejected:
                    log(f"    WARNING: {first.rejected:,} rejected, e.g. {first.first_rejections}")
                again = ingest_once(url, feed_path, args.batch_size)
                log(f"  round {number}: re-ingest  {again.describe()}")
                if again.accepted:
                    log(f"    WARNING: re-ingest accepted {again.accepted:,} events (expected none)")
                shapes, size = stored_shapes(store_path, first.events_table)
                stored = sum(s.count for s in shapes)
                rows = baseline_rows(shapes, uuid_as_hex=True)
                seconds = sqlite_raw_insert(store_path.with_name("raw.db"), rows, args.batch_size)
                baseline = len(rows) / seconds
                log(
                    f"  round {number}: baseline   executemany {len(rows):,} rows "
                    f"(avg state {average_state_bytes(shapes):.0f} B) in {seconds:.2f} s = "
                    f"{baseline:,.0f} rows/s; store holds {stored:,} events in {size / 1e6:.0f} MB"
                )
                ingest_rates.append(stored / first.wall)
                duplicate_rates.append(again.total / again.wall)
                baseline_rates.append(baseline)
    log(machine_note() + " (at the end)")
    return [
        summary_line(
            "ingest-sqlite",
            median(ingest_rates),
            "events/s",
            baseline=median(baseline_rates),
            baseline_label="baseline raw insert",
            rounds=args.rounds,
            target=f"ratio ≥ {TARGET_RATIO}",
        ),
        summary_line(
            "ingest-sqlite re-sent feed (all duplicates)",
            median(duplicate_rates),
            "events/s",
            rounds=args.rounds,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    return run_standalone(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
