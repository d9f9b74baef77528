"""Turns a `request_status` alert into words: the requester's SMS (within two segments) and the bilingual
e-mail, for travel permits, Makkah permits and support tickets."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from jawazat_events.domain.identifiers import mask_id_number
from jawazat_events.services.channels import ChannelName, Language, OutgoingMessage
from jawazat_events.subscribers.gsm import GSM7_LIMIT, UCS2_LIMIT, gsm7_septets, to_gsm7, ucs2_units
from jawazat_events.subscribers.rendering import SMS_PREFIX, AlertView, _fit, _local, _template
from jawazat_events.subscribers.vocabulary import translate

REQUEST_LABELS: dict[str, dict[Language, str]] = {
    "travel_permit": {"ar": "تصريح السفر", "en": "Travel permit"},
    "makkah_permit": {"ar": "تصريح دخول العاصمة المقدسة", "en": "Makkah entry permit"},
    "ticket": {"ar": "طلب تواصل", "en": "Support request"},
}
# Statuses in plain words, with what happens next where there is something to do.
STATUS_LABELS: dict[str, dict[Language, str]] = {
    "pending": {"ar": "تم استلام الطلب وهو قيد الدراسة", "en": "received, under review"},
    "approved": {"ar": "تمت الموافقة", "en": "approved"},
    "rejected": {"ar": "مرفوض", "en": "rejected"},
    "cancelled": {"ar": "تم الإلغاء", "en": "cancelled"},
    "revoked": {"ar": "تم سحب التصريح", "en": "revoked"},
    "received": {"ar": "تم الاستلام", "en": "received"},
    "in_progress": {"ar": "قيد المعالجة", "en": "in progress"},
    "needs_information": {
        "ar": "بحاجة إلى معلومات منكم، يرجى الرد على الطلب",
        "en": "needs information from you: please reply to the request",
    },
    "resolved": {"ar": "تم الحل", "en": "resolved"},
    "closed": {"ar": "مغلق", "en": "closed"},
}
MESSAGE_LABELS: dict[str, dict[Language, str]] = {
    "rejected": {"ar": "السبب", "en": "Reason"},
    "revoked": {"ar": "السبب", "en": "Reason"},
}
DEFAULT_MESSAGE_LABEL: dict[Language, str] = {"ar": "الرسالة", "en": "Message"}
FIELD_LABELS: dict[str, dict[Language, str]] = {
    "request": {"ar": "الطلب", "en": "Request"},
    "reference": {"ar": "المرجع", "en": "Reference"},
    "name": {"ar": "الاسم", "en": "Name"},
    "id_number": {"ar": "رقم الهوية", "en": "ID number"},
    "status": {"ar": "الحالة", "en": "Status"},
    "message": {"ar": "الرسالة", "en": "Message"},
    "season": {"ar": "الموسم (هجري)", "en": "Season (Hijri year)"},
    "valid_from": {"ar": "صالح من", "en": "Valid from"},
    "valid_until": {"ar": "صالح حتى", "en": "Valid until"},
    "occurred_at": {"ar": "التاريخ والوقت", "en": "Date and time"},
}
_HEADINGS: dict[Language, str] = {"ar": "خدمات الجوازات", "en": "Passports e-services"}
_GREETINGS: dict[Language, str] = {"ar": "عزيزنا مقدم الطلب،", "en": "Dear applicant,"}
_FOOTERS: dict[Language, str] = {
    "ar": "تصلكم هذه الرسالة لأنكم قدمتم هذا الطلب. رسالة آلية، يرجى عدم الرد عليها.",
    "en": "You receive this message because you made this request. This is an automated message; "
    "please do not reply.",
}


def _facts(view: AlertView, language: Language) -> dict[str, str]:
    fields = view.fields
    kind = str(fields.get("request", ""))
    status = str(fields.get("status", ""))
    if kind not in REQUEST_LABELS or not status:
        raise ValueError(f"alert {view.alert_id}: a request_status alert needs its request and status")
    message_label = MESSAGE_LABELS.get(status, {}).get(language) or DEFAULT_MESSAGE_LABEL[language]
    return {
        "request": REQUEST_LABELS[kind][language],
        "reference": str(fields.get("reference", "")),
        "status": translate(STATUS_LABELS, status, language),
        "message": " ".join(str(fields.get("message") or "").split()),
        "message_label": message_label,
    }


def _person(view: AlertView, name: str, language: Language) -> str:
    if not view.id_number:
        return ""
    masked = mask_id_number(view.id_number)
    id_phrase = f"هوية {masked}" if language == "ar" else f"ID {masked}"
    return f"{name} ({id_phrase})" if name else id_phrase


def _sentence(language: Language, facts: dict[str, str], person: str) -> str:
    text = _template(f"sms/{language}/request_status.txt").render(**facts, person=person)
    return " ".join(text.split())


def render_request_sms(view: AlertView, language: Language) -> str:
    """The requester's SMS in one language, within two segments (the name, then the message, shortened)."""
    facts = _facts(view, language)
    if language == "ar":
        name = view.person_name_ar.strip() or view.person_name_en.strip()
        measure, limit, ellipsis = ucs2_units, UCS2_LIMIT, "…"
    else:
        name = to_gsm7(view.person_name_en) or to_gsm7(view.person_name_ar)
        facts = {key: to_gsm7(value) for key, value in facts.items()}
        measure, limit, ellipsis = gsm7_septets, GSM7_LIMIT, "..."

    def compose(parts: dict[str, str]) -> str:
        person = _person(view, " ".join(parts["name"].split()), language)
        return SMS_PREFIX[language] + _sentence(language, facts | {"message": parts["message"]}, person)

    parts = {"name": name, "message": facts["message"]}
    text = _fit(compose, parts, ("name", "message"), measure=measure, limit=limit, ellipsis=ellipsis)
    return to_gsm7(text) if language == "en" else text


def _section(view: AlertView, language: Language, tz: ZoneInfo) -> dict[str, Any]:
    facts = _facts(view, language)
    name = (view.person_name_ar if language == "ar" else view.person_name_en).strip()
    name = name or view.person_name_en.strip() or view.person_name_ar.strip()
    when = _local(view.occurred_at, tz)
    rows: list[tuple[str, str]] = [
        (FIELD_LABELS["request"][language], facts["request"]),
        (FIELD_LABELS["reference"][language], facts["reference"]),
    ]
    if view.id_number:
        rows += [
            (FIELD_LABELS["name"][language], name),
            (FIELD_LABELS["id_number"][language], mask_id_number(view.id_number)),
        ]
    rows.append((FIELD_LABELS["status"][language], facts["status"]))
    for key in ("season", "valid_from", "valid_until"):
        if view.fields.get(key):
            rows.append((FIELD_LABELS[key][language], str(view.fields[key])))
    if facts["message"]:
        rows.append((facts["message_label"], facts["message"]))
    rows.append((FIELD_LABELS["occurred_at"][language], f"{when:%Y-%m-%d %H:%M} ({tz.key})"))
    return {
        "lang": language,
        "dir": "rtl" if language == "ar" else "ltr",
        "align": "right" if language == "ar" else "left",
        "heading": f"{_HEADINGS[language]}: {facts['request']} {facts['reference']}",
        "greeting": _GREETINGS[language],
        "summary": _sentence(language, facts, _person(view, name, language)),
        "facts": rows,
        "footer": _FOOTERS[language],
    }


def render_request(
    view: AlertView, *, channel: ChannelName, recipient: str, language: Language, tz: ZoneInfo
) -> OutgoingMessage:
    """The message for one `request_status` alert: SMS in the requester's language, e-mail in both."""
    if channel == "sms":
        text = render_request_sms(view, language)
        return OutgoingMessage(view.alert_id, "sms", recipient, None, text, None, language)
    ar, en = _facts(view, "ar"), _facts(view, "en")
    subject = f"{ar['request']} {ar['reference']}: {ar['status']} | {en['request']}: {en['status']}"
    sections = [_section(view, "ar", tz), _section(view, "en", tz)]
    text = _template("email/body.txt").render(subject=subject, sections=sections)
    html = _template("email/body.html").render(subject=subject, sections=sections)
    return OutgoingMessage(view.alert_id, "email", recipient, subject, text.strip() + "\n", html, language)
