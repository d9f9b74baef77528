"""SMS encodings and lengths: the GSM-7 alphabet, UCS-2 code units, segments and the two-segment budget."""

from __future__ import annotations

import unicodedata

# GSM 03.38 default alphabet (without ESC) and its extension table (each extension character costs two).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

# Two concatenated segments: 2 x 153 GSM-7 septets, or 2 x 67 UCS-2 code units.
MAX_SEGMENTS = 2
GSM7_LIMIT = 306
UCS2_LIMIT = 134

_LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u02bc": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
}


def is_gsm7(text: str) -> bool:
    """True when every character can be sent in the GSM-7 alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def gsm7_septets(text: str) -> int:
    """Septets the text takes in GSM-7 (extension characters count twice); the text must be GSM-7."""
    return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)


def ucs2_units(text: str) -> int:
    """UTF-16 code units the text takes in UCS-2 (a character outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def sms_length(text: str) -> int:
    """The text's length in the units of the encoding it will be sent in (septets or UCS-2 units)."""
    return gsm7_septets(text) if is_gsm7(text) else ucs2_units(text)


def sms_limit(text: str) -> int:
    """The two-segment budget for this text's encoding."""
    return GSM7_LIMIT if is_gsm7(text) else UCS2_LIMIT


def fits_two_segments(text: str) -> bool:
    """True when the text goes out in at most two SMS segments."""
    return sms_length(text) <= sms_limit(text)


def segments(text: str) -> int:
    """How many SMS segments the text is sent in."""
    length = sms_length(text)
    single, multi = (160, 153) if is_gsm7(text) else (70, 67)
    if length <= single:
        return 1
    return -(-length // multi)


def to_gsm7(text: str) -> str:
    """The text in GSM-7: accents folded (Nguyễn becomes Nguyen), look-alikes replaced, the rest dropped."""
    out: list[str] = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
            out.append(ch)
        elif ch in _LOOKALIKES:
            out.append(_LOOKALIKES[ch])
        else:
            folded = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            if folded and is_gsm7(folded):
                out.append(folded)
    return " ".join("".join(out).split())
