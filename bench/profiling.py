"""Where ingest time goes: stage timers wrapped around the product's pieces, and cProfile.

Nothing in `src/` is changed: the stage timers are installed by wrapping functions and methods for the
duration of one run and removed afterwards. Each stage records inclusive wall and this-process CPU
seconds; nested stages are shown indented, with the unaccounted rest of a stage as "(self / other)".
Wall minus CPU of a DB stage is time spent waiting on PostgreSQL (or on the other core).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import log
from bench.product import IngestRun

_MISSING = object()


class StageTimer:
    def __init__(self) -> None:
        self.stack: list[str] = []
        self.wall: dict[tuple[str, ...], float] = defaultdict(float)
        self.cpu: dict[tuple[str, ...], float] = defaultdict(float)
        self.calls: dict[tuple[str, ...], int] = defaultdict(int)
        self._restore: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, attribute: str, stage: str) -> None:
        original = getattr(owner, attribute)
        self._restore.append((owner, attribute, owner.__dict__.get(attribute, _MISSING)))
        timer = self

        main_thread = threading.main_thread()

        def timed(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is not main_thread:  # pool workers: not ingest's path
                return original(*args, **kwargs)
            timer.stack.append(stage)
            path = tuple(timer.stack)
            wall0, cpu0 = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                timer.wall[path] += time.perf_counter() - wall0
                timer.cpu[path] += time.process_time() - cpu0
                timer.calls[path] += 1
                timer.stack.pop()

        timed.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(owner, attribute, timed)

    def unwrap(self) -> None:
        for owner, attribute, original in reversed(self._restore):
            if original is _MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
        self._restore.clear()

    def report(self, total_wall: float, total_cpu: float) -> list[str]:
        header = f"  {'stage':<58} {'wall s':>8} {'share':>6} {'cpu s':>8} {'calls':>8}"
        lines = [header, "  " + "-" * (len(header) - 2)]
        lines.append(
            f"  {'TOTAL ingest (read, parse, validate, store)':<58} {total_wall:8.2f} {100:5.0f}% "
            f"{total_cpu:8.2f} {'':>8}"
        )

        def children(parent: tuple[str, ...]) -> list[tuple[str, ...]]:
            found = [p for p in self.wall if len(p) == len(parent) + 1 and p[: len(parent)] == parent]
            return sorted(found, key=lambda p: -self.wall[p])

        def emit(parent: tuple[str, ...], wall: float, cpu: float, depth: int) -> None:
            kids = children(parent)
            for path in kids:
                label = "  " * depth + path[-1]
                lines.append(
                    f"  {label:<58} {self.wall[path]:8.2f} {100 * self.wall[path] / total_wall:5.1f}% "
                    f"{self.cpu[path]:8.2f} {self.calls[path]:8,}"
                )
                emit(path, self.wall[path], self.cpu[path], depth + 1)
            if kids:
                rest_wall = wall - sum(self.wall[p] for p in kids)
                rest_cpu = cpu - sum(self.cpu[p] for p in kids)
                rest = "(self / other)" if parent else "(other: file reading, batching, results)"
                label = "  " * depth + rest
                lines.append(
                    f"  {label:<58} {rest_wall:8.2f} {100 * rest_wall / total_wall:5.1f}% "
                    f"{rest_cpu:8.2f} {'':>8}"
                )

        emit((), total_wall, total_cpu, 0)
        return lines


def install_stage_timers(timer: StageTimer) -> None:
    import psycopg
    from eventsourcing.domain import CanInitAggregate, CanMutateAggregate
    from eventsourcing.persistence import JSONTranscoder, Mapper

    import jawazat_events.services.feed
    import jawazat_events.services.feed_codec
    from jawazat_events.domain.plausible import PlausibleWindow
    from jawazat_events.services.application import JawazatApplication
    from jawazat_events.services.event_decoding import EventDecoder
    from jawazat_events.services.event_rows import EventRows
    from jawazat_events.services.ingest import Ingestor
    from jawazat_events.store import PostgresEventStoreRecorder

    wraps: list[tuple[Any, str, str]] = [
        (jawazat_events.services.feed_codec, "decode", "decode + validate (msgspec, domain value checks)"),
        (jawazat_events.services.feed, "parse_event", "reference model (lines the codec leaves to it)"),
        (Ingestor, "_prepare", "Ingestor._prepare (a batch worked out)"),
        (PostgresEventStoreRecorder, "existing_event_ids", "store.existing_event_ids [DB]"),
        (JawazatApplication, "load_many", "app.load_many"),
        (PostgresEventStoreRecorder, "select_events_after", "store.select_events_after [DB]"),
        (EventDecoder, "to_domain_event", "decoder.to_domain_event (decode: msgspec)"),
        (Mapper, "to_domain_event", "mapper.to_domain_event (decode: what the decoder leaves)"),
        (PlausibleWindow, "business_time", "plausible times (domain.plausible)"),
        (PlausibleWindow, "document_date", "plausible times (domain.plausible)"),
        (Ingestor, "_apply", "build: domain rules, event, mutate"),
        (EventRows, "next_event", "next event made and applied (one step; else the two below)"),
        (EventRows, "create", "new aggregate (its __init__; else the library's mutate)"),
        (EventRows, "event", "event object from decided fields"),
        (EventRows, "apply", "event applied (its @event body; else the library's mutate)"),
        (CanMutateAggregate, "mutate", "event.mutate (library: apply to aggregate)"),
        (CanInitAggregate, "mutate", "event.mutate (library: new aggregate)"),
        (EventRows, "stored", "encode: stored event (msgspec; cipher when set)"),
        (JSONTranscoder, "encode", "transcoder.encode (json: states the fast path leaves)"),
        (JSONTranscoder, "decode", "transcoder.decode (json)"),
        (Ingestor, "_write", "write [DB]"),
        (PostgresEventStoreRecorder, "insert_events", "store.insert_events [DB]"),
        (
            PostgresEventStoreRecorder,
            "_insert_stored_events",
            "LOCK + NOTIFY + INSERT events (queued in pipeline)",
        ),
        (psycopg.Pipeline, "sync", "pipeline.sync (wait for INSERT results)"),
        (
            PostgresEventStoreRecorder,
            "_fetch_ids_after_insert_events",
            "fetch ids + INSERT event ids + chain links",
        ),
        (PostgresEventStoreRecorder, "_extend_chain", "chain links (sha256) + INSERT"),
        (psycopg.Transaction, "__exit__", "transaction exit (COMMIT)"),
        (psycopg.Pipeline, "__exit__", "pipeline exit (wait for COMMIT)"),
    ]
    for owner, attribute, stage in wraps:
        timer.wrap(owner, attribute, stage)


def staged_ingest(url: str, feed_path: Path, batch_size: int) -> list[str]:
    from bench.common import PgBackendCpu
    from bench.product import ingest_file, open_container

    container = open_container(url, batch_size)  # store opened before the timers go in
    # Serial, so that every stage runs on the main thread and the stages add up to the wall time.
    container.ingestor.overlap = False
    probe = PgBackendCpu(container.database.dbname)
    timer = StageTimer()
    install_stage_timers(timer)
    try:
        run = ingest_file(container, feed_path, server_cpu=probe)
    finally:
        timer.unwrap()
        probe.close()
        container.close()
    log(f"  staged run: {run.describe()}")
    lines = [
        f"ingest profile (stage timers, writer thread off; {run.total:,} events, batch {batch_size}; "
        f"{run.rate:,.0f} events/s with timers on; client CPU {run.cpu:.2f} s, "
        f"PostgreSQL backend CPU {run.server_cpu or 0:.2f} s, wall {run.wall:.2f} s):"
    ]
    lines.extend(timer.report(run.wall, run.cpu))
    return lines


def _package_of(filename: str) -> str:
    if filename == "~":
        return "builtins / C extensions"
    for marker in ("site-packages/", "src/"):
        if marker in filename:
            rest = filename.split(marker, 1)[1]
            parts = rest.split("/")
            if parts[0] == "jawazat_events" and len(parts) > 1:
                return "jawazat_events." + parts[1].removesuffix(".py")
            return parts[0].removesuffix(".py")
    if "/lib/python3" in filename:
        return "stdlib " + filename.rsplit("/", 1)[-1].removesuffix(".py")
    return filename


def cprofile_ingest(url: str, feed_path: Path, batch_size: int, *, top: int = 25) -> list[str]:
    from bench.product import ingest_file, open_container

    container = open_container(url, batch_size)
    container.ingestor.overlap = False  # cProfile sees the main thread only
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        run: IngestRun = ingest_file(container, feed_path)
        profiler.disable()
    finally:
        container.close()
    log(f"  cProfile run: {run.describe()}")
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]

    by_package: dict[str, float] = defaultdict(float)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        by_package[_package_of(filename)] += tottime

    lines = [
        f"ingest cProfile (writer thread off; {run.total:,} events; {total:.2f} s profiled; "
        f"{run.rate:,.0f} events/s under the profiler): own time by package",
    ]
    for package, seconds in sorted(by_package.items(), key=lambda item: -item[1])[:15]:
        lines.append(f"  {package:<50} {seconds:8.2f} s {100 * seconds / total:5.1f}%")

    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(top)
    table = buffer.getvalue().splitlines()
    start = next((i for i, text in enumerate(table) if "ncalls" in text), 0)
    lines.append(f"ingest cProfile: top {top} functions by own time")
    lines.extend("  " + text for text in table[start:] if text.strip())
    return lines
