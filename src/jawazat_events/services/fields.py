"""The pydantic field types of ID numbers and unified numbers, for feed lines and HTTP requests alike.

One check each, the domain's parser, whose sentence names the field: the model's field name, or for a
request parameter (which pydantic does not name) `id_number` / `unified`. HTTP input is first held to
`MAX_TEXT` characters, so that a huge value is refused before it is parsed or echoed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints, ValidationInfo

from jawazat_events.domain.identifiers import parse_id_number, parse_unified_number

MAX_TEXT = 32


def checked_id_number(value: str, info: ValidationInfo) -> str:
    """A valid ID number, or the domain's sentence naming the field."""
    return parse_id_number(value, field=info.field_name or "id_number")


def checked_unified_number(value: str, info: ValidationInfo) -> str:
    """A valid unified number, or the domain's sentence naming the field."""
    return parse_unified_number(value, field=info.field_name or "unified")


IdNumber = Annotated[str, AfterValidator(checked_id_number)]
UnifiedNumber = Annotated[str, AfterValidator(checked_unified_number)]
# Request fields and parameters: the same checks behind a length guard.
IdNumberText = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(checked_id_number)]
UnifiedNumberText = Annotated[
    str, StringConstraints(max_length=MAX_TEXT), AfterValidator(checked_unified_number)
]
