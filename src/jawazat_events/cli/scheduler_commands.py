"""`jawazat scheduler [--run-now JOB] [--today YYYY-MM-DD]`: the scheduled jobs, or one of them once."""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
from datetime import date
from typing import Annotated

import typer

from jawazat_events.cli.root import EXIT_USAGE, app, container, err, fail, handles_errors, out
from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.plausible import check_business_day

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(raw: str) -> date:
    """A business date given as YYYY-MM-DD, or exit 2 saying what is wrong with it."""
    try:
        if not _ISO_DAY.fullmatch(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise fail(f"error: --today '{raw}' must be a date as YYYY-MM-DD", EXIT_USAGE) from None


@app.command()
@handles_errors
def scheduler(
    run_now: Annotated[
        str | None,
        typer.Option(
            "--run-now",
            metavar="JOB",
            help="run one job once and exit: passport_expiry, retry_deliveries, projection_lag or digests",
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", metavar="YYYY-MM-DD", help="business date for --run-now (default: today)"),
    ] = None,
) -> None:
    """Run the scheduled jobs until SIGTERM/SIGINT, or one job once with --run-now."""
    from jawazat_events.scheduler import JOB_NAMES, Scheduler, run_job

    if run_now is not None and run_now not in JOB_NAMES:
        raise fail(f"error: unknown job '{run_now}': known jobs are {', '.join(JOB_NAMES)}", EXIT_USAGE)
    if today is not None and run_now is None:
        raise fail("error: --today only applies with --run-now JOB", EXIT_USAGE)
    business_day = parse_day(today) if today is not None else None
    with container() as wired:
        if business_day is not None:
            # Far-off days would make events with absurd business times (or overflow date arithmetic).
            try:
                check_business_day(business_day, today=wired.today(), field="--today")
            except InvalidValue as error:
                raise fail(f"error: {error}", EXIT_USAGE) from None
        if run_now is not None:
            # An operator asked for this run: wait for another instance's run of it, then do ours.
            summary = run_job(wired, run_now, today=business_day, wait_for_lock=True)
            out.print(summary or f"{run_now}: skipped", markup=False)
            return
        _ = wired.app  # open the store now: wrong keys or an unreachable store refuse to start (exit 2)
        _log_to_stderr()
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        runner = Scheduler(wired, stop=stop)
        err.print(
            f"scheduler: running {', '.join(JOB_NAMES)} in {wired.settings.timezone} "
            f"(passport_expiry daily at {wired.settings.expiry_job_time}); SIGTERM or Ctrl-C to stop",
            markup=False,
        )
        runner.run_until_stopped()
        err.print("scheduler: stopped", markup=False)


def _log_to_stderr() -> None:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # apscheduler announces every minute job at INFO; its warnings (misfires) still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
