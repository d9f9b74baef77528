"""`jawazat worker` and `jawazat alerts list`: running projections and delivery, and seeing alerts."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from typing import Annotated

import typer
from rich.table import Table

from jawazat_events.cli.root import app, container, err, handles_errors, out

alerts_app = typer.Typer(help="Alerts and their delivery attempts.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@app.command()
@handles_errors
def worker(
    once: Annotated[bool, typer.Option("--once", help="drain all pending work, then exit")] = False,
) -> None:
    """Run the projections and delivery; follow new events until SIGTERM/SIGINT unless --once."""
    from jawazat_events.worker import Worker

    # Warnings on stderr with their time: lost connections, failed passes and their recovery, parked events.
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()
    with container() as wired:
        runner = Worker(wired, stop=stop)
        try:
            if once:
                summary = runner.run_once()
                out.print(
                    f"worker: store head {summary.head}; events read "
                    + ", ".join(f"{k} {v}" for k, v in summary.events_read.items())
                    + f"; alerts created {summary.alerts_created}"
                    + "; deliveries "
                    + (", ".join(f"{k} {v}" for k, v in sorted(summary.deliveries.items())) or "none"),
                    markup=False,
                )
                return
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: runner.request_stop())
            err.print("worker: following new events (Ctrl-C to stop)")
            runner.run_forever()
            err.print("worker: stopped")
        finally:
            runner.close()


@alerts_app.command("list")
@handles_errors
def list_alerts(
    unified: Annotated[str | None, typer.Argument(help="only this establishment's alerts")] = None,
    id_number: Annotated[str | None, typer.Option("--id-number")] = None,
    status: Annotated[str | None, typer.Option("--status")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines in the contract's alert shape")] = False,
) -> None:
    """Alerts with their delivery attempts."""
    from jawazat_events.projections.queries import list_alerts as query

    with container() as wired:
        rows = query(wired.read_models.db, establishment=unified, id_number=id_number, status=status)
    if as_json:
        for row in rows:
            out.print(json.dumps(row, ensure_ascii=False), markup=False)
        return
    table = Table(title="Alerts")
    for column in (
        "created",
        "establishment",
        "id_number",
        "event",
        "channel",
        "recipient",
        "status",
        "attempts",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["created_at"][:19],
            row["establishment"],
            row["id_number"],
            row["event_type"],
            row["channel"],
            row["recipient"],
            row["status"],
            str(len(row["attempts"])),
        )
    out.print(table)
