"""PostgreSQL restarted under the product (a private cluster; the machine's server is never touched).

- In the middle of a 20,000-event `jawazat ingest`: the command stops with the counts so far and one
  sentence (exit 2, the contract's code for a store that fails), and a re-run completes, the first part
  counted duplicate.
- In the middle of a `jawazat worker` draining fan-out and delivery to an aiosmtpd server: the worker
  reconnects by itself and finishes; every alert is sent, and any copy sent twice is in its history.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import jawazat_command, run_jawazat
from tests.support.cluster import PrivateCluster
from tests.support.faults import (
    FAULT_MARKS,
    build_world,
    check_copies,
    check_store_and_alerts,
    crossings,
    environment,
    statuses,
    stored_count,
    write_feed,
)
from tests.support.figures import record
from tests.support.reference import drain
from tests.support.servers import LoopbackSmtp, running_smtp

pytestmark = FAULT_MARKS

FEED_EVENTS = 20_000
COUNTS = re.compile(r"accepted: (\d+)\nduplicate: (\d+)\nrejected: (\d+)")


@pytest.fixture
def smtp() -> Iterator[LoopbackSmtp]:
    with running_smtp() as server:
        yield server


def wait_for(done: Callable[[], bool], what: str, *, timeout: float) -> float:
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        time.sleep(0.02)
    return time.monotonic() - started


def counts(stdout: str) -> tuple[int, int, int]:
    found = COUNTS.search(stdout)
    assert found, stdout
    accepted, duplicate, rejected = (int(group) for group in found.groups())
    return accepted, duplicate, rejected


def test_a_restart_in_the_middle_of_an_ingest_is_reported_and_a_rerun_completes(
    cluster: PrivateCluster, tmp_path: Path
) -> None:
    world = build_world(cluster.create_database(), tmp_path, people=200, subscribed=50)
    base = stored_count(world.url)
    items = crossings(world.people, 0, FEED_EVENTS)
    feed = write_feed(tmp_path / "feed.jsonl", items)
    env = environment(world.url, tmp_path, ingest_batch_size="250")

    started = time.monotonic()
    first = subprocess.Popen(
        [*jawazat_command(), "ingest", str(feed)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: stored_count(world.url) >= base + FEED_EVENTS // 4, "a quarter of the feed", timeout=60)
    cluster.restart()
    out, err = first.communicate(timeout=120)
    stopped_after = time.monotonic() - started

    assert first.returncode == 2, (out, err)
    [sentence] = err.strip().splitlines()
    assert (
        sentence.startswith("error: the event store failed after ")
        and "run the same command again" in sentence
    )
    accepted, duplicate, rejected = counts(out)
    # A batch whose commit's answer the restart lost may be sent again by the library's retry once the
    # server is back: it finds the batch stored, and its lines count as duplicate (stored once, not twice).
    assert 0 < accepted < FEED_EVENTS and rejected == 0 and duplicate in (0, 250)
    # What it reported is stored; the batch in hand at the failure may be too (a commit whose answer was
    # lost), never a part of one.
    in_hand = stored_count(world.url) - base - accepted - duplicate
    assert in_hand in (0, 250), in_hand

    again = run_jawazat("ingest", str(feed), env=env, timeout=180)
    assert again.returncode == 0, again.stderr
    stored_before = accepted + duplicate + in_hand
    assert counts(again.stdout) == (FEED_EVENTS - stored_before, stored_before, 0)

    world.expect(items)
    world.container.repair_connections()  # this process's pool met the restart too
    drain(world.container)
    outcome = check_store_and_alerts(world, settled="pending")
    record(
        "restart during ingest",
        events=f"{FEED_EVENTS:,} in the feed ({outcome.events:,} in the store with the registrations)",
        first_run=f"exit 2 after {accepted:,} accepted in {stopped_after:.1f} s",
        rerun=f"{FEED_EVENTS - accepted - in_hand:,} accepted, {accepted + in_hand:,} duplicate",
        alerts=f"{outcome.alerts:,} (model {len(world.ref.alerts):,})",
        restarts=1,
    )


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_worker_reconnects_after_a_restart_and_finishes_fanout_and_delivery(
    mode: str, cluster: PrivateCluster, smtp: LoopbackSmtp, tmp_path: Path
) -> None:
    # A crash (`immediate`) also loses the projections' last batches whose commits had not reached the disk
    # (they do not wait for it): the worker applies them again, and nothing is sent twice unreported.
    world = build_world(cluster.create_database(), tmp_path, people=40, subscribed=40)
    first_half, second_half = crossings(world.people, 0, 1_500), crossings(world.people, 1_500, 1_500)
    world.post(first_half)
    env = environment(
        world.url,
        tmp_path,
        smtp_url=smtp.url,
        email_max_per_second="2000",
        delivery_lease_seconds="3",
        retry_base_seconds="0.2",
        fanout_partitions="2",
    )
    log = tmp_path / "worker.log"
    with open(log, "wb") as output:
        worker = subprocess.Popen([*jawazat_command(), "worker"], env=env, stdout=output, stderr=output)
    try:
        wait_for(lambda: len(smtp.handler.received) >= 300, "the first messages", timeout=60)
        world.post(second_half)  # more fan-out under way when the server goes
        at_restart = len(smtp.handler.received)
        cluster.restart(mode)
        took = wait_for(lambda: statuses(world.url) == {"sent": 3_000}, "every alert sent", timeout=120)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)

    outcome = check_copies(world, smtp.handler, check_store_and_alerts(world))
    text = log.read_text(errors="replace")
    assert "the claims connection was lost" in text, text[-2000:]  # and it carried on: all were sent
    failed_passes = text.count("worker pass failed")
    # Only a group handed to the channel when the server went may have gone out unrecorded (shown as a
    # possible duplicate); claims not yet sent are given back, not taken for a dead worker's sends.
    assert outcome.duplicates_reported <= 20
    record(
        "restart during worker" if mode == "fast" else "crash during worker",
        events=f"{outcome.events:,} in the store",
        alerts=f"{outcome.alerts:,} sent ({at_restart:,} at the server when it restarted)",
        copies_at_server=outcome.copies_at_server,
        duplicates_at_server=outcome.duplicates_at_server,
        duplicates_reported=outcome.duplicates_reported,
        restarts=1,
        failed_passes=failed_passes,
        finished_after_restart=f"{took:.1f} s",
    )
