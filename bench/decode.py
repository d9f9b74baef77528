"""`decode`: stored events to domain events, the application's decoder beside the library's mapper.

The replay benchmark's store (loaded once; `--store` keeps it, as for `bench.replay`) is read into memory,
every notification once; then per round each decoder turns every notification into its domain event,
client CPU only (no database in the timed loop), the two alternately. The first round also checks that the
decoder's events are the mapper's (class and `__dict__`). Figures are events/s, medians over rounds;
the baseline is the library's `Mapper.to_domain_event` on the same notifications.

    python -m bench.decode [--events 100000] [--people 25000] [--rounds 5] [--store jawazat_bench_NAME]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.common import code_under_test, log, machine_note, median, run_standalone, summary_line
from bench.replay import build_parser as replay_parser
from bench.replay import store

NAME = "decode"
FULL = {"events": 100_000, "people": 25_000, "rounds": 5}
QUICK = {"events": 20_000, "people": 5_000, "rounds": 5}


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    # The replay benchmark's store and its arguments (sizes, --store), with this benchmark's defaults.
    parser = replay_parser(quick)
    parser.prog = "python -m bench.decode"
    parser.description = __doc__.split("\n\n")[0]
    parser.set_defaults(**(QUICK if quick else FULL))
    return parser


def _timed(decode: Callable[[Any], Any], notifications: list[Any]) -> float:
    started = time.process_time()
    for notification in notifications:
        decode(notification)
    return time.process_time() - started


def run(args: argparse.Namespace) -> list[str]:
    from jawazat_events.bootstrap import bootstrap

    log(code_under_test())
    log(machine_note())
    with store(args) as url:
        container = bootstrap(database_url=url)
        try:
            app = container.app
            head = app.recorder.max_notification_id() or 0
            notifications: list[Any] = []
            start = 1
            while start <= head:
                page = app.recorder.select_notifications(start=start, limit=10_000, stop=head)
                if not page:
                    break
                notifications.extend(page)
                start = page[-1].id + 1
        finally:
            container.close()
    mapper, decoder = app.mapper, app.decoder
    for notification in notifications:
        expected, got = mapper.to_domain_event(notification), decoder.to_domain_event(notification)
        if type(got) is not type(expected) or vars(got) != vars(expected):
            raise SystemExit(f"the decoder's event differs from the mapper's at position {notification.id}")
    log(f"[decode] {len(notifications):,} notifications, each decoded alike by both; {args.rounds} round(s)")
    library: list[float] = []
    ours: list[float] = []
    for number in range(1, args.rounds + 1):
        library.append(len(notifications) / _timed(mapper.to_domain_event, notifications))
        ours.append(len(notifications) / _timed(decoder.to_domain_event, notifications))
        log(
            f"  round {number}: library {1e6 / library[-1]:.2f} µs/event, "
            f"decoder {1e6 / ours[-1]:.2f} µs/event ({machine_note()})"
        )
    return [
        summary_line(
            "decode",
            median(ours),
            "events/s",
            baseline=median(library),
            baseline_label="baseline library mapper",
            baseline_unit="events/s",
            extra=f"{1e6 / median(ours):.2f} vs {1e6 / median(library):.2f} µs/event, client CPU",
            rounds=args.rounds,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    return run_standalone(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
