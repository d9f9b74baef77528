"""The repository stands alone: code, tests, benchmarks and docs never cite files outside it (the
contract and sources a session was given) or the issues that asked for a change; what they say is
written here, in docs/, where a newcomer can read it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"\.\./shared|\b(CONTRACT|SOURCES|CONVENTIONS|BENCHMARKS)\.md\b|\b[Ii]ssue #?\d+\b")
SUFFIXES = {".py", ".md", ".html", ".toml", ".cfg", ".txt", ".css", ".js"}


def _readable_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "pyproject.toml"]
    for folder in ("src", "projections", "subscribers", "tests", "bench", "docs"):
        files += [
            path
            for path in (ROOT / folder).rglob("*")
            if path.is_file()
            and path.suffix in SUFFIXES
            and "static" not in path.parts
            and path != Path(__file__).resolve()
        ]
    return files


def test_nothing_cites_files_or_issues_outside_the_repository() -> None:
    files = _readable_files()
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert len(files) > 100 and not offenders, "\n".join(offenders)
