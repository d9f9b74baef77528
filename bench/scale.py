"""`scale`: fan-out throughput with 1, 2 and 4 worker processes sharing one PostgreSQL store's partitions,
beside the 1-worker figure of the same run (the baseline): does adding workers add throughput?

Set-up (never timed): the `fanout` benchmark's store (`bench.fanout.prepare`: a generated feed ingested
through the product, one active subscription per person loaded with COPY, the index and people views at
the store's head).
Per round and per worker count N: the fan-out's alerts and tracking are dropped (every partition starts at
0, the whole store is its backlog); N worker processes start (`Worker(deliver=False).run_forever()`, the
worker loop `jawazat worker` runs, delivery left out as in `fanout`) with `fanout_partitions` partitions;
while they start, this process holds every partition's advisory lock (a gate), so that no worker can take
more than its share before all N have announced themselves; then it lets go and times from there until
every partition's position has reached the store's head. Reported per N: events/s, the ratio to one
worker's, and the workers' CPU per event (each worker reads and decodes the whole backlog and applies only
its partitions' events, so this grows with N).

    python -m bench.scale [--workers 1,2,4] [--partitions 8] [--subscriptions 200000] [--events 100000]
                          [--feed-people 20000] [--establishments 2000] [--rounds 3] [--batch-size 1000]
    python -m bench.scale --quick      (20,000 subscriptions, 25,000 events, 1 round)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    code_under_test,
    log,
    machine_note,
    median,
    pg_database,
    process_cpu_seconds,
    run_standalone,
    summary_line,
    temp_dir,
)

NAME = "scale"
FULL = {"subscriptions": 200_000, "establishments": 2_000, "feed_people": 20_000, "events": 100_000}
QUICK = {"subscriptions": 20_000, "establishments": 200, "feed_people": 5_000, "events": 25_000}
ROUNDS = {"full": 3, "quick": 1}
START_TIMEOUT, DONE_TIMEOUT = 60.0, 600.0

# A worker process as `jawazat worker` runs one, without delivery: SIGTERM ends it after the current batch.
_WORKER = """
import signal
from jawazat_events.bootstrap import bootstrap
from jawazat_events.worker import Worker
container = bootstrap()
worker = Worker(container, deliver=False)
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda *_: worker.request_stop())
try:
    worker.run_forever(idle_wait=0.05)
finally:
    worker.close()
    container.close()
"""


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    sizes = QUICK if quick else FULL
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (20,000 subscriptions, 1 round)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to run, comma-separated (1 first)")
    parser.add_argument("--partitions", type=int, default=8, help="fan-out partitions (fanout_partitions)")
    parser.add_argument("--subscriptions", type=int, default=sizes["subscriptions"])
    parser.add_argument("--establishments", type=int, default=sizes["establishments"])
    parser.add_argument("--feed-people", type=int, default=sizes["feed_people"], help="people with events")
    parser.add_argument("--events", type=int, default=sizes["events"], help="feed, registrations included")
    parser.add_argument("--rounds", type=int, default=ROUNDS["quick" if quick else "full"])
    parser.add_argument("--batch-size", type=int, default=1000, help="events per transaction")
    parser.add_argument("--seed", type=int, default=1)
    return parser


def resolve(args: argparse.Namespace) -> argparse.Namespace:
    """`--quick` on the command line means the quick sizes for everything not given explicitly."""
    if getattr(args, "quick", False):
        defaults = build_parser().parse_args([])
        for key, value in [*QUICK.items(), ("rounds", ROUNDS["quick"])]:
            if getattr(args, key) == getattr(defaults, key):
                setattr(args, key, value)
    args.worker_counts = [int(n) for n in str(args.workers).split(",") if n.strip()]
    if not args.worker_counts or args.worker_counts[0] != 1:
        raise SystemExit("--workers must start with 1 (the same-run baseline)")
    if max(args.worker_counts) > args.partitions:
        raise SystemExit("--partitions must be at least the largest worker count")
    return args


@dataclass
class Round:
    workers: int
    events: int
    alerts: int
    wall: float
    worker_cpu: float

    @property
    def rate(self) -> float:
        return self.events / self.wall

    def describe(self) -> str:
        return (
            f"{self.workers} worker(s): {self.events:,} events → {self.alerts:,} alerts in "
            f"{self.wall:.2f} s = {self.rate:,.0f} events/s; workers' CPU {self.worker_cpu:.2f} s "
            f"({1e6 * self.worker_cpu / self.events:.0f} µs per event)"
        )


class Gate:
    """Every fan-out partition's advisory lock, held on a connection of this process until `open()`."""

    def __init__(self, url: str, partitions: int) -> None:
        import psycopg

        from jawazat_events import locks

        self.conn = psycopg.connect(url, autocommit=True)
        self.partition_locks = [locks.fanout_partition_lock(k) for k in range(partitions)]
        for lock in self.partition_locks:
            if not locks.try_lock(self.conn, lock):
                raise RuntimeError(f"partition lock {lock} is held by someone else")

    def live_workers(self) -> int:
        """Workers that have announced themselves (the claims make the heartbeat table on first use)."""
        from jawazat_events.projections.tables import HEARTBEATS

        made = self.conn.execute("SELECT to_regclass(%s) IS NOT NULL", (HEARTBEATS,)).fetchone()
        if not (made and made[0]):
            return 0
        row = self.conn.execute(f"SELECT count(*) FROM {HEARTBEATS}").fetchone()
        return int(row[0]) if row else 0

    def forget_workers(self) -> None:
        """Drop the heartbeats of the last round's workers (gone, or ageing out)."""
        from jawazat_events.projections.tables import HEARTBEATS

        if self.live_workers():
            self.conn.execute(f"DELETE FROM {HEARTBEATS}")

    def open(self) -> None:
        from jawazat_events import locks

        for lock in self.partition_locks:
            locks.unlock(self.conn, lock)

    def close(self) -> None:
        self.conn.close()


def start_workers(count: int, env: dict[str, str], folder: Path) -> list[subprocess.Popen[bytes]]:
    workers = []
    for n in range(count):
        with open(folder / f"worker-{count}-{n}.log", "ab") as out:
            workers.append(subprocess.Popen([sys.executable, "-c", _WORKER], env=env, stdout=out, stderr=out))
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def one_round(
    checker: Any, url: str, folder: Path, args: argparse.Namespace, count: int, events: int
) -> Round:
    """Reset the fan-out, start `count` workers behind the gate, open it, time the drain to the head."""
    from bench.fanout import reset_fanout
    from jawazat_events.projections.tables import ALERTS

    reset_fanout(checker)
    fanout = checker.read_models.fanout
    head = checker.app.recorder.max_notification_id() or 0
    gate = Gate(url, args.partitions)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env.update(
        JAWAZAT_DATABASE_URL=url,
        JAWAZAT_OUTBOX_DIR=str(folder / "outbox"),
        JAWAZAT_FANOUT_PARTITIONS=str(args.partitions),
        JAWAZAT_PROJECTION_BATCH_SIZE=str(args.batch_size),
    )
    workers: list[subprocess.Popen[bytes]] = []
    try:
        gate.forget_workers()
        workers = start_workers(count, env, folder)
        deadline = time.monotonic() + START_TIMEOUT
        while gate.live_workers() < count:
            if any(w.poll() is not None for w in workers) or time.monotonic() > deadline:
                raise RuntimeError(f"workers did not start: see {folder}/worker-{count}-*.log")
            time.sleep(0.05)
        cpu_before = [process_cpu_seconds(w.pid) or 0.0 for w in workers]
        started = time.perf_counter()
        gate.open()
        while min(fanout.positions().values()) < head:
            if time.perf_counter() - started > DONE_TIMEOUT:
                raise RuntimeError(f"fan-out not at {head} after {DONE_TIMEOUT} s: {fanout.positions()}")
            time.sleep(0.01)
        wall = time.perf_counter() - started
        cpu = sum((process_cpu_seconds(w.pid) or 0.0) - c for w, c in zip(workers, cpu_before, strict=True))
    finally:
        stop_workers(workers)
        gate.close()
    with checker.read_models.db.reading() as sql:
        row = sql.execute(f"SELECT count(*) AS n FROM {ALERTS}").fetchone()
    alerts = int(row["n"]) if row else 0
    return Round(count, events, alerts, wall, cpu)


def fanout_events(checker: Any) -> int:
    """How many stored events the fan-out reads (its topics): the backlog of every round."""
    table = checker.app.store.events_table_name
    topics = list(checker.read_models.fanout.topics)
    marks = ", ".join("?" for _ in topics)
    with checker.read_models.db.reading() as sql:
        row = sql.execute(f"SELECT count(*) AS n FROM {table} WHERE topic IN ({marks})", topics).fetchone()
    return int(row["n"]) if row else 0


def run(args: argparse.Namespace) -> list[str]:
    from bench.fanout import prepare
    from jawazat_events.bootstrap import bootstrap

    args = resolve(args)
    log(code_under_test())
    log(machine_note())
    log(
        f"[scale] PostgreSQL: {args.subscriptions:,} subscriptions, feed of {args.events:,} events over "
        f"{args.feed_people:,} people; {args.partitions} partitions; workers {args.worker_counts}; "
        f"batch {args.batch_size}, {args.rounds} round(s)"
    )
    rounds: dict[int, list[Round]] = {n: [] for n in args.worker_counts}
    with temp_dir("jawazat_bench_scale_") as folder, pg_database() as url:
        store = prepare(url, folder, args)
        store.container.close()
        checker = bootstrap(database_url=url, outbox_dir=folder / "outbox", fanout_partitions=args.partitions)
        try:
            events = fanout_events(checker)
            for number in range(1, args.rounds + 1):
                for count in args.worker_counts:
                    result = one_round(checker, url, folder, args, count, events)
                    log(f"  round {number}: {result.describe()}")
                    rounds[count].append(result)
        finally:
            checker.close()
    log(machine_note() + " (at the end)")
    base = median([r.rate for r in rounds[1]])
    lines = [
        summary_line(
            "scale 1 worker",
            base,
            "events/s",
            extra=f"fan-out over {args.partitions} partitions; the baseline of the lines below",
            rounds=args.rounds,
        )
    ]
    for count in args.worker_counts[1:]:
        cpu = median([1e6 * r.worker_cpu / r.events for r in rounds[count]])
        lines.append(
            summary_line(
                f"scale {count} workers",
                median([r.rate for r in rounds[count]]),
                "events/s",
                baseline=base,
                baseline_label="1 worker",
                baseline_unit="events/s",
                extra=f"workers' CPU {cpu:.0f} µs per event (1 worker: "
                f"{median([1e6 * r.worker_cpu / r.events for r in rounds[1]]):.0f})",
                rounds=args.rounds,
            )
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    return run_standalone(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
