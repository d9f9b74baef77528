"""The portal's words all come from the one catalogue, in both languages; its CSS is logical-only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jawazat_events.portal.messages import MESSAGES, register

PORTAL = Path(__file__).resolve().parents[2] / "src" / "jawazat_events" / "portal"
TEMPLATES = sorted((PORTAL / "templates").glob("*.html"))
_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[,)~]""")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_TAG = re.compile(r"<[^>]*>", re.DOTALL)
_LETTERS = re.compile(r"[A-Za-z\u0600-\u06FF]")


def test_every_key_used_is_in_the_catalogue_in_both_languages() -> None:
    sources = [*TEMPLATES, *(p for p in PORTAL.rglob("*.py") if p.name != "messages.py")]
    used = {key for path in sources for key in _KEY.findall(path.read_text(encoding="utf-8"))}
    assert len(used) > 100
    # `t("status_short." ~ status)`: a prefix completed at run time; the catalogue must have entries for it.
    missing = sorted(
        key
        for key in used
        if key not in MESSAGES and not (key.endswith(".") and any(k.startswith(key) for k in MESSAGES))
    )
    assert not missing
    for key, words in MESSAGES.items():
        assert words["ar"].strip() and words["en"].strip(), key


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_hold_no_words_of_their_own(template: Path) -> None:
    text = _TAG.sub(" ", _JINJA.sub(" ", template.read_text(encoding="utf-8")))
    assert not _LETTERS.findall(text), text.split()


def test_css_uses_logical_properties_only() -> None:
    sheets = sorted((PORTAL / "static").glob("*.css"))
    assert {"portal.css", "eservices.css"} <= {p.name for p in sheets}
    for sheet in sheets:
        css = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
        physical = re.findall(
            r"\b(?:margin|padding|border)-(?:left|right)\b|\b(?:left|right)\s*:|text-align:\s*(?:left|right)",
            css,
        )
        assert not physical, sheet.name


def test_a_key_is_registered_once_with_both_languages() -> None:
    register({"test.portal.example": ("مثال", "Example")})
    with pytest.raises(ValueError, match="already defined"):
        register({"test.portal.example": ("مثال", "Example")})
    with pytest.raises(ValueError, match="both"):
        register({"test.portal.other": ("", "Example")})
    del MESSAGES["test.portal.example"]


def test_assets_are_shipped_with_their_licences() -> None:
    static = PORTAL / "static"
    assert (static / "htmx.min.js").stat().st_size > 10_000 and (static / "htmx.LICENSE.txt").exists()
    assert list((static / "fonts").glob("*.woff2")) and (static / "fonts" / "OFL.txt").exists()
    for template in TEMPLATES:
        assert "http://" not in template.read_text() and "https://" not in template.read_text(), template.name
