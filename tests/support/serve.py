"""A real `jawazat serve` process for end-to-end and browser tests: started on a free loopback port, ready
when it answers /healthz, its log kept, stopped (or restarted) cleanly."""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import jawazat_command, run_jawazat

STARTUP_SECONDS = 60


@dataclass
class Served:
    """A running `jawazat serve` and the environment every CLI call shares with it."""

    url: str
    env: dict[str, str]
    process: subprocess.Popen[str]
    log_lines: list[str]
    logs: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = run_jawazat(*args, env=self.env)
        assert done.returncode == 0, f"jawazat {' '.join(args)} failed: {done.stderr}"
        return done

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 20 s); stopping a stopped server does nothing."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> str:
        """Stop the server and start another on the same store (a new port, a new log); its URL."""
        self.stop()
        fresh = start_served(self.env, self.logs.with_name(f"{self.logs.stem}.restarted{self.logs.suffix}"))
        self.url, self.process, self.log_lines, self.logs = (
            fresh.url,
            fresh.process,
            fresh.log_lines,
            fresh.logs,
        )
        return self.url


def start_served(env: dict[str, str], logs: Path) -> Served:
    """Start `jawazat serve` on a free loopback port with `env`, its stderr copied to `logs`; return once
    it answers /healthz (the test fails if it does not within STARTUP_SECONDS)."""
    process = subprocess.Popen(
        [*jawazat_command(), "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    collected: list[str] = []

    def pump() -> None:
        assert process.stderr is not None
        with open(logs, "w", encoding="utf-8") as copy:
            for text in process.stderr:
                copy.write(text)
                copy.flush()
                collected.append(text)
                lines.put(text)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + STARTUP_SECONDS
    url = None
    while url is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            process.kill()
            pytest.fail(f"jawazat serve did not start: {''.join(collected)}")
        try:
            found = re.search(r"serving on (http://\S+)", lines.get(timeout=min(remaining, 1.0)))
        except queue.Empty:
            continue
        url = found.group(1) if found else None
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return Served(url=url, env=env, process=process, log_lines=collected, logs=logs)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"jawazat serve never answered /healthz: {''.join(collected)}")


@contextmanager
def serving(env: dict[str, str], logs: Path) -> Iterator[Served]:
    """A running `jawazat serve` for the block, stopped after it."""
    served = start_served(env, logs)
    try:
        yield served
    finally:
        served.stop()
