"""`jawazat scheduler` at its edges: every job once on PostgreSQL through the CLI (with a timeout, once the
read-model tables exist: a job sharing their advisory lock used to hang forever), and absurd `--today`
dates answered with one sentence and exit 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jawazat_events.scheduler import JOB_NAMES
from tests.support import run_jawazat
from tests.support.expiry import cli_environment, people_feed

JOB_TIMEOUT_SECONDS = 60


@pytest.mark.postgres
@pytest.mark.parametrize("job", JOB_NAMES)
def test_every_job_runs_now_on_postgresql_after_the_read_models_exist(
    pg_database_url: str, tmp_path: Path, job: str
) -> None:
    env = cli_environment(pg_database_url, tmp_path)
    feed, _ = people_feed(tmp_path, 5)
    assert run_jawazat("ingest", str(feed), env=env).returncode == 0
    assert run_jawazat("worker", "--once", env=env).returncode == 0  # creates every read-model table

    try:
        done = run_jawazat("scheduler", "--run-now", job, env=env, timeout=JOB_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"jawazat scheduler --run-now {job} did not finish within {JOB_TIMEOUT_SECONDS} s")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(job) and done.stdout.count("\n") == 1, done.stdout


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2999-01-01"])
def test_absurd_days_are_one_sentence_and_exit_2(sqlite_database_url: str, tmp_path: Path, day: str) -> None:
    env = cli_environment(sqlite_database_url, tmp_path)

    done = run_jawazat("scheduler", "--run-now", "passport_expiry", "--today", day, env=env)

    assert done.returncode == 2, done.stdout
    assert done.stderr.startswith(f"error: --today {day} is outside 1900-01-01 to ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
