"""`portal`: server time of the portal's subscriptions page for an establishment with many subscriptions,
beside `/healthz` of the same `jawazat serve`, on PostgreSQL.

Per round (a throw-away database each):
  1. seed (not timed): `--subscriptions` people registered through the product's batch ingest, one
     establishment subscribed to every one of them (Subscription aggregates saved in batches), the
     subscription index caught up, and a portal user;
  2. start `jawazat serve` (outbox folder for the sign-in code), sign in as that user over HTTP;
  3. time `--requests` sequential GETs of each target on one keep-alive connection:
       healthz       GET /healthz (the baseline: auth-free, one store query)
       first page    GET /portal/subscriptions
       search by ID  GET /portal/subscriptions?q=<a whole ID number>
       last page     GET /portal/subscriptions?last=1
Figures are medians of each target's request times (client side, loopback) and of the server's own
`Server-Timing: app;dur=…` for the portal pages; target ≤ 300 ms each.

    python -m bench.portal [--subscriptions 100000] [--requests 30] [--rounds 1]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from bench.api import serve
from bench.common import code_under_test, log, machine_note, median, pg_database, run_standalone

NAME = "portal"
FULL = {"subscriptions": 100_000, "requests": 30, "rounds": 1}
QUICK = {"subscriptions": 10_000, "requests": 15, "rounds": 1}
SPONSOR = "7001234567"
USER = "hr@bench.example"
TARGET_MS = 300.0


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    sizes = QUICK if quick else FULL
    parser = argparse.ArgumentParser(prog="python -m bench.portal", description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=sizes["subscriptions"], help="subscriptions")
    parser.add_argument(
        "--requests", type=int, default=sizes["requests"], help="requests per target per round"
    )
    parser.add_argument("--rounds", type=int, default=sizes["rounds"], help="rounds")
    return parser


def seed(url: str, count: int) -> list[str]:
    """People, one establishment subscribed to all of them, its portal user; returns the ID numbers."""
    from bench.api import people_numbers
    from jawazat_events.bootstrap import bootstrap
    from jawazat_events.domain.subscription import Subscription
    from jawazat_events.services.ingest import parse_items

    container = bootstrap(database_url=url)
    try:
        container.establishments.register(unified_number=SPONSOR, name="Bench", mobile="0501234567")
        container.portal_users.add_user(unified_number=SPONSOR, email=USER)
        numbers = people_numbers(count)
        for start in range(0, count, 5000):
            chunk = numbers[start : start + 5000]
            items = [
                {
                    "event_id": f"reg-{n}",
                    "type": "person_registered",
                    "id_number": n,
                    "occurred_at": "2025-01-10T08:00:00+03:00",
                    "sponsor": SPONSOR,
                    "name_ar": "محمد علي",
                    "name_en": "Mohammed Ali",
                    "nationality": "IND",
                    "passport_number": f"P{n}",
                    "passport_issue_date": "2020-03-01",
                    "passport_expiry_date": "2030-02-28",
                }
                for n in chunk
            ]
            results = list(container.ingestor.ingest(parse_items(items)))
            if any(r.status != "accepted" for r, _ in results):
                raise RuntimeError("seeding rejected a registration")
            # Subscriptions saved in batches (the service saves one per call: too slow to seed 100,000).
            container.app.save(
                *(
                    Subscription(
                        unified_number=SPONSOR,
                        id_number=n,
                        notification_types=("entry_exit", "visa"),
                        mobile=None,
                        email=None,
                    )
                    for n in chunk
                )
            )
            log(f"  seeded {start + len(chunk):,} subscriptions")
        container.catch_up_index()
        return sorted(numbers)
    finally:
        container.close()


def _sign_in(http: object, outbox: Path) -> None:
    import httpx

    assert isinstance(http, httpx.Client)
    form = http.get("/portal/login").text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form)
    assert token
    page = http.post("/portal/login", data={"email": USER, "csrf_token": token.group(1)}).text
    deadline = time.monotonic() + 15
    code = None
    while code is None and time.monotonic() < deadline:
        files = sorted(outbox.glob("sign-in-*.eml"))
        if files:
            code = re.search(r"\b(\d{6})\b", files[-1].read_text(encoding="utf-8").split("\n\n", 1)[1])
        time.sleep(0.05)
    assert code, "no sign-in code in the outbox"
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert token
    done = http.post("/portal/login/code", data={"code": code.group(1), "csrf_token": token.group(1)})
    assert done.status_code == 200 and "/portal/login" not in str(done.url), done.text[:300]


def _measure(http: object, path: str, requests: int) -> tuple[list[float], list[float]]:
    import httpx

    assert isinstance(http, httpx.Client)
    wall: list[float] = []
    server: list[float] = []
    for _ in range(requests + 2):
        started = time.perf_counter()
        answer = http.get(path)
        took = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: HTTP {answer.status_code}")
        wall.append(took)
        timing = re.search(r"dur=([\d.]+)", answer.headers.get("server-timing", ""))
        if timing:
            server.append(float(timing.group(1)))
    return wall[2:], server[2:]  # the first two warm the caches


def run(args: argparse.Namespace) -> list[str]:
    import httpx

    log(code_under_test())
    log(machine_note())
    log(f"[portal] PostgreSQL: {args.subscriptions:,} subscriptions, {args.requests} requests per target")
    targets: dict[str, str] = {}
    results: dict[str, list[tuple[float, float | None]]] = {}
    with tempfile.TemporaryDirectory(prefix="jawazat_bench_portal_") as folder:
        for number in range(1, args.rounds + 1):
            with pg_database() as url:
                numbers = seed(url, args.subscriptions)
                outbox = Path(folder) / f"outbox-{number}"
                targets = {
                    "healthz": "/healthz",
                    "first page": "/portal/subscriptions",
                    "search by ID": f"/portal/subscriptions?q={numbers[len(numbers) // 2]}",
                    "last page": "/portal/subscriptions?last=1",
                }
                with serve(url, Path(folder) / f"serve-{number}.log", outbox=outbox) as server:
                    base = f"http://{server.host}:{server.port}"
                    with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as http:
                        _sign_in(http, outbox)
                        for name, path in targets.items():
                            wall, server_ms = _measure(http, path, args.requests)
                            entry = (
                                statistics.median(wall),
                                statistics.median(server_ms) if server_ms else None,
                            )
                            results.setdefault(name, []).append(entry)
                            log(f"  round {number}: {name:<13} median {entry[0]:.1f} ms (server {entry[1]})")
    baseline = median([wall for wall, _ in results["healthz"]])
    lines = [
        f"portal GET /healthz (baseline): median {baseline:.1f} ms ({args.subscriptions:,} subscriptions)"
    ]
    for name in ("first page", "search by ID", "last page"):
        wall = median([w for w, _ in results[name]])
        server_values = [s for _, s in results[name] if s is not None]
        server_ms = median(server_values) if server_values else float("nan")
        verdict = "ok" if wall <= TARGET_MS else "OVER TARGET"
        lines.append(
            f"portal subscriptions {name}: median {wall:.1f} ms (server {server_ms:.1f} ms); "
            f"baseline /healthz {baseline:.1f} ms; ratio {wall / baseline:.1f} "
            f"({args.subscriptions:,} subscriptions; target ≤ {TARGET_MS:.0f} ms: {verdict})"
        )
    return lines


if __name__ == "__main__":
    raise SystemExit(run_standalone(build_parser, run))
