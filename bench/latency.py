"""`latency`: from an event's acknowledgement to its e-mail's arrival at an SMTP server on loopback (or,
with `--channel webhook`, its webhook's arrival at an HTTP receiver on loopback; `--channel both` measures
the e-mail figure and then the webhook figure in the same run, the e-mail one being the baseline).

Per round (each in its own throw-away PostgreSQL database):
  1. seed through the product's services (not timed): `--people` people, one establishment subscribed to
     each of them by e-mail only (so one event makes one alert and one e-mail), a source token;
  2. start an aiosmtpd server on loopback (in this process), a real `jawazat worker` process and, when
     the HTTP API exists, a real `jawazat serve` process (its per-key rate limit lifted: one token makes
     all the load), all on that database;
  3. feed border crossings at a steady `--rate` for `--seconds`: every `--interval` seconds the events
     that came due are posted as one request to `POST /v1/events` (at 200/s and 50 ms: 10 events per
     request; at 20/s: one), from as many concurrent requests as needed, so a slow answer never delays
     the next; an event's clock starts when the 2xx answer accepting it is read. Without the HTTP API,
     the same batches go through the library's ingest call (`container.ingestor.ingest(parse_items(...))`)
     at the same times, the clock starting at its return, and the summary line says so;
  4. wait up to `--drain` seconds after the last event for the messages. A message is matched to its
     event by its Message-ID: the alert id is uuid5 of (event id, establishment, channel).
Latency = arrival at the SMTP server - acknowledgement (one clock, this process). Events whose e-mail
did not come within the wait are split into "still queued" (late, not lost: no alert made yet, the alert
pending or retrying, or its message came while the worker was being stopped) and "lost" (never came, and
its alert failed, dead-lettered, or marked sent).

    python -m bench.latency [--rate 200] [--seconds 60] [--interval 0.05] [--people 2000] [--drain 60]
    python -m bench.latency --quick [--email-rate 1000]   # small sizes; what-if: e-mail rate limit raised
    python -m bench.latency --channel both                # e-mail, then webhooks (latency-webhook)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import code_under_test, log, machine_note, median, pg_database

NAME = "latency"
FULL = {"rate": 200.0, "seconds": 60.0, "people": 2000, "drain": 60.0, "rounds": 1}
QUICK = {"rate": 20.0, "seconds": 10.0, "people": 200, "drain": 30.0, "rounds": 1}
SPONSOR = "7001234567"
RECIPIENT = "ops@bench.example"
TARGET_P99_MS = 500.0
LIGHT_TARGET_P99_MS = 200.0  # at LIGHT_RATE events/s or fewer
LIGHT_RATE = 20.0
LOOPBACK_HOST = "127.0.0.1"
STARTUP_SECONDS = 60.0


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    sizes = QUICK if quick else FULL
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=sizes["rate"], help="events per second")
    parser.add_argument("--seconds", type=float, default=sizes["seconds"], help="how long events are fed")
    parser.add_argument(
        "--interval", type=float, default=0.05, help="seconds between posts (the events due go together)"
    )
    parser.add_argument("--people", type=int, default=sizes["people"], help="people subscribed (seeded)")
    parser.add_argument(
        "--drain", type=float, default=sizes["drain"], help="seconds to wait for messages after the feed"
    )
    parser.add_argument("--rounds", type=int, default=sizes["rounds"], help="rounds (median of each figure)")
    parser.add_argument(
        "--feed",
        choices=("auto", "http", "library"),
        default="auto",
        help="how events enter: POST /v1/events, the library's ingest call, or http when the API exists",
    )
    parser.add_argument(
        "--channel",
        choices=("email", "webhook", "both"),
        default="email",
        help="what the establishment receives: e-mail (SMTP), webhooks (HTTP receiver), or both in turn",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="`jawazat worker` processes (they share fan-out partitions and delivery claims)",
    )
    parser.add_argument(
        "--email-rate",
        type=float,
        default=None,
        help="what-if: start the worker with EmailChannel.max_per_second set to this (not configurable yet)",
    )
    return parser


# ------------------------------------------------------------------------------------------- seeding


@dataclass(frozen=True)
class Seeded:
    token: str
    people: list[str]


def people_numbers(count: int) -> list[str]:
    from jawazat_events.generate import luhn_complete

    return [luhn_complete(f"2{serial:08d}") for serial in range(1, count + 1)]


def seed(url: str, people: int, webhook_url: str | None = None) -> Seeded:
    """One establishment subscribed to `people` people, by e-mail only (or by webhook only when
    `webhook_url` is given), and a source token."""
    from jawazat_events.bootstrap import bootstrap
    from jawazat_events.services.ingest import parse_items

    container = bootstrap(database_url=url, webhook_allow_hosts=LOOPBACK_HOST)
    try:
        _ = container.read_models  # tables made before the worker starts
        container.establishments.register(
            unified_number=SPONSOR,
            name="Bench Contracting",
            email=None if webhook_url else RECIPIENT,
            language="en",
        )
        if webhook_url:
            change = container.channel_service.prepare(webhook_url=webhook_url)
            container.establishments.update_defaults(SPONSOR, channels=change)
        token = container.tokens.issue(role="source", name="latency-bench").token
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
        refused = [
            r for r, _ in container.ingestor.ingest(parse_items(registrations)) if r.status != "accepted"
        ]
        if refused:
            raise RuntimeError(f"seeding refused {len(refused)} registrations, e.g. {refused[0]}")
        for number in numbers:
            container.establishments.subscribe(SPONSOR, number, notification_types=["entry_exit"])
        return Seeded(token=token, people=numbers)
    finally:
        container.close()


def crossing(round_number: int, index: int, people: list[str]) -> dict[str, Any]:
    return {
        "event_id": f"lat-{round_number}-{index}",
        "type": "border_crossing",
        "id_number": people[index % len(people)],
        "occurred_at": "2026-06-30T10:00:00+03:00",
        "direction": "exit" if index % 2 else "entry",
        "port": "RUH",
    }


# ----------------------------------------------------------------------------------------- processes


def http_api_available() -> bool:
    """True when `jawazat serve` and `POST /v1/events` exist in this checkout."""
    try:
        from jawazat_events.api.routers import events
        from jawazat_events.cli import api_commands
    except ImportError:
        return False
    return events.router.prefix == "/v1/events" and hasattr(api_commands, "serve")


def jawazat() -> str:
    return str(Path(sys.executable).with_name("jawazat"))


def worker_command(email_rate: float | None) -> list[str]:
    if email_rate is None:
        return [jawazat(), "worker"]
    # What-if only: the e-mail channel's rate is a class default today, with no setting to change it.
    code = (
        "import sys; from jawazat_events.subscribers.email import EmailChannel; "
        f"EmailChannel.max_per_second = {float(email_rate)!r}; "
        "from jawazat_events.cli import main; sys.argv = ['jawazat', 'worker']; main()"
    )
    return [sys.executable, "-c", code]


@contextmanager
def process(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process (output to a file), stopped with SIGTERM (then killed) afterwards."""
    with open(log_path, "wb") as output:
        child = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def wait_for_port_line(log_path: Path, child: subprocess.Popen[bytes]) -> int:
    """The port `jawazat serve` announces on its first line."""
    import re

    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        found = re.search(r"serving on http://127\.0\.0\.1:(\d+)", log_path.read_text("utf-8", "replace"))
        if found:
            return int(found.group(1))
        if child.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"jawazat serve did not start; see {log_path}")


# ---------------------------------------------------------------------------------------------- feed


@dataclass
class Fed:
    """What the feeder saw: acknowledgement time per event id, answer times, refusals."""

    acked: dict[str, float] = field(default_factory=dict)
    answer_ms: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    @property
    def achieved_rate(self) -> float:
        span = self.finished - self.started
        return len(self.acked) / span if span > 0 else 0.0


def batches(
    events: list[dict[str, Any]], rate: float, interval: float
) -> list[tuple[float, list[dict[str, Any]]]]:
    """(offset in seconds, events due by then) for every tick of `interval` with something due."""
    ticks: dict[int, list[dict[str, Any]]] = {}
    for index, event in enumerate(events):
        ticks.setdefault(int(index / rate / interval), []).append(event)
    return [(tick * interval, due) for tick, due in sorted(ticks.items())]


async def feed_http(port: int, token: str, events: list[dict[str, Any]], rate: float, interval: float) -> Fed:
    import aiohttp

    fed = Fed()
    url = f"http://127.0.0.1:{port}/v1/events"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:

        async def post(due: list[dict[str, Any]]) -> None:
            body = json.dumps({"events": due}, separators=(",", ":"))
            sent = time.time()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    text = await response.text()
                    answered = time.time()
            except aiohttp.ClientError as error:
                fed.refused.extend(f"{e['event_id']}: {type(error).__name__}: {error}" for e in due)
                return
            results = json.loads(text).get("results", []) if response.status == 200 else []
            accepted = {r["event_id"] for r in results if r.get("status") == "accepted"}
            fed.answer_ms.append((answered - sent) * 1000)
            for event in due:
                if event["event_id"] in accepted:
                    fed.acked[event["event_id"]] = answered
                else:
                    fed.refused.append(f"{event['event_id']}: HTTP {response.status}: {text[:200]}")

        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[None]] = []
        fed.started = time.time()
        start = loop.time()
        for offset, due in batches(events, rate, interval):
            delay = start + offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(due)))
        await asyncio.gather(*tasks)
        fed.finished = time.time()
    return fed


def feed_library(url: str, events: list[dict[str, Any]], rate: float, interval: float) -> Fed:
    from jawazat_events.bootstrap import bootstrap
    from jawazat_events.services.ingest import parse_items

    fed = Fed()
    container = bootstrap(database_url=url)
    try:
        _ = container.ingestor, container.app
        fed.started = start = time.time()
        for offset, due in batches(events, rate, interval):
            delay = start + offset - time.time()
            if delay > 0:
                time.sleep(delay)
            sent = time.time()
            results = list(container.ingestor.ingest(parse_items(due)))
            answered = time.time()
            fed.answer_ms.append((answered - sent) * 1000)
            for result, _ in results:
                if result.status == "accepted" and result.event_id:
                    fed.acked[result.event_id] = answered
                else:
                    fed.refused.append(f"{result.event_id}: {result.status}: {result.reason}")
        fed.finished = time.time()
    finally:
        container.close()
    return fed


# ------------------------------------------------------------------------------------------- a round


@dataclass
class Round:
    events: int
    acked: int
    arrived: int
    lost: int
    queued: int
    refused: int
    duplicates: int
    achieved_rate: float
    answer_p50_ms: float
    answer_p99_ms: float
    statuses: dict[str, int]
    # (seconds from the first acknowledgement, latency ms) per message: when in the run the tail came.
    timeline: list[tuple[float, float]] = field(default_factory=list)

    @property
    def latencies_ms(self) -> list[float]:
        return [latency for _, latency in self.timeline]

    def p99_by_window(self, seconds: float = 10.0) -> list[float]:
        """The p99 latency of the messages acknowledged in each window of the run, in order."""
        windows: dict[int, list[float]] = {}
        for offset, latency in self.timeline:
            windows.setdefault(int(offset // seconds), []).append(latency)
        return [percentile(windows[k], 0.99) for k in sorted(windows)]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: a p99 is a latency some message really had)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return ordered[rank - 1]


def alert_statuses(url: str) -> dict[str, str]:
    """alert id -> status, read straight from the alerts table."""
    import psycopg

    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT alert_id, status FROM alerts").fetchall())


class SmtpSink:
    """Arrivals at the loopback SMTP server, keyed by Message-ID."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def arrivals(self, start: int) -> tuple[list[tuple[str, float]], int]:
        """(key, arrival time) of the messages from `start` on, and where the next call starts."""
        import email
        import email.policy

        received, times = list(self.handler.received), list(self.handler.received_at)
        found = [
            (str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"]), at)
            for (_, _, raw), at in zip(received[start:], times[start:], strict=False)
        ]
        return found, min(len(received), len(times))

    def duplicates(self) -> int:
        seen = Counter(self.handler.message_ids())
        return sum(n - 1 for n in seen.values() if n > 1)


class HookSink:
    """Arrivals at the loopback webhook receiver (answered 2xx), keyed by `webhook-id` (the alert id)."""

    def __init__(self, receiver: Any) -> None:
        self.receiver = receiver

    def arrivals(self, start: int) -> tuple[list[tuple[str, float]], int]:
        requests = self.receiver.requests()
        return [(r.headers.get("webhook-id", ""), r.at) for r in requests[start:]], len(requests)

    def duplicates(self) -> int:
        seen = Counter(r.headers.get("webhook-id") for r in self.receiver.accepted())
        return sum(n - 1 for n in seen.values() if n > 1)


@contextmanager
def sink_for(channel: str) -> Iterator[tuple[Any, dict[str, str], Any]]:
    """The loopback server of the channel: (sink, worker environment, the receiver's URL or None)."""
    from tests.support.servers import running_receiver, running_smtp

    if channel == "webhook":
        with running_receiver() as receiver:
            yield HookSink(receiver), {"JAWAZAT_WEBHOOK_ALLOW_HOSTS": LOOPBACK_HOST}, receiver.url
    else:
        with running_smtp() as smtp:
            yield SmtpSink(smtp.handler), {"JAWAZAT_SMTP_URL": smtp.url}, None


def message_key(event_id: str, channel: str) -> str:
    """How the channel's message names its alert: the e-mail's Message-ID, or the webhook-id."""
    from jawazat_events.projections.fanout import alert_id

    key = alert_id(event_id, SPONSOR, channel)
    return f"<{key}@jawazat.example>" if channel == "email" else key


def run_round(
    number: int, args: argparse.Namespace, mode: str, folder: Path, channel: str = "email"
) -> Round:
    from jawazat_events.projections.fanout import alert_id

    count = int(args.rate * args.seconds)
    with pg_database() as url, sink_for(channel) as (sink, channel_env, webhook_url):
        seeded = seed(url, args.people, webhook_url)
        events = [crossing(number, index, seeded.people) for index in range(count)]
        expected = {message_key(e["event_id"], channel): e["event_id"] for e in events}
        env = {
            **os.environ,
            **channel_env,
            "JAWAZAT_DATABASE_URL": url,
            "JAWAZAT_OUTBOX_DIR": str(folder / "outbox"),
            "JAWAZAT_API_RATE_LIMIT_PER_MINUTE": str(10**9),
        }
        with ExitStack() as workers:
            for index in range(args.workers):
                worker_log = folder / f"worker-{channel}-{number}-{index}.log"
                workers.enter_context(process(worker_command(args.email_rate), env, worker_log))
            if mode == "http":
                serve_log = folder / f"serve-{channel}-{number}.log"
                with process(
                    [jawazat(), "serve", "--host", "127.0.0.1", "--port", "0"], env, serve_log
                ) as api:
                    port = wait_for_port_line(serve_log, api)
                    fed = asyncio.run(feed_http(port, seeded.token, events, args.rate, args.interval))
                    arrived_by_id = wait_for_messages(sink, expected, fed, args.drain)
            else:
                fed = feed_library(url, events, args.rate, args.interval)
                arrived_by_id = wait_for_messages(sink, expected, fed, args.drain)
        # A stopped worker finishes the delivery pass it is in, so messages may still come after the
        # window: they are late, not lost. Only what never arrived, with its alert settled, is lost.
        arrived_in_the_end = wait_for_messages(sink, expected, fed, 0.0)
        statuses = alert_statuses(url)
        duplicates = sink.duplicates()
    timeline = sorted(
        (fed.acked[event_id] - fed.started, (arrived - fed.acked[event_id]) * 1000)
        for event_id, arrived in arrived_by_id.items()
        if event_id in fed.acked
    )
    missing = [e for e in fed.acked if e not in arrived_by_id]
    never = [e for e in missing if e not in arrived_in_the_end]
    status_of = {event_id: statuses.get(alert_id(event_id, SPONSOR, channel)) for event_id in never}
    lost = sum(1 for s in status_of.values() if s not in (None, "pending", "retrying"))
    queued = len(missing) - lost
    return Round(
        events=count,
        acked=len(fed.acked),
        arrived=len(arrived_by_id),
        lost=lost,
        queued=queued,
        refused=len(fed.refused),
        duplicates=duplicates,
        achieved_rate=fed.achieved_rate,
        answer_p50_ms=percentile(fed.answer_ms, 0.50),
        answer_p99_ms=percentile(fed.answer_ms, 0.99),
        statuses=dict(Counter(statuses.values())),
        timeline=timeline,
    )


def wait_for_messages(sink: Any, expected: dict[str, str], fed: Fed, drain: float) -> dict[str, float]:
    """Arrival time per event id, waiting until every acknowledged event's message came or `drain` passed."""
    arrived: dict[str, float] = {}
    parsed = 0
    deadline = time.time() + drain
    while True:
        found, parsed = sink.arrivals(parsed)
        for key, at in found:
            event_id = expected.get(key)
            if event_id is not None and event_id not in arrived:
                arrived[event_id] = at
        if all(e in arrived for e in fed.acked) or time.time() > deadline:
            return arrived
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------------- run


ARRIVAL = {"email": "SMTP arrival", "webhook": "webhook receiver arrival"}


def run(args: argparse.Namespace) -> list[str]:
    import tempfile

    mode = args.feed
    if mode == "auto":
        mode = "http" if http_api_available() else "library"
    channels = ["email", "webhook"] if args.channel == "both" else [args.channel]
    every = f"every {args.interval * 1000:g} ms, ~{max(1, round(args.rate * args.interval))} events each"
    via = (
        f"via HTTP POST /v1/events (`jawazat serve`; {every})"
        if mode == "http"
        else f"via the library's ingest call (container.ingestor.ingest; {every}), NOT HTTP"
    )
    sinks = " and ".join(
        {"email": "aiosmtpd", "webhook": "a webhook receiver"}[c] + " on loopback" for c in channels
    )
    log(code_under_test())
    log(machine_note())
    log(
        f"[latency] PostgreSQL; {args.rate:g} events/s for {args.seconds:g} s {via}; {args.people:,} people; "
        f"{args.workers} x `jawazat worker` -> {sinks}; drain {args.drain:g} s; {args.rounds} round(s)"
        + (f"; WHAT-IF e-mail rate limit {args.email_rate:g}/s" if args.email_rate else "")
    )
    rounds: dict[str, list[Round]] = {channel: [] for channel in channels}
    with tempfile.TemporaryDirectory(prefix="jawazat_bench_latency_") as folder:
        for number in range(1, args.rounds + 1):
            for channel in channels:  # interleaved: both channels see the same machine's moods
                result = run_round(number, args, mode, Path(folder), channel)
                rounds[channel].append(result)
                lat = result.latencies_ms
                log(
                    f"  round {number} ({channel}): {result.acked:,}/{result.events:,} events acked at "
                    f"{result.achieved_rate:,.1f}/s (request answered in p50 {result.answer_p50_ms:.1f} ms, "
                    f"p99 {result.answer_p99_ms:.1f} ms); {result.arrived:,} messages matched; latency p50 "
                    f"{percentile(lat, 0.5):,.0f} ms, p95 {percentile(lat, 0.95):,.0f} ms, p99 "
                    f"{percentile(lat, 0.99):,.0f} ms, max {max(lat, default=float('nan')):,.0f} ms; lost "
                    f"{result.lost}, still queued {result.queued}, refused at ingest {result.refused}, "
                    f"duplicates {result.duplicates}; alerts {result.statuses}"
                )
                by_window = ", ".join(f"{p99:,.0f}" for p99 in result.p99_by_window())
                log(f"  round {number} ({channel}): p99 ms by 10 s of acknowledgement: {by_window}")
    log(machine_note() + " (at the end)")
    lines = []
    email_p99: float | None = None
    for channel in channels:
        line, p99 = summary(args, channel, rounds[channel], via)
        if channel == "email":
            email_p99 = p99
        elif email_p99 is not None:
            line += (
                f"; beside the e-mail p99 {email_p99:,.0f} ms of the same run (ratio {p99 / email_p99:.2f})"
            )
        lines.append(line)
    return lines


def summary(args: argparse.Namespace, channel: str, rounds: list[Round], via: str) -> tuple[str, float]:
    """The summary line of one channel's rounds, and its p99."""

    def figure(fraction: float) -> float:
        return median([percentile(r.latencies_ms, fraction) for r in rounds])

    p50, p95, p99 = figure(0.50), figure(0.95), figure(0.99)
    lost = sum(r.lost for r in rounds)
    queued = sum(r.queued for r in rounds)
    duplicates = sum(r.duplicates for r in rounds)
    refused = sum(r.refused for r in rounds)
    rounds_note = "1 round" if args.rounds == 1 else f"median of {args.rounds} rounds"
    # A light day must feel instant: at 20 events/s or less the target is the light one.
    target = LIGHT_TARGET_P99_MS if args.rate <= LIGHT_RATE else TARGET_P99_MS
    verdict = "met" if p99 <= target and lost == queued == refused == 0 else "NOT met"
    what_if = (
        f"; WHAT-IF worker e-mail rate limit raised to {args.email_rate:g}/s"
        " (the product's setting JAWAZAT_EMAIL_MAX_PER_SECOND otherwise)"
        if args.email_rate and channel == "email"
        else ""
    )
    name = "latency" if channel == "email" else "latency-webhook"
    return (
        f"{name}: p50 {p50:,.0f} ms, p95 {p95:,.0f} ms, p99 {p99:,.0f} ms from acknowledgement to "
        f"{ARRIVAL[channel]}; {args.rate:g} events/s for {args.seconds:g} s {via}; "
        f"{args.workers} worker(s); lost {lost}, still queued "
        f"after {args.drain:g} s {queued}, refused at ingest {refused}, duplicates {duplicates}{what_if} "
        f"({rounds_note}; target p99 <= {target:.0f} ms, nothing lost: {verdict})",
        p99,
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = "--quick" in argv  # the small sizes of `python -m bench --quick`, other options still apply
    args = build_parser(quick=quick).parse_args([a for a in argv if a != "--quick"])
    for line in run(args):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
