"""The read models and channels ship inside the project's namespace, never as generic top-level names."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL_IMPORT = re.compile(r"^\s*(from|import)\s+(projections|subscribers)\b", re.MULTILINE)


def test_imports_use_the_package_namespace() -> None:
    sources = [
        path
        for folder in ("src", "projections", "subscribers", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
    ]
    offenders = [
        f"{path.relative_to(ROOT)} imports '{found.group(2)}' top-level; use jawazat_events.{found.group(2)}"
        for path in sources
        if (found := TOP_LEVEL_IMPORT.search(path.read_text(encoding="utf-8")))
    ]
    assert sources and not offenders, offenders


def test_adapters_are_linked_into_the_package() -> None:
    for name in ("projections", "subscribers"):
        link = ROOT / "src" / "jawazat_events" / name
        assert link.is_symlink() and link.resolve() == (ROOT / name).resolve()
