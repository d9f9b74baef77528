"""Message templates: every event type in both languages masks the ID, keeps its facts and fits two SMS."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jawazat_events.services.channels import Language
from jawazat_events.subscribers.gsm import (
    GSM7_LIMIT,
    UCS2_LIMIT,
    gsm7_septets,
    is_gsm7,
    segments,
    to_gsm7,
    ucs2_units,
)
from jawazat_events.subscribers.rendering import AlertView, render, render_email, render_sms
from jawazat_events.subscribers.vocabulary import EVENT_TYPES, VISA_STATUSES, VISA_TYPES, days_phrase

RIYADH = ZoneInfo("Asia/Riyadh")
ID_NUMBER = "2109876543"
MASKED = "******6543"
SHORT_AR, SHORT_EN = "راجيش كومار", "Rajesh Kumar"
LONG_AR = "محمد بن عبدالله بن عبدالعزيز بن عبدالرحمن بن فيصل بن تركي آل سعود القحطاني الشمري العتيبي الدوسري"
LONG_EN = (
    "José-María Nguyễn Muhammad bin Abdullah bin Abdulaziz bin Abdulrahman bin Faisal bin Turki Al Saud "
    "Al Qahtani Al Shammari Al Otaibi Al Dossari Fernández-Østergård Christopher Alexander Maximilian "
    "Bartholomew Montgomery-Wellington the Third of the House of Very Long Names Indeed"
)
# 09:05 UTC is 12:05 in Riyadh: messages speak the business time zone.
OCCURRED = datetime(2026, 7, 1, 9, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    """One event and the facts its messages must carry, per language."""

    event_type: str
    fields: dict[str, Any]
    facts: dict[Language, tuple[str, ...]]


CASES = [
    Case(
        "border_crossing",
        {"direction": "entry", "port": "KFIA"},
        {"ar": ("دخول", "KFIA", "2026-07-01 12:05"), "en": ("entered", "KFIA", "2026-07-01 12:05")},
    ),
    Case(
        "border_crossing",
        {"direction": "exit", "port": "Batha"},
        {"ar": ("مغادرة", "Batha", "2026-07-01 12:05"), "en": ("left", "Batha", "2026-07-01 12:05")},
    ),
    Case(
        "passport_renewed",
        {"passport_number": "P01234567", "issue_date": "2026-06-01", "expiry_date": date(2036, 5, 31)},
        {
            "ar": ("تجديد جواز السفر", "P01234567", "2026-06-01", "2036-05-31"),
            "en": ("renewed", "P01234567", "2026-06-01", "2036-05-31"),
        },
    ),
    Case(
        "visa_issued",
        {
            "visa_number": "6012345678",
            "visa_type": "exit_reentry",
            "valid_from": date(2026, 7, 1),
            "valid_until": "2026-09-29",
        },
        {
            "ar": ("إصدار تأشيرة", "خروج وعودة", "6012345678", "2026-07-01", "2026-09-29"),
            "en": ("visa issued", "exit/re-entry", "6012345678", "2026-07-01", "2026-09-29"),
        },
    ),
    Case(
        "visa_status_changed",
        {"visa_number": "6012345678", "status": "extended", "valid_until": "2026-12-31"},
        {
            "ar": ("تحديث حالة التأشيرة", "ممددة", "6012345678", "2026-12-31"),
            "en": ("Visa status update", "extended", "6012345678", "2026-12-31"),
        },
    ),
    Case(
        "passport_expiry_approaching",
        {"days_left": 30, "expiry_date": "2026-07-31"},
        {
            "ar": ("انتهاء صلاحية جواز السفر", "30 يوماً", "2026-07-31"),
            "en": ("expires in 30 days", "2026-07-31"),
        },
    ),
    Case(
        "passport_expired",
        {"expiry_date": "2026-07-01"},
        {"ar": ("انتهاء صلاحية جواز السفر", "انتهى", "2026-07-01"), "en": ("expired on 2026-07-01",)},
    ),
]
CASE_IDS = [f"{c.event_type}-{c.fields.get('direction', '')}".rstrip("-") for c in CASES]


def view(case: Case, *, name_ar: str = SHORT_AR, name_en: str = SHORT_EN) -> AlertView:
    return AlertView(
        alert_id="6f1c2d3e-0000-4000-8000-000000000001",
        event_type=case.event_type,
        notification_type="x",
        id_number=ID_NUMBER,
        person_name_ar=name_ar,
        person_name_en=name_en,
        establishment_name="مؤسسة الأمل للمقاولات",
        occurred_at=OCCURRED,
        fields=case.fields,
    )


def test_every_contract_event_type_has_a_case() -> None:
    assert {c.event_type for c in CASES} == set(EVENT_TYPES)


def assert_fits(text: str, language: Language) -> None:
    if language == "ar":
        assert ucs2_units(text) <= UCS2_LIMIT, (ucs2_units(text), text)
    else:
        assert is_gsm7(text), [ch for ch in text if not is_gsm7(ch)]
        assert gsm7_septets(text) <= GSM7_LIMIT, (gsm7_septets(text), text)
    assert segments(text) <= 2


@pytest.mark.parametrize("language", ["ar", "en"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_sms_with_a_short_name_names_the_person_and_the_facts(case: Case, language: Language) -> None:
    text = render_sms(view(case), language, tz=RIYADH)
    assert (SHORT_AR if language == "ar" else SHORT_EN) in text
    assert ID_NUMBER not in text
    assert MASKED in text
    for fact in case.facts[language]:
        assert fact in text
    assert_fits(text, language)


@pytest.mark.parametrize("language", ["ar", "en"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_sms_with_a_long_name_shortens_the_name_never_the_facts(case: Case, language: Language) -> None:
    text = render_sms(view(case, name_ar=LONG_AR, name_en=LONG_EN), language, tz=RIYADH)
    assert_fits(text, language)
    assert ID_NUMBER not in text
    assert MASKED in text
    for fact in case.facts[language]:
        assert fact in text
    if language == "ar":
        assert text.count("…") == 1 and "محمد بن عبدالله" in text
    else:
        assert "..." in text and "José-Maria Nguyen Muhammad" in text  # é is GSM-7; í and ễ are folded


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_email_carries_both_languages_arabic_first(case: Case) -> None:
    subject, text, html = render_email(view(case, name_ar=LONG_AR, name_en=LONG_EN), tz=RIYADH)
    assert "إشعار الجوازات" in subject and "Passports notification" in subject
    assert subject.index("إشعار الجوازات") < subject.index("Passports notification")
    for body in (text, html):
        assert ID_NUMBER not in body
        assert MASKED in body
        assert LONG_AR in body and LONG_EN in body  # e-mail has room for the full names
        assert "مؤسسة الأمل للمقاولات" in body
        for fact in case.facts["ar"] + case.facts["en"]:
            assert fact in body
    assert text.index(LONG_AR) < text.index(LONG_EN)
    rtl, ltr = html.index('dir="rtl" lang="ar"'), html.index('dir="ltr" lang="en"')
    assert rtl < html.index(LONG_AR) < ltr < html.index(LONG_EN)
    assert "(Asia/Riyadh)" in text


def test_html_escapes_names_and_free_text() -> None:
    case = Case("border_crossing", {"direction": "exit", "port": "<b>RUH</b>"}, {"ar": (), "en": ()})
    alert = view(case, name_ar="<script>alert(1)</script>", name_en="Tom & <script>x</script>")
    _, text, html = render_email(replace(alert, establishment_name="A&B <i>Co</i>"), tz=RIYADH)
    assert "<script>" not in html and "<b>RUH" not in html and "<i>Co" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Tom &amp; &lt;script&gt;x&lt;/script&gt;" in html
    assert "&lt;b&gt;RUH&lt;/b&gt;" in html
    assert "<script>alert(1)</script>" in text  # the plain-text part is not HTML: shown as written


@pytest.mark.parametrize("code", sorted(VISA_TYPES))
def test_visa_types_are_words_in_both_languages(code: str) -> None:
    case = Case(
        "visa_issued",
        {
            "visa_number": "6012345678",
            "visa_type": code,
            "valid_from": "2026-07-01",
            "valid_until": "2026-08-01",
        },
        {"ar": (), "en": ()},
    )
    assert VISA_TYPES[code]["ar"] in render_sms(view(case), "ar", tz=RIYADH)
    english = render_sms(view(case), "en", tz=RIYADH)
    assert VISA_TYPES[code]["en"] in english and code not in english.replace(VISA_TYPES[code]["en"], "")


@pytest.mark.parametrize("code", sorted(VISA_STATUSES))
def test_visa_statuses_are_words_in_both_languages(code: str) -> None:
    case = Case("visa_status_changed", {"visa_number": "6012345678", "status": code}, {"ar": (), "en": ()})
    assert VISA_STATUSES[code]["ar"] in render_sms(view(case), "ar", tz=RIYADH)
    assert f"is now {VISA_STATUSES[code]['en']}." in render_sms(view(case), "en", tz=RIYADH)


@pytest.mark.parametrize(
    ("days", "arabic", "english"),
    [
        (0, "اليوم", "today"),
        (1, "بعد يوم واحد", "in 1 day"),
        (2, "بعد يومين", "in 2 days"),
        (7, "بعد 7 أيام", "in 7 days"),
        (30, "بعد 30 يوماً", "in 30 days"),
        (90, "بعد 90 يوماً", "in 90 days"),
    ],
)
def test_days_left_reads_naturally(days: int, arabic: str, english: str) -> None:
    assert days_phrase(days, "ar") == arabic
    assert days_phrase(days, "en") == english


def test_render_builds_the_outgoing_message_for_each_channel() -> None:
    sms = render(view(CASES[0]), channel="sms", recipient="+966501234567", language="en", tz=RIYADH)
    assert (sms.channel, sms.recipient, sms.subject, sms.html, sms.language) == (
        "sms",
        "+966501234567",
        None,
        None,
        "en",
    )
    assert sms.text.startswith(f"Passports: Rajesh Kumar (ID {MASKED}) entered the Kingdom through port KFIA")
    mail = render(view(CASES[0]), channel="email", recipient="hr@example.com", language="ar", tz=RIYADH)
    assert mail.channel == "email" and mail.subject and mail.html and "دخول" in mail.subject
    assert mail.alert_id == sms.alert_id == "6f1c2d3e-0000-4000-8000-000000000001"


def test_a_name_outside_gsm7_is_left_out_of_the_english_sms_not_garbled() -> None:
    text = render_sms(view(CASES[0], name_en="王伟"), "en", tz=RIYADH)
    assert is_gsm7(text)
    assert text.startswith(f"Passports: ID {MASKED} entered the Kingdom")


@pytest.mark.parametrize(
    ("raw", "gsm"),
    [
        ("Nguyễn", "Nguyen"),
        ("Øystein Ångström", "Øystein Ångström"),
        ("O\u2019Brien", "O'Brien"),
        ("李 Li", "Li"),
    ],
)
def test_to_gsm7_folds_accents_and_drops_what_it_cannot_send(raw: str, gsm: str) -> None:
    assert to_gsm7(raw) == gsm and is_gsm7(gsm)


def test_a_missing_fact_is_an_error_not_a_silent_gap() -> None:
    broken = Case("visa_issued", {"visa_number": "6012345678"}, {"ar": (), "en": ()})
    with pytest.raises(ValueError, match="visa_type"):
        render_sms(view(broken), "en", tz=RIYADH)


def test_occurred_at_without_offset_is_refused() -> None:
    naive = replace(view(CASES[0]), occurred_at=datetime(2026, 7, 1, 9, 5))
    with pytest.raises(ValueError, match="offset"):
        render_email(naive, tz=RIYADH)


@pytest.mark.parametrize("language", ["ar", "en"])
def test_an_absurdly_long_free_text_port_still_fits_and_keeps_the_masked_id(language: Language) -> None:
    case = Case(
        "border_crossing", {"direction": "entry", "port": "King Fahd Causeway " * 20}, {"ar": (), "en": ()}
    )
    text = render_sms(view(case, name_ar=LONG_AR, name_en=LONG_EN), language, tz=RIYADH)
    assert_fits(text, language)
    assert MASKED in text and "King Fahd" in text and "2026-07-01 12:05" in text
