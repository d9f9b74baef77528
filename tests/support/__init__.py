"""Test helpers (no tests here): feed items, running an ingest, reading back what the store holds, the CLI.

Beside them: `stores` (throw-away databases and copies of them, fresh containers, the fixed clock),
`servers` (loopback SMTP and Twilio), `api` (the HTTP API's world), `audit` (the auditors' scenario),
`delivery` (the delivery world), `expiry` (people with passports), `reference` (the alert rule's reference
model), `faults` (the fault suite's world and checks), `fleet` (`jawazat` processes started as operators
start them), `cluster` (a private PostgreSQL cluster to restart). Fixtures live in the `conftest.py` files
beside the tests that use them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Notification

from jawazat_events.bootstrap import Container
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.ingest import IngestReport, LineResult, parse_lines

# People and establishments the hand-written scenarios use (valid check digits, unified numbers).
RESIDENT = "2000000006"
CITIZEN = "1000000008"
VISITOR = "3000000001"
SPONSOR_A = "7001234567"
SPONSOR_B = "7007654321"
SPONSOR_C = "7000000009"


def line(item: dict[str, Any]) -> str:
    """One feed line, as a source system would send it."""
    return json.dumps(item, ensure_ascii=False)


def registration(
    event_id: str,
    *,
    id_number: str = RESIDENT,
    sponsor: str = SPONSOR_A,
    occurred_at: str = "2025-01-10T08:00:00+03:00",
    passport_number: str = "P0000001",
) -> dict[str, Any]:
    """A valid `person_registered` item."""
    return {
        "event_id": event_id,
        "type": "person_registered",
        "id_number": id_number,
        "occurred_at": occurred_at,
        "sponsor": sponsor,
        "name_ar": "محمد علي",
        "name_en": "Mohammed Ali",
        "nationality": "IND",
        "passport_number": passport_number,
        "passport_issue_date": "2020-03-01",
        "passport_expiry_date": "2030-02-28",
    }


def crossing(
    event_id: str,
    occurred_at: str,
    *,
    id_number: str = RESIDENT,
    direction: str = "entry",
    port: str = "RUH",
) -> dict[str, Any]:
    """A valid `border_crossing` item."""
    return {
        "event_id": event_id,
        "type": "border_crossing",
        "id_number": id_number,
        "occurred_at": occurred_at,
        "direction": direction,
        "port": port,
    }


def transfer(
    event_id: str, occurred_at: str, to_sponsor: str, *, id_number: str = RESIDENT
) -> dict[str, Any]:
    """A valid `sponsorship_transferred` item."""
    return {
        "event_id": event_id,
        "type": "sponsorship_transferred",
        "id_number": id_number,
        "occurred_at": occurred_at,
        "to_sponsor": to_sponsor,
    }


def renewal(
    event_id: str,
    occurred_at: str,
    passport_number: str,
    issue_date: str,
    expiry_date: str,
    *,
    id_number: str = RESIDENT,
) -> dict[str, Any]:
    """A `passport_renewed` item."""
    return {
        "event_id": event_id,
        "type": "passport_renewed",
        "id_number": id_number,
        "occurred_at": occurred_at,
        "passport_number": passport_number,
        "issue_date": issue_date,
        "expiry_date": expiry_date,
    }


def ingest(
    container: Container, lines: Iterable[str], *, first_line: int = 1
) -> tuple[list[LineResult], IngestReport]:
    """Run lines through the container's ingestor; return every line's result and the report."""
    results: list[LineResult] = []
    report = IngestReport()
    for result, event_type in container.ingestor.ingest(parse_lines(lines, first_line=first_line)):
        results.append(result)
        report.add(result, event_type)
    return results, report


def notifications(app: JawazatApplication) -> list[Notification]:
    """Every row of the application sequence, read page by page through the library's recorder."""
    rows: list[Notification] = []
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=5_000)
        if not page:
            return rows
        rows.extend(page)
        start = page[-1].id + 1


def stored_event_ids(app: JawazatApplication) -> Counter[str]:
    """How many stored events carry each source `event_id` (a correct store has 1 for each)."""
    counts: Counter[str] = Counter()
    for row in notifications(app):
        source_id = getattr(app.mapper.to_domain_event(row), "event_id", None)
        if source_id is not None:
            counts[source_id] += 1
    return counts


def assert_stored_once(app: JawazatApplication, event_ids: Sequence[str]) -> None:
    """Each of these source events is in the store exactly once, and the event-id table agrees."""
    counts = stored_event_ids(app)
    assert set(counts) == set(event_ids)
    assert set(counts.values()) == {1}, [k for k, n in counts.items() if n != 1][:10]
    keyed = app.store.notification_ids_of(list(event_ids))
    assert set(keyed) == set(event_ids)
    assert len(set(keyed.values())) == len(event_ids)


def work_once(container: Container, *, deliver: bool = True) -> None:
    """One pass of a worker over the container (projections, fan-out, and delivery of what is due unless
    `deliver` is False), its advisory-lock connection closed afterwards."""
    from jawazat_events.worker import Worker

    worker = Worker(container, deliver=deliver)
    try:
        worker.run_once()
    finally:
        worker.close()


def jawazat_command() -> list[str]:
    """The installed `jawazat` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("jawazat")
    assert script.exists(), f"the jawazat console script is not installed next to {sys.executable}"
    return [str(script)]


def run_jawazat(
    *args: str,
    env: dict[str, str],
    stdin: str | None = None,
    timeout: float = 120,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `jawazat ARGS…` as a user would, capturing its output (`preexec_fn`: e.g. a resource limit)."""
    return subprocess.run(
        [*jawazat_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        preexec_fn=preexec_fn,
    )
