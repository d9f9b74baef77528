"""Two `jawazat ingest` processes on one PostgreSQL store at the same time, with overlapping feeds."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jawazat_events.bootstrap import bootstrap
from jawazat_events.generate import FeedGenerator
from tests.support import assert_stored_once, jawazat_command, notifications
from tests.support.stores import FIXED_NOW

PEOPLE = 200
EVENTS = 4_000


def overlapping_feeds() -> tuple[list[str], list[str], list[str]]:
    """The whole feed, and two overlapping parts that together cover it.

    Both parts carry every registration, and each keeps a person's sponsorship transfers in order, so
    neither depends on the other having run first: whatever the interleaving, nothing is rejected.
    """
    feed = list(FeedGenerator(people=PEOPLE, events=EVENTS, seed=21).lines())
    registrations, life = feed[:PEOPLE], feed[PEOPLE:]
    third = len(life) // 3
    early_transfers = [text for text in life[:third] if '"type":"sponsorship_transferred"' in text]
    assert early_transfers, "the feed should have transfers before the overlap"
    first = registrations + life[: 2 * third]
    second = registrations + early_transfers + life[third:]
    return feed, first, second


@pytest.mark.postgres
def test_two_processes_ingesting_overlapping_feeds_store_each_event_once(
    pg_database_url: str, tmp_path: Path
) -> None:
    feed, first, second = overlapping_feeds()
    files = []
    for name, lines in (("first.jsonl", first), ("second.jsonl", second)):
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    env = {
        **os.environ,
        "JAWAZAT_DATABASE_URL": pg_database_url,
        # Small batches: many transactions from each process, so they interleave and collide.
        "JAWAZAT_INGEST_BATCH_SIZE": "50",
        "JAWAZAT_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    # The database is empty: the two processes also race to create the store's tables.
    processes = [
        subprocess.Popen(
            [*jawazat_command(), "ingest", str(path), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in files
    ]
    reports: list[dict[str, Any]] = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        reports.append(json.loads(stdout))

    assert [r["rejected"] for r in reports] == [0, 0], [r["rejections"][:3] for r in reports]
    assert reports[0]["accepted"] + reports[0]["duplicate"] == len(first)
    assert reports[1]["accepted"] + reports[1]["duplicate"] == len(second)
    assert reports[0]["accepted"] + reports[1]["accepted"] == len(feed)
    assert reports[0]["duplicate"] + reports[1]["duplicate"] == len(first) + len(second) - len(feed)

    wired = bootstrap(database_url=pg_database_url, outbox_dir=tmp_path / "outbox")
    wired.clock = lambda: FIXED_NOW
    try:
        # Sequence numbers lost to refused transactions may leave gaps: count the rows themselves.
        assert len(notifications(wired.app)) == len(feed)
        assert_stored_once(wired.app, [json.loads(text)["event_id"] for text in feed])
    finally:
        wired.close()
