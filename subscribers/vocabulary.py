"""The words of the messages in Arabic and English: event labels, visa types and statuses, field labels."""

from __future__ import annotations

from typing import Literal

Language = Literal["ar", "en"]

EVENT_TYPES = (
    "border_crossing",
    "passport_renewed",
    "visa_issued",
    "visa_status_changed",
    "passport_expiry_approaching",
    "passport_expired",
)

# Arabic labels follow the directorate's own wording on its e-services.
EVENT_LABELS: dict[str, dict[Language, str]] = {
    "border_crossing": {"ar": "دخول / مغادرة", "en": "entry into or exit from the Kingdom"},
    "passport_renewed": {"ar": "تجديد جواز السفر", "en": "passport renewal"},
    "visa_issued": {"ar": "إصدار تأشيرة جديدة", "en": "new visa issued"},
    "visa_status_changed": {"ar": "تحديث حالة التأشيرة", "en": "visa status update"},
    "passport_expiry_approaching": {"ar": "انتهاء صلاحية جواز السفر", "en": "passport expiry approaching"},
    "passport_expired": {"ar": "انتهاء صلاحية جواز السفر", "en": "passport expired"},
}

DIRECTIONS: dict[str, dict[Language, str]] = {
    "entry": {"ar": "دخول", "en": "entry into the Kingdom"},
    "exit": {"ar": "مغادرة", "en": "exit from the Kingdom"},
}

VISA_TYPES: dict[str, dict[Language, str]] = {
    "exit_reentry": {"ar": "خروج وعودة", "en": "exit/re-entry"},
    "final_exit": {"ar": "خروج نهائي", "en": "final exit"},
    "work": {"ar": "عمل", "en": "work"},
    "visit": {"ar": "زيارة", "en": "visit"},
    "seasonal_work": {"ar": "عمل موسمي", "en": "seasonal work"},
    "hajj": {"ar": "حج", "en": "Hajj"},
    "umrah": {"ar": "عمرة", "en": "Umrah"},
}

VISA_STATUSES: dict[str, dict[Language, str]] = {
    "used": {"ar": "مستخدمة", "en": "used"},
    "cancelled": {"ar": "ملغاة", "en": "cancelled"},
    "expired": {"ar": "منتهية", "en": "expired"},
    "extended": {"ar": "ممددة", "en": "extended"},
}

FIELD_LABELS: dict[str, dict[Language, str]] = {
    "name": {"ar": "الاسم", "en": "Name"},
    "id_number": {"ar": "رقم الهوية", "en": "ID number"},
    "event": {"ar": "الإشعار", "en": "Notification"},
    "occurred_at": {"ar": "التاريخ والوقت", "en": "Date and time"},
    "direction": {"ar": "الاتجاه", "en": "Direction"},
    "port": {"ar": "المنفذ", "en": "Port"},
    "passport_number": {"ar": "رقم الجواز", "en": "Passport number"},
    "issue_date": {"ar": "تاريخ الإصدار", "en": "Issue date"},
    "expiry_date": {"ar": "تاريخ الانتهاء", "en": "Expiry date"},
    "visa_number": {"ar": "رقم التأشيرة", "en": "Visa number"},
    "visa_type": {"ar": "نوع التأشيرة", "en": "Visa type"},
    "status": {"ar": "الحالة الجديدة", "en": "New status"},
    "valid_from": {"ar": "صالحة من", "en": "Valid from"},
    "valid_until": {"ar": "صالحة حتى", "en": "Valid until"},
    "days_left": {"ar": "الأيام المتبقية", "en": "Days left"},
}


def translate(table: dict[str, dict[Language, str]], value: str, language: Language) -> str:
    """The readable word for a coded value; an unknown code is shown as it is, underscores as spaces."""
    words = table.get(value)
    return words[language] if words else value.replace("_", " ")


def days_phrase(days: int, language: Language) -> str:
    """'in 30 days' / 'بعد 30 يوماً', with Arabic number agreement; 0 is 'today'."""
    if language == "en":
        if days == 0:
            return "today"
        return "in 1 day" if days == 1 else f"in {days} days"
    if days == 0:
        return "اليوم"
    if days == 1:
        return "بعد يوم واحد"
    if days == 2:
        return "بعد يومين"
    if days % 100 == 0:
        return f"بعد {days} يوم"
    if 3 <= days % 100 <= 10:
        return f"بعد {days} أيام"
    return f"بعد {days} يوماً"
