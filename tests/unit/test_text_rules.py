"""The domain's one rule for free text that reaches people (names, ports, document numbers)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.text import (
    BIDI_CONTROLS,
    CODE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    clean_text,
    for_display,
    parse_code,
    parse_name,
)

# "mi-khaham" (Persian): a zero-width non-joiner is part of its correct spelling.
PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"

ACCEPTED = [
    ("Arabic", "محمد علي", "محمد علي"),
    ("spaces around are dropped", "  Mohammed Ali \t", "Mohammed Ali"),
    ("decomposed accents become NFC", "Jose\u0301", "José"),
    ("zero-width non-joiner inside a Persian word", PERSIAN, PERSIAN),
    ("right-to-left mark inside mixed text", "Ali \u200fعلي", "Ali \u200fعلي"),
    ("exactly the longest name", "a" * NAME_MAX_LENGTH, "a" * NAME_MAX_LENGTH),
]

REFUSED = [
    ("line feed", "Ali\nBcc: evil@example.com", "control characters or line breaks (U+000A at character 4)"),
    ("carriage return", "Ali\rX", "U+000D"),
    ("tab", "Ali\tAli", "U+0009"),
    ("NUL", "Ali\x00", "U+0000"),
    ("next line (C1)", "Ali\x85Bcc", "U+0085"),
    ("line separator", "Ali\u2028Bcc", "U+2028"),
    ("paragraph separator", "Ali\u2029Bcc", "U+2029"),
    ("right-to-left override", "Ali\u202eevil", "bidirectional control characters (U+202E"),
    ("left-to-right embedding", "\u202aAli", "U+202A"),
    ("first-strong isolate", "Ali\u2068x\u2069", "U+2068"),
    ("pop directional isolate", "Ali\u2069", "U+2069"),
    ("unpaired surrogate", "Ali\ud800", "U+D800"),
    ("empty", "", "at least 1 character besides spaces and invisible ones"),
    ("blank", " \t ", "at least 1 character"),
    ("zero-width space only", "\u200b\u200b", "at least 1 character"),
    ("zero-width and marks only", " \u200d\u200e\ufeff ", "at least 1 character"),
    ("too long", "a" * (NAME_MAX_LENGTH + 1), f"at most {NAME_MAX_LENGTH} characters (it has 201)"),
    ("100,000 characters", "x" * 100_000, "(it has 100,000)"),
    ("not text", 42, "must be text, not int"),
]


@pytest.mark.parametrize(("case", "raw", "expected"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted_names(case: str, raw: str, expected: str) -> None:
    assert parse_name(raw, field="name_en") == expected


@pytest.mark.parametrize(("case", "raw", "fragment"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_names_name_the_field_and_the_problem(case: str, raw: object, fragment: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_name(raw, field="name_en")
    assert str(refused.value).startswith("name_en ")
    assert fragment in str(refused.value)


def test_codes_are_bounded_tighter_than_names() -> None:
    assert parse_code("King Fahd Causeway", field="port") == "King Fahd Causeway"
    with pytest.raises(InvalidValue, match=f"port must be at most {CODE_MAX_LENGTH} characters"):
        parse_code("P" * (CODE_MAX_LENGTH + 1), field="port")


def test_for_display_blanks_what_could_forge_a_line_and_keeps_the_rest() -> None:
    assert for_display("Ali\r\nBcc: evil@example.com") == "Ali  Bcc: evil@example.com"
    assert for_display("\u202eevil") == "evil"
    assert for_display("محمد علي") == "محمد علي"


@given(st.text(max_size=300))
def test_any_text_is_cleaned_or_refused_never_anything_else(raw: str) -> None:
    try:
        cleaned = clean_text(raw, field="name", max_length=NAME_MAX_LENGTH)
    except InvalidValue:
        return
    assert cleaned == unicodedata.normalize("NFC", cleaned) == cleaned.strip()
    assert 1 <= len(cleaned) <= NAME_MAX_LENGTH
    assert not any(c in BIDI_CONTROLS or unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in cleaned)
    assert for_display(cleaned) == cleaned


@given(st.text(max_size=100))
def test_for_display_never_leaves_a_line_break(raw: str) -> None:
    shown = for_display(raw)
    assert "\n" not in shown and "\r" not in shown and not set(shown) & BIDI_CONTROLS
