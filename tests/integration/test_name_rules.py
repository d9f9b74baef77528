"""Names and free text that reach messages follow one domain rule in the feed, the CLI and the API alike:
NFC, no control or bidi-override characters, not blank, bounded; the refusal names the field. And no
name, even one stored before these rules, can add a header to an e-mail."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jawazat_events.bootstrap import Container
from jawazat_events.domain.person import Person
from jawazat_events.services.channels import Language
from jawazat_events.subscribers.email import build_email_message
from jawazat_events.subscribers.outbox import OutboxChannel
from jawazat_events.subscribers.rendering import AlertView, render
from tests.support import RESIDENT, crossing, ingest, line, registration, run_jawazat
from tests.support.api import api_world

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

INJECTION = "Mohammed\r\nBcc: evil@example.com"
RLO = "\u202emoc.elpmaxe"
ZERO_WIDTH = "\u200b\u200d"

# (case, feed item, field named, what the reason says)
REFUSED_ITEMS: list[tuple[str, dict[str, Any], str, str]] = [
    ("CR/LF in name_en", registration("r1") | {"name_en": INJECTION}, "name_en", "line breaks (U+000D"),
    ("bidi override in name_ar", registration("r2") | {"name_ar": RLO}, "name_ar", "bidirectional"),
    (
        "zero-width-only name_en",
        registration("r3") | {"name_en": ZERO_WIDTH},
        "name_en",
        "at least 1 character",
    ),
    ("100,000-character name_ar", registration("r4") | {"name_ar": "م" * 100_000}, "name_ar", "at most 200"),
    (
        "line break in passport_number",
        registration("r5") | {"passport_number": "P1\nP2"},
        "passport_number",
        "line breaks",
    ),
    ("bidi isolate in port", crossing("c1", "2026-06-30T10:00:00+03:00", port="RUH\u2066"), "port", "U+2066"),
    (
        "line separator in port",
        crossing("c2", "2026-06-30T10:00:00+03:00", port="R\u2028UH"),
        "port",
        "U+2028",
    ),
]


@pytest.mark.parametrize(("case", "item", "field", "why"), REFUSED_ITEMS, ids=[c[0] for c in REFUSED_ITEMS])
def test_the_feed_refuses_unclean_text_naming_the_field(
    container: Container, case: str, item: dict[str, Any], field: str, why: str
) -> None:
    ingest(container, [line(registration("reg-first", id_number="2000000014"))])
    if item["type"] == "border_crossing":
        ingest(container, [line(registration("reg-resident"))])

    results, report = ingest(container, [line(item)])

    assert report.rejected == 1, results
    reason = results[0].reason or ""
    assert reason.startswith(f"{field} must") and why in reason, reason


def test_the_feed_stores_names_in_nfc(container: Container) -> None:
    decomposed = "Jose\u0301 Nun\u0303ez"
    ingest(container, [line(registration("reg-nfc") | {"name_en": f"  {decomposed} "})])
    person = container.app.repository.get(Person.create_id(RESIDENT))
    assert person.name_en == "José Nuñez"


def test_post_events_applies_the_same_rule(container: Container) -> None:
    with api_world(container) as world:
        source = world.token("source")
        items = [item for _, item, _, _ in REFUSED_ITEMS[:3]]
        body = world.client.post("/v1/events", json={"events": items}, headers=source).json()
    assert [r["reason"].split(" ")[0] for r in body["results"]] == ["name_en", "name_ar", "name_en"]


@pytest.mark.parametrize(
    ("command", "why"),
    [
        (["establishments", "add", "7001234567", "--name", INJECTION], "line breaks"),
        (["establishments", "add", "7001234567", "--name", RLO], "bidirectional"),
        (["establishments", "add", "7001234567", "--name", ZERO_WIDTH], "at least 1 character"),
        (["establishments", "add", "7001234567", "--name", "n" * 1000], "at most 200"),
        (["tokens", "issue", "--role", "source", "--name", INJECTION], "line breaks"),
        (["tokens", "issue", "--role", "auditor", "--name", "\u202eevil"], "bidirectional"),
    ],
    ids=[
        "establishment CR/LF",
        "establishment bidi",
        "establishment zero-width",
        "establishment long",
        "token CR/LF",
        "token bidi",
    ],
)
def test_the_cli_applies_the_same_rule(
    sqlite_database_url: str, tmp_path: Path, command: list[str], why: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env |= {"JAWAZAT_DATABASE_URL": sqlite_database_url, "JAWAZAT_OUTBOX_DIR": str(tmp_path / "outbox")}

    done = run_jawazat(*command, env=env)

    assert done.returncode == 1, done.stdout
    assert done.stderr.startswith("refused: name must") and why in done.stderr, done.stderr
    assert done.stdout == ""


def test_a_sender_with_a_line_break_is_a_configuration_error(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env |= {
        "JAWAZAT_DATABASE_URL": sqlite_database_url,
        "JAWAZAT_EMAIL_FROM": "a@b.example\r\nBcc: evil@x.example",
    }
    done = run_jawazat("worker", "--once", env=env)
    assert done.returncode == 2 and "JAWAZAT_EMAIL_FROM" in done.stderr and "line breaks" in done.stderr


# --- e-mail headers -------------------------------------------------------------------------------------


def _legacy_view() -> AlertView:
    """An alert about a person (and an establishment) whose names were stored before the name rules."""
    return AlertView(
        alert_id="0b9a7c4e-1111-4222-8333-444455556666",
        event_type="border_crossing",
        notification_type="entry_exit",
        id_number=RESIDENT,
        person_name_ar="محمد\u202e\r\nBcc: evil@example.com",
        person_name_en=INJECTION,
        establishment_name="Al Noor\nBcc: evil@example.com\n\u202eX-Evil: 1",
        occurred_at=datetime(2026, 7, 1, 9, 5, tzinfo=UTC),
        fields={"direction": "exit", "port": "RUH\r\nBcc: evil@example.com"},
    )


def _assert_no_injected_header(raw: bytes) -> None:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert set(parsed.keys()) >= {"From", "To", "Subject", "Message-ID"}
    for part in parsed.walk():
        assert part["Bcc"] is None
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    assert not [x for x in lines if x.lower().startswith(b"bcc:") or x.lower().startswith(b"x-evil:")]


def test_a_name_with_cr_lf_cannot_add_a_header_to_an_email() -> None:
    message = render(
        _legacy_view(), channel="email", recipient="hr@example.sa", language="en", tz=ZoneInfo("Asia/Riyadh")
    )
    mime = build_email_message(message, "notifications@jawazat.example")

    _assert_no_injected_header(mime.as_bytes())
    assert mime["To"] == "hr@example.sa" and list(mime.keys()).count("To") == 1
    assert "Mohammed  Bcc: evil@example.com" in message.text  # shown as text on one line, never a header


def test_the_outbox_copy_cannot_carry_an_injected_header_either(tmp_path: Path) -> None:
    message = render(
        _legacy_view(), channel="email", recipient="hr@example.sa", language="ar", tz=ZoneInfo("Asia/Riyadh")
    )
    result = asyncio.run(
        OutboxChannel(tmp_path, "email", sender="notifications@jawazat.example").send(message)
    )

    assert result.ok
    _assert_no_injected_header((tmp_path / f"{message.alert_id}.email.eml").read_bytes())


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_sms_keeps_the_facts_on_one_line_without_bidi_overrides(language: Language) -> None:
    message = render(
        _legacy_view(),
        channel="sms",
        recipient="+966501234567",
        language=language,
        tz=ZoneInfo("Asia/Riyadh"),
    )
    assert "\n" not in message.text and "\r" not in message.text and "\u202e" not in message.text
