"""Cost per event of each stage, for `docs/capacity.md`: our CPU and PostgreSQL's WAL per event of ingest,
each read model, the fan-out, one batch of delivery (outbox, or SMTP and Twilio when their settings are in
the environment) and a rebuild; and the stored bytes per row. The store is `bench.fanout`'s (a generated
feed ingested, one subscription per person loaded by COPY): the rebuild, which replays only the store,
finds no subscriptions and makes no alerts.

Not a benchmark (no baseline, not in `REGISTRY`): a tool, like `bench.profiling`. WAL is read as the
server's `pg_current_wal_lsn()` before and after each stage (`--checkpoint`: after a `CHECKPOINT`, the
worst case, every page's first change logging a full-page image), so it counts every session's writes:
run it against a server nobody else is writing to, e.g. a private cluster on another port (`initdb`,
`pg_ctl start -o "-p 5499"`, then `BENCH_PG_PORT=5499`).

    python -m bench.stages [--events 40000] [--people 10000] [--deliver 1000] [--checkpoint]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.common import code_under_test, log, machine_note, pg_database, temp_dir

NAME = "stages"


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000 if quick else 40_000, help="feed size")
    parser.add_argument("--people", type=int, default=2_500 if quick else 10_000, help="people in the feed")
    parser.add_argument("--deliver", type=int, default=200 if quick else 1_000, help="alerts to deliver")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--checkpoint",
        action="store_true",
        help="CHECKPOINT before each stage: every page's first change then logs a full-page image (the worst "
        "case, as just after a checkpoint); by default a stage runs on from the last one's pages",
    )
    return parser


class Meter:
    """WAL bytes, wall time and this process's CPU time around one stage."""

    def __init__(self, url: str, *, checkpoint: bool) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.checkpoint = checkpoint

    def stage(self, name: str, work: Callable[[], Any], count: Callable[[Any], int]) -> tuple[Any, str]:
        if self.checkpoint:
            self.conn.execute("CHECKPOINT")
        row = self.conn.execute("SELECT pg_current_wal_lsn()").fetchone()
        assert row is not None
        started, cpu = time.perf_counter(), time.process_time()
        result = work()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        wal_row = self.conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (row[0],)).fetchone()
        wal = float(wal_row[0]) if wal_row else 0.0
        n = max(1, count(result))
        line = (
            f"stage {name}: {n:,} items in {wall:.2f} s = {n / wall:,.0f}/s; our CPU {1e6 * cpu / n:,.0f} µs "
            f"per item; WAL {wal / n:,.0f} B per item"
        )
        log("  " + line)
        return result, line

    def sizes(self, tables: list[str]) -> list[str]:
        lines = []
        for table in tables:
            found = self.conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
            if not (found and found[0]):
                continue
            row = self.conn.execute(
                f"SELECT pg_total_relation_size('{table}'), count(*) FROM {table}"
            ).fetchone()
            if row and row[1]:
                lines.append(
                    f"stored {table}: {row[1]:,} rows, {row[0] / 1e6:.1f} MB with indexes = "
                    f"{row[0] / row[1]:,.0f} B per row"
                )
        return lines

    def close(self) -> None:
        self.conn.close()


def run(args: argparse.Namespace) -> list[str]:
    from bench.fanout import Store, generate_feed, ingest, load_index
    from jawazat_events.audit.chain import CHAIN_TABLE
    from jawazat_events.bootstrap import bootstrap
    from jawazat_events.projections.runner import Follower
    from jawazat_events.projections.tables import ALERTS, PEOPLE
    from jawazat_events.store import EVENT_IDS_TABLE

    log(code_under_test())
    log(machine_note())
    log(f"[stages] {args.events:,} events over {args.people:,} people; {args.deliver:,} alerts delivered")
    lines: list[str] = []
    with temp_dir("jawazat_bench_stages_") as folder, pg_database() as url:
        container = bootstrap(database_url=url, outbox_dir=folder / "outbox", fanout_partitions=1)
        meter = Meter(url, checkpoint=args.checkpoint)
        try:
            _ = container.read_models
            sizes = argparse.Namespace(
                feed_people=args.people,
                events=args.events,
                seed=args.seed,
                subscriptions=args.people,
                establishments=max(1, args.people // 50),
            )
            store = Store(url=url, container=container)
            path = folder / "feed.jsonl"
            store.people = generate_feed(path, sizes)
            _, line = meter.stage("ingest", lambda: ingest(store, path), lambda _: args.events)
            lines.append(line)
            load_index(store, sizes)  # subscriptions by COPY (set-up, as in `fanout`)
            app, models = container.app, container.read_models
            for model in models.all():
                if model is not models.fanout:
                    _, line = meter.stage(
                        f"read model {model.name}", lambda m=model: Follower(app, m).drain(), lambda r: r.read
                    )
                    lines.append(line)
            made, line = meter.stage(
                "fan-out", lambda: Follower(app, models.fanout).drain(), lambda r: r.read
            )
            lines.append(line + f" ({made.alerts:,} alerts)")
            sent, line = meter.stage(
                "delivery",
                lambda: asyncio.run(container.delivery.deliver_batch(limit=args.deliver)),
                lambda s: s.claimed,
            )
            lines.append(line + f" (alerts; {dict((str(k), v) for k, v in sent.outcomes.items())})")
            _, line = meter.stage(
                "fan-out of the delivery events",
                lambda: Follower(app, models.fanout).drain(),
                lambda r: r.read,
            )
            lines.append(line)
            tables = [app.store.events_table_name, EVENT_IDS_TABLE, CHAIN_TABLE, ALERTS, PEOPLE]
            sized = meter.sizes(tables)
            head = app.recorder.max_notification_id() or 0
            _, line = meter.stage(
                "rebuild of every read model",
                lambda: container.rebuilder.rebuild(batch_size=5000),
                lambda _: head,
            )
            lines += [
                line + " (events; no subscriptions in the store, so no alerts)",
                *sized,
            ]
        finally:
            meter.close()
            container.close()
    return lines


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for line in run(args):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
