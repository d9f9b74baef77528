"""`jawazat audit …` and `jawazat projections rebuild`: the auditors' commands and read-model rebuilds."""

from __future__ import annotations

import base64
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from eventsourcing.persistence import MapperDeserialisationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from jawazat_events.cli.root import EXIT_REJECTED, EXIT_USAGE, app, container, err, fail, handles_errors, out
from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.plausible import check_query_time

audit_app = typer.Typer(
    help="Auditors: timelines, point-in-time views, export, verify.", no_args_is_help=True
)
projections_app = typer.Typer(help="Read models (projections) of the event store.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(projections_app, name="projections")

At = Annotated[
    str | None,
    typer.Option("--at", help="recorded time to look back to (ISO 8601; without offset: business time zone)"),
]


def parse_time(text: str, option: str) -> datetime:
    """An ISO 8601 date or date-time; without offset it is read in the business time zone later."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), time())
        except ValueError:
            message = (
                f"error: {option} '{text}' is not an ISO 8601 date or time (e.g. 2026-07-01T09:00:00+03:00)"
            )
            raise fail(message, EXIT_USAGE) from None
    try:
        # The query window (docs/api.md); a time without offset is checked as if UTC (zones are hours).
        check_query_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC), field=option)
    except InvalidValue as error:
        raise fail(f"error: {error}", EXIT_USAGE) from None
    return moment


def mask_contact(value: str | None) -> str:
    """A mobile or e-mail reduced to its last four characters, for screens and printouts."""
    if not value:
        return ""
    return "****" + value[-4:] if len(value) > 4 else "****"


F = TypeVar("F", bound=Callable[..., Any])


def reads_events(func: F) -> F:
    """A stored event that cannot be decoded is a configuration problem (the key) or tampering: say so."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MapperDeserialisationError:
            raise fail(
                "error: cannot decode the stored events: JAWAZAT_CIPHER_KEY is missing or is not the key "
                "this store was written with, or an event was altered (`jawazat audit verify` tells which)",
                EXIT_USAGE,
            ) from None

    return wrapper  # type: ignore[return-value]


def _print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextmanager
def _bar(label: str, enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (a terminal only), fed with (position reached, head)."""
    with Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not enabled,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


# --------------------------------------------------------------------------------------- timeline


@audit_app.command("timeline")
@handles_errors
@reads_events
def timeline(
    id_number: Annotated[str, typer.Argument(help="the person's 10-digit ID number")],
    at: At = None,
    as_json: Annotated[bool, typer.Option("--json", help="the contract's timeline JSON")] = False,
) -> None:
    """Every event of a person (business-time order), the alerts they caused, and sponsorships."""

    from jawazat_events.projections.parking import parked_events

    moment = parse_time(at, "--at") if at else None
    with container() as wired:
        document = wired.audit.person_timeline(id_number, moment)
        parked = parked_events(wired.read_models.db, id_number=id_number)
    if as_json:
        _print_json(document)
        if parked:  # the contract's JSON stays as it is; the note goes beside it
            err.print(_parked_sentence(len(parked), f"of {id_number}"), markup=False)
        return
    _print_timeline(document)
    if parked:
        table = Table(title="Parked by projections (not applied to their views)", title_justify="left")
        for column in ("position", "projection", "event id", "type", "error", "parked at"):
            table.add_column(column)
        for event in parked:
            table.add_row(
                str(event.position),
                event.projection,
                event.event_id or "",
                event.event_type,
                f"{event.error_class}: {event.error_message}",
                _short(event.parked_at),
            )
        out.print(table)
        out.print(_parked_sentence(len(parked), f"of {id_number}"), markup=False)


def _parked_sentence(count: int, whose: str) -> str:
    return (
        f"note: {count:,} event(s) {whose} are parked by projections: recorded in the store but not applied "
        "to every view (alerts may be missing); `jawazat projections parked` lists them"
    )


def _short(moment: str | None) -> str:
    """An ISO 8601 time cut to the second, offset kept: `2026-07-01 09:00:00 +03:00`."""
    if not moment:
        return ""
    parsed = datetime.fromisoformat(moment)
    offset = parsed.strftime("%z")
    return parsed.strftime("%Y-%m-%d %H:%M:%S") + (f" {offset[:3]}:{offset[3:]}" if offset else "")


def _print_timeline(document: dict[str, Any]) -> None:
    when = f" as recorded at {document['at']}" if document["at"] else ""
    events = Table(title=f"Timeline of {document['id_number']}{when}", title_justify="left")
    for column in ("occurred", "recorded", "type", "event id", "details"):
        events.add_column(column)
    identity = {"event_id", "type", "occurred_at", "recorded_at"}
    for event in document["events"]:
        details = ", ".join(f"{k}={v}" for k, v in event.items() if k not in identity)
        events.add_row(
            _short(event["occurred_at"]),
            _short(event["recorded_at"]),
            event["type"],
            event["event_id"],
            details,
        )
    out.print(events)

    alerts = Table(title="Alerts it caused", title_justify="left")
    for column in ("#", "created", "event id", "establishment", "channel", "to", "status"):
        alerts.add_column(column)
    attempts = Table(title="Delivery attempts", title_justify="left")
    for column in ("alert #", "at", "outcome", "detail"):
        attempts.add_column(column)
    for number, alert in enumerate(document["alerts"], start=1):
        alerts.add_row(
            str(number),
            _short(alert["created_at"]),
            alert["event_id"],
            alert["establishment"],
            alert["channel"],
            mask_contact(alert["recipient"]),
            alert["status"],
        )
        for attempt in alert["attempts"]:
            attempts.add_row(str(number), _short(attempt["at"]), attempt["outcome"], attempt["detail"])
    out.print(alerts if document["alerts"] else "No alerts.")
    if attempts.row_count:
        out.print(attempts)

    sponsors = Table(title="Sponsorships", title_justify="left")
    for column in ("sponsor", "from", "until"):
        sponsors.add_column(column)
    for period in document["sponsorships"]:
        sponsors.add_row(
            period["sponsor"], _short(period["from"]) or "(first known)", _short(period["until"]) or "-"
        )
    out.print(sponsors)


# ---------------------------------------------------------------------------------- subscriptions


@audit_app.command("subscriptions")
@handles_errors
@reads_events
def subscriptions(
    unified: Annotated[str, typer.Argument(help="the establishment's unified number")],
    at: At = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, as `subscriptions list`")] = False,
) -> None:
    """An establishment's subscriptions as they stood at a recorded time (now without --at)."""

    moment = parse_time(at, "--at") if at else None
    with container() as wired:
        wired.establishments.defaults(unified)  # an unknown establishment is refused with the reason
        wired.catch_up_index()
        rows = wired.audit.subscriptions_at(unified, moment)
    if as_json:
        for row in rows:
            _print_json(row)
        return
    table = Table(title=f"Subscriptions of {unified}" + (f" at {at}" if at else ""), title_justify="left")
    for column in ("id_number", "notification types", "mobile", "email", "since"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id_number"],
            ",".join(row["notification_types"]),
            mask_contact(row["mobile"]),
            mask_contact(row["email"]),
            row["since"][:19],
        )
    out.print(table)


# ----------------------------------------------------------------------------------------- export


@audit_app.command("export")
@handles_errors
@reads_events
def export(
    since: Annotated[str, typer.Option("--since", help="recorded at or after (ISO 8601)")],
    until: Annotated[str, typer.Option("--until", help="recorded before (ISO 8601)")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv (UTF-8 with BOM)")] = "jsonl",
    id_number: Annotated[str | None, typer.Option("--id-number", help="only this person's events")] = None,
) -> None:
    """Every stored event recorded in [since, until), streamed to standard output."""
    from jawazat_events.domain.identifiers import parse_id_number
    from jawazat_events.domain.moments import utc_moment
    from jawazat_events.services.audit.export import FORMATS, export_records, write_export

    if fmt not in FORMATS:
        raise fail(f"error: --format '{fmt}' must be one of {', '.join(FORMATS)}", EXIT_USAGE)
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    number = parse_id_number(id_number) if id_number else None
    with container() as wired, _bar("export", err.is_terminal) as progress:
        zone = wired.settings.zone
        lower, upper = utc_moment(start, zone), utc_moment(end, zone)
        if upper <= lower:
            raise fail("error: --until must be after --since", EXIT_USAGE)
        records = export_records(wired.app, since=lower, until=upper, id_number=number, progress=progress)
        # Bytes to stdout, UTF-8 whatever the locale says; detached afterwards so stdout stays open.
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="" if fmt == "csv" else "\n")
        try:
            count = write_export(records, stream, fmt)
        finally:
            stream.flush()
            stream.detach()
    if err.is_terminal:
        err.print(f"exported {count:,} events", markup=False)


# ----------------------------------------------------------------------------------------- verify


@audit_app.command("verify")
@handles_errors
def verify(
    anchor: Annotated[
        list[str] | None,
        typer.Option("--anchor", help="a link published earlier, POSITION:HEXLINK (repeatable)"),
    ] = None,
) -> None:
    """Walk the hash chain; name the first altered, deleted, inserted or moved event (exit 1)."""
    from jawazat_events.audit.chain import parse_anchor
    from jawazat_events.audit.chain import verify as walk
    from jawazat_events.store import recorder_of

    try:
        anchors = [parse_anchor(a) for a in anchor or ()]
    except ValueError as error:
        raise fail(f"error: {error}", EXIT_USAGE) from None
    from jawazat_events.library_internals import datastore_of
    from jawazat_events.projections.lag import parked_in_store

    # The chain covers the stored (encrypted) bytes: no key needed, and nothing is written.
    with container(check_keys=False) as wired, _bar("verify", err.is_terminal) as progress:
        report = walk(recorder_of(wired.app), anchors=anchors, progress=progress)
        parked = parked_in_store(datastore_of(wired.app))
    if report.finding is not None:
        raise fail(f"verify: the record was altered: {report.finding.sentence()}", EXIT_REJECTED)
    if report.head_position is None:
        out.print("verify: the store is empty; nothing to verify", markup=False)
        return
    out.print(
        f"verify: intact: {report.events:,} events; {report.checkpoints} checkpoint(s) and "
        f"{report.anchors} anchor(s) matched",
        markup=False,
    )
    out.print(f"latest link: {report.head_position}:{report.head_link.hex()}", markup=False)
    if parked:
        out.print(_parked_sentence(parked, "of the store"), markup=False)


@audit_app.command("new-key")
def new_key() -> None:
    """Print a fresh random AES-256 key for JAWAZAT_CIPHER_KEY (keep it in the secret store)."""
    out.print(base64.b64encode(os.urandom(32)).decode("ascii"), markup=False)


# ---------------------------------------------------------------------------------------- rebuild


@projections_app.command("rebuild")
@handles_errors
@reads_events
def rebuild(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="subscription_index, people, requests, request_notifications, fanout, person_links (all)"
        ),
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="start over even if an interrupted rebuild could resume")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="ignore heartbeats of stopped workers")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=50_000)] = 5000,
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            min=1,
            max=64,
            help="PostgreSQL: share the read models and the fan-out's partitions among this many processes",
        ),
    ] = 1,
) -> None:
    """Drop and rebuild read models from the store (resumes an interrupted rebuild)."""
    with container() as wired:
        known = wired.rebuilder.projection_names()
        unknown = [n for n in names or () if n not in known]
        if unknown:
            message = f"error: unknown projection(s) {', '.join(unknown)}; known: {', '.join(known)}"
            raise fail(message, EXIT_USAGE)
        with _bar("rebuild", err.is_terminal) as bar:
            report = wired.rebuilder.rebuild(
                names or (),
                restart=restart,
                force=force,
                batch_size=batch_size,
                progress=lambda _stage, done, total: bar(done, total),
                processes=processes,
            )
    parts = []
    if report.rebuilt:
        parts.append(f"rebuilt {', '.join(report.rebuilt)}")
    if report.resumed:
        parts.append(f"resumed {', '.join(report.resumed)}")
    out.print(
        f"projections: {'; '.join(parts)} up to position {report.head:,}: {report.events_read:,} events read "
        f"in {report.seconds:.1f} s; {report.alerts_created:,} alerts made",
        markup=False,
    )
