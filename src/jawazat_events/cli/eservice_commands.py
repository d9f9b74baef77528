"""`jawazat travel-permits|makkah-permits|tickets …`: officers' queues and decisions from the command line.

The same services and rules as the HTTP API's officer routes; the officer is named with `--officer` and
recorded on the decision as `officer:cli:NAME`. A refused step (not pending, reason missing…) exits 1
with the reason.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from jawazat_events.cli.root import app, container, handles_errors, out
from jawazat_events.domain.actors import Actor
from jawazat_events.domain.credential import check_name
from jawazat_events.domain.requests import Decision

travel_app = typer.Typer(
    help="Family travel permits: the officers' queue and decisions.", no_args_is_help=True
)
makkah_app = typer.Typer(
    help="Makkah entry permits: the officers' queue, decisions, revocations.", no_args_is_help=True
)
tickets_app = typer.Typer(
    help="Support tickets (Tawasul): the officers' queue and status changes.", no_args_is_help=True
)
app.add_typer(travel_app, name="travel-permits")
app.add_typer(makkah_app, name="makkah-permits")
app.add_typer(tickets_app, name="tickets")

OfficerName = Annotated[str, typer.Option("--officer", help="the deciding officer's name (recorded)")]
StatusFilter = Annotated[str | None, typer.Option("--status", help="only this status (pending: the queue)")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")]
Reason = Annotated[str | None, typer.Option("--reason", help="why (required to reject or revoke)")]
DecisionOption = Annotated[
    Decision, typer.Option("--decision", help="approve or reject", case_sensitive=False)
]


def officer(name: str) -> Actor:
    """The officer acting from the command line."""
    cleaned = check_name(name)
    return Actor.officer(f"cli:{cleaned}", cleaned)


def _print(answer: dict[str, Any]) -> None:
    out.print(json.dumps(answer, ensure_ascii=False), markup=False)


def _listing(items: list[dict[str, Any]], columns: tuple[str, ...], title: str, as_json: bool) -> None:
    if as_json:
        for item in items:
            _print(item)
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for item in items:
        table.add_row(*(str(item.get(column) or "") for column in columns))
    out.print(table)


def _list(service_of: Any, status: str | None, columns: tuple[str, ...], title: str, as_json: bool) -> None:
    """Every request of one kind, page by page, as a table or JSON lines."""
    who = officer("cli")
    items: list[dict[str, Any]] = []
    with container() as wired:
        service = service_of(wired.eservices)
        cursor: str | None = None
        while True:
            page = service.list(who, status=status, limit=500, cursor=cursor)
            items.extend(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    _listing(items, columns, title, as_json)


PERMIT_COLUMNS = ("permit_id", "id_number", "status", "valid_from", "valid_until", "requested_at", "reason")


@travel_app.command("list")
@handles_errors
def list_travel(status: StatusFilter = None, as_json: AsJson = False) -> None:
    """Every travel permit, oldest first (`--status pending`: the queue)."""
    _list(lambda es: es.travel_permits, status, PERMIT_COLUMNS, "Travel permits", as_json)


@travel_app.command("decide")
@handles_errors
def decide_travel(
    permit_id: Annotated[str, typer.Argument(help="the permit's id")],
    decision: DecisionOption,
    by: OfficerName,
    reason: Reason = None,
) -> None:
    """Approve or reject a pending travel permit (the guardian is notified)."""
    with container() as wired:
        _print(
            wired.eservices.travel_permits.decide(officer(by), permit_id, decision=decision, reason=reason)
        )


@makkah_app.command("list")
@handles_errors
def list_makkah(status: StatusFilter = None, as_json: AsJson = False) -> None:
    """Every Makkah permit application, oldest first (`--status pending`: the queue)."""
    _list(lambda es: es.makkah_permits, status, ("season", *PERMIT_COLUMNS), "Makkah permits", as_json)


@makkah_app.command("decide")
@handles_errors
def decide_makkah(
    permit_id: Annotated[str, typer.Argument(help="the permit's id")],
    decision: DecisionOption,
    by: OfficerName,
    reason: Reason = None,
) -> None:
    """Approve or reject a pending application (the applicant is notified)."""
    with container() as wired:
        _print(
            wired.eservices.makkah_permits.decide(officer(by), permit_id, decision=decision, reason=reason)
        )


@makkah_app.command("revoke")
@handles_errors
def revoke_makkah(
    permit_id: Annotated[str, typer.Argument(help="the permit's id")],
    by: OfficerName,
    reason: Annotated[str, typer.Option("--reason", help="why the permit is revoked")],
) -> None:
    """Revoke an approved permit (the applicant is notified)."""
    with container() as wired:
        _print(wired.eservices.makkah_permits.revoke(officer(by), permit_id, reason=reason))


@tickets_app.command("list")
@handles_errors
def list_tickets(status: StatusFilter = None, as_json: AsJson = False) -> None:
    """Every ticket, oldest first (`--status received`: the new ones)."""
    columns = ("tracking_number", "status", "problem_type", "procedure", "requested_at")
    _list(lambda es: es.tickets, status, columns, "Tickets", as_json)


@tickets_app.command("show")
@handles_errors
def show_ticket(tracking_number: Annotated[str, typer.Argument(help="XXXXX-XXXXX")]) -> None:
    """One ticket with its attachments' records and every message (JSON)."""
    with container() as wired:
        _print(wired.eservices.tickets.get(officer("cli"), tracking_number))


@tickets_app.command("status")
@handles_errors
def ticket_status(
    tracking_number: Annotated[str, typer.Argument(help="XXXXX-XXXXX")],
    status: Annotated[str, typer.Option("--status", help="in_progress, needs_information, resolved, closed")],
    by: OfficerName,
    message: Annotated[str | None, typer.Option("--message", help="what the owner is told")] = None,
) -> None:
    """Move a ticket on, with a message for its owner (who is notified)."""
    with container() as wired:
        _print(
            wired.eservices.tickets.change_status(
                officer(by), tracking_number, status=status, message=message
            )
        )
