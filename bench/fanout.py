"""`fanout`: events from the store through subscription matching to alert records, exactly-once tracking
included, over a subscription index of 1,000,000 active subscriptions, beside the raw-insert baseline.

Set-up (never timed), in a fresh PostgreSQL database:
  1. a generated feed (`FeedGenerator`: registrations, then a year of crossings, visas, renewals, transfers,
     some late) goes through the product's ingest path, so the store holds real events;
  2. the subscription index (`subscription_versions`, `establishment_versions`) and the `people` view are
     loaded with COPY: one active subscription per person for `--subscriptions` people (the feed's people
     with their sponsors, the rest synthetic) over `--establishments` establishments, varied types and
     contacts; the fan-out reads only those index tables and the events;
  3. the index and people projections are brought up to the store's head (they find nothing to change).
Per round: the fan-out's alerts and tracking are dropped and made again, then
`Follower(app, fanout, batch_size=…).drain()` is timed: reading the notifications (topic-filtered), decoding,
one indexed look-up of subscription and contact versions per batch, alert rows, tracking record, commit.
Baseline (same run): psycopg `executemany` of rows shaped like the stored events into a plain table, same
batch size (bench.ingest's baseline). Memory: a separate process runs `Worker(deliver=False).run_once()`
over the same store (fan-out from scratch) under the memory benchmark's launcher; its peak RSS is reported.

    python -m bench.fanout [--subscriptions 1000000] [--establishments 10000] [--feed-people 100000]
                           [--events 300000] [--rounds 3] [--batch-size 1000]
    python -m bench.fanout --quick          (20,000 subscriptions, 200 establishments)
    python -m bench.fanout --profile        (cProfile of one drain instead of the rounds)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import (
    PgBackendCpu,
    Timer,
    dbname_of,
    fmt_int,
    log,
    median,
    pg_conninfo,
    pg_database,
    run_standalone,
    summary_line,
    temp_dir,
)

NAME = "fanout"
FULL = {"subscriptions": 1_000_000, "establishments": 10_000, "feed_people": 100_000, "events": 300_000}
QUICK = {"subscriptions": 20_000, "establishments": 200, "feed_people": 5_000, "events": 25_000}
TARGET_RATE = 20_000
TARGET_MB = 300
TYPES = ("entry_exit", "passport_expiry", "passport_renewal", "visa")


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    sizes = QUICK if quick else FULL
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (20,000 subscriptions)")
    parser.add_argument(
        "--subscriptions", type=int, default=sizes["subscriptions"], help="active subscriptions"
    )
    parser.add_argument("--establishments", type=int, default=sizes["establishments"])
    parser.add_argument("--feed-people", type=int, default=sizes["feed_people"], help="people with events")
    parser.add_argument(
        "--events", type=int, default=sizes["events"], help="feed size, registrations included"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1000, help="events per transaction, both sides")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-memory", action="store_true", help="skip the worker's peak-RSS measurement")
    parser.add_argument("--profile", action="store_true", help="cProfile one drain instead of the rounds")
    parser.add_argument("--profile-top", type=int, default=25)
    return parser


def resolve(args: argparse.Namespace) -> argparse.Namespace:
    """`--quick` on the command line means the quick sizes for everything not given explicitly."""
    if getattr(args, "quick", False):
        defaults = build_parser().parse_args([])
        for key, value in QUICK.items():
            if getattr(args, key) == getattr(defaults, key):
                setattr(args, key, value)
    if args.feed_people > args.subscriptions:
        raise SystemExit("--feed-people must not exceed --subscriptions (every person has a subscription)")
    return args


# ---------------------------------------------------------------------------------------------- set-up


@dataclass
class Store:
    """A prepared benchmark store: its URL, the container, and what the feed put in it."""

    url: str
    container: Any
    people: dict[str, dict[str, Any]] = field(default_factory=dict)  # the feed's registrations
    ingested: int = 0
    ingest_seconds: float = 0.0


def generate_feed(path: Path, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Write the generated feed; return its registrations by ID number."""
    from jawazat_events.generate import FeedGenerator

    people: dict[str, dict[str, Any]] = {}
    generator = FeedGenerator(people=args.feed_people, events=args.events, seed=args.seed)
    with open(path, "w", encoding="utf-8") as handle:
        for item in generator:
            if item["type"] == "person_registered":
                people[item["id_number"]] = item
            handle.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
            handle.write("\n")
    return people


def ingest(store: Store, path: Path) -> None:
    from jawazat_events.services.ingest import parse_lines

    with Timer() as timer, open(path, encoding="utf-8") as handle:
        statuses: defaultdict[str, int] = defaultdict(int)
        for result, _ in store.container.ingestor.ingest(parse_lines(handle)):
            statuses[str(result.status)] += 1
    store.ingested = statuses["accepted"]
    store.ingest_seconds = timer.wall
    log(
        f"  ingested the feed: {dict(statuses)} in {timer.wall:.1f} s "
        f"({store.ingested / timer.wall:,.0f} events/s, set-up only)"
    )


def unified_numbers(count: int, taken: set[str], rng: random.Random) -> list[str]:
    numbers = set(taken)
    while len(numbers) < count:
        numbers.add("7" + "".join(rng.choice("0123456789") for _ in range(9)))
    return sorted(numbers)


def synthetic_people(count: int, taken: set[str]) -> Iterator[str]:
    """Visitor numbers (4…, no check digit) not used by the feed."""
    serial = 0
    made = 0
    while made < count:
        serial += 1
        number = f"4{serial:09d}"
        if number not in taken:
            made += 1
            yield number


def load_index(store: Store, args: argparse.Namespace) -> tuple[int, int]:
    """COPY establishments' contacts, one active subscription per person, and the people view."""
    import psycopg

    from jawazat_events.projections.tables import ESTABLISHMENTS, PEOPLE, SUBSCRIPTIONS

    rng = random.Random(args.seed)
    sponsors = {p["sponsor"] for p in store.people.values()}
    establishments = unified_numbers(max(args.establishments, len(sponsors)), sponsors, rng)
    now = datetime.now(UTC).isoformat()
    people = list(store.people)
    people += synthetic_people(args.subscriptions - len(people), set(people))
    with Timer() as timer, psycopg.connect(pg_conninfo(dbname_of(store.url))) as conn, conn.cursor() as cur:
        with cur.copy(
            f"COPY {ESTABLISHMENTS} (unified_number, from_position, name, email, mobile, language, "
            "from_time) FROM STDIN"
        ) as copy:
            for n, unified in enumerate(establishments):
                copy.write_row(
                    (unified, 0, f"Est {n}", f"ops{n}@est.example.com", f"+96650{n % 10**7:07d}", "ar", now)
                )
        with cur.copy(
            f"COPY {SUBSCRIPTIONS} (unified_number, id_number, from_position, status, notification_types, "
            "mobile, email, since, from_time) FROM STDIN"
        ) as copy:
            for n, number in enumerate(people):
                registered = store.people.get(number)
                sponsor = registered["sponsor"] if registered else establishments[n % len(establishments)]
                # Most want entry/exit (the feed's commonest events); every type appears.
                chosen = {t for t in TYPES if rng.random() < 0.4} | (
                    {"entry_exit"} if rng.random() < 0.7 else set()
                )
                types = ",".join(sorted(chosen or {"visa"}))
                roll = rng.random()  # own contacts: none (defaults: SMS + e-mail), mobile, e-mail
                mobile = f"+96655{n % 10**7:07d}" if 0.4 <= roll < 0.8 else None
                email = f"desk{n}@example.com" if roll >= 0.8 else None
                copy.write_row((sponsor, number, 0, "active", types, mobile, email, now, now))
        with cur.copy(
            f"COPY {PEOPLE} (id_number, name_ar, name_en, nationality, sponsor, passport_number, "
            "passport_issue_date, passport_expiry_date, registered_at) FROM STDIN"
        ) as copy:
            for n, number in enumerate(people):
                r = store.people.get(number)
                if r:
                    copy.write_row(
                        (number, r["name_ar"], r["name_en"], r["nationality"], r["sponsor"],
                         r["passport_number"], r["passport_issue_date"], r["passport_expiry_date"],
                         r["occurred_at"])
                    )  # fmt: skip
                else:
                    sponsor = establishments[n % len(establishments)]
                    copy.write_row(
                        (
                            number,
                            "زائر",
                            "Visitor",
                            "IND",
                            sponsor,
                            f"P{n:08d}",
                            "2022-01-01",
                            "2032-01-01",
                            now,
                        )
                    )
        conn.commit()
        conn.autocommit = True
        for table in (ESTABLISHMENTS, SUBSCRIPTIONS, PEOPLE):
            conn.execute(f"ANALYZE {table}")
    log(
        f"  loaded with COPY: {len(establishments):,} establishments, {len(people):,} subscriptions and "
        f"people in {timer.wall:.1f} s"
    )
    return len(establishments), len(people)


def prepare(url: str, folder: Path, args: argparse.Namespace) -> Store:
    from jawazat_events.bootstrap import bootstrap
    from jawazat_events.projections.runner import Follower

    container = bootstrap(
        database_url=url, outbox_dir=folder / "outbox", fanout_partitions=1, ingest_batch_size=args.batch_size
    )
    _ = container.read_models  # tables made before the COPY
    store = Store(url=url, container=container)
    path = folder / "feed.jsonl"
    log(f"  generating a feed of {args.events:,} events over {args.feed_people:,} people ...")
    store.people = generate_feed(path, args)
    ingest(store, path)
    path.unlink()
    load_index(store, args)
    with Timer() as timer:
        app, models = container.app, container.read_models
        Follower(app, models.index, batch_size=args.batch_size).drain()
        Follower(app, models.people, batch_size=args.batch_size).drain()
    log(f"  index and people views brought to the store's head in {timer.wall:.1f} s (set-up only)")
    return store


def reset_fanout(container: Any) -> None:
    """Forget every alert and the fan-out's position, as a rebuild of that projection would."""
    fanout = container.read_models.fanout
    container.read_models.db.drop(list(fanout.tables), fanout.tracking_names())
    fanout.create_tables()


# ------------------------------------------------------------------------------------------ measuring


@dataclass
class Round:
    events: int
    alerts: int
    wall: float
    cpu: float
    server_cpu: float

    @property
    def rate(self) -> float:
        return self.events / self.wall

    def describe(self) -> str:
        return (
            f"{self.events:,} events → {self.alerts:,} alerts in {self.wall:.2f} s = "
            f"{self.rate:,.0f} events/s ({self.alerts / self.wall:,.0f} alerts/s; "
            f"client CPU {self.cpu:.2f} s, PostgreSQL backend CPU {self.server_cpu:.2f} s)"
        )


def drain_once(store: Store, batch_size: int) -> Round:
    from jawazat_events.projections.runner import Follower

    container = store.container
    reset_fanout(container)
    probe = PgBackendCpu(container.database.dbname)
    try:
        follower = Follower(container.app, container.read_models.fanout, batch_size=batch_size)
        server_before = probe()
        with Timer() as timer:
            result = follower.drain()
        server = probe() - server_before
    finally:
        probe.close()
    assert follower.lag() == 0, "the fan-out did not reach the store's head"
    return Round(result.read, result.alerts, timer.wall, timer.cpu, server)


def baseline(store: Store, events: int, batch_size: int) -> float:
    """psycopg executemany of `events` rows shaped like the stored alerting events; rows per second."""
    from bench.ingest import pg_raw_insert, stored_shapes
    from bench.product import TopicShape, baseline_rows
    from jawazat_events.projections.fanout import AlertFanout

    shapes, _ = stored_shapes(store.url, store.container.app.store.events_table_name)
    wanted = [s for s in shapes if s.topic in AlertFanout.topics]
    total = sum(s.count for s in wanted)
    scaled = [TopicShape(s.topic, round(s.count * events / total), s.avg_state_bytes) for s in wanted]
    rows = baseline_rows(scaled)
    seconds = pg_raw_insert(store.url, rows, batch_size)
    return len(rows) / seconds


_CHILD = """
import json, resource, sys
from jawazat_events.bootstrap import bootstrap
from jawazat_events.worker import Worker
container = bootstrap()
worker = Worker(container, deliver=False)
summary = worker.run_once()
worker.close()
container.close()
print(json.dumps({"read": summary.events_read, "alerts": summary.alerts_created,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def worker_peak_rss(store: Store, folder: Path, batch_size: int) -> tuple[float, str]:
    """Peak RSS (MB) of a worker process doing the whole fan-out of the store from scratch."""
    from bench.memory import run_child

    reset_fanout(store.container)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env.update(
        JAWAZAT_DATABASE_URL=store.url,
        JAWAZAT_OUTBOX_DIR=str(folder / "outbox"),
        JAWAZAT_PROJECTION_BATCH_SIZE=str(batch_size),
    )
    child = run_child([sys.executable, "-c", _CHILD], env, folder)
    report = json.loads(child.output.strip().splitlines()[-1])
    own_mb = report["maxrss_kb"] * 1024 / 1e6
    detail = (
        f"worker run_once: read {report['read']}, {report['alerts']:,} alerts in {child.seconds:.1f} s; "
        f"peak RSS {child.peak_mb:.0f} MB (launcher's ru_maxrss), {own_mb:.0f} MB (its own getrusage)"
    )
    return max(child.peak_mb, child.hwm_mb), detail


# ------------------------------------------------------------------------------------------------ run


def run(args: argparse.Namespace) -> list[str]:
    args = resolve(args)
    if args.profile:
        return profile(args)
    log(
        f"[fanout] PostgreSQL: {args.subscriptions:,} subscriptions over {args.establishments:,} "
        f"establishments; feed of {args.events:,} events over {args.feed_people:,} people; "
        f"batch {args.batch_size}, {args.rounds} round(s)"
    )
    rounds: list[Round] = []
    with temp_dir("jawazat_bench_fanout_") as folder, pg_database() as url:
        store = prepare(url, folder, args)
        try:
            for number in range(1, args.rounds + 1):
                result = drain_once(store, args.batch_size)
                log(f"  round {number}: fan-out  {result.describe()}")
                rounds.append(result)
            base = baseline(store, rounds[0].events, args.batch_size)
            log(f"  baseline: executemany {rounds[0].events:,} rows = {base:,.0f} rows/s")
            peak = None
            if not args.no_memory:
                peak, detail = worker_peak_rss(store, folder, args.batch_size)
                log(f"  memory: {detail}")
        finally:
            store.container.close()
    rate = median([r.rate for r in rounds])
    alerts_per_event = rounds[0].alerts / rounds[0].events
    lines = [
        summary_line(
            "fanout",
            rate,
            "events/s",
            baseline=base,
            baseline_label="baseline raw insert",
            extra=f"{fmt_int(args.subscriptions)} subscriptions; {alerts_per_event:.2f} alerts per event",
            rounds=args.rounds,
            target=f"≥ {TARGET_RATE:,} events/s",
        )
    ]
    if peak is not None:
        lines.append(
            f"memory-fanout: worker peak RSS {peak:,.0f} MB fanning out {rounds[0].events:,} events over "
            f"{fmt_int(args.subscriptions)} subscriptions (1 round; target ≤ {TARGET_MB} MB)"
        )
    return lines


def profile(args: argparse.Namespace) -> list[str]:
    """Where a drain's time goes: cProfile of one drain, own time by package and the top functions."""
    log(f"[fanout --profile] {args.subscriptions:,} subscriptions, feed of {args.events:,} events")
    with temp_dir("jawazat_bench_fanout_") as folder, pg_database() as url:
        store = prepare(url, folder, args)
        try:
            drain_once(store, args.batch_size)  # warm: caches, prepared statements, buffers
            profiler = cProfile.Profile()
            profiler.enable()
            result = drain_once(store, args.batch_size)
            profiler.disable()
        finally:
            store.container.close()
    stats = pstats.Stats(profiler)
    total, packages = own_time_by_package(stats, top=12)
    lines = [
        f"fanout cProfile: {result.describe()} under the profiler; own time by package "
        f"({total:.2f} s profiled)",
        *packages,
    ]
    for order in ("cumulative", "tottime"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats(order).print_stats(args.profile_top)
        table = buffer.getvalue().splitlines()
        start = next((i for i, text in enumerate(table) if "ncalls" in text), 0)
        lines.append(f"fanout cProfile: top {args.profile_top} by {order}")
        lines.extend("  " + text for text in table[start:] if text.strip())
    return lines


def own_time_by_package(stats: pstats.Stats, *, top: int) -> tuple[float, list[str]]:
    """The profiled total, and a line per package (the `top` largest) with its own time and share."""
    total = float(stats.total_tt)  # type: ignore[attr-defined]
    by_package: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_package[_package(filename)] += tottime
    ranked = sorted(by_package.items(), key=lambda item: -item[1])[:top]
    return total, [
        f"  {package:<44} {seconds:7.2f} s {100 * seconds / total:5.1f}%" for package, seconds in ranked
    ]


def _package(filename: str) -> str:
    if filename == "~":
        return "builtins / C extensions"
    for marker in ("site-packages/", "/projections/", "/src/jawazat_events/"):
        if marker in filename:
            rest = filename.split(marker, 1)[1]
            head = rest.split("/")[0].removesuffix(".py")
            return {"/projections/": "projections.", "/src/jawazat_events/": "jawazat_events."}.get(
                marker, ""
            ) + head
    if "/lib/python3" in filename:
        return "stdlib " + filename.rsplit("/", 1)[-1].removesuffix(".py")
    return filename


def main(argv: list[str] | None = None) -> int:
    return run_standalone(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
