"""Delivery end to end on each backend: ingested events through `Worker.run_once()` to a real SMTP server
(aiosmtpd) and to twilio's real client talking to a loopback Messages API, with every attempt checked in the
alert's history and in the AlertDelivery aggregate's events in the store.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from jawazat_events.subscribers.gsm import UCS2_LIMIT, is_gsm7, ucs2_units
from jawazat_events.worker import Worker
from tests.support import crossing
from tests.support.delivery import (
    AR_EMAIL,
    AR_MOBILE,
    CALLBACK_URL,
    EN_EMAIL,
    EN_MOBILE,
    PERSON_AR,
    PERSON_EN,
    SPONSOR_AR,
    SPONSOR_EN,
    World,
    assert_history_is_the_record,
)
from tests.support.servers import (
    TWILIO_FROM,
    twilio_error,
)

# twilio 9.13's async client still hands aiohttp a BasicAuth object: the library's to change, not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning"
)


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
    [claimed] = delivery.claim(10)
    assert not claimed.stale

    assert delivery.deliver_due().claimed == 0  # the lease still holds: nobody sends it
    time.sleep(0.35)
    assert delivery.deliver_due().outcomes == {"sent": 1}

    alert = world.alert("x1", "email")
    assert [a["outcome"] for a in alert["attempts"]] == ["unknown", "sent"]
    assert "may have been delivered already" in alert["attempts"][0]["detail"]
    assert alert["status"] == "sent" and len(world.emails()) == 1
    assert_history_is_the_record(world, alert)


def test_a_lease_taken_over_after_it_ran_out_is_not_renewed_so_its_first_worker_never_sends_it(
    make_world: Callable[..., World],
) -> None:
    # A slow worker reaches a group of its batch after the group's lease ran out and another worker took
    # it: the renewal before each group tells it so, and only the new holder sends.
    world = make_world(delivery_lease_seconds=0.3)
    world.subscribe(SPONSOR_EN, PERSON_EN, email=EN_EMAIL)
    world.post(crossing("x1", "2026-06-30T10:00:00+03:00", id_number=PERSON_EN))
    Worker(world.container, deliver=False).run_once()
    queue = world.container.delivery.queue
    clock = world.container.delivery.clock
    [first] = queue.claim(worker_id="slow", now=clock(), until=clock() + timedelta(seconds=0.3), limit=10)
    alert_id = first.alert.alert_id
    assert queue.renew(worker_id="slow", alert_ids=[alert_id], until=clock() + timedelta(seconds=0.3)) == {
        alert_id
    }
    time.sleep(0.35)
    [taken] = queue.claim(worker_id="quick", now=clock(), until=clock() + timedelta(seconds=60), limit=10)
    assert taken.alert.alert_id == alert_id and taken.stale_holder == "slow"

    assert queue.renew(worker_id="slow", alert_ids=[alert_id], until=clock() + timedelta(seconds=60)) == set()
    assert queue.renew(worker_id="quick", alert_ids=[alert_id], until=clock() + timedelta(seconds=60)) == {
        alert_id
    }
