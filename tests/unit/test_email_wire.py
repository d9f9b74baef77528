"""The e-mail as SMTP carries it (`subscribers.email.wire_message`, compat32, fast) is the same message as
`build_email_message` makes (policy-based, for the outbox): read back, every header and part is equal."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jawazat_events.services.channels import OutgoingMessage
from jawazat_events.subscribers.email import build_email_message, wire_message

SENDER = "Jawazat notifications <notifications@jawazat.example>"
# Content-Language is not compared: `build_email_message`'s `set_content` drops it (Content-* headers go);
# the wire message keeps it.
HEADERS = ("From", "To", "Subject", "Message-ID", "Auto-Submitted", "X-Jawazat-Alert-Id")


def outgoing(subject: str, html: str | None = '<p dir="rtl">مغادرة</p>') -> OutgoingMessage:
    return OutgoingMessage(
        alert_id="3f2b7c1e-1111-2222-3333-444455556666",
        channel="email",
        recipient="hr@establishment.example",
        subject=subject,
        text="مغادرة راجيش كومار\nRajesh Kumar (ID ******6543) left the Kingdom\n" * 30,
        html=html,
        language="ar",
    )


def read(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.parametrize(
    "subject",
    [
        "إشعار الجوازات: مغادرة — Passports notification: exit",
        "Passports notification: exit",
        "A long subject " * 12,
    ],
)
@pytest.mark.parametrize("html", ['<p dir="rtl">مغادرة</p>', None])
def test_the_wire_message_reads_back_as_the_built_one(subject: str, html: str | None) -> None:
    message = outgoing(subject, html)
    built = read(bytes(build_email_message(message, SENDER)))
    wire = read(wire_message(message, SENDER))

    assert wire_message(message, SENDER).isascii()  # 7-bit: no SMTP extension needed
    for name in HEADERS:
        assert str(wire[name]) == str(built[name]), name
    assert wire["Content-Language"] == "ar, en"
    assert wire.get_content_type() == built.get_content_type()
    wire_parts, built_parts = list(wire.walk())[-2:], list(built.walk())[-2:]
    assert [p.get_content_type() for p in wire_parts] == [p.get_content_type() for p in built_parts]
    assert [p.get_content() for p in wire_parts] == [p.get_content() for p in built_parts]


@pytest.mark.parametrize("field", ["subject", "recipient"])
def test_line_breaks_in_headers_are_refused_as_before(field: str) -> None:
    message = outgoing("Passports notification")
    broken = OutgoingMessage(**{**message.__dict__, field: "x@example.com\r\nBcc: all@example.com"})
    with pytest.raises(ValueError):
        wire_message(broken, SENDER)
    with pytest.raises(ValueError):
        build_email_message(broken, SENDER)


# Header text as templates could make it: any printable text without line breaks (those are refused).
header_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=0, max_size=200
).filter(lambda value: value == value.strip())
body_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=2000)


@settings(max_examples=150, deadline=None)
@given(subject=header_text, text=body_text, html=st.none() | body_text)
def test_any_subject_and_bodies_read_back_as_the_built_message(
    subject: str, text: str, html: str | None
) -> None:
    message = OutgoingMessage(**{**outgoing(subject).__dict__, "text": text, "html": html})
    raw = wire_message(message, SENDER)
    wire, built = read(raw), read(bytes(build_email_message(message, SENDER)))

    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998  # RFC 5322's hard limit
    assert str(wire["Subject"]) == subject
    wire_parts, built_parts = list(wire.walk())[-2:], list(built.walk())[-2:]
    assert [p.get_content() for p in wire_parts] == [p.get_content() for p in built_parts]


@pytest.mark.parametrize("subject", ["=?utf-8?q?not_a_word?=", "leading  and  double  spaces", "x" * 300])
def test_awkward_ascii_subjects_read_back_as_written(subject: str) -> None:
    # Text that looks like an encoded word is encoded, so that a reader shows it as written.
    assert str(read(wire_message(outgoing(subject), SENDER))["Subject"]) == subject
