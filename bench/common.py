"""Shared helpers for the benchmarks: throw-away stores, generated feeds, medians and summary lines.

Everything here talks to PostgreSQL on 127.0.0.1 only (override port/user with `BENCH_PG_PORT`,
`BENCH_PG_USER`, `BENCH_PG_PASSWORD`; the host is fixed). Databases are named `jawazat_bench_<random>` and
are always dropped afterwards, even when a round fails.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_HOST = "127.0.0.1"  # never anything else: the benchmarks create and drop databases
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("BENCH_PG_PASSWORD", "")
BENCH_DB_PREFIX = "jawazat_bench_"


# --------------------------------------------------------------------------------------------- output


def log(message: str) -> None:
    """Progress and per-round detail: stderr, so stdout carries only the summary lines."""
    print(message, file=sys.stderr, flush=True)


def fmt_int(value: float) -> str:
    return f"{round(value):,}"


def fmt_rate(value: float) -> str:
    """Rates rounded to three significant figures, as in `27,400 events/s`."""
    if value <= 0:
        return "0"
    if value >= 1000:
        digits = len(str(int(value)))
        step = 10 ** max(digits - 3, 0)
        return f"{int(round(value / step) * step):,}"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of no rounds")
    return float(statistics.median(values))


def rounds_note(rounds: int, target: str | None = None) -> str:
    note = "1 round" if rounds == 1 else f"median of {rounds} rounds"
    return f"({note}; target {target})" if target else f"({note})"


def summary_line(
    name: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    baseline_label: str = "baseline",
    baseline_unit: str = "rows/s",
    rounds: int | None = None,
    target: str | None = None,
    extra: str | None = None,
) -> str:
    """One summary line per figure, e.g.
    `ingest: 27,400 events/s; baseline raw insert 49,100 rows/s; ratio 0.56 (median of 3 rounds; target …)`.
    """
    parts = [f"{name}: {fmt_rate(value)} {unit}"]
    if baseline is not None:
        parts.append(f"{baseline_label} {fmt_rate(baseline)} {baseline_unit}")
        parts.append(f"ratio {value / baseline:.2f}" if baseline > 0 else "ratio n/a")
    if extra:
        parts.append(extra)
    line = "; ".join(parts)
    if rounds is not None:
        line += " " + rounds_note(rounds, target)
    elif target:
        line += f" (target {target})"
    return line


def emit(lines: Iterable[str]) -> list[str]:
    """Print summary lines to stdout (flushed) and hand them back."""
    printed = list(lines)
    for line in printed:
        print(line, flush=True)
    return printed


@dataclass
class Timer:
    """Wall and this-process CPU time of a block: `with Timer() as t: ...; t.wall, t.cpu`."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Timer:
        self._wall0 = time.perf_counter()
        self._cpu0 = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = time.process_time() - self._cpu0


# ----------------------------------------------------------------------------------------- PostgreSQL


def pg_conninfo(dbname: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD, dbname=dbname)


def pg_url(dbname: str) -> str:
    from urllib.parse import quote

    auth = quote(PG_USER, safe="")
    if PG_PASSWORD:
        auth += ":" + quote(PG_PASSWORD, safe="")
    return f"postgresql://{auth}@{PG_HOST}:{PG_PORT}/{dbname}"


def _admin_connection() -> Any:
    import psycopg

    return psycopg.connect(pg_conninfo("postgres"), autocommit=True)


def create_pg_database() -> str:
    """Create an empty `jawazat_bench_<random>` database; return its name."""
    from psycopg.sql import SQL, Identifier

    name = BENCH_DB_PREFIX + secrets.token_hex(5)
    with _admin_connection() as conn:
        conn.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    return name


def drop_pg_database(name: str) -> None:
    """Drop a benchmark database, ending any session still on it (only ever ours)."""
    from psycopg.sql import SQL, Identifier

    if not name.startswith(BENCH_DB_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a benchmark database")
    with _admin_connection() as conn:
        conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(name)))


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one round; yields its `postgresql://` URL."""
    name = create_pg_database()
    try:
        yield pg_url(name)
    finally:
        drop_pg_database(name)


def dbname_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


# --------------------------------------------------------------------------------------------- SQLite


@contextmanager
def temp_dir(prefix: str = "jawazat_bench_") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("BENCH_TMPDIR")))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def sqlite_file(name: str = "store.db") -> Iterator[Path]:
    """A path for a fresh SQLite database in its own temporary directory (removed afterwards)."""
    with temp_dir("jawazat_bench_sqlite_") as directory:
        yield directory / name


# ----------------------------------------------------------------------------------------------- feed


def write_feed(path: Path, *, people: int, events: int, seed: int = 1) -> float:
    """Write a generated feed as JSON lines; return how long generation took (never part of a figure)."""
    from jawazat_events.generate import FeedGenerator

    started = time.perf_counter()
    generator = FeedGenerator(people=people, events=events, seed=seed)
    with open(path, "w", encoding="utf-8") as handle:
        write = handle.write
        for line in generator.lines():
            write(line)
            write("\n")
    return time.perf_counter() - started


@contextmanager
def generated_feed(*, people: int, events: int, seed: int = 1) -> Iterator[Path]:
    """A temporary feed file of `events` events over `people` people."""
    with temp_dir("jawazat_bench_feed_") as directory:
        path = directory / f"feed-{events}-{people}-{seed}.jsonl"
        log(f"  generating feed: {events:,} events over {people:,} people (seed {seed}) ...")
        took = write_feed(path, people=people, events=events, seed=seed)
        size = path.stat().st_size
        log(f"  feed written: {size / 1e6:.1f} MB in {took:.1f} s (excluded from every figure)")
        yield path


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ------------------------------------------------------------------------------------------ arguments


def size_arguments(
    parser: argparse.ArgumentParser,
    *,
    events: int,
    people: int,
    rounds: int = 3,
    batch_size: int | None = 1000,
) -> None:
    parser.add_argument("--events", type=int, default=events, help=f"feed size (default {events:,})")
    parser.add_argument("--people", type=int, default=people, help=f"people registered (default {people:,})")
    parser.add_argument("--rounds", type=int, default=rounds, help=f"rounds (default {rounds})")
    parser.add_argument("--seed", type=int, default=1, help="feed generator seed (default 1)")
    if batch_size is not None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=batch_size,
            help=f"events per transaction, product and baseline alike (default {batch_size})",
        )


def standalone_main(
    build_parser: Callable[[], argparse.ArgumentParser],
    run: Callable[[argparse.Namespace], list[str]],
    argv: Sequence[str] | None = None,
) -> int:
    """`python -m bench.NAME [options]`: parse, run, print the summary lines."""
    args = build_parser().parse_args(argv)
    run(args)
    return 0


# ------------------------------------------------------------------------------ server-side CPU probe

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds of a local process from /proc, or None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


class PgBackendCpu:
    """CPU seconds used by the PostgreSQL backends serving one database (the server runs on this host).

    Call it for a running total; backends that come and go in between are counted from their start.
    Shared server processes (WAL writer, checkpointer) are not included.
    """

    def __init__(self, dbname: str) -> None:
        import psycopg

        self.dbname = dbname
        self.conn = psycopg.connect(pg_conninfo(dbname), autocommit=True)
        self.own_pid = self.conn.info.backend_pid
        self.seen: dict[int, float] = {}

    def __call__(self) -> float:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            (self.dbname, self.own_pid),
        ).fetchall()
        for (pid,) in rows:
            used = process_cpu_seconds(pid)
            if used is not None:
                self.seen[pid] = used
        return sum(self.seen.values())

    def close(self) -> None:
        self.conn.close()


def code_under_test() -> str:
    """Which product code a run measured: the checkout's commit, and whether src/ has local changes."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "code under test: unknown (no git)"
    state = f"{len(dirty)} uncommitted change(s) in src/" if dirty else "src/ clean"
    return f"code under test: {head} ({state})"


def machine_note() -> str:
    """The 1-minute load average against the core count: other work on the machine skews the figures."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return "machine load: unknown"
    return f"machine load: {load:.1f} (1-min average) on {os.cpu_count()} cores"


def run_standalone(
    build_parser: Callable[[], argparse.ArgumentParser],
    run: Callable[[argparse.Namespace], list[str]],
    argv: list[str] | None = None,
) -> int:
    """`python -m bench.MODULE [size arguments]`: run one benchmark alone and print its summary lines."""
    args = build_parser().parse_args(argv)
    for line in run(args):
        print(line, flush=True)
    return 0
