"""`jawazat scheduler` as an operator drives it: --run-now summaries, usage errors, SIGTERM, two at once."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import psycopg

from jawazat_events.bootstrap import bootstrap
from tests.support import jawazat_command, run_jawazat
from tests.support.expiry import EXPIRY, cli_environment, people_feed, recorded

SUMMARY = re.compile(
    r"passport_expiry (?P<day>\S+): (?P<scanned>[\d,]+) people scanned; emitted passport_expiry_approaching "
    r"(?P<approaching>[\d,]+), passport_expired (?P<expired>[\d,]+); duplicates refused (?P<dups>[\d,]+)"
)


def summary_of(stdout: str) -> dict[str, int]:
    match = SUMMARY.search(stdout)
    assert match, stdout
    return {k: int(v.replace(",", "")) for k, v in match.groupdict().items() if k != "day"}


def test_run_now_prints_one_summary_line_and_a_rerun_refuses_duplicates(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    env = cli_environment(sqlite_database_url, tmp_path)
    feed, _ = people_feed(tmp_path, 8)
    assert run_jawazat("ingest", str(feed), env=env).returncode == 0
    day = (EXPIRY - timedelta(days=7)).isoformat()

    first = run_jawazat("scheduler", "--run-now", "passport_expiry", "--today", day, env=env)
    again = run_jawazat("scheduler", "--run-now", "passport_expiry", "--today", day, env=env)

    assert first.returncode == 0, first.stderr
    assert first.stdout.count("\n") == 1
    assert first.stdout.startswith(f"passport_expiry {day}: 8 people scanned;")
    assert summary_of(first.stdout) == {"scanned": 8, "approaching": 8, "expired": 0, "dups": 0}
    assert summary_of(again.stdout) == {"scanned": 8, "approaching": 0, "expired": 0, "dups": 8}


def test_run_now_of_the_minute_jobs(sqlite_database_url: str, tmp_path: Path) -> None:
    env = cli_environment(sqlite_database_url, tmp_path)

    lag = run_jawazat("scheduler", "--run-now", "projection_lag", env=env)
    sweep = run_jawazat("scheduler", "--run-now", "retry_deliveries", env=env)

    assert lag.returncode == 0, lag.stderr
    assert lag.stdout.startswith("projection_lag: store head 0;")
    assert sweep.returncode == 0, sweep.stderr
    assert sweep.stdout.startswith("retry_deliveries:")


def test_usage_errors_exit_2_with_one_sentence(sqlite_database_url: str, tmp_path: Path) -> None:
    env = cli_environment(sqlite_database_url, tmp_path)

    unknown = run_jawazat("scheduler", "--run-now", "reindex", env=env)
    bad_day = run_jawazat("scheduler", "--run-now", "passport_expiry", "--today", "1/7/2026", env=env)
    day_alone = run_jawazat("scheduler", "--today", "2026-07-01", env=env)

    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "error: unknown job 'reindex': known jobs are passport_expiry, retry_deliveries, projection_lag, "
        "digests"
    )
    assert bad_day.returncode == 2
    assert "must be a date as YYYY-MM-DD" in bad_day.stderr
    assert day_alone.returncode == 2
    assert "--today only applies with --run-now" in day_alone.stderr


def test_the_scheduler_runs_until_sigterm_and_stops_cleanly(sqlite_database_url: str, tmp_path: Path) -> None:
    env = cli_environment(sqlite_database_url, tmp_path)
    process = subprocess.Popen(
        [*jawazat_command(), "scheduler"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()  # printed once the jobs are wired, before they start
        assert first.startswith("scheduler: running passport_expiry, retry_deliveries, projection_lag")
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert "scheduler: stopped" in rest


def test_two_schedulers_at_once_on_postgresql_store_each_event_once(
    pg_database_url: str, tmp_path: Path
) -> None:
    env = cli_environment(pg_database_url, tmp_path)
    feed, people = people_feed(tmp_path, 200)
    assert run_jawazat("ingest", str(feed), env=env).returncode == 0
    day = EXPIRY - timedelta(days=2)
    command = [*jawazat_command(), "scheduler", "--run-now", "passport_expiry", "--today", day.isoformat()]

    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], [err for _, err in outputs]
    summaries = [summary_of(out) for out, _ in outputs]
    expected = {f"expiry:{n}:{p}:7" for n, p, e in people if e > day}
    expected |= {f"expired:{n}:{p}" for n, p, e in people if e == day}
    assert sum(s["approaching"] + s["expired"] for s in summaries) == len(expected)
    assert sum(s["dups"] for s in summaries) == len(expected)
    with psycopg.connect(pg_database_url) as conn:
        keyed = [
            row[0]
            for row in conn.execute(
                "SELECT event_id FROM jawazat_event_ids WHERE event_id LIKE 'expir%%'"
            ).fetchall()
        ]
    assert sorted(keyed) == sorted(expected)
    wired = bootstrap(database_url=pg_database_url)
    try:
        assert sorted(e.event_id for e in recorded(wired)) == sorted(expected)
    finally:
        wired.close()
