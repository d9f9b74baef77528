"""The architecture, checked: the import contracts of pyproject.toml hold, and `mypy --strict` passes.

docs/architecture.md draws the layers these contracts enforce; a change that makes a lower layer import a
higher one, a service import an adapter, or the domain import I/O fails here, naming the import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    # In a process of its own: both tools configure logging and import the package, which would leak into
    # the tests that run after them in this process.
    return subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_import_contracts_hold() -> None:
    done = _run(
        "-c",
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, no_cache=True))",
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_mypy_strict_passes_on_the_package_and_its_linked_adapters() -> None:
    # src/jawazat_events holds the linked projections/ and subscribers/ folders: all three are checked.
    done = _run(
        "-m",
        "mypy",
        "--strict",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "--cache-dir",
        str(ROOT / ".mypy_cache"),
        str(ROOT / "src" / "jawazat_events"),
    )
    stdout, stderr, status = done.stdout, done.stderr, done.returncode

    assert status == 0, stdout + stderr
    assert "Success: no issues found" in stdout
