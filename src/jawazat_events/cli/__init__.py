"""The `jawazat` command line: one typer application, its sub-commands registered from small modules."""

from __future__ import annotations

from jawazat_events.cli.root import app, main

__all__ = ["app", "main"]
