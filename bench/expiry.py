"""`expiry`: the passport-expiry job's scan over N people on PostgreSQL, and its event emission rate.

Two separate measurements, each in its own throw-away database:
  1. scan: N people COPYed straight into the people view (loading is not measured), every passport
     expiring inside the job's window, so every row is read and owes an event (the worst case: at a
     realistic spread of 5- and 10-year passports only ~3% of people fall in the window). Timed per round:
       - the scan: the job's planning pass (keyset pages of the calendar, the rules), no writes;
       - the same-day re-run: the whole job with every due event already recorded (its ids COPYed into
         the source-event-id table), i.e. the scan plus the idempotency probes, refusing all.
  2. emission: `--emit-people` people registered through the real ingest path, then the job records what
     they are owed through the real path (idempotency probe, batch load, domain commands, keyed saves);
     then a second run must emit nothing (exactly once).
Figures are medians of `--rounds` rounds. No baseline: the scan's own rate is the figure.

    python -m bench.expiry [--people 1000000] [--emit-people 20000] [--rounds 3] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from bench.common import (
    Timer,
    code_under_test,
    dbname_of,
    log,
    median,
    pg_conninfo,
    pg_database,
    run_standalone,
    summary_line,
)

NAME = "expiry"
FULL = {"people": 1_000_000, "emit_people": 20_000, "rounds": 3}
QUICK = {"people": 20_000, "emit_people": 2_000, "rounds": 3}
TARGET_SCAN_SECONDS = 5.0
TODAY = date(2026, 7, 1)
SPONSOR = "7001234567"


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    sizes = QUICK if quick else FULL
    parser = argparse.ArgumentParser(prog="python -m bench.expiry", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=sizes["people"], help="people in the view for the scan")
    parser.add_argument(
        "--emit-people",
        type=int,
        default=sizes["emit_people"],
        help="people registered through ingest for the emission rate",
    )
    parser.add_argument("--rounds", type=int, default=sizes["rounds"], help="rounds (median reported)")
    parser.add_argument("--batch-size", type=int, default=1000, help="people per page and per save")
    return parser


# --------------------------------------------------------------------------------------------- data


def visitor(serial: int) -> str:
    """Visitor ID numbers (3…) carry no check digit, so a million are cheap to make."""
    return f"3{serial:09d}"


def expiry_of(serial: int, window_days: int) -> date:
    """Spread over the job's window [today - catch-up, today + largest lead], every day used."""
    return TODAY + timedelta(days=serial % window_days - 30)


def open_container(url: str, batch_size: int) -> Any:
    from jawazat_events.bootstrap import bootstrap

    container = bootstrap(database_url=url, expiry_batch_size=batch_size, ingest_batch_size=batch_size)
    _ = container.read_models  # store and read-model tables, pool open: not measured
    return container


def copy_people(url: str, count: int, window_days: int) -> None:
    """Bulk-load the people view (COPY), then ANALYZE: the state the projection would have built."""
    import psycopg

    columns = (
        "id_number, name_ar, name_en, nationality, sponsor, passport_number, passport_issue_date, "
        "passport_expiry_date, registered_at"
    )
    with psycopg.connect(pg_conninfo(dbname_of(url))) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY people ({columns}) FROM STDIN") as copy:
            for n in range(1, count + 1):
                expiry = expiry_of(n, window_days)
                copy.write_row(
                    (
                        visitor(n),
                        "محمد علي",
                        "Mohammed Ali",
                        "IND",
                        SPONSOR,
                        f"P{n:08d}",
                        (expiry - timedelta(days=3652)).isoformat(),
                        expiry.isoformat(),
                        "2025-01-10T05:00:00+00:00",
                    )
                )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE people")


def copy_event_ids(url: str, event_ids: Iterator[str]) -> int:
    """Record these ids in the source-event-id table, as if the job had already emitted them."""
    import psycopg

    written = 0
    with psycopg.connect(pg_conninfo(dbname_of(url))) as conn:
        with (
            conn.cursor() as cur,
            cur.copy("COPY jawazat_event_ids (event_id, notification_id) FROM STDIN") as copy,
        ):
            for written, event_id in enumerate(event_ids, start=1):
                copy.write_row((event_id, written))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE jawazat_event_ids")
    return written


def registration_lines(count: int, window_days: int) -> Iterator[str]:
    import json

    for n in range(1, count + 1):
        expiry = expiry_of(n, window_days)
        yield json.dumps(
            {
                "event_id": f"reg-{n}",
                "type": "person_registered",
                "id_number": visitor(n),
                "occurred_at": "2025-01-10T08:00:00+03:00",
                "sponsor": SPONSOR,
                "name_ar": "محمد علي",
                "name_en": "Mohammed Ali",
                "nationality": "IND",
                "passport_number": f"P{n:08d}",
                "passport_issue_date": (expiry - timedelta(days=3652)).isoformat(),
                "passport_expiry_date": expiry.isoformat(),
            },
            ensure_ascii=False,
        )


# ------------------------------------------------------------------------------------- measurements


def scan_round(container: Any) -> tuple[float, int, int]:
    """The job's planning pass over the window: (seconds, people read, events owed)."""
    job = container.expiry
    rows = due = 0
    with Timer() as timer:
        for page in job.plan(today=TODAY):
            rows += page.scanned
            due += len(page.due)
    return timer.wall, rows, due


def rerun_round(container: Any) -> tuple[float, Any]:
    """The whole job when everything due is already recorded: scan plus idempotency probes."""
    with Timer() as timer:
        report = container.expiry.run(today=TODAY)
    return timer.wall, report


def measure_scan(args: argparse.Namespace, window_days: int) -> tuple[list[float], list[float], int, int]:
    scans: list[float] = []
    reruns: list[float] = []
    with pg_database() as url:
        container = open_container(url, args.batch_size)
        try:
            log(f"  loading {args.people:,} people into the view (COPY; not measured) ...")
            copy_people(url, args.people, window_days)
            for number in range(1, args.rounds + 1):
                seconds, rows, due = scan_round(container)
                scans.append(seconds)
                log(f"  round {number}: scan    {rows:,} people, {due:,} events owed, in {seconds:.2f} s")
            ids = (d.event_id for page in container.expiry.plan(today=TODAY) for d in page.due)
            log(f"  recorded {copy_event_ids(url, ids):,} event ids as already emitted (not measured)")
            for number in range(1, args.rounds + 1):
                seconds, report = rerun_round(container)
                reruns.append(seconds)
                log(f"  round {number}: re-run  {report.summary()} in {seconds:.2f} s")
                if report.emitted_total:
                    log(f"    WARNING: the re-run emitted {report.emitted_total:,} events (expected none)")
        finally:
            container.close()
    return scans, reruns, rows, due


def emission_round(args: argparse.Namespace, window_days: int, number: int) -> tuple[float, int, bool]:
    from jawazat_events.services.ingest import IngestReport, parse_lines

    with pg_database() as url:
        container = open_container(url, args.batch_size)
        try:
            report = IngestReport()
            for result, event_type in container.ingestor.ingest(
                parse_lines(registration_lines(args.emit_people, window_days))
            ):
                report.add(result, event_type)
            container.expiry.catch_up_view()  # the view's catch-up is the worker's cost, not emission's
            with Timer() as timer:
                first = container.expiry.run(today=TODAY)
            again = container.expiry.run(today=TODAY)
            stored = container.app.store.existing_event_ids(
                [d.event_id for page in container.expiry.plan(today=TODAY) for d in page.due]
            )
            once = again.emitted_total == 0 and len(stored) == first.emitted_total
            log(
                f"  round {number}: emit    {first.summary()} in {timer.wall:.2f} s "
                f"({first.emitted_total / timer.wall:,.0f} events/s); re-run emitted {again.emitted_total}, "
                f"store holds {len(stored):,}"
            )
            return timer.wall, first.emitted_total, once
        finally:
            container.close()


def run(args: argparse.Namespace) -> list[str]:
    from jawazat_events.services.expiry import ExpiryRules

    log(code_under_test())
    first, last = ExpiryRules().window(TODAY)
    window_days = (last - first).days + 1
    log(
        f"[expiry] PostgreSQL: scan {args.people:,} people, emission {args.emit_people:,} people, "
        f"{args.rounds} round(s)"
    )
    scans, reruns, rows, due = measure_scan(args, window_days)
    emissions = [emission_round(args, window_days, n) for n in range(1, args.rounds + 1)]
    emit_rates = [count / seconds for seconds, count, _ in emissions]
    scan_s, rerun_s = median(scans), median(reruns)
    return [
        f"expiry scan: {rows:,} people in {scan_s:.2f} s ({rows / scan_s:,.0f} people/s; every one in the "
        f"window, {due:,} events owed) ({_rounds(args.rounds)}; target ≤ {TARGET_SCAN_SECONDS:.0f} s for "
        "1,000,000)",
        f"expiry same-day re-run: {rows:,} people, {due:,} duplicates refused, 0 emitted in {rerun_s:.2f} s "
        f"({_rounds(args.rounds)})",
        summary_line(
            "expiry emission",
            median(emit_rates),
            "events/s",
            extra=(
                f"{emissions[0][1]:,} events for {args.emit_people:,} people through the real path; "
                f"exactly once: {'yes' if all(once for *_, once in emissions) else 'NO'}"
            ),
            rounds=args.rounds,
        ),
    ]


def _rounds(rounds: int) -> str:
    return "1 round" if rounds == 1 else f"median of {rounds} rounds"


def main(argv: list[str] | None = None) -> int:
    return run_standalone(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
