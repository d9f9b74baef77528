"""The auditors' commands as a user runs them (`jawazat audit …`, `jawazat projections rebuild`), on each
backend: output shapes, masking, exit codes (0 ok, 1 refused or tampered, 2 usage or configuration)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from jawazat_events.bootstrap import Container, load_settings
from tests.support import RESIDENT, SPONSOR_A, VISITOR, run_jawazat
from tests.support.audit import (
    A_EMAIL,
    A_MOBILE,
    TEST_KEY,
    World,
    audit_container,
    build_world,
)


@pytest.fixture
def recorded(database_url: str, tmp_path: Path) -> Iterator[tuple[Container, World]]:
    wired = audit_container(database_url, tmp_path, encrypted=False)
    try:
        yield wired, build_world(wired)
    finally:
        wired.close()


def env_for(container: Container, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env.update(
        JAWAZAT_DATABASE_URL=container.settings.database_url,
        JAWAZAT_OUTBOX_DIR=str(container.settings.outbox_dir),
        COLUMNS="160",
        **extra,
    )
    return env


def jawazat(container: Container, *args: str, **extra: str) -> tuple[int, str, str]:
    done = run_jawazat(*args, env=env_for(container, **extra))
    return done.returncode, done.stdout, done.stderr


def test_timeline_json_is_the_contract_shape(recorded: tuple[Container, World]) -> None:
    container, world = recorded
    code, out, err = jawazat(container, "audit", "timeline", RESIDENT, "--json")
    assert (code, err) == (0, "")
    timeline = json.loads(out)
    assert set(timeline) == {"id_number", "at", "events", "alerts", "sponsorships"}
    assert [e["event_id"] for e in timeline["events"]][:3] == ["e-reg", "e-c0", "e-c1"]
    assert all({"event_id", "type", "occurred_at", "recorded_at"} <= set(e) for e in timeline["events"])
    assert {a["recipient"] for a in timeline["alerts"]} >= {A_MOBILE, A_EMAIL}  # JSON keeps the contract
    code, out, _ = jawazat(
        container, "audit", "timeline", RESIDENT, "--json", "--at", world.delivered.isoformat()
    )
    assert code == 0
    assert [e["event_id"] for e in json.loads(out)["events"]] == ["e-reg", "e-c1", "e-r1"]


def test_timeline_for_people_masks_contacts(recorded: tuple[Container, World]) -> None:
    container, _ = recorded
    code, out, _ = jawazat(container, "audit", "timeline", RESIDENT)
    assert code == 0
    assert "e-c1" in out and "Sponsorships" in out and "Delivery attempts" in out
    assert A_MOBILE not in out and A_EMAIL not in out
    assert "****2233" in out and "****mple" in out


def test_timeline_refusals_and_usage_errors(recorded: tuple[Container, World]) -> None:
    container, _ = recorded
    code, out, err = jawazat(container, "audit", "timeline", VISITOR)
    assert (code, out) == (1, "")
    assert VISITOR in err and "not registered" in err and err.count("\n") == 1
    code, _, err = jawazat(container, "audit", "timeline", RESIDENT, "--at", "yesterday")
    assert code == 2 and "--at" in err


def test_subscriptions_at(recorded: tuple[Container, World]) -> None:
    container, world = recorded
    code, out, _ = jawazat(
        container, "audit", "subscriptions", SPONSOR_A, "--at", world.subscribed.isoformat(), "--json"
    )
    assert code == 0
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["id_number"] == RESIDENT
    assert row["notification_types"] == ["entry_exit", "passport_renewal", "visa"]
    code, _, err = jawazat(container, "audit", "subscriptions", "7000000099")
    assert code == 1 and "7000000099" in err


def test_verify_passes_then_names_the_altered_event(recorded: tuple[Container, World]) -> None:
    container, _ = recorded
    code, out, err = jawazat(container, "audit", "verify")
    assert (code, err) == (0, "")
    head = container.app.recorder.max_notification_id()
    match = re.search(r"latest link: (\d+):([0-9a-f]{64})", out)
    assert match and int(match.group(1)) == head
    anchor = f"{match.group(1)}:{match.group(2)}"
    assert jawazat(container, "audit", "verify", "--anchor", anchor)[0] == 0
    _tamper(container, position=5)
    code, out, err = jawazat(container, "audit", "verify", "--anchor", anchor)
    assert code == 1
    assert "altered event at position 5" in err and "originator" in err
    code, _, err = jawazat(container, "audit", "verify", "--anchor", "nonsense")
    assert code == 2 and "POSITION:HEXLINK" in err


def test_export_csv_with_bom_and_jsonl(recorded: tuple[Container, World]) -> None:
    container, world = recorded
    window = ["--since", "2000-01-01", "--until", "2100-01-01"]
    done = run_jawazat("audit", "export", *window, "--format", "csv", env=env_for(container))
    assert done.returncode == 0
    assert done.stdout.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(done.stdout.removeprefix("\ufeff"), newline="")))
    assert len(rows) == container.app.recorder.max_notification_id()
    assert any("محمد علي" in row["fields"] for row in rows)
    code, out, _ = jawazat(container, "audit", "export", *window, "--id-number", RESIDENT)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and records and {r["id_number"] for r in records} == {RESIDENT}
    code, out, _ = jawazat(
        container, "audit", "export", "--since", world.end.isoformat(), "--until", "2100-01-01"
    )
    assert (code, out) == (0, "")
    assert jawazat(container, "audit", "export", *window, "--format", "xml")[0] == 2
    assert jawazat(container, "audit", "export", "--since", "2026-02-01", "--until", "2026-01-01")[0] == 2


def test_projections_rebuild(recorded: tuple[Container, World]) -> None:
    container, _ = recorded
    code, out, err = jawazat(container, "projections", "rebuild")
    assert (code, err) == (0, "")
    assert "rebuilt subscription_index, people, requests, request_notifications, fanout" in out
    code, out, _ = jawazat(container, "projections", "rebuild", "people")
    assert code == 0 and "rebuilt people" in out
    code, _, err = jawazat(container, "projections", "rebuild", "nope")
    assert code == 2 and "unknown projection" in err


def test_an_encrypted_store_needs_its_key(database_url: str, tmp_path: Path) -> None:
    wired = audit_container(database_url, tmp_path, encrypted=True)
    try:
        build_world(wired)
        code, out, _ = jawazat(wired, "audit", "timeline", RESIDENT, "--json", JAWAZAT_CIPHER_KEY=TEST_KEY)
        assert code == 0 and json.loads(out)["id_number"] == RESIDENT
        code, _, err = jawazat(wired, "audit", "timeline", RESIDENT)
        assert code == 2 and "JAWAZAT_CIPHER_KEY" in err and "Traceback" not in err
        assert jawazat(wired, "audit", "verify")[0] == 0  # the chain covers ciphertext: no key needed
        code, _, err = jawazat(wired, "audit", "verify", JAWAZAT_CIPHER_KEY="short")
        assert code == 2 and "JAWAZAT_CIPHER_KEY" in err and "short" not in err
    finally:
        wired.close()


def test_new_key_makes_a_usable_key(recorded: tuple[Container, World]) -> None:
    container, _ = recorded
    code, out, _ = jawazat(container, "audit", "new-key")
    key = out.strip()
    assert code == 0 and load_settings(cipher_key=key).cipher_key is not None


def _tamper(container: Container, *, position: int) -> None:
    table = container.app.store.events_table_name
    if container.database.backend == "postgres":
        import psycopg

        with psycopg.connect(container.database.psycopg_conninfo(), autocommit=True) as conn:
            conn.execute(
                f"UPDATE {table} SET state = state || '\\x20'::bytea WHERE notification_id = %s", (position,)
            )
    else:
        import sqlite3

        with sqlite3.connect(container.database.sqlite_path) as conn:
            conn.execute(f"UPDATE {table} SET state = state || x'20' WHERE rowid = ?", (position,))
