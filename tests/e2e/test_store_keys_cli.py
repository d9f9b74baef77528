"""An encrypted store stays encrypted, driven as an operator would through the CLI, on each backend.

The store records on its first opening whether it is encrypted and the fingerprints of its keys; every
command (and `serve`, `worker`, `scheduler`) opened with the wrong keys exits 2 with one sentence before
writing anything. Rotation: a new `JAWAZAT_CIPHER_KEY` with the old key in `JAWAZAT_CIPHER_OLD_KEYS`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import psycopg
import pytest

from jawazat_events.store import META_TABLE
from tests.support import CITIZEN, RESIDENT, crossing, jawazat_command, line, registration, run_jawazat

FIRST = [registration("reg-a"), crossing("a-1", "2025-06-01T10:00:00+03:00")]
SECOND = [
    registration("reg-b", id_number=CITIZEN),
    crossing("b-1", "2025-06-02T10:00:00+03:00", id_number=CITIZEN),
]


def environment(database_url: str, tmp_path: Path, **keys: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env |= {"JAWAZAT_DATABASE_URL": database_url, "JAWAZAT_OUTBOX_DIR": str(tmp_path / "outbox")}
    return env | {f"JAWAZAT_{name.upper()}": value for name, value in keys.items()}


def feed(tmp_path: Path, name: str, items: list[dict[str, object]]) -> str:
    path = tmp_path / name
    path.write_text("\n".join(line(i) for i in items) + "\n", encoding="utf-8")
    return str(path)


def new_key(tmp_path: Path) -> str:
    made = run_jawazat("audit", "new-key", env=environment("sqlite:///unused", tmp_path))
    assert made.returncode == 0
    return made.stdout.strip()


def stored(database_url: str, tmp_path: Path) -> int:
    """How many events the store holds (`audit verify` reads stored bytes: it needs no key)."""
    verified = run_jawazat("audit", "verify", env=environment(database_url, tmp_path))
    assert verified.returncode == 0, verified.stderr
    found = re.search(r"intact: ([\d,]+) events", verified.stdout)
    return int(found.group(1).replace(",", "")) if found else 0


def meta_rows(database_url: str) -> dict[str, str]:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            return dict(conn.execute(f"SELECT name, value FROM {META_TABLE}").fetchall())
    with psycopg.connect(database_url) as conn:
        return dict(conn.execute(f"SELECT name, value FROM {META_TABLE}").fetchall())  # type: ignore[arg-type]


def refused(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    text = done.stderr.strip()
    assert text.count("\n") == 0 and "Traceback" not in text, text
    assert text.startswith("error: ") and text.endswith("nothing was written"), text
    for fragment in fragments:
        assert fragment in text, text


def test_an_encrypted_store_refuses_every_process_without_its_key(database_url: str, tmp_path: Path) -> None:
    k1, k2 = new_key(tmp_path), new_key(tmp_path)
    first, second = feed(tmp_path, "first.jsonl", FIRST), feed(tmp_path, "second.jsonl", SECOND)
    assert (
        run_jawazat("ingest", first, env=environment(database_url, tmp_path, cipher_key=k1)).returncode == 0
    )
    before = stored(database_url, tmp_path)

    keyless = environment(database_url, tmp_path)
    refused(run_jawazat("ingest", second, env=keyless), "is encrypted", "set JAWAZAT_CIPHER_KEY")
    refused(run_jawazat("worker", "--once", env=keyless), "is encrypted")
    refused(run_jawazat("scheduler", "--run-now", "passport_expiry", env=keyless), "is encrypted")
    refused(run_jawazat("establishments", "add", "7001234567", "--name", "X", env=keyless), "is encrypted")
    refused(
        run_jawazat("ingest", second, env=environment(database_url, tmp_path, cipher_key=k2)),
        "is not the key",
        "JAWAZAT_CIPHER_OLD_KEYS",
    )
    for command in (["serve", "--port", "0"], ["scheduler"], ["worker"]):
        process = subprocess.run(
            [*jawazat_command(), *command],
            env=keyless,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        refused(process, "is encrypted")

    assert stored(database_url, tmp_path) == before
    rows = meta_rows(database_url)
    assert rows["encryption"] == "aes-gcm"
    fingerprints = [name.removeprefix("key:") for name in rows if name.startswith("key:")]
    assert len(fingerprints) == 1 and len(fingerprints[0]) == 64
    assert not any(k1 in f"{name}{value}" for name, value in rows.items())


def test_a_clear_store_refuses_a_key(database_url: str, tmp_path: Path) -> None:
    first, second = feed(tmp_path, "first.jsonl", FIRST), feed(tmp_path, "second.jsonl", SECOND)
    assert run_jawazat("ingest", first, env=environment(database_url, tmp_path)).returncode == 0
    before = stored(database_url, tmp_path)

    keyed = environment(database_url, tmp_path, cipher_key=new_key(tmp_path))
    refused(run_jawazat("ingest", second, env=keyed), "holds events in clear", "unset it")

    assert stored(database_url, tmp_path) == before
    assert meta_rows(database_url) == {"encryption": "none"}


def test_key_rotation_reads_old_events_and_writes_under_the_new_key(
    database_url: str, tmp_path: Path
) -> None:
    k1, k2 = new_key(tmp_path), new_key(tmp_path)
    first, second = feed(tmp_path, "first.jsonl", FIRST), feed(tmp_path, "second.jsonl", SECOND)
    assert (
        run_jawazat("ingest", first, env=environment(database_url, tmp_path, cipher_key=k1)).returncode == 0
    )

    rotated = environment(database_url, tmp_path, cipher_key=k2, cipher_old_keys=k1)
    ingested = run_jawazat("ingest", second, env=rotated)
    old_person = run_jawazat("audit", "timeline", RESIDENT, "--json", env=rotated)
    new_person = run_jawazat("audit", "timeline", CITIZEN, "--json", env=rotated)
    worked = run_jawazat("worker", "--once", env=rotated)

    assert ingested.returncode == 0, ingested.stderr
    assert old_person.returncode == 0 and '"a-1"' in old_person.stdout, old_person.stderr
    assert new_person.returncode == 0 and '"b-1"' in new_person.stdout, new_person.stderr
    assert worked.returncode == 0, worked.stderr
    assert len([name for name in meta_rows(database_url) if name.startswith("key:")]) == 2
    # Every key that wrote events stays needed: the new key alone, or the old one alone, is refused.
    refused(run_jawazat("ingest", second, env=environment(database_url, tmp_path, cipher_key=k2)), "neither")
    refused(run_jawazat("ingest", second, env=environment(database_url, tmp_path, cipher_key=k1)), "neither")
    old_alone = run_jawazat("ingest", second, env=environment(database_url, tmp_path, cipher_old_keys=k1))
    assert (
        old_alone.returncode == 2 and "JAWAZAT_CIPHER_OLD_KEYS needs JAWAZAT_CIPHER_KEY" in old_alone.stderr
    )


def test_a_store_from_before_the_record_is_adopted_from_its_first_event(
    database_url: str, tmp_path: Path
) -> None:
    key = new_key(tmp_path)
    first, second = feed(tmp_path, "first.jsonl", FIRST), feed(tmp_path, "second.jsonl", SECOND)
    assert (
        run_jawazat("ingest", first, env=environment(database_url, tmp_path, cipher_key=key)).returncode == 0
    )
    _forget_the_record(database_url)  # as a store made by an earlier version
    before = stored(database_url, tmp_path)

    refused(run_jawazat("ingest", second, env=environment(database_url, tmp_path)), "is encrypted")
    assert meta_rows(database_url) == {}
    adopted = run_jawazat("ingest", second, env=environment(database_url, tmp_path, cipher_key=key))

    assert adopted.returncode == 0, adopted.stderr
    assert stored(database_url, tmp_path) == before + 2
    assert meta_rows(database_url)["encryption"] == "aes-gcm"


def _forget_the_record(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            conn.execute(f"DELETE FROM {META_TABLE}")
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DELETE FROM {META_TABLE}")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["not base64!", "c2hvcnQ="], ids=["not base64", "too short"])
def test_malformed_old_keys_stop_with_exit_2_without_showing_them(
    sqlite_database_url: str, tmp_path: Path, value: str
) -> None:
    env = environment(sqlite_database_url, tmp_path, cipher_key=new_key(tmp_path), cipher_old_keys=value)
    done = run_jawazat("ingest", feed(tmp_path, "first.jsonl", FIRST), env=env)
    assert done.returncode == 2 and "JAWAZAT_CIPHER_OLD_KEYS" in done.stderr and value not in done.stderr
