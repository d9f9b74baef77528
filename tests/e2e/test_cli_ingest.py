"""The `jawazat` console script as a user drives it: ingest, generate-feed and demo, run as subprocesses."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from jawazat_events.bootstrap import bootstrap
from jawazat_events.services import feed
from tests.support import (
    assert_stored_once,
    crossing,
    line,
    notifications,
    registration,
    run_jawazat,
)


def environment(database_url: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env["JAWAZAT_DATABASE_URL"] = database_url
    env["JAWAZAT_OUTBOX_DIR"] = str(folder / "outbox")
    return env


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a user whose store is a fresh database of the backend under test."""
    return environment(database_url, tmp_path)


@pytest.fixture
def sqlite_env(sqlite_database_url: str, tmp_path: Path) -> dict[str, str]:
    return environment(sqlite_database_url, tmp_path)


@pytest.fixture(scope="module")
def small_feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 20-event generated feed written by the CLI itself."""
    folder = tmp_path_factory.mktemp("feed")
    result = run_jawazat(
        "generate-feed",
        "--people",
        "5",
        "--events",
        "20",
        "--seed",
        "4",
        env=environment("sqlite:///x", folder),
    )
    assert result.returncode == 0, result.stderr
    path = folder / "feed.jsonl"
    path.write_text(result.stdout, encoding="utf-8")
    yield path


def counts(stdout: str) -> tuple[int, int, int]:
    found = {
        k: int(v) for k, v in re.findall(r"^(accepted|duplicate|rejected): (\d+)$", stdout, re.MULTILINE)
    }
    return found["accepted"], found["duplicate"], found["rejected"]


def one_sentence(stderr: str) -> str:
    lines = [text for text in stderr.splitlines() if text.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- jawazat ingest ------------------------------------------------------------------------------


def test_ingest_a_file_prints_counts_and_exits_0(small_feed: Path, env: dict[str, str]) -> None:
    first = run_jawazat("ingest", str(small_feed), env=env)

    assert first.returncode == 0, first.stderr
    assert counts(first.stdout) == (20, 0, 0)
    assert "line " not in first.stdout

    again = run_jawazat("ingest", str(small_feed), env=env)

    assert again.returncode == 0, again.stderr
    assert counts(again.stdout) == (0, 20, 0)
    wired = bootstrap(database_url=env["JAWAZAT_DATABASE_URL"])
    try:
        assert len(notifications(wired.app)) == 20
        assert_stored_once(
            wired.app, [json.loads(t)["event_id"] for t in small_feed.read_text().splitlines()]
        )
    finally:
        wired.close()


def test_ingest_with_bad_lines_exits_1_and_names_each_line(
    tmp_path: Path, sqlite_env: dict[str, str]
) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        "\n".join(
            [
                line(registration("r-1")),
                '{"event_id": "b-1", "type": "border_crossing", "id_number": "2000000006"',
                line(crossing("x-1", "2026-01-01T10:00:00+03:00")),
                line({**crossing("b-2", "2026-01-01T10:00:00"), "port": "RUH"}),
                line(crossing("b-3", "2026-01-01T10:00:00+03:00", id_number="3000000001")),
                line({**crossing("b-4", "2026-01-01T10:00:00+03:00"), "type": "passport_expiry_approaching"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    result = run_jawazat("ingest", str(path), env=sqlite_env)

    assert result.returncode == 1, result.stderr
    assert counts(result.stdout) == (2, 0, 4)
    rejected = re.findall(r"^line (\d+): (.+)$", result.stdout, re.MULTILINE)
    assert [int(n) for n, _ in rejected] == [2, 4, 5, 6]
    reasons = dict(rejected)
    assert reasons["2"].startswith("invalid JSON")
    assert reasons["4"] == "occurred_at: Input should have timezone info"
    assert reasons["5"] == "id_number 3000000001 is not registered: a person_registered event must come first"
    assert "'passport_expiry_approaching' is made by the engine" in reasons["6"]


def test_ingest_json_report(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(line(registration("r-1")) + "\n{}\n", encoding="utf-8")

    result = run_jawazat("ingest", str(path), "--json", env=sqlite_env)

    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert (report["accepted"], report["duplicate"], report["rejected"]) == (1, 0, 1)
    assert report["rejections"] == [
        {"line": 2, "status": "rejected", "event_id": None, "reason": "type: is required"}
    ]


def test_ingest_dash_reads_standard_input(small_feed: Path, sqlite_env: dict[str, str]) -> None:
    text = small_feed.read_text(encoding="utf-8")

    first = run_jawazat("ingest", "-", env=sqlite_env, stdin=text)
    again = run_jawazat("ingest", "-", env=sqlite_env, stdin=text + "not json\n")

    assert first.returncode == 0, first.stderr
    assert counts(first.stdout) == (20, 0, 0)
    assert again.returncode == 1
    assert counts(again.stdout) == (0, 20, 1)
    assert re.search(r"^line 21: invalid JSON", again.stdout, re.MULTILINE)


def test_ingest_of_a_missing_file_exits_2_with_one_sentence(
    tmp_path: Path, sqlite_env: dict[str, str]
) -> None:
    missing = tmp_path / "nowhere" / "feed.jsonl"

    result = run_jawazat("ingest", str(missing), env=sqlite_env)

    assert result.returncode == 2
    message = one_sentence(result.stderr)
    assert str(missing) in message
    assert "No such file or directory" in message
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://user@localhost/jawazat", "must start with sqlite:/// or postgresql://"),
        ("postgresql://postgres@127.0.0.1:5432", "postgresql URL needs a database name"),
        ("sqlite:////nonexistent-folder/jawazat.db", "cannot open the event store"),
    ],
)
def test_ingest_with_a_bad_database_url_exits_2(
    small_feed: Path, tmp_path: Path, url: str, fragment: str
) -> None:
    result = run_jawazat("ingest", str(small_feed), env=environment(url, tmp_path))

    assert result.returncode == 2
    message = one_sentence(result.stderr)
    assert fragment in message
    assert "JAWAZAT_DATABASE_URL" in message or "event store" in message
    assert "accepted" not in result.stdout


# --- jawazat generate-feed -----------------------------------------------------------------------


def test_generate_feed_is_deterministic_and_valid(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    args = ("generate-feed", "--people", "5", "--events", "20", "--seed", "4")

    first = run_jawazat(*args, env=sqlite_env)
    second = run_jawazat(*args, env=sqlite_env)

    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    lines = first.stdout.splitlines()
    assert len(lines) == 20
    events = [feed.parse_event(text) for text in lines]
    assert [e.type for e in events[:5]] == ["person_registered"] * 5
    assert len({e.event_id for e in events}) == 20
    assert {e.id_number for e in events} == {e.id_number for e in events[:5]}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--people", "5", "--events", "4"), "--events (4) must be at least --people (5)"),
    ],
)
def test_generate_feed_refuses_impossible_sizes(
    args: tuple[str, ...], fragment: str, sqlite_env: dict[str, str]
) -> None:
    result = run_jawazat("generate-feed", *args, env=sqlite_env)

    assert result.returncode == 2
    assert fragment in result.stderr
    assert result.stdout == ""


# --- jawazat demo --------------------------------------------------------------------------------


def test_demo_runs_offline_in_a_fresh_store_and_prints_the_summary(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env["JAWAZAT_OUTBOX_DIR"] = str(tmp_path / "outbox")

    result = run_jawazat("demo", "--workdir", str(workdir), env=env)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    summary = re.search(r"accepted (\d+), duplicate (\d+), rejected (\d+)", result.stdout)
    assert summary is not None, result.stdout
    # The generated feed (1500 events), its first 50 lines re-sent, and 4 deliberately bad lines.
    assert summary.groups() == ("1500", "50", "4")
    assert "people registered: 200 of 200" in result.stdout
    assert (workdir / "demo.db").exists()


# --- PostgreSQL at a realistic size ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
def test_twenty_thousand_events_into_postgresql_then_again(pg_database_url: str, tmp_path: Path) -> None:
    env = environment(pg_database_url, tmp_path)
    generated = run_jawazat("generate-feed", "--people", "2000", "--events", "20000", "--seed", "9", env=env)
    assert generated.returncode == 0, generated.stderr
    path = tmp_path / "feed.jsonl"
    path.write_text(generated.stdout, encoding="utf-8")
    event_ids = [json.loads(text)["event_id"] for text in generated.stdout.splitlines()]
    assert len(event_ids) == 20_000

    first = run_jawazat("ingest", str(path), env=env)

    assert first.returncode == 0, first.stdout[-2000:] + first.stderr
    assert counts(first.stdout) == (20_000, 0, 0)
    wired = bootstrap(database_url=pg_database_url)
    try:
        head = wired.app.recorder.max_notification_id()
        assert len(notifications(wired.app)) == 20_000
    finally:
        wired.close()

    again = run_jawazat("ingest", str(path), env=env)

    assert again.returncode == 0, again.stderr
    assert counts(again.stdout) == (0, 20_000, 0)
    wired = bootstrap(database_url=pg_database_url)
    try:
        assert wired.app.recorder.max_notification_id() == head
        assert len(notifications(wired.app)) == 20_000
        assert_stored_once(wired.app, event_ids)
    finally:
        wired.close()
