"""A private, throw-away PostgreSQL cluster that a test may stop, start and restart.

The machine's PostgreSQL serves every engineer's tests, so it is never restarted; a fault test that needs a
restart gets a cluster of its own: `initdb` into a fresh folder (as the `postgres` user when run as root),
then `pg_ctl start|stop|restart` on a free loopback port, its socket in the same folder, fsync off. Init
takes about half a second, a restart a fifth of one. The binaries are found with `pg_config --bindir`, else
under /usr/lib/postgresql/*/bin; a test that needs them fails (never skips) when they are missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from tests.support.servers import LOOPBACK, free_port


def postgres_bindir() -> Path:
    """Where `initdb` and `pg_ctl` live."""
    candidates: list[str] = []
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(found.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    pytest.fail("a private PostgreSQL cluster needs initdb and pg_ctl (PostgreSQL's server binaries)")


@dataclass
class PrivateCluster:
    """One running cluster: its folder, port and log; `restart()`, `stop()`, `start()`, databases."""

    folder: Path
    port: int
    bindir: Path
    restarts: int = 0
    events: list[str] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{dbname}"

    def _as_owner(self, *command: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *command]
        return list(command)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses={LOOPBACK} -c fsync=off"
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.log), "-w"]
        done = subprocess.run(
            self._as_owner(*command, "-o", options, *extra, action),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, f"pg_ctl {action} failed: {done.stdout}{done.stderr}"
        self.events.append(f"{time.monotonic():.3f} {action}")

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast`: sessions are terminated, as by a restart; `immediate`: as by a crash)."""
        self._pg_ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        """Stop and start again: every session is cut, and the server is back within a second. `fast` is a
        restart; `immediate` is as by a crash (no shutdown checkpoint: the server recovers from its WAL,
        losing commits whose WAL had not reached the disk)."""
        self._pg_ctl("restart", "-m", mode)
        self.restarts += 1

    def create_database(self) -> str:
        """A fresh database in this cluster; its URL."""
        name = f"jawazat_fault_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A fresh cluster, running, for the block; stopped and deleted afterwards."""
    bindir = postgres_bindir()
    # Outside pytest's own temporary folders, which the postgres user cannot enter.
    folder = Path(tempfile.mkdtemp(prefix="jawazat-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    cluster = PrivateCluster(folder=folder, port=free_port(), bindir=bindir)
    init = [str(bindir / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "--no-sync"]
    done = subprocess.run(
        cluster._as_owner(*init, "-E", "UTF8"), capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, f"initdb failed: {done.stdout}{done.stderr}"
    try:
        cluster.start()
        yield cluster
    finally:
        subprocess.run(
            cluster._as_owner(str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"),
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)
