"""`jawazat ingest` and `jawazat generate-feed`: the event feed in and out of the command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import IO, Annotated

import typer
from eventsourcing.persistence import PersistenceError
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from jawazat_events.cli.root import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    app,
    container,
    err,
    fail,
    handles_errors,
    out,
)
from jawazat_events.generate import FeedGenerator
from jawazat_events.services.ingest import IngestReport


def _lines_with_progress(handle: IO[str], size: int | None, progress: Progress | None) -> Iterator[str]:
    task = progress.add_task("ingest", total=size) if progress else None
    for line in handle:
        if progress is not None and task is not None:
            progress.advance(task, len(line.encode("utf-8")))
        yield line


@app.command()
@handles_errors
def ingest(
    file: Annotated[str, typer.Argument(help="JSON Lines feed, or - for standard input")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as one JSON object")] = False,
) -> None:
    """Validate and store a feed; report accepted, duplicate and rejected lines (exit 1 if any rejected)."""
    if file == "-":
        handle: IO[str] = sys.stdin
        size = None
    else:
        try:
            handle = open(file, encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as error:
            raise fail(f"error: cannot read {file}: {error.strerror}", EXIT_USAGE) from None
        size = os.fstat(handle.fileno()).st_size
    report = IngestReport()
    show_progress = err.is_terminal and not as_json
    try:
        with container() as wired, _progress(show_progress) as progress:
            lines = _lines_with_progress(handle, size, progress)
            for result, event_type in wired.ingestor.ingest_lines(lines):
                report.add(result, event_type)
    except UnicodeDecodeError as error:
        raise fail(f"error: {file} is not UTF-8 text: {error.reason}", EXIT_USAGE) from None
    except PersistenceError as error:
        # The store went away mid-run (a restart, a lost connection): batches are all-or-nothing, so what
        # was stored stays stored; the counts so far, then one sentence on what to do.
        _print_report(report, as_json=as_json)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise fail(
            f"error: the event store failed after {report.total:,} lines ({first}); nothing is half-written: "
            "run the same command again, lines already stored count as duplicate",
            EXIT_USAGE,
        ) from None
    finally:
        if handle is not sys.stdin:
            handle.close()
    _print_report(report, as_json=as_json)
    raise typer.Exit(EXIT_REJECTED if report.rejected else EXIT_OK)


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not enabled,
        transient=True,
    )


def _print_report(report: IngestReport, *, as_json: bool) -> None:
    if as_json:
        out.print(
            json.dumps(
                {
                    "accepted": report.accepted,
                    "duplicate": report.duplicate,
                    "rejected": report.rejected,
                    "rejections": [r.as_dict() for r in report.rejections],
                },
                ensure_ascii=False,
            ),
            markup=False,
        )
        return
    out.print(f"accepted: {report.accepted}", markup=False)
    out.print(f"duplicate: {report.duplicate}", markup=False)
    out.print(f"rejected: {report.rejected}", markup=False)
    for rejection in report.rejections:
        out.print(f"line {rejection.line}: {rejection.reason}", markup=False)


@app.command("generate-feed")
def generate_feed(
    people: Annotated[int, typer.Option("--people", min=1, help="how many people to register")],
    events: Annotated[int, typer.Option("--events", min=1, help="events in all, registrations included")],
    seed: Annotated[int, typer.Option("--seed", help="same seed, same feed")] = 1,
) -> None:
    """Write a realistic synthetic feed to standard output as JSON Lines."""
    try:
        generator = FeedGenerator(people=people, events=events, seed=seed)
    except ValueError as error:
        raise fail(f"error: {error}", EXIT_USAGE) from None
    write = sys.stdout.write
    try:
        for line in generator.lines():
            write(line)
            write("\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (e.g. `| head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
