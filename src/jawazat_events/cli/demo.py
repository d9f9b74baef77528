"""`jawazat demo`: the main job on the embedded default, offline, in a fresh SQLite store."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from jawazat_events.bootstrap import bootstrap
from jawazat_events.cli.root import app, handles_errors, out
from jawazat_events.generate import FeedGenerator
from jawazat_events.ingest import IngestReport, parse_lines

# Lines a careless source system might send, to show that each is named and nothing is half-written.
BAD_LINES = (
    '{"event_id": "bad-1", "type": "border_crossing", "id_number": "2000000001", '
    '"occurred_at": "2026-01-05T09:00:00+03:00", "direction": "entry", "port": "RUH"}',
    '{"event_id": "bad-2", "type": "border_crossing", "id_number": "3999999999", '
    '"occurred_at": "2026-01-05T09:00:00+03:00", "direction": "entry", "port": "RUH"}',
    '{"event_id": "bad-3", "type": "visa_issued", "id_number": "3000000001"',
    '{"event_id": "bad-4", "type": "passport_expired", "id_number": "3000000001", '
    '"occurred_at": "2026-01-05T09:00:00+03:00"}',
)


@app.command()
@handles_errors
def demo(
    people: Annotated[int, typer.Option(min=3, help="people in the generated feed")] = 200,
    events: Annotated[int, typer.Option(min=3, help="events in the generated feed")] = 1500,
    seed: Annotated[int, typer.Option(help="seed of the generated feed")] = 7,
    workdir: Annotated[
        Path | None,
        typer.Option(help="folder for the demo's store (default: a new temporary folder)"),
    ] = None,
) -> None:
    """Run the whole product on a fresh SQLite store: ingest a generated feed and summarise it."""
    folder = workdir or Path(tempfile.mkdtemp(prefix="jawazat-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "demo.db"
    for leftover in folder.glob("demo.db*"):
        leftover.unlink()
    wired = bootstrap(database_url=f"sqlite:///{store}")
    try:
        out.print(f"[bold]jawazat demo[/bold]: fresh SQLite store at {store}")
        feed = list(FeedGenerator(people=people, events=events, seed=seed).lines())
        # Send the feed, a few bad lines, and the first fifty lines again (a source system retrying).
        lines = [*feed, *BAD_LINES, *feed[:50]]
        report = IngestReport()
        for result, event_type in wired.ingestor.ingest(parse_lines(lines)):
            report.add(result, event_type)
        _print_ingest(report, people=people)
    finally:
        wired.close()


def _print_ingest(report: IngestReport, *, people: int) -> None:
    table = Table(title="Events stored, by type")
    table.add_column("type")
    table.add_column("events", justify="right")
    for event_type, count in sorted(report.accepted_by_type.items()):
        table.add_row(event_type, str(count))
    table.add_row("[bold]all[/bold]", f"[bold]{report.accepted}[/bold]")
    out.print(table)
    out.print(
        f"people registered: {report.accepted_by_type.get('person_registered', 0)} of {people}; "
        f"lines read: {report.total}; accepted {report.accepted}, duplicate {report.duplicate}, "
        f"rejected {report.rejected}"
    )
    if report.rejections:
        rejected = Table(title="Rejected lines")
        rejected.add_column("line", justify="right")
        rejected.add_column("reason")
        for item in report.rejections:
            rejected.add_row(str(item.line), item.reason or "")
        out.print(rejected)
