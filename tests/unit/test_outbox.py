"""The outbox channel: one clearly marked NOT SENT file per alert and channel, rewritten on a repeat."""

from __future__ import annotations

import asyncio
import email
import email.policy
from pathlib import Path

import pytest

from jawazat_events.services.channels import DeliveryResult, OutgoingMessage
from jawazat_events.subscribers.outbox import OutboxChannel

ALERT_ID = "0b9a7c4e-1111-4222-8333-444455556666"
SMS = OutgoingMessage(
    alert_id=ALERT_ID,
    channel="sms",
    recipient="+966501234567",
    subject=None,
    text="الجوازات: مغادرة راجيش كومار (هوية ******6543) من المملكة عبر منفذ KFIA في 2026-07-01 12:05.",
    html=None,
    language="ar",
)
EMAIL = OutgoingMessage(
    alert_id=ALERT_ID,
    channel="email",
    recipient="hr@example.com",
    subject="إشعار الجوازات: مغادرة | Passports notification: exit from the Kingdom | ******6543",
    text="مغادرة راجيش كومار\n\nExit: Rajesh Kumar left the Kingdom",
    html='<section dir="rtl" lang="ar">مغادرة</section><section dir="ltr" lang="en">Exit</section>',
    language="en",
)


def send(channel: OutboxChannel, message: OutgoingMessage) -> DeliveryResult:
    return asyncio.run(channel.send(message))


def test_sms_file_says_not_sent_then_headers_then_the_text(tmp_path: Path) -> None:
    outbox = OutboxChannel(tmp_path / "outbox", "sms")
    result = send(outbox, SMS)
    path = tmp_path / "outbox" / f"{ALERT_ID}.sms.txt"
    assert result == DeliveryResult.sent(
        f"outbox:{path.name}", detail="written to the outbox folder (not sent): no SMS provider configured"
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("NOT SENT") and "outbox only" in lines[0]
    assert "To: +966501234567" in lines
    assert f"Message-ID: <{ALERT_ID}@jawazat.example>" in lines
    assert any(line.startswith("Length: ") and "UCS-2" in line and "2 segment" in line for line in lines)
    assert SMS.text in lines


def test_email_file_is_a_readable_eml_marked_not_sent(tmp_path: Path) -> None:
    outbox = OutboxChannel(tmp_path, "email", sender="notifications@jawazat.example")
    result = send(outbox, EMAIL)
    path = tmp_path / f"{ALERT_ID}.email.eml"
    assert result.outcome == "sent" and result.provider_id == f"outbox:{path.name}"
    raw = path.read_bytes()
    first_line = raw.split(b"\r\n", 1)[0].decode()
    assert first_line.startswith("X-Jawazat-Outbox: NOT SENT - outbox only")
    assert "مغادرة راجيش كومار".encode() in raw  # bodies in 8-bit UTF-8, readable as they are
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["To"] == "hr@example.com"
    assert parsed["From"] == "notifications@jawazat.example"
    assert parsed["Subject"] == EMAIL.subject
    assert parsed["Message-ID"] == f"<{ALERT_ID}@jawazat.example>"
    assert parsed.get_content_type() == "multipart/alternative"
    plain, html = (part.get_content() for part in parsed.iter_parts())
    assert plain.replace("\r\n", "\n").strip() == EMAIL.text
    assert html.strip() == EMAIL.html


def test_a_repeat_of_the_same_alert_rewrites_the_same_file(tmp_path: Path) -> None:
    outbox = OutboxChannel(tmp_path, "sms")
    first, second = send(outbox, SMS), send(outbox, SMS)
    assert first.provider_id == second.provider_id
    assert [p.name for p in tmp_path.iterdir()] == [f"{ALERT_ID}.sms.txt"]  # no temporary files left


def test_email_and_sms_of_one_alert_are_separate_files(tmp_path: Path) -> None:
    send(OutboxChannel(tmp_path, "sms"), SMS)
    send(OutboxChannel(tmp_path, "email"), EMAIL)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{ALERT_ID}.email.eml", f"{ALERT_ID}.sms.txt"]


def test_the_outbox_declares_the_channel_it_stands_in_for(tmp_path: Path) -> None:
    sms, mail = OutboxChannel(tmp_path, "sms"), OutboxChannel(tmp_path, "email")
    assert (sms.name, sms.max_length) == ("sms", 306)
    assert (mail.name, mail.max_length) == ("email", None)
    assert isinstance(sms, OutboxChannel) and isinstance(mail, OutboxChannel)
    with pytest.raises(ValueError, match="'email' or 'sms'"):
        OutboxChannel(tmp_path, "fax")  # type: ignore[arg-type]


def test_a_message_for_the_other_channel_fails_as_a_result(tmp_path: Path) -> None:
    result = send(OutboxChannel(tmp_path, "email"), SMS)
    assert result.outcome == "failed" and "sms message" in result.detail
    assert list(tmp_path.iterdir()) == []


def test_an_alert_id_that_cannot_be_a_file_name_fails_without_writing(tmp_path: Path) -> None:
    bad = OutgoingMessage("../escape", "sms", "+966501234567", None, "x", None, "en")
    result = send(OutboxChannel(tmp_path / "box", "sms"), bad)
    assert result.outcome == "failed" and "../escape" in result.detail
    assert not (tmp_path / "escape.sms.txt").exists() and not (tmp_path / "box").exists()


def test_an_unwritable_folder_is_a_retry_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    result = send(OutboxChannel(blocker, "sms"), SMS)
    assert result.outcome == "retry" and "cannot write the outbox file" in result.detail
