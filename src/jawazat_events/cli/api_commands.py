"""`jawazat serve` (the HTTP API under uvicorn) and `jawazat tokens issue|revoke` (bearer tokens)."""

from __future__ import annotations

import socket
import sys
from typing import Annotated

import typer

from jawazat_events.cli.root import EXIT_USAGE, app, container, err, fail, handles_errors, out
from jawazat_events.domain.credential import Role

tokens_app = typer.Typer(
    help="Bearer tokens for source systems, auditors, individuals and officers.", no_args_is_help=True
)
app.add_typer(tokens_app, name="tokens")


def _listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket here, so a taken port is one clear sentence and exit code 2."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        raise fail(f"error: cannot listen on {host}:{port}: {error.strerror or error}", EXIT_USAGE) from None
    sock.set_inheritable(True)
    return sock


@app.command()
@handles_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="port (0: any free one)")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) until SIGTERM/SIGINT."""
    import uvicorn
    from eventsourcing.persistence import PersistenceError

    from jawazat_events.api.middleware import configure_logging
    from jawazat_events.server import create_server

    with container() as wired:
        api = create_server(wired)
        try:
            api.state.api.warm_up()
        except PersistenceError as error:
            raise fail(
                f"error: cannot open the store at {wired.redacted_database_url()}: {error}", 2
            ) from None
        sock = _listen(host, port)
        bound_host, bound_port = sock.getsockname()[:2]
        configure_logging()
        config = uvicorn.Config(
            api, access_log=False, log_config=None, server_header=False, proxy_headers=False, lifespan="on"
        )
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        print(f"serving on http://{shown}:{bound_port} (OpenAPI at /docs)", file=sys.stderr, flush=True)
        uvicorn.Server(config).run(sockets=[sock])


@tokens_app.command("issue")
@handles_errors
def issue_token(
    role: Annotated[
        Role, typer.Option("--role", help="auditor, source, individual or officer", case_sensitive=False)
    ],
    name: Annotated[str, typer.Option("--name", help="whom the token is for")],
    id_number: Annotated[
        str | None, typer.Option("--id-number", help="the person's ID number (role individual only)")
    ] = None,
) -> None:
    """Issue a token and print it once on stdout (only its hash is stored)."""
    with container() as wired:
        issued = wired.tokens.issue(role=role.value, name=name, id_number=id_number)
    out.print(issued.token, markup=False)
    err.print(
        f"token id {issued.token_id} ({issued.role.value}, {issued.name}): keep the token now, "
        "it is not shown again; revoke with `jawazat tokens revoke "
        f"{issued.token_id}`",
        markup=False,
    )


@tokens_app.command("revoke")
@handles_errors
def revoke_token(
    token_id: Annotated[str, typer.Argument(help="the token's id (the part after jzt_)")],
) -> None:
    """Revoke a token: it stops working at once."""
    with container() as wired:
        revoked = wired.tokens.revoke(token_id)
    out.print(f"revoked token {revoked}", markup=False)
