"""`jawazat users add|list|remove`: the web portal's users, of establishments, auditors and officers.

Individuals are not added: they sign in with the e-mail or mobile on their person record."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from jawazat_events.cli.root import app, container, handles_errors, out
from jawazat_events.domain.portal_user import PortalRole

users_app = typer.Typer(help="Portal users of establishments, auditors and officers.", no_args_is_help=True)
app.add_typer(users_app, name="users")

Role = Annotated[
    PortalRole,
    typer.Option("--role", help="establishment (needs UNIFIED), auditor or officer", case_sensitive=False),
]


@users_app.command("add")
@handles_errors
def add_user(
    unified: Annotated[
        str | None,
        typer.Argument(help="the establishment's unified number (not for auditors or officers)"),
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help="the address sign-in codes go to")] = None,
    mobile: Annotated[
        str | None, typer.Option("--mobile", help="mobile (codes go by SMS when there is no e-mail)")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="the user's name")] = None,
    role: Role = PortalRole.ESTABLISHMENT,
) -> None:
    """Add a portal user; they sign in at /portal/login with a code sent to their e-mail (or mobile)."""
    with container() as wired:
        user = wired.portal_users.add_user(
            unified_number=unified, email=email, mobile=mobile, name=name, role=role.value
        )
    where = f"establishment {user.establishment}" if user.establishment else user.role.value
    out.print(f"added portal user {user.login} ({where})", markup=False)


@users_app.command("list")
@handles_errors
def list_users(
    unified: Annotated[str | None, typer.Argument(help="only this establishment's users")] = None,
    role: Annotated[
        PortalRole | None,
        typer.Option(
            "--role", help="auditor or officer: only the auditors or the officers", case_sensitive=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """Portal users: one establishment's, the auditors, the officers, or (no argument) everyone."""
    from jawazat_events.projections.portal_queries import establishment_numbers

    with container() as wired:
        service = wired.portal_users
        if unified is not None:
            wired.establishments.defaults(unified)  # unknown establishment: refused with the reason
            users = service.list_users(unified)
        elif role is PortalRole.AUDITOR:
            users = service.list_users(None)
        elif role is PortalRole.OFFICER:
            users = service.list_users(None, role=PortalRole.OFFICER)
        else:
            wired.catch_up_index()
            users = [
                *service.list_users(None),
                *service.list_users(None, role=PortalRole.OFFICER),
                *(u for n in establishment_numbers(wired.read_models.db) for u in service.list_users(n)),
            ]
    if as_json:
        for user in users:
            row = {
                "login": user.login,
                "role": user.role.value,
                "establishment": user.establishment,
                "email": user.email,
                "mobile": user.mobile,
                "name": user.name,
                "language": user.language,
            }
            out.print(json.dumps(row, ensure_ascii=False), markup=False)
        return
    table = Table(title="Portal users")
    for column in ("login", "role", "establishment", "name", "language"):
        table.add_column(column)
    for user in users:
        table.add_row(user.login, user.role.value, user.establishment or "", user.name, user.language)
    out.print(table)


@users_app.command("remove")
@handles_errors
def remove_user(
    login: Annotated[str, typer.Argument(help="the user's e-mail (or mobile, for an SMS-only user)")],
) -> None:
    """Remove a portal user: they can no longer sign in, and their open sessions end at once."""
    with container() as wired:
        removed = wired.portal_users.remove_user(login)
    out.print(f"removed portal user {removed}", markup=False)
