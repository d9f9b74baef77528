"""Support tickets, idempotent requests and rebuilds of the e-services' read models, through the HTTP API on
each backend: uploads checked by content and size and kept outside the store by SHA-256, tickets visible
to their owner and officers only, `Idempotency-Key` answers (also after a restart), identical rebuilds."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.domain.ticket import MAX_ATTACHMENT_BYTES, parse_tracking_number
from jawazat_events.projections.queries import list_alerts
from tests.support.api import ApiWorld, api_world, problems
from tests.support.audit import digest
from tests.support.eservices import (
    CHILD,
    GUARDIAN,
    GUARDIAN_MOBILE,
    JPEG,
    PDF,
    SPONSOR,
    STRANGER,
    Family,
    png,
)
from tests.support.stores import FIXED_NOW

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
FORM = {
    "problem_type": "transaction_failed",
    "procedure": "exit_reentry_visa",
    "description": "the fee was taken",
}


@pytest.fixture
def world(container: Container, tmp_path: Path) -> Iterator[ApiWorld]:
    with api_world(container, attachments_dir=tmp_path / "attachments") as built:
        yield built


@pytest.fixture
def family(world: ApiWorld) -> Family:
    family = Family(world.container)
    family.register()
    return family


def open_ticket(
    world: ApiWorld,
    headers: dict[str, str],
    files: list[tuple[str, bytes]] = (),
    **form: str,  # type: ignore[assignment]
) -> Any:
    uploads = [("attachments", (name, content, "application/octet-stream")) for name, content in files]
    return world.client.post("/v1/tickets", data={**FORM, **form}, files=uploads or None, headers=headers)


# --- tickets ------------------------------------------------------------------------------------------


def test_a_ticket_with_attachments_is_kept_outside_the_store_with_each_sha256(
    world: ApiWorld, family: Family, tmp_path: Path
) -> None:
    files = [("receipt.pdf", PDF), ("screen.png", png()), ("photo.jpg", JPEG)]
    created = open_ticket(world, family.token(GUARDIAN), files)
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"tracking_number", "status"} and body["status"] == "received"
    number = body["tracking_number"]
    assert parse_tracking_number(number) == number and len(number.replace("-", "")) == 10

    ticket = world.client.get(f"/v1/tickets/{number}", headers=family.token(GUARDIAN)).json()
    assert [(a["name"], a["content_type"], a["size"]) for a in ticket["attachments"]] == [
        ("receipt.pdf", "application/pdf", len(PDF)),
        ("screen.png", "image/png", len(png())),
        ("photo.jpg", "image/jpeg", len(JPEG)),
    ]
    for (_, content), record in zip(files, ticket["attachments"], strict=True):
        digest_ = hashlib.sha256(content).hexdigest()
        assert record["sha256"] == digest_
        assert (tmp_path / "attachments" / digest_[:2] / digest_).read_bytes() == content
        fetched = world.client.get(f"/v1/tickets/{number}/attachments/{digest_}", headers=family.officer())
        assert fetched.content == content and fetched.headers["content-type"] == record["content_type"]
    # Only the records are events: the contents are nowhere in the store.
    stored = b"".join(
        n.state for n in world.container.app.recorder.select_notifications(start=1, limit=10_000)
    )
    assert b"%PDF-1.4" not in stored and b"JFIF" not in stored


@pytest.mark.parametrize(
    ("files", "field", "rule"),
    [
        ([("fake.pdf", b"just text, named like a PDF")], "attachments.0", "attachment_type"),
        ([("a.pdf", PDF), ("script.png", b"<script>")], "attachments.1", "attachment_type"),
        ([("big.pdf", PDF + b"0" * MAX_ATTACHMENT_BYTES)], "attachments.0", "attachment_size"),
        ([("empty.pdf", b"")], "attachments.0", "attachment_empty"),
        ([(f"{n}.pdf", PDF) for n in range(6)], "attachments", "attachments_count"),
    ],
    ids=["text-named-pdf", "second-not-an-image", "over-5-MB", "empty", "six-files"],
)
def test_attachments_are_refused_by_content_size_and_count(
    world: ApiWorld, family: Family, files: list[tuple[str, bytes]], field: str, rule: str, tmp_path: Path
) -> None:
    answer = open_ticket(world, family.token(GUARDIAN), files)
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert (problem["field"], problem["rule"]) == (field, rule)
    assert not (tmp_path / "attachments").exists() or not any((tmp_path / "attachments").rglob("*"))


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"problem_type": "broken"}, "problem_type"),
        ({"procedure": ""}, "procedure"),
        ({"procedure": "x" * 201}, "procedure"),
        ({"description": "   "}, "description"),
    ],
)
def test_form_fields_are_checked(world: ApiWorld, family: Family, form: dict[str, str], field: str) -> None:
    assert field in problems(open_ticket(world, family.token(GUARDIAN), **form))


def test_tickets_are_visible_to_their_owner_and_officers_only(world: ApiWorld, family: Family) -> None:
    establishment = world.establishment(SPONSOR)
    mine = open_ticket(world, family.token(GUARDIAN)).json()["tracking_number"]
    theirs = open_ticket(world, establishment).json()["tracking_number"]
    other = world.establishment("7007654321")
    for number, owner in ((mine, family.token(GUARDIAN)), (theirs, establishment)):
        assert world.client.get(f"/v1/tickets/{number}", headers=owner).status_code == 200
        assert world.client.get(f"/v1/tickets/{number}", headers=family.officer()).status_code == 200
        for stranger in (family.token(STRANGER), family.token(CHILD), other):
            assert world.client.get(f"/v1/tickets/{number}", headers=stranger).status_code == 404
            reply = world.client.post(
                f"/v1/tickets/{number}/messages", json={"message": "hi"}, headers=stranger
            )
            assert reply.status_code == 404
    assert world.client.get(f"/v1/tickets/{mine}", headers=world.token("auditor")).status_code == 403
    listed = world.client.get("/v1/tickets", headers=establishment).json()["items"]
    assert [t["tracking_number"] for t in listed] == [theirs]
    queue = world.client.get("/v1/tickets", params={"status": "received"}, headers=family.officer()).json()
    assert [t["tracking_number"] for t in queue["items"]] == [mine, theirs]  # oldest first
    typo = mine[:-1] + ("0" if mine[-1] != "0" else "1")
    assert (
        "check symbol"
        in problems(world.client.get(f"/v1/tickets/{typo}", headers=family.officer()))["tracking_number"]
    )


def test_officers_move_a_ticket_on_and_the_owner_replies_and_is_told(world: ApiWorld, family: Family) -> None:
    guardian, officer = family.token(GUARDIAN), family.officer()
    number = open_ticket(world, guardian).json()["tracking_number"]
    path = f"/v1/tickets/{number}"

    needs = world.client.post(f"{path}/status", json={"status": "needs_information"}, headers=officer)
    assert needs.status_code == 422 and needs.json()["detail"][0]["rule"] == "message_required"
    asked = world.client.post(
        f"{path}/status",
        json={"status": "needs_information", "message": "the receipt please"},
        headers=officer,
    )
    assert asked.json()["status"] == "needs_information"
    assert (
        world.client.post(f"{path}/status", json={"status": "resolved"}, headers=guardian).status_code == 403
    )
    replied = world.client.post(f"{path}/messages", json={"message": "attached again"}, headers=guardian)
    assert replied.status_code == 200
    same = world.client.post(
        f"{path}/status", json={"status": "needs_information", "message": "x"}, headers=officer
    )
    assert same.status_code == 409
    for status in ("in_progress", "resolved", "closed"):
        moved = world.client.post(
            f"{path}/status", json={"status": status, "message": f"now {status}"}, headers=officer
        )
        assert moved.status_code == 200, moved.text
    assert (
        world.client.post(f"{path}/messages", json={"message": "more"}, headers=guardian).status_code == 409
    )
    ticket = world.client.get(path, headers=guardian).json()
    assert [(m["by"], m["status"]) for m in ticket["messages"]] == [
        ("officer", "needs_information"),
        ("owner", "needs_information"),
        ("officer", "in_progress"),
        ("officer", "resolved"),
        ("officer", "closed"),
    ]

    world.work()
    sms = [
        a
        for a in list_alerts(world.container.read_models.db)
        if a["notification_type"] == "request_status" and a["channel"] == "sms"
    ]
    # Received, four officer changes; the owner's own reply tells nobody.
    assert [a["event_type"] for a in sms] == ["ticket_received"] + ["ticket_status_changed"] * 4
    assert {a["recipient"] for a in sms} == {GUARDIAN_MOBILE}
    assert all(a["id_number"] == GUARDIAN and a["establishment"] == "" for a in sms)


def test_an_establishments_ticket_tells_its_default_contacts(world: ApiWorld, family: Family) -> None:
    establishment = world.establishment(SPONSOR, mobile="0509998877", email="it@establishment.example")
    number = open_ticket(world, establishment).json()["tracking_number"]
    world.client.post(
        f"/v1/tickets/{number}/status", json={"status": "in_progress"}, headers=family.officer()
    )
    world.work()
    alerts = list_alerts(world.container.read_models.db, establishment=SPONSOR)
    assert sorted((a["event_type"], a["channel"], a["recipient"]) for a in alerts) == [
        ("ticket_received", "email", "it@establishment.example"),
        ("ticket_received", "sms", "+966509998877"),
        ("ticket_status_changed", "email", "it@establishment.example"),
        ("ticket_status_changed", "sms", "+966509998877"),
    ]
    shown = world.client.get("/v1/alerts", headers=establishment).json()["items"]
    assert {a["notification_type"] for a in shown} == {"request_status"}


# --- idempotent requests ------------------------------------------------------------------------------


def test_the_same_key_and_body_get_the_first_answer_and_act_once(world: ApiWorld, family: Family) -> None:
    guardian = {**family.token(GUARDIAN), "Idempotency-Key": "k-1"}
    body = {"id_number": CHILD, "valid_from": "2026-07-10", "valid_until": "2026-07-31"}
    first = world.client.post("/v1/travel-permits", json=body, headers=guardian)
    again = world.client.post("/v1/travel-permits", json=dict(reversed(body.items())), headers=guardian)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    listed = world.client.get("/v1/travel-permits", headers=family.token(GUARDIAN)).json()["items"]
    assert len(listed) == 1

    other_body = world.client.post(
        "/v1/travel-permits", json={**body, "valid_until": "2026-07-30"}, headers=guardian
    )
    assert "different request" in problems(other_body)["Idempotency-Key"]
    other_route = world.client.post(
        f"/v1/travel-permits/{first.json()['permit_id']}/cancel", headers=guardian
    )
    assert other_route.status_code == 422
    # Keys belong to their caller: another caller's same key is a new request.
    stranger = world.client.post(
        "/v1/tickets", data=FORM, headers={**family.token(STRANGER), "Idempotency-Key": "k-1"}
    )
    assert stranger.status_code == 201


@pytest.mark.parametrize(
    ("route", "body"),
    [
        (
            "/v1/makkah-permits",
            {"id_number": CHILD, "season": "1448", "documents": [{"name": "a", "sha256": "c" * 64}]},
        ),
        (
            f"/v1/people/{CHILD}/passport",
            {"passport_number": "N1", "issue_date": "2026-06-01", "expiry_date": "2036-06-01"},
        ),
    ],
)
def test_every_post_is_idempotent(world: ApiWorld, family: Family, route: str, body: dict[str, Any]) -> None:
    headers = {**family.token(GUARDIAN), "Idempotency-Key": "same"}
    answers = [world.client.post(route, json=body, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert answers[0].json() == answers[1].json() == answers[2].json()


def test_a_ticket_retried_with_its_key_is_one_ticket(world: ApiWorld, family: Family) -> None:
    headers = {**family.token(GUARDIAN), "Idempotency-Key": "ticket-1"}
    files = [("attachments", ("a.pdf", PDF, "application/pdf"))]
    first = world.client.post("/v1/tickets", data=FORM, files=files, headers=headers)
    again = world.client.post("/v1/tickets", data=FORM, files=files, headers=headers)
    assert first.json() == again.json()
    changed = world.client.post(
        "/v1/tickets",
        data=FORM,
        files=[("attachments", ("a.pdf", PDF + b" ", "application/pdf"))],
        headers=headers,
    )
    assert changed.status_code == 422
    assert len(world.client.get("/v1/tickets", headers=family.token(GUARDIAN)).json()["items"]) == 1


def test_keys_survive_a_restart(world: ApiWorld, family: Family, database_url: str, tmp_path: Path) -> None:
    headers = {**family.token(GUARDIAN), "Idempotency-Key": "before-restart"}
    body = {"id_number": CHILD, "valid_from": "2026-07-10", "valid_until": "2026-07-31"}
    first = world.client.post("/v1/travel-permits", json=body, headers=headers)
    assert first.status_code == 201

    restarted = bootstrap(database_url=database_url, outbox_dir=tmp_path / "outbox2")
    restarted.clock = lambda: FIXED_NOW
    try:
        with api_world(restarted) as fresh:
            again = fresh.client.post("/v1/travel-permits", json=body, headers=headers)
            assert (again.status_code, again.json()) == (201, first.json())
            bad = fresh.client.post(
                "/v1/travel-permits", json=body, headers={**headers, "Idempotency-Key": " "}
            )
            assert bad.status_code == 422
    finally:
        restarted.close()


# --- rebuilds -----------------------------------------------------------------------------------------


def test_a_rebuild_gives_identical_request_read_models_and_keeps_deliveries(
    world: ApiWorld, family: Family
) -> None:
    guardian, officer = family.token(GUARDIAN), family.officer()
    body = {"id_number": CHILD, "valid_from": "2026-07-10", "valid_until": "2026-07-31"}
    permit = world.client.post("/v1/travel-permits", json=body, headers=guardian).json()["permit_id"]
    world.client.post(
        f"/v1/travel-permits/{permit}/decision", json={"decision": "reject", "reason": "no"}, headers=officer
    )
    makkah = {"id_number": CHILD, "season": "1448", "documents": [{"name": "a", "sha256": "d" * 64}]}
    world.client.post("/v1/makkah-permits", json=makkah, headers=guardian)
    number = open_ticket(world, guardian, [("a.pdf", PDF)]).json()["tracking_number"]
    world.client.post(
        f"/v1/tickets/{number}/status", json={"status": "closed", "message": "done"}, headers=officer
    )
    # Deliver (the clock moves past the alerts' creation), so that attempts must come back too.
    world.container.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
    world.work()
    world.work()  # the projections follow the attempts recorded by the first pass's delivery
    before = digest(world.container)
    delivered = [
        a for a in list_alerts(world.container.read_models.db) if a["notification_type"] == "request_status"
    ]
    assert len(delivered) == 10 and {a["status"] for a in delivered} == {"sent"}

    for names in ((), ("requests",), ("request_notifications",), ("fanout",)):
        report = world.container.rebuilder.rebuild(names)
        assert "fanout" in report.rebuilt or names == ("requests",)
        assert digest(world.container) == before, names
    world.work()
    assert all(a["status"] == "sent" for a in list_alerts(world.container.read_models.db))
