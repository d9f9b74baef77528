"""`ingest`: the product's batch ingest path into a fresh PostgreSQL store, beside a raw-insert baseline.

Per round (each in its own throw-away database):
  1. ingest the generated feed exactly as `jawazat ingest FILE` does (validation, idempotency, domain
     rules, keyed saves), timed;
  2. re-ingest the same feed with a new container (every line a duplicate), timed;
  3. measure what was stored (events per topic, average `octet_length(state)` per topic);
  4. baseline: psycopg `executemany` of as many rows of the same shape (uuid, bigint, text, bytea of the
     measured size) into a fresh plain table, `--batch-size` rows per transaction, timed.
The figures are medians over rounds; the ratio is median ingest rate / median baseline rate.

    python -m bench.ingest [--events 200000] [--people 50000] [--rounds 3] [--batch-size 1000]
    python -m bench.ingest --profile [--profile-events 20000 --profile-people 5000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bench.common import (
    PgBackendCpu,
    Timer,
    chunked,
    code_under_test,
    dbname_of,
    fmt_rate,
    generated_feed,
    log,
    machine_note,
    median,
    pg_conninfo,
    pg_database,
    run_standalone,
    size_arguments,
    summary_line,
)
from bench.product import IngestRun, TopicShape, average_state_bytes, baseline_rows, ingest_once

NAME = "ingest"
FULL = {"events": 200_000, "people": 50_000, "rounds": 3}
QUICK = {"events": 20_000, "people": 5_000, "rounds": 3}
TARGET_RATE = 25_000
TARGET_RATIO = 0.5


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    sizes = QUICK if quick else FULL
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    size_arguments(parser, **sizes)
    parser.add_argument(
        "--extra-baselines",
        action="store_true",
        help="also time executemany into a table with the store's keys, and COPY (detail lines)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the benchmark, show where ingest time goes (stage timings and cProfile)",
    )
    parser.add_argument("--profile-events", type=int, default=20_000)
    parser.add_argument("--profile-people", type=int, default=5_000)
    parser.add_argument("--profile-top", type=int, default=25, help="cProfile rows to print")
    return parser


# ------------------------------------------------------------------------------------ measurements


def _backend_probe(container: Any) -> PgBackendCpu:
    return PgBackendCpu(container.database.dbname)


def pg_ingest_once(url: str, feed_path: Path, batch_size: int) -> IngestRun:
    probes: list[PgBackendCpu] = []

    def probe_for(container: Any) -> PgBackendCpu:
        probes.append(_backend_probe(container))
        return probes[-1]

    try:
        return ingest_once(url, feed_path, batch_size, server_cpu_for=probe_for)
    finally:
        for probe in probes:
            probe.close()


def stored_shapes(url: str, events_table: str) -> tuple[list[TopicShape], dict[str, int]]:
    """Stored events per topic with their average state size, and the store's table sizes in bytes."""
    import psycopg
    from psycopg.sql import SQL, Identifier

    with psycopg.connect(pg_conninfo(dbname_of(url))) as conn:
        shapes = [
            TopicShape(topic, count, round(avg))
            for topic, count, avg in conn.execute(
                SQL(
                    "SELECT topic, count(*), avg(octet_length(state)) FROM {} "
                    "GROUP BY topic ORDER BY count(*) DESC"
                ).format(Identifier(events_table))
            ).fetchall()
        ]
        sizes: dict[str, int] = dict(
            conn.execute(
                "SELECT relname::text, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relkind = 'r' AND (relname = %s OR relname LIKE 'jawazat%%')",
                (events_table,),
            ).fetchall()
        )
    return shapes, sizes


RAW_TABLE = "bench_raw_insert"
RAW_COLUMNS = "originator_id, originator_version, topic, state"


def _fresh_raw_table(conn: Any, *, keyed: bool) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
    if keyed:
        # The store's shape: bigserial notification id with a unique index, primary key on the
        # (originator_id, originator_version) pair.
        conn.execute(
            f"CREATE TABLE {RAW_TABLE} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
            "topic text, state bytea, notification_id bigserial, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute(f"CREATE UNIQUE INDEX ON {RAW_TABLE} (notification_id)")
    else:
        conn.execute(
            f"CREATE TABLE {RAW_TABLE} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
            "topic text NOT NULL, state bytea NOT NULL)"
        )


def pg_raw_insert(url: str, rows: list[tuple[Any, ...]], batch_size: int, *, keyed: bool = False) -> float:
    """psycopg `executemany`, `batch_size` rows per transaction, into a fresh table; seconds taken."""
    import psycopg

    with psycopg.connect(pg_conninfo(dbname_of(url)), autocommit=True) as conn:
        _fresh_raw_table(conn, keyed=keyed)
        statement = f"INSERT INTO {RAW_TABLE} ({RAW_COLUMNS}) VALUES (%s, %s, %s, %s)"
        with Timer() as timer, conn.cursor() as cursor:
            for chunk in chunked(rows, batch_size):
                with conn.transaction():
                    cursor.executemany(statement, chunk)
        (count,) = conn.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchone()  # type: ignore[misc]
        assert count == len(rows), (count, len(rows))
    return timer.wall


def pg_raw_copy(url: str, rows: list[tuple[Any, ...]], batch_size: int) -> float:
    """COPY, `batch_size` rows per transaction, into a fresh plain table; seconds taken."""
    import psycopg

    with psycopg.connect(pg_conninfo(dbname_of(url)), autocommit=True) as conn:
        _fresh_raw_table(conn, keyed=False)
        with Timer() as timer, conn.cursor() as cursor:
            for chunk in chunked(rows, batch_size):
                with (
                    conn.transaction(),
                    cursor.copy(f"COPY {RAW_TABLE} ({RAW_COLUMNS}) FROM STDIN") as copy,
                ):
                    for row in chunk:
                        copy.write_row(row)
    return timer.wall


# ------------------------------------------------------------------------------------------- bench


def run(args: argparse.Namespace) -> list[str]:
    if args.profile:
        return profile(args)
    log(code_under_test())
    log(machine_note())
    log(
        f"[ingest] PostgreSQL: {args.events:,} events over {args.people:,} people, "
        f"batch {args.batch_size}, {args.rounds} round(s)"
    )
    ingest_rates: list[float] = []
    duplicate_rates: list[float] = []
    baseline_rates: list[float] = []
    keyed_rates: list[float] = []
    copy_rates: list[float] = []
    with generated_feed(people=args.people, events=args.events, seed=args.seed) as feed_path:
        for number in range(1, args.rounds + 1):
            with pg_database() as url:
                first = pg_ingest_once(url, feed_path, args.batch_size)
                log(f"  round {number}: ingest     {first.describe()}")
                if first.rejected:
                    log(f"    WARNING: {first.rejected:,} rejected, e.g. {first.first_rejections}")
                again = pg_ingest_once(url, feed_path, args.batch_size)
                log(f"  round {number}: re-ingest  {again.describe()}")
                if again.accepted:
                    log(f"    WARNING: re-ingest accepted {again.accepted:,} events (expected none)")

                shapes, table_sizes = stored_shapes(url, first.events_table)
                stored = sum(s.count for s in shapes)
                rows = baseline_rows(shapes)
                seconds = pg_raw_insert(url, rows, args.batch_size)
                baseline = len(rows) / seconds
                log(
                    f"  round {number}: baseline   executemany {len(rows):,} rows "
                    f"(avg state {average_state_bytes(shapes):.0f} B over {len(shapes)} topics) "
                    f"in {seconds:.2f} s = {baseline:,.0f} rows/s; store holds {stored:,} events, "
                    + ", ".join(f"{k} {v / 1e6:.0f} MB" for k, v in sorted(table_sizes.items()))
                )
                if args.extra_baselines:
                    keyed = len(rows) / pg_raw_insert(url, rows, args.batch_size, keyed=True)
                    copied = len(rows) / pg_raw_copy(url, rows, args.batch_size)
                    keyed_rates.append(keyed)
                    copy_rates.append(copied)
                    log(
                        f"  round {number}: extra      executemany with the store's keys "
                        f"{keyed:,.0f} rows/s; COPY {copied:,.0f} rows/s"
                    )
                ingest_rates.append(stored / first.wall)
                duplicate_rates.append(again.total / again.wall)
                baseline_rates.append(baseline)
    log(machine_note() + " (at the end)")
    lines = [
        summary_line(
            "ingest",
            median(ingest_rates),
            "events/s",
            baseline=median(baseline_rates),
            baseline_label="baseline raw insert",
            rounds=args.rounds,
            target=f"≥ {TARGET_RATE:,} events/s and ratio ≥ {TARGET_RATIO}",
        ),
        summary_line(
            "ingest re-sent feed (all duplicates)",
            median(duplicate_rates),
            "events/s",
            rounds=args.rounds,
        ),
    ]
    if keyed_rates:
        lines.append(
            summary_line(
                "ingest baselines (extra)",
                median(keyed_rates),
                "rows/s executemany into a table with the store's keys",
                extra=f"COPY {fmt_rate(median(copy_rates))} rows/s",
                rounds=args.rounds,
            )
        )
    return lines


# ----------------------------------------------------------------------------------------- profile


def profile(args: argparse.Namespace) -> list[str]:
    """Where ingest time goes: per-stage wall/CPU, then cProfile's top functions (separate runs)."""
    from bench.profiling import cprofile_ingest, staged_ingest

    log(code_under_test())
    log(machine_note())
    log(
        f"[ingest --profile] PostgreSQL: {args.profile_events:,} events over "
        f"{args.profile_people:,} people, batch {args.batch_size}"
    )
    lines: list[str] = []
    with generated_feed(people=args.profile_people, events=args.profile_events, seed=args.seed) as feed_path:
        with pg_database() as url:
            report = staged_ingest(url, feed_path, args.batch_size)
        lines.extend(report)
        with pg_database() as url:
            lines.extend(cprofile_ingest(url, feed_path, args.batch_size, top=args.profile_top))
    return lines


def main(argv: list[str] | None = None) -> int:
    return run_standalone(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
