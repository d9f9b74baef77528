"""The product's processes started as an operator starts them (`jawazat worker`, `serve`, `scheduler`), each
with its own log, sampled for RSS and CPU, stopped by signal: what the soak and the scale-out tests drive.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import jawazat_command
from tests.support.faults import rss_kib

WARM_UP_SECONDS = 10.0  # RSS is compared from here: imports, pools and caches are made by then


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 when it is gone), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / CLOCK_TICKS


@dataclass
class Incarnation:
    """One run of one process: its RSS when warm and when last seen."""

    name: str
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    rss_start: int = 0
    rss_end: int = 0

    def sample(self) -> None:
        rss = rss_kib(self.process.pid)
        if not rss:
            return
        if not self.rss_start and time.monotonic() - self.started >= WARM_UP_SECONDS:
            self.rss_start = rss
        if self.rss_start:
            self.rss_end = rss

    def end(self, how: signal.Signals) -> None:
        self.sample()
        self.process.send_signal(how)
        self.ended = time.monotonic()

    @property
    def lived(self) -> float:
        return (self.ended or time.monotonic()) - self.started


@dataclass
class Fleet:
    """The product's processes, started as an operator starts them, each with its own log."""

    env: dict[str, str]
    logs: Path
    runs: list[Incarnation] = field(default_factory=list)
    restarts: int = 0

    def start(self, name: str, *args: str) -> Incarnation:
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen([*jawazat_command(), *args], env=self.env, stdout=log, stderr=log)
        run = Incarnation(name, process)
        self.runs.append(run)
        return run

    def live(self, name: str) -> Incarnation:
        return next(run for run in reversed(self.runs) if run.name == name)

    def kill_and_restart(self, name: str, rng: random.Random) -> None:
        victim = self.live(name)
        victim.end(signal.SIGKILL)
        victim.process.wait(timeout=10)
        time.sleep(rng.uniform(0.0, 2.0))
        self.start(name, "worker")
        self.restarts += 1

    def sample(self) -> None:
        for run in self.runs:
            if run.process.poll() is None:
                run.sample()

    def stop(self) -> dict[str, int | None]:
        """SIGTERM every live process; their exit codes."""
        codes: dict[str, int | None] = {}
        for run in self.runs:
            if run.process.poll() is None:
                run.end(signal.SIGTERM)
        for run in self.runs:
            if run.process.returncode is None:
                try:
                    codes[run.name] = run.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    run.process.kill()
                    codes[run.name] = None
        return codes

    def kill_all(self) -> None:
        """SIGKILL whatever is still running (a test's clean-up after a failure)."""
        for run in self.runs:
            if run.process.poll() is None:
                run.process.kill()
                run.process.wait(timeout=10)
