"""`api`: requests/s and p99 of `jawazat serve` on PostgreSQL under load, beside /healthz on the same server.

Per round (each in its own throw-away database):
  1. seed through the product's services: `--people` people registered, one establishment subscribed to
     every one of them, a source token (not timed);
  2. start `jawazat serve` on a free loopback port (rate limit lifted: one key makes all the load);
  3. for each target, `--connections` keep-alive connections send requests back to back for `--seconds`
     (after a short warm-up), timing each request from its first byte sent to its last byte received:
       healthz        GET /healthz (the baseline: the same server, auth-free, one store query)
       events         POST /v1/events, batches of `--batch` new border crossings (all accepted)
       subscriptions  GET /v1/subscriptions?limit=100, pages spread over the whole listing.
The load generator is a minimal HTTP/1.1 client on asyncio (raw sockets: far lighter than an HTTP
library), in this process; server, PostgreSQL and client share the machine's cores.
Figures are medians over rounds of requests/s and p99; ratios are to the /healthz requests/s.

    python -m bench.api [--people 2000] [--seconds 10] [--connections 8] [--batch 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import code_under_test, log, machine_note, median, pg_database, run_standalone, summary_line

NAME = "api"
FULL = {"people": 2000, "seconds": 10.0, "rounds": 3}
QUICK = {"people": 300, "seconds": 2.0, "rounds": 2}
SPONSOR = "7001234567"
STARTUP_SECONDS = 60


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    sizes = QUICK if quick else FULL
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=sizes["people"], help="people subscribed (seeded)")
    parser.add_argument(
        "--seconds", type=float, default=sizes["seconds"], help="load per target per round (seconds)"
    )
    parser.add_argument("--rounds", type=int, default=sizes["rounds"], help="rounds")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--batch", type=int, default=100, help="events per POST /v1/events")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds of unmeasured load per target")
    return parser


# ------------------------------------------------------------------------------------------- seeding


def _luhn(nine: str) -> str:
    from jawazat_events.generate import luhn_complete

    return luhn_complete(nine)


def people_numbers(count: int) -> list[str]:
    """Valid resident ID numbers, deterministic."""
    return [_luhn(f"2{n:08d}") for n in range(1, count + 1)]


@dataclass
class Seeded:
    key: str
    token: str
    people: list[str]
    cursors: list[str | None]


def seed(url: str, people: int) -> Seeded:
    """An establishment subscribed to `people` people, and a source token, through the product's services."""
    from jawazat_events.api.routers.subscriptions import encode_cursor
    from jawazat_events.bootstrap import bootstrap
    from jawazat_events.services.ingest import parse_items

    container = bootstrap(database_url=url)
    try:
        key = container.establishments.register(unified_number=SPONSOR, name="Bench", mobile="0501234567")
        token = container.tokens.issue(role="source", name="bench").token
        numbers = people_numbers(people)
        registrations = [
            {
                "event_id": f"reg-{number}",
                "type": "person_registered",
                "id_number": number,
                "occurred_at": "2025-01-10T08:00:00+03:00",
                "sponsor": SPONSOR,
                "name_ar": "محمد علي",
                "name_en": "Mohammed Ali",
                "nationality": "IND",
                "passport_number": f"P{number}",
                "passport_issue_date": "2020-03-01",
                "passport_expiry_date": "2030-02-28",
            }
            for number in numbers
        ]
        rejected = [
            r for r, _ in container.ingestor.ingest(parse_items(registrations)) if r.status != "accepted"
        ]
        if rejected:
            raise RuntimeError(f"seeding rejected {len(rejected)} registrations, e.g. {rejected[0]}")
        for number in numbers:
            container.establishments.subscribe(SPONSOR, number, notification_types=["entry_exit", "visa"])
        container.catch_up_index()
        # Page starts spread over the whole listing (the first page, then every 100th ID number).
        ordered = sorted(numbers)
        cursors: list[str | None] = [None] + [encode_cursor(n) for n in ordered[99:-100:100]]
        return Seeded(key=key, token=token, people=numbers, cursors=cursors)
    finally:
        container.close()


# -------------------------------------------------------------------------------------------- server


@dataclass
class Server:
    host: str
    port: int
    process: subprocess.Popen[str]


@contextmanager
def serve(url: str, log_path: Path, *, outbox: Path | None = None) -> Iterator[Server]:
    """`jawazat serve --port 0` on the database; its log lines go to a file (they are part of its cost)."""
    script = Path(sys.executable).with_name("jawazat")
    env = {**os.environ, "JAWAZAT_DATABASE_URL": url, "JAWAZAT_API_RATE_LIMIT_PER_MINUTE": str(10**9)}
    if outbox is not None:
        env["JAWAZAT_OUTBOX_DIR"] = str(outbox)
    process = subprocess.Popen(
        [str(script), "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stderr is not None
        with open(log_path, "w", encoding="utf-8") as copy:
            for text in process.stderr:
                copy.write(text)
                if "serving on" in text:
                    lines.put(text)

    threading.Thread(target=pump, daemon=True).start()
    try:
        try:
            first = lines.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            raise RuntimeError(f"jawazat serve did not start; see {log_path}") from None
        found = re.search(r"http://([\d.]+):(\d+)", first)
        if not found:
            raise RuntimeError(f"unexpected start line: {first!r}")
        yield Server(host=found.group(1), port=int(found.group(2)), process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------------------- load client


@dataclass
class Load:
    """What one target's measured window gave."""

    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def p99_ms(self) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000


def request_bytes(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _connection(
    server: Server,
    make: Callable[[], bytes],
    check: Callable[[int, bytes], str | None],
    *,
    warm_until: float,
    stop_at: float,
    load: Load,
) -> None:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    loop = asyncio.get_running_loop()
    try:
        while True:
            raw = make()
            started = loop.time()
            if started >= stop_at:
                return
            status, body = await _exchange(reader, writer, raw)
            ended = loop.time()
            if started < warm_until:
                continue
            load.requests += 1
            load.latencies.append(ended - started)
            problem = check(status, body)
            if problem:
                load.errors += 1
                load.first_error = load.first_error or problem
    finally:
        writer.close()


async def _drive(
    server: Server,
    makers: list[Callable[[], bytes]],
    check: Callable[[int, bytes], str | None],
    *,
    warmup: float,
    seconds: float,
) -> Load:
    loop = asyncio.get_running_loop()
    begin = loop.time()
    warm_until = begin + warmup
    stop_at = warm_until + seconds
    load = Load()
    await asyncio.gather(
        *(
            _connection(server, make, check, warm_until=warm_until, stop_at=stop_at, load=load)
            for make in makers
        )
    )
    # Requests started before `stop_at` are counted; the window runs until the last of them ended.
    load.seconds = max(seconds, loop.time() - warm_until)
    return load


def ok_status(status: int, body: bytes) -> str | None:
    return None if 200 <= status < 300 else f"HTTP {status}: {body[:200]!r}"


def all_accepted(status: int, body: bytes) -> str | None:
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    if b'"rejected":0' not in body or b'"duplicate":0' not in body:
        return f"not all accepted: {body[-120:]!r}"
    return None


def target_makers(
    name: str, seeded: Seeded, args: argparse.Namespace, round_number: int
) -> list[Callable[[], bytes]]:
    """One request factory per connection."""
    if name == "healthz":
        raw = request_bytes("GET", "/healthz", {})
        return [lambda: raw for _ in range(args.connections)]
    if name == "subscriptions":
        headers = {"Authorization": f"Bearer {seeded.key}"}
        pages = [
            request_bytes("GET", "/v1/subscriptions?limit=100" + (f"&cursor={c}" if c else ""), headers)
            for c in seeded.cursors
        ]

        def pager(offset: int) -> Callable[[], bytes]:
            state = {"n": offset}

            def make() -> bytes:
                state["n"] += 1
                return pages[state["n"] % len(pages)]

            return make

        return [pager(k) for k in range(args.connections)]
    headers = {"Authorization": f"Bearer {seeded.token}", "Content-Type": "application/json"}
    people = seeded.people

    def batcher(connection: int) -> Callable[[], bytes]:
        state = {"n": 0}

        def make() -> bytes:
            state["n"] += 1
            base = state["n"] * args.batch
            events = [
                {
                    "event_id": f"b{round_number}-{connection}-{base + i}",
                    "type": "border_crossing",
                    "id_number": people[(connection * 7919 + base + i) % len(people)],
                    "occurred_at": "2026-06-30T10:00:00+03:00",
                    "direction": "exit" if i % 2 else "entry",
                    "port": "RUH",
                }
                for i in range(args.batch)
            ]
            body = json.dumps({"events": events}, separators=(",", ":")).encode()
            return request_bytes("POST", "/v1/events", headers, body)

        return make

    return [batcher(k) for k in range(args.connections)]


TARGETS = ("healthz", "events", "subscriptions")


def run(args: argparse.Namespace) -> list[str]:
    import tempfile

    log(code_under_test())
    log(machine_note())
    log(
        f"[api] PostgreSQL: {args.people:,} subscribed people, {args.connections} connections, "
        f"{args.seconds:g} s per target, batches of {args.batch}, {args.rounds} round(s)"
    )
    results: dict[str, list[Load]] = {name: [] for name in TARGETS}
    with tempfile.TemporaryDirectory(prefix="jawazat_bench_api_") as folder:
        for number in range(1, args.rounds + 1):
            with pg_database() as url:
                seeded = seed(url, args.people)
                with serve(url, Path(folder) / f"serve-{number}.log") as server:
                    for name in TARGETS:
                        check = all_accepted if name == "events" else ok_status
                        load = asyncio.run(
                            _drive(
                                server,
                                target_makers(name, seeded, args, number),
                                check,
                                warmup=args.warmup,
                                seconds=args.seconds,
                            )
                        )
                        results[name].append(load)
                        log(
                            f"  round {number}: {name:<13} {load.requests:,} requests in {load.seconds:.2f}s "
                            f"= {load.rate:,.1f}/s; p99 {load.p99_ms():.1f} ms; errors {load.errors}"
                            + (f" (first: {load.first_error})" if load.errors else "")
                        )
    log(machine_note() + " (at the end)")

    def rate(name: str) -> float:
        return median([load.rate for load in results[name]])

    def p99(name: str) -> str:
        value = median([load.p99_ms() for load in results[name]])
        errors = sum(load.errors for load in results[name])
        return f"p99 {value:,.1f} ms" + (f"; {errors} errors" if errors else "")

    baseline = rate("healthz")
    return [
        summary_line(
            "api GET /healthz (baseline)", baseline, "requests/s", extra=p99("healthz"), rounds=args.rounds
        ),
        summary_line(
            f"api POST /v1/events ({args.batch} events/request)",
            rate("events"),
            "requests/s",
            baseline=baseline,
            baseline_label="baseline /healthz",
            baseline_unit="requests/s",
            extra=f"{rate('events') * args.batch:,.0f} events/s; {p99('events')}",
            rounds=args.rounds,
        ),
        summary_line(
            "api GET /v1/subscriptions (100/page)",
            rate("subscriptions"),
            "requests/s",
            baseline=baseline,
            baseline_label="baseline /healthz",
            baseline_unit="requests/s",
            extra=p99("subscriptions"),
            rounds=args.rounds,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    return run_standalone(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
