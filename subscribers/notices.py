"""E-mails that are not about one event: the daily digest of warnings, and "your webhook was disabled".

Both use the alert e-mail's templates (`email/body.txt`, `email/body.html`): a section per language,
Arabic first, the facts as a table. The digest lists each person once per warning, ID numbers masked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jawazat_events.domain.channel_settings import WEBHOOK_DISABLED_EVENT_TYPE
from jawazat_events.domain.digest import DIGEST_EVENT_TYPE
from jawazat_events.domain.identifiers import mask_id_number
from jawazat_events.services.channels import Language, OutgoingMessage
from jawazat_events.services.ports import QueuedAlert
from jawazat_events.subscribers.rendering import _template
from jawazat_events.subscribers.vocabulary import EVENT_LABELS, days_phrase

LANGUAGES: tuple[Language, ...] = ("ar", "en")

_DIGEST_HEADINGS: dict[Language, str] = {
    "ar": "ملخص إشعارات انتهاء صلاحية الجوازات ليوم {day}",
    "en": "Passport expiry warnings of {day}",
}
_DIGEST_SUMMARIES: dict[Language, str] = {
    "ar": "عدد الأشخاص في هذا الملخص: {count}.",
    "en": "{count} warning(s) in this digest, one line per person.",
}
_DISABLED_HEADINGS: dict[Language, str] = {
    "ar": "تم إيقاف عنوان الويب هوك",
    "en": "Your webhook endpoint was disabled",
}
_DISABLED_SUMMARIES: dict[Language, str] = {
    "ar": "توقفنا عن إرسال الإشعارات إلى {url}. السبب: {reason}. أعيدوا تسجيل العنوان بعد إصلاحه.",
    "en": "We stopped sending alerts to {url}. Reason: {reason}. Set the URL again (PUT /v1/contacts) "
    "once it works.",
}
_FOOTERS: dict[Language, str] = {
    "ar": "رسالة آلية من خدمة إشعارات الجوازات، يرجى عدم الرد عليها.",
    "en": "An automated message of the passports notification service; please do not reply.",
}


def _section(language: Language, heading: str, summary: str, facts: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "lang": language,
        "dir": "rtl" if language == "ar" else "ltr",
        "align": "right" if language == "ar" else "left",
        "heading": heading,
        "greeting": "",
        "summary": summary,
        "facts": facts,
        "footer": _FOOTERS[language],
    }


def _digest_line(item: Mapping[str, Any], language: Language) -> tuple[str, str]:
    name = (item.get("name_ar") if language == "ar" else item.get("name_en")) or item.get("name_en") or ""
    who = (
        f"{name} ({mask_id_number(str(item['id_number']))})"
        if name
        else mask_id_number(str(item["id_number"]))
    )
    label = EVENT_LABELS.get(str(item.get("event_type")), {}).get(language, str(item.get("event_type")))
    fields = item.get("fields") or {}
    expiry = str(fields.get("expiry_date", ""))
    if "days_left" in fields:
        label = f"{label}: {expiry} ({days_phrase(int(fields['days_left']), language)})"
    elif expiry:
        label = f"{label}: {expiry}"
    return who, label


def render_notice(alert: QueuedAlert) -> OutgoingMessage:
    """The e-mail of a digest or a disabled-endpoint notice."""
    payload = json.loads(alert.payload)
    sections = []
    if alert.event_type == DIGEST_EVENT_TYPE:
        items = payload["items"]
        for language in LANGUAGES:
            facts = [_digest_line(item, language) for item in items]
            heading = _DIGEST_HEADINGS[language].format(day=payload["day"])
            sections.append(
                _section(language, heading, _DIGEST_SUMMARIES[language].format(count=len(items)), facts)
            )
        subject = " | ".join(_DIGEST_HEADINGS[language].format(day=payload["day"]) for language in LANGUAGES)
    elif alert.event_type == WEBHOOK_DISABLED_EVENT_TYPE:
        for language in LANGUAGES:
            summary = _DISABLED_SUMMARIES[language].format(url=payload["url"], reason=payload["reason"])
            sections.append(_section(language, _DISABLED_HEADINGS[language], summary, []))
        subject = f"{_DISABLED_HEADINGS['ar']} | {_DISABLED_HEADINGS['en']}"
    else:
        raise ValueError(f"alert {alert.alert_id}: no notice template for '{alert.event_type}'")
    text = _template("email/body.txt").render(subject=subject, sections=sections)
    html = _template("email/body.html").render(subject=subject, sections=sections)
    shown: Language = "en" if alert.language == "en" else "ar"
    return OutgoingMessage(
        alert.alert_id, "email", alert.recipient, subject, text.strip() + "\n", html, shown
    )
