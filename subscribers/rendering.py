"""Turns an alert into words: the SMS per language and the bilingual e-mail, from the jinja2 templates.

SMS texts fit two segments (Arabic in UCS-2: 134 units; English in GSM-7 only: 306 septets). When a long
name would overflow, the name is shortened, never the event's facts. ID numbers are always masked.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import jinja2

from jawazat_events.domain.channel_settings import NOTICE_EVENT_TYPES
from jawazat_events.domain.identifiers import mask_id_number
from jawazat_events.domain.requests import REQUEST_STATUS
from jawazat_events.domain.text import for_display
from jawazat_events.services.channels import ChannelName, Language, OutgoingMessage
from jawazat_events.services.ports import QueuedAlert
from jawazat_events.subscribers.gsm import GSM7_LIMIT, UCS2_LIMIT, gsm7_septets, to_gsm7, ucs2_units
from jawazat_events.subscribers.vocabulary import (
    DIRECTIONS,
    EVENT_LABELS,
    EVENT_TYPES,
    FIELD_LABELS,
    VISA_STATUSES,
    VISA_TYPES,
    days_phrase,
    translate,
)

SMS_PREFIX: dict[Language, str] = {"ar": "الجوازات: ", "en": "Passports: "}
# A name shortened below this many characters says nothing; the message then names the ID alone.
MIN_NAME_CHARS = 4


@dataclass(frozen=True)
class AlertView:
    """Everything a message says about one alert: the event, the person and the establishment."""

    alert_id: str
    event_type: str
    notification_type: str
    id_number: str
    person_name_ar: str
    person_name_en: str
    establishment_name: str
    occurred_at: datetime
    fields: Mapping[str, Any]


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("jawazat_events.subscribers", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _template(name: str) -> jinja2.Template:
    return _environment().get_template(name)


# --- facts: the event's fields, checked and formatted -------------------------------------------------


def _displayable(view: AlertView) -> AlertView:
    """The view with every text made safe to show: events recorded before the name rules
    (`domain.text`) may still hold line breaks or bidi overrides, which must not forge a line."""
    return dataclasses.replace(
        view,
        person_name_ar=for_display(view.person_name_ar),
        person_name_en=for_display(view.person_name_en),
        establishment_name=for_display(view.establishment_name),
        fields={k: for_display(v) if isinstance(v, str) else v for k, v in view.fields.items()},
    )


def _require(view: AlertView, key: str) -> Any:
    value = view.fields.get(key)
    if value is None or value == "":
        raise ValueError(f"alert {view.alert_id}: a {view.event_type} event needs the field '{key}'")
    return value


def _as_date(value: object, tz: ZoneInfo) -> str:
    if isinstance(value, datetime):
        return (value.astimezone(tz) if value.tzinfo else value).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return _as_date(datetime.fromisoformat(text), tz)


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"occurred_at must carry a time-zone offset, got {moment.isoformat()}")
    return moment.astimezone(tz)


def _event_label(view: AlertView, language: Language) -> str:
    if view.event_type == "border_crossing":
        return translate(DIRECTIONS, str(view.fields.get("direction", "")), language)
    return EVENT_LABELS[view.event_type][language]


def _facts(view: AlertView, language: Language, tz: ZoneInfo) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Template variables for the sentence, and (field, shown value) rows for the e-mail's table."""
    if view.event_type not in EVENT_TYPES:
        raise ValueError(f"alert {view.alert_id}: no message template for event type '{view.event_type}'")
    when = _local(view.occurred_at, tz)
    ctx: dict[str, Any] = {"when": f"{when:%Y-%m-%d %H:%M}"}
    rows: list[tuple[str, str]] = []
    kind = view.event_type
    if kind == "border_crossing":
        direction = str(_require(view, "direction"))
        if direction not in DIRECTIONS:
            raise ValueError(f"alert {view.alert_id}: direction must be entry or exit, not '{direction}'")
        ctx |= {"direction": direction, "port": str(_require(view, "port"))}
        rows += [("direction", translate(DIRECTIONS, direction, language)), ("port", ctx["port"])]
    elif kind == "passport_renewed":
        ctx |= {
            "passport_number": str(_require(view, "passport_number")),
            "issue_date": _as_date(_require(view, "issue_date"), tz),
            "expiry_date": _as_date(_require(view, "expiry_date"), tz),
        }
        rows += [(key, ctx[key]) for key in ("passport_number", "issue_date", "expiry_date")]
    elif kind == "visa_issued":
        ctx |= {
            "visa_number": str(_require(view, "visa_number")),
            "visa_type": translate(VISA_TYPES, str(_require(view, "visa_type")), language),
            "valid_from": _as_date(_require(view, "valid_from"), tz),
            "valid_until": _as_date(_require(view, "valid_until"), tz),
        }
        rows += [(key, ctx[key]) for key in ("visa_number", "visa_type", "valid_from", "valid_until")]
    elif kind == "visa_status_changed":
        until = view.fields.get("valid_until")
        ctx |= {
            "visa_number": str(_require(view, "visa_number")),
            "status": translate(VISA_STATUSES, str(_require(view, "status")), language),
            "valid_until": _as_date(until, tz) if until else "",
        }
        rows += [(key, ctx[key]) for key in ("visa_number", "status", "valid_until") if ctx[key]]
    elif kind == "passport_expiry_approaching":
        days_left = int(_require(view, "days_left"))
        ctx |= {
            "days_left": days_left,
            "days": days_phrase(days_left, language),
            "expiry_date": _as_date(_require(view, "expiry_date"), tz),
        }
        rows += [("expiry_date", ctx["expiry_date"]), ("days_left", str(days_left))]
    else:  # passport_expired
        ctx |= {"expiry_date": _as_date(_require(view, "expiry_date"), tz)}
        rows += [("expiry_date", ctx["expiry_date"])]
    return ctx, rows


def _person(name: str, id_number: str, language: Language) -> str:
    id_phrase = f"هوية {mask_id_number(id_number)}" if language == "ar" else f"ID {mask_id_number(id_number)}"
    return f"{name} ({id_phrase})" if name else id_phrase


def _sentence(event_type: str, language: Language, ctx: Mapping[str, Any], person: str) -> str:
    text = _template(f"sms/{language}/{event_type}.txt").render(**ctx, person=person)
    return " ".join(text.split())


# --- SMS ------------------------------------------------------------------------------------------------


def _shorten(text: str, keep: int, ellipsis: str) -> str:
    """The first `keep` characters and an ellipsis, cut at a word boundary when one is near."""
    if keep <= 0:
        return ""
    cut = text[:keep]
    if keep < len(text) and not text[keep].isspace() and " " in cut[keep // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip() + ellipsis


def _fit(
    compose: Callable[[dict[str, str]], str],
    parts: dict[str, str],
    shrinkable: tuple[str, ...],
    *,
    measure: Callable[[str], int],
    limit: int,
    ellipsis: str,
) -> str:
    """Compose the text, shortening the shrinkable parts in order (name first) until it fits."""
    text = compose(parts)
    for key in shrinkable:
        if measure(text) <= limit:
            return text
        original = parts[key]
        start = len(original) - (measure(text) - limit) - len(ellipsis)
        for keep in range(min(start, len(original) - 1), MIN_NAME_CHARS - 1, -1):
            text = compose(parts | {key: _shorten(original, keep, ellipsis)})
            if measure(text) <= limit:
                return text
        # Still too long: the name goes altogether (the masked ID still says who); free text keeps a stub.
        shortest = "" if key == "name" else _shorten(original, MIN_NAME_CHARS, ellipsis)
        parts = parts | {key: shortest}
        text = compose(parts)
    if measure(text) <= limit:
        return text
    # Only reachable with absurd field values; a cut message still beats none.
    while measure(text) > limit - len(ellipsis):
        text = text[:-1]
    return text + ellipsis


def render_sms(view: AlertView, language: Language, *, tz: ZoneInfo) -> str:
    """The SMS for one alert in one language, within two segments, ID masked."""
    view = _displayable(view)
    ctx, _ = _facts(view, language, tz)
    if language == "ar":
        name = view.person_name_ar.strip() or view.person_name_en.strip()
        measure, limit, ellipsis = ucs2_units, UCS2_LIMIT, "…"
    else:
        name = to_gsm7(view.person_name_en) or to_gsm7(view.person_name_ar)
        ctx = {key: to_gsm7(value) if isinstance(value, str) else value for key, value in ctx.items()}
        measure, limit, ellipsis = gsm7_septets, GSM7_LIMIT, "..."
    name = " ".join(name.split())

    def compose(parts: dict[str, str]) -> str:
        values = ctx | {k: v for k, v in parts.items() if k != "name"}
        person = _person(parts["name"], view.id_number, language)
        return SMS_PREFIX[language] + _sentence(view.event_type, language, values, person)

    parts = {"name": name} | ({"port": ctx["port"]} if "port" in ctx else {})
    text = _fit(compose, parts, tuple(parts), measure=measure, limit=limit, ellipsis=ellipsis)
    return to_gsm7(text) if language == "en" else text


# --- e-mail ---------------------------------------------------------------------------------------------

_HEADINGS: dict[Language, str] = {"ar": "إشعار الجوازات", "en": "Passports notification"}
_GREETINGS: dict[Language, str] = {"ar": "إلى: {}", "en": "To: {}"}
_FOOTERS: dict[Language, str] = {
    "ar": "تصلكم هذه الرسالة لأن منشأتكم مشتركة في خدمة إشعارات الجوازات لرقم الهوية هذا."
    " رسالة آلية، يرجى عدم الرد عليها.",
    "en": "You receive this message because your establishment subscribed to passports notifications"
    " for this ID number. This is an automated message; please do not reply.",
}


def _section(view: AlertView, language: Language, tz: ZoneInfo) -> dict[str, Any]:
    ctx, rows = _facts(view, language, tz)
    name = (view.person_name_ar if language == "ar" else view.person_name_en).strip()
    name = name or view.person_name_en.strip() or view.person_name_ar.strip()
    when = _local(view.occurred_at, tz)
    facts = [
        (FIELD_LABELS["name"][language], name),
        (FIELD_LABELS["id_number"][language], mask_id_number(view.id_number)),
        (FIELD_LABELS["event"][language], _event_label(view, language)),
        (FIELD_LABELS["occurred_at"][language], f"{when:%Y-%m-%d %H:%M} ({tz.key})"),
        *((FIELD_LABELS[key][language], value) for key, value in rows),
    ]
    return {
        "lang": language,
        "dir": "rtl" if language == "ar" else "ltr",
        "align": "right" if language == "ar" else "left",
        "heading": f"{_HEADINGS[language]}: {_event_label(view, language)}",
        "greeting": _GREETINGS[language].format(view.establishment_name),
        "summary": _sentence(view.event_type, language, ctx, _person(name, view.id_number, language)),
        "facts": facts,
        "footer": _FOOTERS[language],
    }


def render_email(view: AlertView, *, tz: ZoneInfo) -> tuple[str, str, str]:
    """The e-mail for one alert as (subject, plain text, HTML), Arabic first, then English."""
    view = _displayable(view)
    subject = (
        f"{_HEADINGS['ar']}: {_event_label(view, 'ar')} | {_HEADINGS['en']}: {_event_label(view, 'en')}"
        f" | {mask_id_number(view.id_number)}"
    )
    sections = [_section(view, "ar", tz), _section(view, "en", tz)]
    text = _template("email/body.txt").render(subject=subject, sections=sections)
    html = _template("email/body.html").render(subject=subject, sections=sections)
    return subject, text.strip() + "\n", html


def render(
    view: AlertView, *, channel: ChannelName, recipient: str, language: Language, tz: ZoneInfo
) -> OutgoingMessage:
    """The message for one alert on one channel: SMS in the recipient's language, e-mail in both."""
    if view.notification_type == REQUEST_STATUS:  # requesters of e-service requests
        from jawazat_events.subscribers.request_rendering import render_request

        view = _displayable(view)
        return render_request(view, channel=channel, recipient=recipient, language=language, tz=tz)
    if channel == "sms":
        text = render_sms(view, language, tz=tz)
        return OutgoingMessage(view.alert_id, "sms", recipient, None, text, None, language)
    subject, text, html = render_email(view, tz=tz)
    return OutgoingMessage(view.alert_id, "email", recipient, subject, text, html, language)


class TemplateRenderer:
    """Renders queued alerts with these templates, dates in the business time zone (`services.ports`)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def render(
        self, alert: QueuedAlert, *, person_names: tuple[str, str], establishment_name: str
    ) -> OutgoingMessage:
        """The message for this alert's channel, recipient and language."""
        if alert.event_type in NOTICE_EVENT_TYPES:  # e-mails to the establishment itself (digests, …)
            from jawazat_events.subscribers.notices import render_notice

            return render_notice(alert)
        name_ar, name_en = person_names
        view = AlertView(
            alert_id=alert.alert_id,
            event_type=alert.event_type,
            notification_type=alert.notification_type,
            id_number=alert.id_number,
            person_name_ar=name_ar,
            person_name_en=name_en,
            establishment_name=establishment_name,
            occurred_at=datetime.fromisoformat(alert.occurred_at),
            fields=json.loads(alert.payload),
        )
        return render(
            view,
            channel=cast(ChannelName, alert.channel),
            recipient=alert.recipient,
            language=cast(Language, alert.language),
            tz=self.zone,
        )
