"""The project's benchmarks (bench/README.md): `python -m bench [--quick] [NAMES...]`.

Each benchmark is a module with
    NAME: str                                   the name used on the command line
    build_parser(quick: bool) -> ArgumentParser its size arguments; `quick=True` gives the small sizes
    run(args) -> list[str]                      runs it, returns the summary lines (one per figure)
and is also runnable alone: `python -m bench.MODULE [size arguments]`.
Register a new one (fanout, latency, replay, expiry, api, ...) by adding it to REGISTRY.
Progress and per-round details go to stderr; stdout carries only the summary lines.
"""

from __future__ import annotations

# name on the command line -> module (imported lazily, so one broken benchmark does not stop the rest)
REGISTRY: dict[str, str] = {
    "ingest": "bench.ingest",
    "ingest-sqlite": "bench.ingest_sqlite",
    "memory-ingest": "bench.memory",
    "fanout": "bench.fanout",
    "latency": "bench.latency",
    "latency-webhook": "bench.latency_webhook",
    "replay": "bench.replay",
    "decode": "bench.decode",
    "expiry": "bench.expiry",
    "api": "bench.api",
    "portal": "bench.portal",
    "scale": "bench.scale",
}
