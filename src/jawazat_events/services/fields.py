"""The pydantic field types of ID numbers, unified numbers, names, codes, mobiles, e-mails, webhook URLs
and quiet hours, for feed lines and HTTP requests alike.

One check each, the domain's parser, whose sentence names the field: the model's field name, or for a
request parameter (which pydantic does not name) `id_number` / `unified`. HTTP input is first held to
`MAX_TEXT` characters, so that a huge value is refused before it is parsed or echoed. Names and codes
reach messages: `domain.text`'s one rule (NFC, no control or bidi characters, not blank, bounded).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints, ValidationInfo

from jawazat_events.domain.channel_settings import MAX_WEBHOOK_URL_LENGTH, check_quiet_hours
from jawazat_events.domain.identifiers import parse_email, parse_id_number, parse_mobile, parse_unified_number
from jawazat_events.domain.text import parse_code, parse_name

MAX_TEXT = 32


def checked_id_number(value: str, info: ValidationInfo) -> str:
    """A valid ID number, or the domain's sentence naming the field."""
    return parse_id_number(value, field=info.field_name or "id_number")


def checked_unified_number(value: str, info: ValidationInfo) -> str:
    """A valid unified number, or the domain's sentence naming the field."""
    return parse_unified_number(value, field=info.field_name or "unified")


def checked_name(value: str, info: ValidationInfo) -> str:
    """A clean name, or the domain's sentence naming the field."""
    return parse_name(value, field=info.field_name or "name")


def checked_code(value: str, info: ValidationInfo) -> str:
    """A clean code (port, passport or visa number), or the domain's sentence naming the field."""
    return parse_code(value, field=info.field_name or "code")


IdNumber = Annotated[str, AfterValidator(checked_id_number)]
UnifiedNumber = Annotated[str, AfterValidator(checked_unified_number)]
# Request fields and parameters: the same checks behind a length guard.
IdNumberText = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(checked_id_number)]
UnifiedNumberText = Annotated[
    str, StringConstraints(max_length=MAX_TEXT), AfterValidator(checked_unified_number)
]
Name = Annotated[str, AfterValidator(checked_name)]
Code = Annotated[str, AfterValidator(checked_code)]
# Contacts, held to a length first (stored normalised: E.164, lower-case domain).
Mobile = Annotated[str, StringConstraints(max_length=32), AfterValidator(parse_mobile)]
Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(parse_email)]
# Channel settings: a webhook URL held to its length (its form and addresses: the SSRF guard, which the
# channel-settings service runs), quiet hours as `HH:MM-HH:MM` (normalised).
WebhookUrlText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_WEBHOOK_URL_LENGTH)]
QuietHoursText = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(check_quiet_hours)]
