"""The application's fast decoder on real stores (each backend, in clear and encrypted): every stored event
of the auditors' scenario and of one of each e-service workflow decodes to the library mapper's event."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from jawazat_events.bootstrap import Container
from jawazat_events.cli.demo_eservices import run_eservices_demo
from tests.support import SPONSOR_A, notifications
from tests.support.audit import World
from tests.support.decoding import assert_same


def test_every_stored_event_decodes_as_the_mapper_decodes_it(
    audited: Container, world: World, tmp_path: Path
) -> None:
    run_eservices_demo(audited, sponsor=SPONSOR_A, outbox=tmp_path / "outbox")
    app = audited.app
    stored = notifications(app)
    kinds: Counter[str] = Counter()
    for notification in stored:
        expected = app.mapper.to_domain_event(notification)
        got = app.decoder.to_domain_event(notification)
        assert type(got) is type(expected)
        assert_same(vars(got), vars(expected), notification.topic)
        kinds[notification.topic.split(":")[0].rsplit(".", 1)[-1]] += 1
    # The scenario holds every aggregate the read side follows.
    assert {
        "person",
        "subscription",
        "establishment",
        "delivery",
        "travel_permit",
        "makkah_permit",
        "ticket",
    } <= set(kinds), kinds
