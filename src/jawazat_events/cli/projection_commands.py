"""`jawazat projections lag|parked|retry-parked`: where the projections are, and their parked events."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from jawazat_events.cli.audit_commands import projections_app, reads_events
from jawazat_events.cli.root import EXIT_REJECTED, EXIT_USAGE, container, fail, handles_errors, out
from jawazat_events.projections.lag import partition_lags
from jawazat_events.projections.parking import ParkedEvent, parked_events

ProjectionOption = Annotated[
    str | None, typer.Option("--projection", help="only this projection (subscription_index, people, fanout)")
]


def _check_projection(name: str | None, known: list[str]) -> None:
    if name is not None and name not in known:
        raise fail(f"error: unknown projection '{name}'; known: {', '.join(known)}", EXIT_USAGE)


@projections_app.command("lag")
@handles_errors
def lag(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, one per partition")] = False,
) -> None:
    """Each projection partition's position, how far behind the store's head it is, and its parked events."""
    with container() as wired:
        head = wired.app.recorder.max_notification_id() or 0
        rows = partition_lags(wired.read_models.all(), head)
    if as_json:
        for row in rows:
            out.print(json.dumps({"head": head, **row.as_dict()}), markup=False)
        return
    table = Table(title=f"Projections (store head {head:,})", title_justify="left")
    for column in ("projection", "partition", "position", "behind", "parked"):
        table.add_column(column, justify="left" if column == "projection" else "right")
    for row in rows:
        table.add_row(
            row.projection, str(row.partition), f"{row.position:,}", f"{row.lag:,}", f"{row.parked:,}"
        )
    out.print(table)
    parked = sum(row.parked for row in rows)
    if parked:
        out.print(
            f"{parked:,} event(s) parked: `jawazat projections parked` lists them; fix the cause, then "
            "`jawazat projections retry-parked`",
            markup=False,
        )


@projections_app.command("parked")
@handles_errors
def parked(
    projection: ProjectionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, one per parked event")] = False,
) -> None:
    """Events a projection could not apply and set aside, with the error each one raised."""
    with container() as wired:
        _check_projection(projection, [m.name for m in wired.read_models.all()])
        found = parked_events(wired.read_models.db, projection=projection)
    if as_json:
        for event in found:
            out.print(json.dumps(event.as_dict(), ensure_ascii=False), markup=False)
        return
    if not found:
        out.print("parked: none", markup=False)
        return
    table = Table(title=f"Parked events ({len(found):,})", title_justify="left")
    for column in (
        "position",
        "projection",
        "partition",
        "event id",
        "type",
        "id number",
        "error",
        "parked at",
        "retries",
    ):
        table.add_column(column)
    for event in found:
        table.add_row(
            str(event.position),
            event.projection,
            str(event.partition),
            event.event_id or "",
            event.event_type,
            event.id_number or "",
            f"{event.error_class}: {event.error_message}",
            event.parked_at[:19],
            str(event.retries),
        )
    out.print(table)


def _names(events: list[ParkedEvent]) -> str:
    return ", ".join(f"{e.projection}@{e.position}" for e in events[:10]) + (" …" if len(events) > 10 else "")


@projections_app.command("retry-parked")
@handles_errors
@reads_events
def retry_parked(
    projection: ProjectionOption = None,
    position: Annotated[
        int | None, typer.Option("--position", min=1, help="only the event at this position")
    ] = None,
) -> None:
    """Apply parked events again once the cause is fixed; exit 1 when some still fail (they stay parked)."""
    from jawazat_events.projections.parked_retry import retry_parked as retry

    with container() as wired:
        models = wired.read_models.all()
        _check_projection(projection, [m.name for m in models])
        report = retry(wired.app, models, projection=projection, position=position)
    if not (report.applied or report.failing or report.needs_rebuild or report.gone):
        out.print(
            "retry-parked: nothing parked" + (" matches" if projection or position else ""), markup=False
        )
        return
    out.print(
        f"retry-parked: applied {len(report.applied):,}; still failing {len(report.failing):,}", markup=False
    )
    for event, error in report.failing:
        out.print(f"still failing: {event.projection} position {event.position}: {error}", markup=False)
    if report.needs_rebuild:
        names = sorted({e.projection for e in report.needs_rebuild})
        readers = [m.name for m in models if set(m.reads_from) & set(names) and m.name not in names]
        out.print(
            f"kept for a rebuild ({_names(report.needs_rebuild)}): {', '.join(names)} keeps its rows by "
            f"position; after the fix run `jawazat projections rebuild {' '.join([*names, *readers])}`",
            markup=False,
        )
    if report.failing or report.needs_rebuild:
        raise typer.Exit(EXIT_REJECTED)
