"""Delivery end to end on each backend: ingested events through `Worker.run_once()` to a real SMTP server
(aiosmtpd) and to twilio's real client talking to a loopback Messages API, with every attempt checked in the
alert's history and in the AlertDelivery aggregate's events in the store.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.domain.delivery import AlertDelivery
from jawazat_events.generate import luhn_complete
from jawazat_events.projections.queries import list_alerts
from jawazat_events.subscribers.gsm import UCS2_LIMIT, is_gsm7, ucs2_units
from jawazat_events.worker import Worker, WorkerSummary
from tests.servers import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
    FakeTwilio,
    LoopbackSmtp,
    Received,
    running_smtp,
    running_twilio,
    twilio_error,
)
from tests.support import crossing, ingest, line, registration

# twilio 9.13's async client still hands aiohttp a BasicAuth object: the library's to change, not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning"
)

SPONSOR_EN = "7001234567"  # an establishment that reads English
SPONSOR_AR = "7007654321"  # one that reads Arabic
PERSON_EN = "2000000006"
PERSON_AR = luhn_complete("210987654")
EN_EMAIL, EN_MOBILE = "hr@amal.example", "+966501234567"
AR_EMAIL, AR_MOBILE = "mail@alnoor.example", "+966559876543"
CALLBACK_URL = "https://notify.jawazat.example/v1/callbacks/twilio"


@dataclass
class World:
    """The wired product on a fresh store, its two establishments and people, and the loopback servers."""

    container: Container
    smtp: LoopbackSmtp
    twilio: FakeTwilio
    worker: Worker

    # --- driving ---------------------------------------------------------------------------------

    def post(self, *items: dict[str, Any]) -> None:
        """Ingest feed items, as a source system would; every one must be accepted."""
        _, report = ingest(self.container, [line(item) for item in items])
        assert report.rejected == 0, report.rejections

    def subscribe(self, unified: str, id_number: str, **contacts: str) -> None:
        self.container.establishments.subscribe(
            unified, id_number, notification_types=["entry_exit", "visa"], **contacts
        )

    def run(self) -> WorkerSummary:
        """One `Worker.run_once()`: projections, then delivery of everything due now."""
        return self.worker.run_once()

    def run_until(self, done: Callable[[], bool], *, timeout: float = 15.0) -> int:
        """Run the worker again and again (retries come due quickly) until `done()`; returns the runs."""
        runs = 0
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"not done after {runs} runs: {self.alerts()}"
            time.sleep(0.02)
            self.run()
            runs += 1
        return runs

    # --- reading ---------------------------------------------------------------------------------

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = list_alerts(self.container.read_models.db, **filters)
        return found

    def alert(self, event_id: str, channel: str) -> dict[str, Any]:
        [found] = [a for a in self.alerts() if a["event_id"] == event_id and a["channel"] == channel]
        return found

    def status(self, event_id: str, channel: str) -> str:
        return str(self.alert(event_id, channel)["status"])

    def stored_attempts(self, alert_id: str) -> list[AlertDelivery.Attempted]:
        """The Attempted events of the alert's AlertDelivery aggregate, read from the store."""
        events = self.container.app.events.get(UUID(alert_id))
        return [e for e in events if isinstance(e, AlertDelivery.Attempted)]

    def emails(self) -> dict[str, EmailMessage]:
        """Messages at the SMTP server by Message-ID (each Message-ID must have arrived once)."""
        messages = self.smtp.handler.messages()
        counts = Counter(str(m["Message-ID"]) for m in messages)
        assert set(counts.values()) <= {1}, counts
        return {str(m["Message-ID"]): m for m in messages}

    def sms_by_sid(self) -> dict[str, Received]:
        return {r.sid: r for r in self.twilio.sent() if r.sid}


def assert_history_is_the_record(world: World, alert: dict[str, Any]) -> None:
    """The alert's history is its AlertDelivery events in the store, in order: each attempt (numbered
    from 1) and each provider report, and nothing else."""
    stored = world.stored_attempts(alert["alert_id"])
    assert [e.attempt for e in stored] == list(range(1, len(stored) + 1))
    record: list[tuple[str, str, str | None]] = []
    for event in world.container.app.events.get(UUID(alert["alert_id"])):
        if isinstance(event, AlertDelivery.Attempted):
            record.append((event.outcome, event.detail, event.provider_id))
        elif isinstance(event, AlertDelivery.Confirmed):
            record.append((event.status, event.detail, None))
    assert [(a["outcome"], a["detail"], a.get("provider_id")) for a in alert["attempts"]] == record


@pytest.fixture
def make_world(database_url: str, tmp_path: Path) -> Iterator[Callable[..., World]]:
    """`make_world(**settings)`: the product with SMTP and Twilio on loopback, both establishments set up."""
    made: list[World] = []
    with running_smtp() as smtp, running_twilio() as twilio:

        def make(**settings: Any) -> World:
            defaults: dict[str, Any] = {
                "database_url": database_url,
                "smtp_url": smtp.url,
                "twilio_account_sid": TWILIO_ACCOUNT_SID,
                "twilio_auth_token": TWILIO_AUTH_TOKEN,
                "twilio_from": TWILIO_FROM,
                "twilio_api_base": twilio.url,
                "twilio_status_callback_url": CALLBACK_URL,
                "retry_base_seconds": 0.01,
                "outbox_dir": tmp_path / "outbox",
            }
            container = bootstrap(**(defaults | settings))
            world = World(container, smtp, twilio, Worker(container))
            made.append(world)
            establishments = container.establishments
            establishments.register(
                unified_number=SPONSOR_EN,
                name="Al Amal Contracting",
                email=EN_EMAIL,
                mobile=EN_MOBILE,
                language="en",
            )
            establishments.register(
                unified_number=SPONSOR_AR, name="مؤسسة النور للمقاولات", mobile="0500000000", language="ar"
            )
            world.post(
                registration("reg-en", id_number=PERSON_EN, sponsor=SPONSOR_EN),
                registration("reg-ar", id_number=PERSON_AR, sponsor=SPONSOR_AR, passport_number="P7654321")
                | {"name_ar": "راجيش كومار", "name_en": "Rajesh Kumar"},
            )
            return world

        try:
            yield make
        finally:
            for world in made:
                world.worker.close()
                world.container.close()


def visa_issued(event_id: str, id_number: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "visa_issued",
        "id_number": id_number,
        "occurred_at": "2026-06-29T13:30:00+03:00",
        "visa_number": "V123456789",
        "visa_type": "work",
        "valid_from": "2026-07-01",
        "valid_until": "2027-06-30",
    }


def bodies(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    return str(plain.get_content()), str(html.get_content())


# --- what arrives ------------------------------------------------------------------------------------


def test_recipients_subjects_and_bodies_are_right_in_both_languages(make_world: Callable[..., World]) -> None:
    world = make_world()
    world.subscribe(SPONSOR_EN, PERSON_EN)  # the establishment's default contacts
    world.subscribe(SPONSOR_AR, PERSON_AR, email=AR_EMAIL, mobile="0559876543")
    world.post(
        crossing("x-en", "2026-06-30T10:00:00+03:00", id_number=PERSON_EN, direction="exit", port="KFIA"),
        crossing("x-ar", "2026-06-30T11:15:00+03:00", id_number=PERSON_AR, direction="entry", port="Batha"),
        visa_issued("v-ar", PERSON_AR),
    )

    summary = world.run()

    assert summary.alerts_created == 6 and summary.deliveries == {"sent": 6}
    alerts = world.alerts()
    assert {(a["event_id"], a["channel"], a["recipient"], a["status"]) for a in alerts} == {
        ("x-en", "email", EN_EMAIL, "sent"),
        ("x-en", "sms", EN_MOBILE, "sent"),
        ("x-ar", "email", AR_EMAIL, "sent"),
        ("x-ar", "sms", AR_MOBILE, "sent"),
        ("v-ar", "email", AR_EMAIL, "sent"),
        ("v-ar", "sms", AR_MOBILE, "sent"),
    }
    emails, texts = world.emails(), world.sms_by_sid()
    assert len(emails) == 3 and len(texts) == 3

    # E-mail: to the alert's recipient, Message-ID from the alert id, Arabic then English, ID masked.
    envelopes = {rcpts[0]: raw for _, rcpts, raw in world.smtp.handler.received}
    for alert in (a for a in alerts if a["channel"] == "email"):
        message = emails[f"<{alert['alert_id']}@jawazat.example>"]
        assert message["To"] == alert["recipient"] and alert["recipient"] in envelopes
        assert alert["attempts"][0]["provider_id"] == message["Message-ID"]
        subject, masked = str(message["Subject"]), "******" + alert["id_number"][-4:]
        assert "إشعار الجوازات" in subject and "Passports notification" in subject and masked in subject
        text, html = bodies(message)
        assert text.index("إشعار الجوازات") < text.index("Passports notification")
        assert html.index('dir="rtl" lang="ar"') < html.index('dir="ltr" lang="en"')
        assert masked in text and alert["id_number"] not in text + html + subject
    x_en_text, _ = bodies(emails[f"<{world.alert('x-en', 'email')['alert_id']}@jawazat.example>"])
    assert "Mohammed Ali (ID ******0006) left the Kingdom" in x_en_text and "KFIA" in x_en_text
    assert "مغادرة محمد علي" in x_en_text
    v_ar_text, v_ar_html = bodies(emails[f"<{world.alert('v-ar', 'email')['alert_id']}@jawazat.example>"])
    assert "V123456789" in v_ar_text and "راجيش كومار" in v_ar_text and "Rajesh Kumar" in v_ar_text
    assert "إصدار تأشيرة" in v_ar_html and "work visa V123456789" in v_ar_text

    # SMS: to the E.164 number, in the establishment's language, within two segments, ID masked.
    for alert in (a for a in alerts if a["channel"] == "sms"):
        request = texts[alert["attempts"][0]["provider_id"]]
        assert request.form["To"] == alert["recipient"] and request.form["From"] == TWILIO_FROM
        assert request.form["StatusCallback"] == CALLBACK_URL
        assert alert["id_number"] not in request.form["Body"]
    en_sms = texts[world.alert("x-en", "sms")["attempts"][0]["provider_id"]].form["Body"]
    assert en_sms == (
        "Passports: Mohammed Ali (ID ******0006) left the Kingdom through port KFIA on 2026-06-30 10:00."
    )
    masked_ar = "******" + PERSON_AR[-4:]
    for event_id, words in (("x-ar", ("دخول راجيش كومار", "Batha", "11:15")), ("v-ar", ("V123456789",))):
        body = texts[world.alert(event_id, "sms")["attempts"][0]["provider_id"]].form["Body"]
        assert body.startswith("الجوازات: ") and not is_gsm7(body) and ucs2_units(body) <= UCS2_LIMIT
        assert masked_ar in body and all(word in body for word in words), body
    for alert in alerts:
        assert_history_is_the_record(world, alert)


# --- retries and permanent failures -------------------------------------------------------------------


def test_smtp_4xx_is_retried_then_delivered_exactly_once(make_world: Callable[..., World]) -> None:
    world = make_world()
    world.smtp.handler.data_script = ["451 4.3.0 Try again later"]
    world.subscribe(SPONSOR_EN, PERSON_EN, email=EN_EMAIL)
    world.post(crossing("x1", "2026-06-30T10:00:00+03:00", id_number=PERSON_EN))

    assert world.run().deliveries == {"retry": 1}
    assert world.status("x1", "email") == "retrying" and world.smtp.handler.received == []
    world.run_until(lambda: world.status("x1", "email") == "sent")
    time.sleep(0.05)
    world.run()  # nothing is due any more: no second message

    alert = world.alert("x1", "email")
    assert [a["outcome"] for a in alert["attempts"]] == ["retry", "sent"]
    first = alert["attempts"][0]["detail"]
    assert "SMTP 451" in first and "Try again later" in first
    assert world.smtp.handler.refused == ["451 4.3.0 Try again later"]
    assert list(world.emails()) == [f"<{alert['alert_id']}@jawazat.example>"]
    assert_history_is_the_record(world, alert)


def test_smtp_5xx_fails_for_good_with_its_reason(make_world: Callable[..., World]) -> None:
    world = make_world()
    world.smtp.handler.rcpt_reply = "550 5.1.1 No such user here"
    world.subscribe(SPONSOR_EN, PERSON_EN, email=EN_EMAIL)
    world.post(crossing("x1", "2026-06-30T10:00:00+03:00", id_number=PERSON_EN))

    assert world.run().deliveries == {"failed": 1}
    time.sleep(0.05)
    assert world.run().deliveries == {}  # never tried again

    alert = world.alert("x1", "email")
    assert alert["status"] == "failed"
    [attempt] = alert["attempts"]
    assert attempt["outcome"] == "failed"
    assert "SMTP 550" in attempt["detail"] and "No such user here" in attempt["detail"]
    assert world.smtp.handler.received == []
    assert_history_is_the_record(world, alert)


def test_twilio_500_then_201_delivers_once(make_world: Callable[..., World]) -> None:
    world = make_world()
    world.twilio.script = [twilio_error(500, 20500, "Internal Server Error")]
    world.subscribe(SPONSOR_EN, PERSON_EN, mobile=EN_MOBILE)
    world.post(crossing("x1", "2026-06-30T10:00:00+03:00", id_number=PERSON_EN))

    assert world.run().deliveries == {"retry": 1}
    assert world.status("x1", "sms") == "retrying"
    world.run_until(lambda: world.status("x1", "sms") == "sent")
    time.sleep(0.05)
    world.run()

    alert = world.alert("x1", "sms")
    assert [a["outcome"] for a in alert["attempts"]] == ["retry", "sent"]
    assert "Twilio HTTP 500" in alert["attempts"][0]["detail"]
    [sent] = world.twilio.sent()
    assert len(world.twilio.received) == 2 and alert["attempts"][1]["provider_id"] == sent.sid
    assert_history_is_the_record(world, alert)


def test_twilio_21211_fails_for_good_with_the_code(make_world: Callable[..., World]) -> None:
    world = make_world()
    world.twilio.script = [twilio_error(400, 21211, "The 'To' number is not a valid phone number.")]
    world.subscribe(SPONSOR_EN, PERSON_EN, mobile=EN_MOBILE)
    world.post(crossing("x1", "2026-06-30T10:00:00+03:00", id_number=PERSON_EN))

    assert world.run().deliveries == {"failed": 1}
    time.sleep(0.05)
    assert world.run().deliveries == {}

    alert = world.alert("x1", "sms")
    [attempt] = alert["attempts"]
    assert alert["status"] == "failed" and attempt["outcome"] == "failed"
    assert "21211" in attempt["detail"] and "not a valid phone number" in attempt["detail"]
    assert len(world.twilio.received) == 1 and world.twilio.sent() == []
    assert_history_is_the_record(world, alert)


def test_after_max_attempts_the_alert_is_dead_lettered(make_world: Callable[..., World]) -> None:
    world = make_world(max_attempts=3)
    world.smtp.handler.data_script = ["451 4.7.1 Greylisted, try again"] * 10
    world.subscribe(SPONSOR_EN, PERSON_EN, email=EN_EMAIL)
    world.post(crossing("x1", "2026-06-30T10:00:00+03:00", id_number=PERSON_EN))

    world.run()
    world.run_until(lambda: world.status("x1", "email") == "dead_letter")
    time.sleep(0.05)
    assert world.run().deliveries == {}

    alert = world.alert("x1", "email")
    assert [a["outcome"] for a in alert["attempts"]] == ["retry", "retry", "dead_letter"]
    assert "gave up after 3 attempts" in alert["attempts"][-1]["detail"]
    assert "451" in alert["attempts"][-1]["detail"]
    assert len(world.smtp.handler.refused) == 3 and world.smtp.handler.received == []
    assert_history_is_the_record(world, alert)


def test_retry_delays_grow_with_jitter(make_world: Callable[..., World]) -> None:
    world = make_world(max_attempts=4, retry_base_seconds=0.05)
    world.smtp.handler.data_script = ["421 4.3.2 Busy"] * 3
    world.subscribe(SPONSOR_EN, PERSON_EN, email=EN_EMAIL)
    world.post(crossing("x1", "2026-06-30T10:00:00+03:00", id_number=PERSON_EN))

    world.run()
    world.run_until(lambda: world.status("x1", "email") == "sent")

    alert = world.alert("x1", "email")
    stored = world.stored_attempts(alert["alert_id"])
    assert [e.outcome for e in stored] == ["retry", "retry", "retry", "sent"]
    delays = [(e.next_attempt_at - e.at).total_seconds() for e in stored[:3] if e.next_attempt_at]
    # base x 2^(n-1), each within ±25 % jitter
    for n, delay in enumerate(delays):
        assert 0.05 * 2**n * 0.75 <= delay <= 0.05 * 2**n * 1.25, delays
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(stored)]
    assert all(gap >= delay for gap, delay in zip(gaps, delays, strict=False)), (gaps, delays)
    assert len(world.emails()) == 1


# --- rate limits ------------------------------------------------------------------------------------


def test_rate_limits_hold_per_channel(make_world: Callable[..., World]) -> None:
    # Different rates per channel, slow enough that the pacing is measurable on a busy machine.
    world = make_world(sms_max_per_second=10, email_max_per_second=8)
    world.subscribe(SPONSOR_EN, PERSON_EN, email=EN_EMAIL, mobile=EN_MOBILE)
    # A process's first send pays one-time imports inside twilio's and aiohttp's clients, which hold the
    # event loop while the send before it is on the wire: one delivery first, so the pacing is measured.
    world.post(crossing("warm", "2026-06-30T09:00:00+03:00", id_number=PERSON_EN))
    assert world.run().deliveries == {"sent": 2}
    n = 6
    world.post(*(crossing(f"x{i}", f"2026-06-30T10:{i:02d}:00+03:00", id_number=PERSON_EN) for i in range(n)))

    started = time.monotonic()
    summary = world.run()
    elapsed = time.monotonic() - started

    assert summary.deliveries == {"sent": 2 * n}
    # The rates each channel was configured with (JAWAZAT_SMS_MAX_PER_SECOND, JAWAZAT_EMAIL_MAX_PER_SECOND).
    sms_rate = world.container.channels["sms"].max_per_second
    email_rate = world.container.channels["email"].max_per_second
    sms_times = sorted(r.at for r in world.twilio.sent())[1:]
    email_times = sorted(world.smtp.handler.received_at)[1:]
    assert len(sms_times) == n and len(email_times) == n
    # n messages at R/s take at least (n - 1)/R to send. At the server, one message held up on a busy
    # machine shortens one gap, so there: a span of (n - 2)/R at least, and gaps of 1/R as a rule.
    assert elapsed >= max((n - 1) / sms_rate, (n - 1) / email_rate)
    for times, rate in ((sms_times, sms_rate), (email_times, email_rate)):
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert times[-1] - times[0] >= (n - 2) / rate, gaps
        assert statistics.median(gaps) >= 0.9 / rate, gaps
    # The channels are paced each on its own, not one after the other.
    assert elapsed < (n - 1) / sms_rate + (n - 1) / email_rate + 1.0


# --- crash windows inside one process -------------------------------------------------------------------


def test_a_claim_left_by_a_dead_worker_is_resent_after_its_lease_with_an_unknown_attempt(
    make_world: Callable[..., World],
) -> None:
    world = make_world(delivery_lease_seconds=0.3)
    world.subscribe(SPONSOR_EN, PERSON_EN, email=EN_EMAIL)
    world.post(crossing("x1", "2026-06-30T10:00:00+03:00", id_number=PERSON_EN))
    Worker(world.container, deliver=False).run_once()
    delivery = world.container.delivery
    # A worker that claimed the alert and died before recording anything.
    [claimed] = delivery._claim(10)
    assert not claimed.stale

    assert delivery.deliver_due().claimed == 0  # the lease still holds: nobody sends it
    time.sleep(0.35)
    assert delivery.deliver_due().outcomes == {"sent": 1}

    alert = world.alert("x1", "email")
    assert [a["outcome"] for a in alert["attempts"]] == ["unknown", "sent"]
    assert "may have been delivered already" in alert["attempts"][0]["detail"]
    assert alert["status"] == "sent" and len(world.emails()) == 1
    assert_history_is_the_record(world, alert)
