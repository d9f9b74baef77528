"""Parked events as an operator meets them, on each backend: `jawazat worker --once` moves past two poisons,
`jawazat projections lag|parked|retry-parked`, the `projection_lag` job, `audit verify`/`timeline`, and
`/metrics` show them; after the fix, `retry-parked` applies what it can, exactly once.

The poisons: a crossing dated 9999-12-31T23:59:59-14:00 (no view can turn it into UTC: it stays parked),
and a crossing whose alert rows the database refuses until the operator "fixes" it (a trigger dropped).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jawazat_events.bootstrap import Container
from jawazat_events.projections.queries import list_alerts
from tests.support import crossing, ingest, line, registration, run_jawazat
from tests.support.api import api_world
from tests.support.parking import fix_alerts, poisonous_crossing, refuse_alerts
from tests.support.stores import wired_container

SPONSOR = "7001234567"
ALI, OMAR = "2000000006", "1000000008"


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """Two people subscribed by e-mail; six crossings (x003's alert rows refused) and ALI's poison."""
    with wired_container(database_url, tmp_path) as wired:
        wired.establishments.register(
            unified_number=SPONSOR, name="Al Amal", email="hr@amal.example", language="en"
        )
        people = [ALI, OMAR]
        items = [
            registration(f"reg-{n}", id_number=n, sponsor=SPONSOR, passport_number=f"P{i:07d}")
            for i, n in enumerate(people)
        ]
        assert ingest(wired, [line(item) for item in items])[1].accepted == 2
        for n in people:
            wired.establishments.subscribe(SPONSOR, n, notification_types=["entry_exit"])
        refuse_alerts(wired, "x003")
        crossings = [
            crossing(f"x{k:03d}", f"2026-06-01T1{k}:00:00+03:00", id_number=people[k % 2]) for k in range(6)
        ]
        assert ingest(wired, [line(item) for item in crossings])[1].accepted == 6
        poisonous_crossing(wired, ALI, "poison")
        yield wired


def run(container: Container, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env.update(
        JAWAZAT_DATABASE_URL=container.settings.database_url,
        JAWAZAT_OUTBOX_DIR=str(container.settings.outbox_dir),
        COLUMNS="200",
    )
    done = run_jawazat(*args, env=env)
    return done.returncode, done.stdout, done.stderr


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(row) for row in text.splitlines() if row.strip()]


def test_an_operator_lists_fixes_and_retries_parked_events(store: Container) -> None:
    code, out, err = run(store, "worker", "--once")
    assert code == 0, err
    alerted = sorted(a["event_id"] for a in list_alerts(store.read_models.db))
    assert alerted == ["x000", "x001", "x002", "x004", "x005"]  # everyone else's alerts flowed

    code, out, _ = run(store, "projections", "parked", "--json")
    parked = json_lines(out)
    assert code == 0
    assert sorted((p["projection"], p["event_id"], p["error_class"]) for p in parked) == [
        ("fanout", "poison", "OverflowError"),
        ("fanout", "x003", "DataError" if store.read_models.db.postgres else "IntegrityError"),
        ("people", "poison", "OverflowError"),
    ]
    x003 = next(p for p in parked if p["event_id"] == "x003")
    assert "alert rows of x003 refused" in x003["error_message"] and x003["id_number"] == OMAR
    code, out, _ = run(store, "projections", "parked")
    assert code == 0 and "OverflowError" in out and "x003" in out

    code, out, _ = run(store, "projections", "lag", "--json")
    lags = json_lines(out)
    assert code == 0 and all(row["lag"] == row["head"] - row["position"] for row in lags)
    assert {row["projection"]: row["parked"] for row in lags if row["parked"]} == {"people": 1, "fanout": 2}
    code, out, _ = run(store, "projections", "lag")
    assert code == 0 and "3 event(s) parked" in out and "retry-parked" in out

    code, out, err = run(store, "scheduler", "--run-now", "projection_lag")
    assert code == 0, err
    assert out.strip().endswith("parked: people 1, fanout 2")
    assert "projection fanout has parked 2 event(s)" in err

    code, out, _ = run(store, "audit", "verify")
    assert code == 0 and "note: 3 event(s) of the store are parked by projections" in out
    code, out, _ = run(store, "audit", "timeline", ALI)
    assert code == 0 and "Parked by projections" in out and "OverflowError" in out
    code, out, err = run(store, "audit", "timeline", ALI, "--json")
    assert code == 0 and json.loads(out)["id_number"] == ALI  # the contract's JSON, unchanged
    assert "note: 2 event(s) of 2000000006 are parked" in err

    with api_world(store) as world:
        metrics = world.client.get("/metrics").text
    assert 'jawazat_parked_events{projection="fanout"} 2.0' in metrics
    assert 'jawazat_parked_events{projection="people"} 1.0' in metrics

    # Before the fix: all three stay, with their error of today; exit 1 says not all could be applied.
    code, out, _ = run(store, "projections", "retry-parked")
    assert code == 1 and "applied 0; still failing 3" in out

    # The fix, then the retry of x003 alone: applied once, its alert made, the list one shorter.
    fix_alerts(store)
    code, out, err = run(store, "projections", "retry-parked", "--position", str(x003["position"]))
    assert (code, out.strip()) == (0, "retry-parked: applied 1; still failing 0"), err
    code, out, _ = run(store, "projections", "retry-parked", "--position", str(x003["position"]))
    assert (code, out.strip()) == (0, "retry-parked: nothing parked matches")
    alerts = [a["event_id"] for a in list_alerts(store.read_models.db)]
    assert sorted(alerts) == ["x000", "x001", "x002", "x003", "x004", "x005"]
    code, out, _ = run(store, "projections", "parked", "--json")
    assert sorted(p["event_id"] for p in json_lines(out)) == ["poison", "poison"]
    assert all(p["retries"] == 1 for p in json_lines(out))

    # The new alert is delivered like any other.
    code, out, err = run(store, "worker", "--once")
    assert code == 0, err
    assert {a["status"] for a in list_alerts(store.read_models.db)} == {"sent"}


def test_usage_errors_name_the_projection(store: Container) -> None:
    for command in (["parked"], ["retry-parked"]):
        code, _, err = run(store, "projections", *command, "--projection", "bogus")
        assert code == 2
        assert err.strip().startswith(
            "error: unknown projection 'bogus'; known: subscription_index, people, "
        )
    code, out, _ = run(store, "projections", "parked")
    assert (code, out.strip()) == (0, "parked: none")
