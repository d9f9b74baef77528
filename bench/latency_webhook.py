"""`latency-webhook`: the latency benchmark with webhooks as the channel, beside the e-mail figure measured
in the same run (`python -m bench.latency --channel both`; options as for bench.latency)."""

from __future__ import annotations

import argparse
import sys

from bench import latency
from bench.common import run_standalone

NAME = "latency-webhook"


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    parser = latency.build_parser(quick=quick)
    parser.prog = "python -m bench.latency_webhook"
    parser.set_defaults(channel="both")
    return parser


def run(args: argparse.Namespace) -> list[str]:
    return latency.run(args)


def main(argv: list[str] | None = None) -> int:
    return run_standalone(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
