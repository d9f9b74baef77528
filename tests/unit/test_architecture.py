"""The architecture, checked: the import contracts of pyproject.toml hold, and `mypy --strict` passes.

docs/architecture.md draws the layers these contracts enforce; a change that makes a lower layer import a
higher one, a service import an adapter, or the domain import I/O fails here, naming the import.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from importlinter.cli import lint_imports
from mypy import api as mypy

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)

    assert status == 0, report.getvalue()
    assert "0 broken" in report.getvalue()


def test_mypy_strict_passes_on_the_package_and_its_linked_adapters() -> None:
    # src/jawazat_events holds the linked projections/ and subscribers/ folders: all three are checked.
    stdout, stderr, status = mypy.run(
        [
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            str(ROOT / "src" / "jawazat_events"),
        ]
    )

    assert status == 0, stdout + stderr
    assert "Success: no issues found" in stdout
