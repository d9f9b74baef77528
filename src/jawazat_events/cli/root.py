"""The root typer application, shared error handling and exit codes (0 ok, 1 rejected, 2 usage/config)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import typer
from eventsourcing.persistence import PersistenceError
from rich.console import Console

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.domain.errors import DomainError
from jawazat_events.store import ConfigurationError

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2

app = typer.Typer(
    name="jawazat",
    help="jawazat-events: event-sourced notifications for the passports directorate's e-services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int) -> typer.Exit:
    """Print one clear sentence to stderr and return the exit to raise."""
    err.print(message, markup=False)
    return typer.Exit(code)


def handles_errors(func: F) -> F:
    """Map configuration and domain errors to the contract's exit codes with one sentence on stderr."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigurationError as error:
            raise fail(f"error: {error}", EXIT_USAGE) from None
        except DomainError as error:
            raise fail(f"refused: {error}", EXIT_REJECTED) from None
        except PersistenceError as error:
            # The store failed under us (server down, lock timeout, lost connection): nothing half-written,
            # since every write is one transaction; say so in one sentence.
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise fail(
                f"error: the event store failed ({first}); nothing of the failed batch was stored", EXIT_USAGE
            ) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def container(*, check_keys: bool = True) -> Iterator[Container]:
    """The wired product for one command, closed afterwards. `check_keys=False` only for commands that
    read stored bytes and never write (`audit verify`): they may open an encrypted store without its key."""
    built = bootstrap()
    built.check_keys = check_keys
    try:
        yield built
    finally:
        built.close()


def main() -> None:
    """Console-script entry point."""
    from jawazat_events.cli import (  # noqa: F401  (registers commands)
        api_commands,
        audit_commands,
        demo,
        eservice_commands,
        establishment_commands,
        feed_commands,
        projection_commands,
        scheduler_commands,
        user_commands,
        worker_commands,
    )

    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
