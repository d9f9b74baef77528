"""The auditors' scenario, shared by the audit, rebuild, chain and encryption tests and the CLI's.

One person's year, recorded in steps with a recorded time noted between them: registration, a subscription,
crossings and a renewal (alerted and delivered to the outbox), a late crossing recorded after its business
time's successors, a subscription change, a sponsorship transfer (ending the old sponsor's subscription), a
new sponsor's subscription and a late crossing that still reaches the old sponsor.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.domain.errors import NotSubscribed
from jawazat_events.generate import FeedGenerator, establishment_numbers
from tests.support import (
    RESIDENT,
    SPONSOR_A,
    SPONSOR_B,
    crossing,
    ingest,
    line,
    registration,
    renewal,
    transfer,
    work_once,
)

TEST_KEY = base64.b64encode(bytes(range(32))).decode("ascii")
# Every read model, in the order the worker and the rebuild process them.
READ_MODELS = ["subscription_index", "people", "requests", "request_notifications", "fanout", "person_links"]
A_MOBILE, A_EMAIL = "+966551112233", "hr@amal.example"
B_EMAIL = "ops@nakheel.example"
# The populated store of the rebuild tests (`populate`): people, feed events, generator seed.
PEOPLE, EVENTS, SEED = 40, 400, 21


@dataclass
class World:
    """The scenario's recorded times (UTC) and what was recorded between them."""

    registered: datetime = field(default_factory=lambda: datetime.now(UTC))
    subscribed: datetime = field(default_factory=lambda: datetime.now(UTC))
    fanned_out: datetime = field(default_factory=lambda: datetime.now(UTC))  # alerts made, none sent
    delivered: datetime = field(default_factory=lambda: datetime.now(UTC))  # first alerts sent
    late_recorded: datetime = field(default_factory=lambda: datetime.now(UTC))  # c0 and the change
    transferred: datetime = field(default_factory=lambda: datetime.now(UTC))
    end: datetime = field(default_factory=lambda: datetime.now(UTC))


def tick() -> datetime:
    """A recorded-time boundary strictly between what was recorded before and what comes after."""
    time.sleep(0.01)
    moment = datetime.now(UTC)
    time.sleep(0.01)
    return moment


def build_world(container: Container) -> World:
    """Record the scenario (see the module's docstring); return its recorded-time boundaries."""
    world = World()
    service = container.establishments
    service.register(unified_number=SPONSOR_A, name="شركة الأمل", email="info@amal.example", language="ar")
    service.register(unified_number=SPONSOR_B, name="Nakheel Co", email=B_EMAIL, language="en")
    ingest(container, [line(registration("e-reg", occurred_at="2025-01-10T08:00:00+03:00"))])
    world.registered = tick()
    service.subscribe(
        SPONSOR_A,
        RESIDENT,
        notification_types="entry_exit,passport_renewal,visa",
        mobile=A_MOBILE,
        email=A_EMAIL,
    )
    world.subscribed = tick()
    ingest(
        container,
        [
            line(crossing("e-c1", "2025-03-01T10:00:00+03:00", direction="entry", port="RUH")),
            line(renewal("e-r1", "2025-04-01T09:00:00+03:00", "P0000002", "2025-04-01", "2035-03-31")),
        ],
    )
    work_once(container, deliver=False)
    world.fanned_out = tick()
    container.delivery.deliver_due()
    world.delivered = tick()
    # Late: business time before e-c1, recorded after everything above.
    ingest(container, [line(crossing("e-c0", "2025-02-01T10:00:00+03:00", direction="exit", port="JED"))])
    service.change(SPONSOR_A, RESIDENT, notification_types="entry_exit")
    world.late_recorded = tick()
    ingest(container, [line(transfer("e-t1", "2025-06-01T09:00:00+03:00", SPONSOR_B))])
    service.subscribe(SPONSOR_B, RESIDENT, notification_types="entry_exit")
    world.transferred = tick()
    ingest(
        container,
        [
            line(crossing("e-c2", "2025-07-01T10:00:00+03:00", direction="exit", port="DMM")),
            # Occurred under A (before the transfer), recorded after it: still A's alert.
            line(crossing("e-c3", "2025-05-15T10:00:00+03:00", direction="entry", port="KFIA")),
        ],
    )
    work_once(container)
    world.end = tick()
    return world


def audit_container(database_url: str, folder: Path, *, encrypted: bool) -> Container:
    """The product on this store, clock at real time (alerts are due as soon as they are made)."""
    overrides: dict[str, object] = {"database_url": database_url, "outbox_dir": folder / "outbox"}
    if encrypted:
        overrides["cipher_key"] = TEST_KEY
    wired = bootstrap(**overrides)
    wired.clock = lambda: datetime.now(UTC)
    return wired


# The delivery lease (who holds an alert right now, until when) is the only state not derived from events.
VOLATILE = {"alerts": {"claimed_by", "claimed_until"}}


def table_rows(container: Container, table: str) -> list[str]:
    """Every row of a read-model table (volatile columns left out), as sorted canonical JSON."""
    with container.read_models.db.reading() as sql:
        rows = sql.execute(f"SELECT * FROM {table}").fetchall()
    skip = VOLATILE.get(table, set())
    return sorted(json.dumps({k: v for k, v in row.items() if k not in skip}, sort_keys=True) for row in rows)


def digest(container: Container) -> dict[str, tuple[int, str]]:
    """(rows, sha256) of every read-model table, and the tracking positions."""
    found: dict[str, tuple[int, str]] = {}
    for projection in container.read_models.all():
        for table in projection.tables:
            rows = table_rows(container, table)
            found[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        for name in projection.tracking_names():
            found[f"tracking {name}"] = (container.read_models.db.position(name), "")
    return found


def populate(container: Container) -> None:
    """The auditors' scenario, then a generated feed whose people half have subscriptions, processed live."""
    build_world(container)
    lines = list(FeedGenerator(people=PEOPLE, events=EVENTS, seed=SEED).lines())
    ingest(container, lines[:PEOPLE])
    service = container.establishments
    for number in establishment_numbers(PEOPLE, SEED):
        service.register(unified_number=number, name=f"Est {number}", email=f"e{number}@example.com")
    subscribed = [json.loads(item) for item in lines[:PEOPLE:2]]
    for item in subscribed:
        service.subscribe(
            item["sponsor"], item["id_number"], notification_types="entry_exit,visa,passport_renewal"
        )
    ingest(container, lines[PEOPLE : EVENTS // 2])
    work_once(container)
    changed = 0
    for item in subscribed:  # some subscriptions ended with a transfer meanwhile
        try:
            service.change(item["sponsor"], item["id_number"], notification_types="visa")
            changed += 1
        except NotSubscribed:
            continue
    assert changed
    ingest(container, lines[EVENTS // 2 :])
    work_once(container, deliver=False)  # some alerts made and not yet sent


@contextmanager
def populated(url: str, folder: Path) -> Iterator[Container]:
    """A store in clear on `url`, populated (`populate`), its read models made by this start; closed after."""
    wired = audit_container(url, folder, encrypted=False)
    try:
        populate(wired)
        yield wired
    finally:
        wired.close()


class RebuildStopped(Exception):
    """Raised by `stop_rebuild_midway`'s progress hook: a rebuild cut short, as a crash would cut it."""


def stop_rebuild_midway(container: Container, *, batch_size: int = 50, stage: str = "rebuild") -> None:
    """Start a rebuild and stop it in `stage` after two batches: its markers stay behind, as after a
    crash. "rebuild" is the replay in recording order; "people (by aggregate)" the people view's."""

    def stop_after_two(at: str, done: int, head: int) -> None:
        if at == stage and done >= 2 * batch_size and done < head:
            raise RebuildStopped

    try:
        container.rebuilder.rebuild(batch_size=batch_size, progress=stop_after_two)
    except RebuildStopped:
        return
    raise AssertionError("the rebuild finished before it could be stopped")
