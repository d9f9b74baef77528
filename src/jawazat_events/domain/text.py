"""Free text that reaches people: names, ports, passport and visa numbers. One parse for feed, CLI and API.

Such text ends up in e-mails, SMS and screens, so it is normalised (Unicode NFC), stripped of surrounding
spaces, bounded in length, and refused when it holds what could forge a line or hide text: control
characters (CR, LF, tab, NUL…), line and paragraph separators, unpaired surrogates, and the
bidirectional embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069). Zero-width
characters and bidi *marks* are legitimate inside Arabic and Persian names (ZWNJ, RLM) but never make a
name on their own.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from jawazat_events.domain.errors import InvalidValue

# Names of people, establishments, tokens and users.
NAME_MAX_LENGTH = 200
# Codes and numbers that messages repeat as given: ports, passport and visa numbers.
CODE_MAX_LENGTH = 40

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Allowed inside text, but text made only of these (and spaces) is blank.
INVISIBLE = frozenset("\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u200f\u2060\ufeff")
# Exactly the Unicode categories Cc (C0, DEL, C1), Cs (surrogates), Zl and Zp, and the bidi controls: one
# regular expression finds them far faster than asking `unicodedata` about every character.
_CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
_FORBIDDEN = re.compile(f"[{_CONTROLS}]|[{''.join(sorted(BIDI_CONTROLS))}]")


def _why(char: str) -> str:
    if char in BIDI_CONTROLS:
        return "bidirectional control characters"
    return "control characters or line breaks"


def clean_text(raw: object, *, field: str, max_length: int) -> str:
    """The text in NFC without surrounding spaces, or `InvalidValue` naming the field and the problem."""
    if not isinstance(raw, str):
        raise InvalidValue(f"{field} must be text, not {type(raw).__name__}")
    return _clean(raw, field, max_length)


# Feeds repeat the same ports, names and codes: a pure function's answers are kept (refusals are not).
@lru_cache(maxsize=16_384)
def _clean(raw: str, field: str, max_length: int) -> str:
    text = unicodedata.normalize("NFC", raw).strip()
    if len(text) > max_length:
        raise InvalidValue(f"{field} must be at most {max_length} characters (it has {len(text):,})")
    found = _FORBIDDEN.search(text)
    if found is not None:
        char = found.group()
        raise InvalidValue(
            f"{field} must not contain {_why(char)} (U+{ord(char):04X} at character {found.start() + 1})"
        )
    if all(char.isspace() or char in INVISIBLE for char in text):
        raise InvalidValue(f"{field} must have at least 1 character besides spaces and invisible ones")
    return text


def parse_name(raw: object, *, field: str = "name") -> str:
    """A person's, establishment's, token's or user's name (at most `NAME_MAX_LENGTH` characters)."""
    return clean_text(raw, field=field, max_length=NAME_MAX_LENGTH)


def parse_code(raw: object, *, field: str) -> str:
    """A port, passport or visa number as messages repeat it (at most `CODE_MAX_LENGTH` characters)."""
    return clean_text(raw, field=field, max_length=CODE_MAX_LENGTH)


def for_display(text: str) -> str:
    """Text recorded before these rules, made safe to show: each forbidden character becomes a space.
    (New text never needs it: it was refused at the edge.)"""
    if _FORBIDDEN.search(text) is None:
        return text
    return _FORBIDDEN.sub(" ", text).strip()
