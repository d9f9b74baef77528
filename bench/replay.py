"""`replay`: rebuilding every projection from the PostgreSQL store, beside a plain scan, and `audit verify`.

The store is loaded once (generated feed through the product's ingest; establishments and subscriptions for
a share of the people after their registrations, so the fan-out makes alerts), then per round:
  1. baseline: a plain `SELECT` of every stored event's columns, streamed with a server-side cursor;
  2. `jawazat projections rebuild` (all read models dropped, then one streaming replay), timed;
  3. `jawazat audit verify` over the same store, timed.
Figures are medians over rounds; the ratio is rebuild events/s over scan rows/s. Loading is excluded.

    python -m bench.replay [--events 1000000] [--people 250000] [--rounds 3] [--store jawazat_bench_NAME]
                           [--processes N] [--partitions P] [--no-read-ahead] [--no-verify] [--profile]

`--store` keeps the loaded database for the next run (1M events take minutes to load); without it the
database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.common import (
    BENCH_DB_PREFIX,
    Timer,
    code_under_test,
    drop_pg_database,
    generated_feed,
    log,
    machine_note,
    median,
    pg_conninfo,
    pg_url,
    run_standalone,
    size_arguments,
    summary_line,
)

NAME = "replay"
FULL = {"events": 1_000_000, "people": 250_000, "rounds": 3}
QUICK = {"events": 20_000, "people": 5_000, "rounds": 3}
TARGET_RATE = 50_000
TARGET_RATIO = 0.3


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    sizes = QUICK if quick else FULL
    parser = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__.split("\n\n")[0])
    size_arguments(parser, **sizes, batch_size=5000)
    parser.add_argument(
        "--subscribed", type=float, default=0.1, help="share of people with a subscription (default 0.1)"
    )
    parser.add_argument(
        "--store", default=None, help=f"keep and reuse this database ({BENCH_DB_PREFIX}…) across runs"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="rebuild with this many processes (`rebuild --processes`)"
    )
    parser.add_argument(
        "--partitions", type=int, default=1, help="fan-out partitions of the rebuilt read models (default 1)"
    )
    parser.add_argument(
        "--no-read-ahead", action="store_true", help="read and decode each batch only when it is applied"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip `audit verify`")
    parser.add_argument(
        "--profile", action="store_true", help="one rebuild under cProfile: time by package, server CPU"
    )
    parser.add_argument("--profile-out", default=None, help="with --profile: write the pstats file here too")
    return parser


# ------------------------------------------------------------------------------------------ store


def _exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(pg_conninfo("postgres"), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


@contextmanager
def store(args: argparse.Namespace) -> Iterator[str]:
    """The loaded store's URL: made fresh (dropped afterwards), or kept under `--store`."""
    import psycopg
    from psycopg.sql import SQL, Identifier

    from bench.common import create_pg_database

    if args.store and not args.store.startswith(BENCH_DB_PREFIX):
        raise SystemExit(f"--store must name a database starting with {BENCH_DB_PREFIX}")
    name = args.store or create_pg_database()
    if args.store and not _exists(name):
        with psycopg.connect(pg_conninfo("postgres"), autocommit=True) as conn:
            conn.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    try:
        url = pg_url(name)
        load_in_child(url, args)
        yield url
    finally:
        if not args.store:
            drop_pg_database(name)


def load_in_child(url: str, args: argparse.Namespace) -> None:
    """`load` in a process of its own, so that this process's peak RSS is the rebuild's alone (loading a
    million events through the ingest would otherwise set it)."""
    import multiprocessing

    child = multiprocessing.get_context("spawn").Process(target=load, args=(url, args), name="bench-load")
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"loading the store failed (exit {child.exitcode}); see the output above")


def load(url: str, args: argparse.Namespace) -> None:
    """Ingest the generated feed, subscriptions after the registrations; skipped if already loaded."""
    from jawazat_events.bootstrap import bootstrap
    from jawazat_events.services.ingest import IngestReport, parse_lines

    container = bootstrap(database_url=url, ingest_batch_size=1000)
    try:
        head = container.app.recorder.max_notification_id() or 0
        if head:
            log(f"  store {url.rsplit('/', 1)[1]} already holds {head:,} events: reused")
            return
        with generated_feed(people=args.people, events=args.events, seed=args.seed) as feed:
            report = IngestReport()
            with Timer() as timer, open(feed, encoding="utf-8") as handle:
                registrations = [next(handle) for _ in range(args.people)]
                for result, kind in container.ingestor.ingest(parse_lines(registrations)):
                    report.add(result, kind)
                subscribed = subscribe(container, registrations, args)
                for result, kind in container.ingestor.ingest(parse_lines(handle)):
                    report.add(result, kind)
        stored = container.app.recorder.max_notification_id() or 0
        log(
            f"  loaded {report.accepted:,} events (+{subscribed:,} subscriptions) in {timer.wall:.0f} s "
            f"({stored / timer.wall:,.0f} events/s); store head {stored:,} (loading excluded from figures)"
        )
    finally:
        container.close()


def subscribe(container: Any, registrations: list[str], args: argparse.Namespace) -> int:
    """Establishments for every sponsor and subscriptions for every n-th person, saved 1,000 at a time."""
    from jawazat_events.domain.establishment import Establishment
    from jawazat_events.domain.subscription import Subscription
    from jawazat_events.generate import establishment_numbers

    app = container.app
    establishments = [
        Establishment.register(
            unified_number=n,
            name=f"Est {n}",
            email=f"{n}@bench.example",
            mobile=None,
            language="ar",
            api_key_hash="",
        )
        for n in establishment_numbers(args.people, args.seed)
    ]
    step = max(1, round(1 / args.subscribed)) if args.subscribed > 0 else 0
    subscriptions = []
    if step:
        for raw in registrations[::step]:
            item = json.loads(raw)
            subscriptions.append(
                Subscription(
                    unified_number=item["sponsor"],
                    id_number=item["id_number"],
                    notification_types=("entry_exit", "passport_renewal", "visa"),
                    mobile="+966500000000",
                    email=None,
                )
            )
    aggregates = [*establishments, *subscriptions]
    for start in range(0, len(aggregates), 1000):
        app.save(*aggregates[start : start + 1000])
    return len(subscriptions)


# ----------------------------------------------------------------------------------------- rounds


def events_table(url: str) -> str:
    from jawazat_events.bootstrap import bootstrap

    container = bootstrap(database_url=url)
    try:
        return str(container.app.store.events_table_name)
    finally:
        container.close()


def plain_scan(url: str, table: str) -> tuple[int, float]:
    """Baseline: every stored event's columns through a server-side cursor; (rows, seconds)."""
    import psycopg

    from bench.common import dbname_of

    rows = 0
    with (
        psycopg.connect(pg_conninfo(dbname_of(url))) as conn,
        Timer() as timer,
        conn.cursor(name="bench_scan") as cursor,
    ):
        cursor.itersize = 5000
        cursor.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, state FROM {table} "
            "ORDER BY notification_id"
        )
        for _ in cursor:
            rows += 1
    return rows, timer.wall


def rebuild_once(url: str, args: argparse.Namespace) -> tuple[Any, float, float]:
    """One `projections rebuild` of every read model; (report, wall seconds, PostgreSQL backend CPU)."""
    from bench.common import PgBackendCpu, dbname_of
    from jawazat_events.bootstrap import bootstrap

    container = bootstrap(database_url=url, fanout_partitions=args.partitions)
    probe = PgBackendCpu(dbname_of(url))
    try:
        _ = container.read_models
        before = probe()
        with Timer() as timer:
            report = container.rebuilder.rebuild(
                batch_size=args.batch_size, processes=args.processes, read_ahead=not args.no_read_ahead
            )
        return report, timer.wall, probe() - before
    finally:
        probe.close()
        container.close()


def peak_rss_mb() -> tuple[float, float]:
    """Peak RSS (MB) of this process (the rebuild when it runs alone) and of its largest child process."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def profile(args: argparse.Namespace) -> list[str]:
    """Where a rebuild's time goes: wall, client CPU by package (cProfile), PostgreSQL backend CPU."""
    import cProfile
    import pstats

    from bench.fanout import own_time_by_package

    with store(args) as url:
        profiler = cProfile.Profile()
        profiler.enable()
        report, wall, server = rebuild_once(url, args)
        profiler.disable()
    stats = pstats.Stats(profiler)
    if args.profile_out:
        stats.dump_stats(args.profile_out)
    total, packages = own_time_by_package(stats, top=14)
    return [
        f"replay cProfile: {report.head:,} events in {wall:.1f} s under the profiler "
        f"({report.head / wall:,.0f}/s); client CPU profiled {total:.1f} s; "
        f"PostgreSQL backend CPU {server:.1f} s; own time by package:",
        *packages,
    ]


def verify_once(url: str) -> tuple[Any, float]:
    from jawazat_events.audit.chain import verify
    from jawazat_events.bootstrap import bootstrap

    container = bootstrap(database_url=url)
    try:
        with Timer() as timer:
            report = verify(container.app.store)
        return report, timer.wall
    finally:
        container.close()


def run(args: argparse.Namespace) -> list[str]:
    if getattr(args, "profile", False):
        return profile(args)
    log(code_under_test())
    log(machine_note())
    log(
        f"[replay] PostgreSQL: {args.events:,} events over {args.people:,} people, "
        f"{args.subscribed:.0%} subscribed, rebuild batch {args.batch_size}, {args.rounds} round(s)"
    )
    scans: list[float] = []
    rebuilds: list[float] = []
    verifies: list[float] = []
    verify_seconds: list[float] = []
    with store(args) as url:
        table = events_table(url)
        for number in range(1, args.rounds + 1):
            rows, seconds = plain_scan(url, table)
            scans.append(rows / seconds)
            log(f"  round {number}: scan     {rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s")
            report, seconds, server = rebuild_once(url, args)
            rebuilds.append(report.head / seconds)
            log(
                f"  round {number}: rebuild  {report.head:,} events ({report.events_read:,} decoded, "
                f"{report.alerts_created:,} alerts) in {seconds:.2f} s = {report.head / seconds:,.0f}/s "
                f"(PostgreSQL backend CPU {server:.1f} s; {args.processes} process(es), "
                f"read-ahead {'off' if args.no_read_ahead else 'on'}, {args.partitions} partition(s))"
            )
            if args.no_verify:
                continue
            checked, seconds = verify_once(url)
            verifies.append(checked.events / seconds)
            verify_seconds.append(seconds)
            state = "intact" if checked.intact else f"FAILED: {checked.finding.sentence()}"
            log(f"  round {number}: verify   {checked.events:,} events in {seconds:.2f} s: {state}")
    log(machine_note() + " (at the end)")
    own_mb, child_mb = peak_rss_mb()
    lines = [
        summary_line(
            "replay",
            median(rebuilds),
            "events/s",
            baseline=median(scans),
            baseline_label="baseline plain SELECT scan",
            extra=f"{args.processes} process(es), read-ahead {'off' if args.no_read_ahead else 'on'}",
            rounds=args.rounds,
            target=f"≥ {TARGET_RATE:,} events/s and ratio ≥ {TARGET_RATIO}",
        ),
        f"memory-replay: peak RSS {own_mb:,.0f} MB (bench process running the rebuild), "
        f"{child_mb:,.0f} MB (largest process it started: the store's loading, or a rebuild share) over "
        f"{args.events:,} events "
        f"(target ≤ 300 MB)",
    ]
    if args.no_verify:
        return lines
    return [
        *lines,
        summary_line(
            "audit verify",
            median(verifies),
            "events/s",
            extra=f"{median(verify_seconds):.1f} s over {args.events:,} events",
            rounds=args.rounds,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    return run_standalone(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
