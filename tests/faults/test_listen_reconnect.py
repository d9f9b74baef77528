"""PostgreSQL restarted under a following `jawazat worker` (a private cluster): its LISTEN connection comes
back by itself, and new alerts are again delivered on NOTIFY, not by the fallback poll (set to a minute
here, so that only a NOTIFY can explain a delivery within seconds).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import jawazat_command
from tests.support.cluster import PrivateCluster
from tests.support.faults import FAULT_MARKS, build_world, crossings, environment
from tests.support.figures import record
from tests.support.servers import LoopbackSmtp, running_smtp

pytestmark = FAULT_MARKS

LONG_POLL = 60.0
RECONNECTED = "LISTEN connection back"


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


def test_the_listen_connection_comes_back_after_a_restart_and_wakes_delivery_again(
    cluster: PrivateCluster, smtp: LoopbackSmtp, tmp_path: Path
) -> None:
    world = build_world(cluster.create_database(), tmp_path, people=4, subscribed=4)
    before, after = crossings(world.people, 0, 1), crossings(world.people, 1, 1)
    env = environment(
        world.url,
        tmp_path,
        smtp_url=smtp.url,
        email_max_per_second="2000",
        worker_listen_poll_seconds=str(LONG_POLL),
    )
    log = tmp_path / "worker.log"
    with open(log, "wb") as output:
        worker = subprocess.Popen([*jawazat_command(), "worker"], env=env, stdout=output, stderr=output)
    try:
        world.post(before)
        first = wait_for(lambda: len(smtp.handler.received) == 1, "the first e-mail", timeout=60)

        cluster.restart()
        back = wait_for(lambda: RECONNECTED in log.read_text(errors="replace"), "LISTEN again", timeout=60)
        time.sleep(1.0)  # the loops' passes that met the restart have been retried
        world.container.repair_connections()  # this process's pool met the restart too
        world.post(after)
        second = wait_for(lambda: len(smtp.handler.received) == 2, "the second e-mail", timeout=LONG_POLL)

        assert second < LONG_POLL / 3, f"{second:.1f} s: delivered by the fallback poll, not by NOTIFY"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
    text = log.read_text(errors="replace")
    assert "LISTEN connection lost or refused" in text, text[-2000:]
    record(
        "restart under a listening worker",
        first_email=f"{first:.1f} s",
        listening_again_after_restart=f"{back:.1f} s",
        email_after_restart=f"{second:.2f} s (fallback poll {LONG_POLL:.0f} s)",
        restarts=1,
    )
