"""`jawazat establishments …` and `jawazat subscriptions …`: the establishments' operations for operators."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table

from jawazat_events.cli.root import app, container, handles_errors, out

establishments_app = typer.Typer(
    help="Register establishments and manage their keys and contacts.", no_args_is_help=True
)
subscriptions_app = typer.Typer(
    help="Subscriptions of establishments to the ID numbers they sponsor.", no_args_is_help=True
)
app.add_typer(establishments_app, name="establishments")
app.add_typer(subscriptions_app, name="subscriptions")

Unified = Annotated[str, typer.Argument(help="the establishment's 10-digit unified number (7…)")]
IdNumber = Annotated[str, typer.Argument(help="the person's 10-digit ID number")]


@establishments_app.command("add")
@handles_errors
def add_establishment(
    unified: Unified,
    name: Annotated[str, typer.Option("--name", help="the establishment's name")],
    email: Annotated[str | None, typer.Option("--email", help="default e-mail for alerts")] = None,
    mobile: Annotated[str | None, typer.Option("--mobile", help="default mobile for alerts")] = None,
    language: Annotated[str, typer.Option("--language", help="ar or en")] = "ar",
    city: Annotated[str | None, typer.Option("--city", help="city it is based in, e.g. Makkah")] = None,
) -> None:
    """Register an establishment and print its API key once (only its hash is stored)."""
    with container() as wired:
        key = wired.establishments.register(
            unified_number=unified, name=name, email=email, mobile=mobile, language=language, city=city
        )
        if email:  # the e-mail given here is the establishment's first portal user
            wired.portal_users.add_user(unified_number=unified, email=email, name=name)
    out.print(key, markup=False)


@establishments_app.command("rotate-key")
@handles_errors
def rotate_key(unified: Unified) -> None:
    """Issue a new API key for an establishment (the old one stops working) and print it once."""
    with container() as wired:
        out.print(wired.establishments.rotate_api_key(unified), markup=False)


@subscriptions_app.command("add")
@handles_errors
def add_subscription(
    unified: Unified,
    id_number: IdNumber,
    types: Annotated[str, typer.Option("--types", help="comma-separated notification types")],
    mobile: Annotated[str | None, typer.Option("--mobile")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
) -> None:
    """Subscribe an establishment to an ID number it sponsors."""
    with container() as wired:
        view = wired.establishments.subscribe(
            unified, id_number, notification_types=types, mobile=mobile, email=email
        )
        wired.catch_up_index()
    out.print(json.dumps(view.as_dict(), ensure_ascii=False), markup=False)


@subscriptions_app.command("change")
@handles_errors
def change_subscription(
    unified: Unified,
    id_number: IdNumber,
    types: Annotated[str | None, typer.Option("--types")] = None,
    mobile: Annotated[str | None, typer.Option("--mobile")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
) -> None:
    """Change a subscription's notification types and/or contacts."""
    with container() as wired:
        view = wired.establishments.change(
            unified, id_number, notification_types=types, mobile=mobile, email=email
        )
        wired.catch_up_index()
    out.print(json.dumps(view.as_dict(), ensure_ascii=False), markup=False)


@subscriptions_app.command("remove")
@handles_errors
def remove_subscription(unified: Unified, id_number: IdNumber) -> None:
    """Cancel an establishment's subscription for an ID number."""
    with container() as wired:
        wired.establishments.unsubscribe(unified, id_number)
        wired.catch_up_index()
    out.print(f"unsubscribed {unified} from {id_number}", markup=False)


@subscriptions_app.command("list")
@handles_errors
def list_subscriptions(
    unified: Unified,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines of the active subscriptions")] = False,
) -> None:
    """The establishment's active subscriptions."""
    from jawazat_events.projections.queries import list_subscriptions as query

    with container() as wired:
        wired.establishments.defaults(unified)  # unknown establishment: refused with the reason
        wired.catch_up_index()
        rows = _all_pages(lambda after: query(wired.read_models.db, unified, limit=1000, after=after))
    if as_json:
        for row in rows:
            out.print(json.dumps(row, ensure_ascii=False), markup=False)
        return
    table = Table(title=f"Subscriptions of {unified}")
    for column in ("id_number", "notification types", "mobile", "email", "since"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id_number"],
            ",".join(row["notification_types"]),
            row["mobile"] or "",
            row["email"] or "",
            row["since"],
        )
    out.print(table)


def _all_pages(fetch: Callable[[str | None], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = fetch(after)
        rows.extend(page)
        if len(page) < 1000:
            return rows
        after = str(page[-1]["id_number"])
