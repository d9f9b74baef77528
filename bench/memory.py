"""`memory-ingest`: peak RSS of the `jawazat ingest FILE` command on a large generated feed.

The console script next to `sys.executable` runs as a child process against a fresh PostgreSQL database
(or `--sqlite`); its peak resident set comes from the kernel (`wait4` rusage `ru_maxrss` of that child
alone), and /proc sampling shows how RSS develops over the run (it must not grow with the feed: the file is
streamed and the aggregate cache is bounded). For reference, the peak RSS of `jawazat --help` (interpreter
and imports only) is measured too.

    python -m bench.memory [--events 200000] [--people 50000] [--rounds 1] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    code_under_test,
    generated_feed,
    log,
    machine_note,
    median,
    pg_database,
    rounds_note,
    run_standalone,
    size_arguments,
    sqlite_file,
    temp_dir,
)

NAME = "memory-ingest"
FULL = {"events": 200_000, "people": 50_000, "rounds": 1}
QUICK = {"events": 20_000, "people": 5_000, "rounds": 1}
TARGET_MB = 300


def build_parser(quick: bool = False) -> argparse.ArgumentParser:
    sizes = QUICK if quick else FULL
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    size_arguments(parser, **sizes)
    parser.add_argument("--sqlite", action="store_true", help="ingest into a fresh SQLite file instead")
    return parser


def jawazat_script() -> Path:
    script = Path(sys.executable).parent / "jawazat"
    if not script.exists():
        raise SystemExit(f"the jawazat console script is not installed next to {sys.executable}")
    return script


# A tiny launcher between us and the measured command: Linux carries the forking process's memory
# high-water mark into a child's `ru_maxrss` (fork/vfork happen before exec), so the command is started
# from this small interpreter, not from the benchmark process with its imports and row buffers.
_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def _status_mb(pid: int, field: str) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError):
        return None
    return None


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return [int(p) for p in handle.read().split()]
    except (OSError, ValueError):
        return []


@dataclass
class ChildRun:
    code: int
    peak_mb: float  # kernel's ru_maxrss of the command (via the launcher)
    hwm_mb: float  # last VmHWM sampled from /proc (peak RSS of the command's own address space)
    seconds: float
    samples: list[tuple[float, float]]
    output: str


def run_child(argv: list[str], env: dict[str, str], out_dir: Path) -> ChildRun:
    """Run a command under the launcher; its peak RSS, duration, RSS samples and standard output."""
    stdout_path = out_dir / "child.out"
    stderr_path = out_dir / "child.err"
    maxrss_path = out_dir / "child.maxrss"
    samples: list[tuple[float, float]] = []
    hwm = 0.0
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        started = time.perf_counter()
        launcher = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, str(maxrss_path), *argv],
            env=env,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
        while launcher.poll() is None:
            for pid in _children(launcher.pid):
                rss = _status_mb(pid, "VmRSS")
                if rss is not None:
                    samples.append((time.perf_counter() - started, rss))
                hwm = max(hwm, _status_mb(pid, "VmHWM") or 0.0)
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    output = stdout_path.read_text(encoding="utf-8", errors="replace")
    if launcher.returncode not in (0, 1) or not maxrss_path.exists():
        raise RuntimeError(
            f"{' '.join(argv)} exited {launcher.returncode}: "
            + stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        )
    peak_mb = int(maxrss_path.read_text()) * 1024 / 1e6  # Linux reports KiB
    return ChildRun(launcher.returncode, peak_mb, hwm, seconds, samples, output)


def _timeline(samples: list[tuple[float, float]]) -> str:
    if not samples:
        return "no samples"
    points = []
    for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
        t, rss = samples[min(len(samples) - 1, int(fraction * (len(samples) - 1)))]
        points.append(f"{t:.0f}s {rss:.0f}")
    return "RSS MB over the run: " + ", ".join(points)


def run(args: argparse.Namespace) -> list[str]:
    script = str(jawazat_script())
    store = "SQLite" if args.sqlite else "PostgreSQL"
    log(code_under_test())
    log(machine_note())
    log(
        f"[memory-ingest] `jawazat ingest` into {store}: {args.events:,} events over "
        f"{args.people:,} people, batch {args.batch_size}, {args.rounds} round(s)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env["JAWAZAT_INGEST_BATCH_SIZE"] = str(args.batch_size)
    peaks: list[float] = []
    with temp_dir("jawazat_bench_mem_") as out_dir:
        env["JAWAZAT_DATABASE_URL"] = f"sqlite:///{out_dir / 'help.db'}"
        startup_mb = run_child([script, "--help"], env, out_dir).peak_mb
        log(f"  `jawazat --help` peak RSS {startup_mb:.0f} MB (interpreter and imports)")
        with generated_feed(people=args.people, events=args.events, seed=args.seed) as feed_path:
            for number in range(1, args.rounds + 1):
                store_cm = sqlite_file("store.db") if args.sqlite else pg_database()
                with store_cm as target:
                    url = f"sqlite:///{target}" if args.sqlite else str(target)
                    env["JAWAZAT_DATABASE_URL"] = url
                    child = run_child([script, "ingest", str(feed_path)], env, out_dir)
                counts = " ".join(child.output.split()[:6])
                log(
                    f"  round {number}: exit {child.code}, {counts}; "
                    f"{args.events / child.seconds:,.0f} events/s (process start included); "
                    f"peak RSS {child.peak_mb:.0f} MB (ru_maxrss), {child.hwm_mb:.0f} MB (last VmHWM "
                    f"sampled); {_timeline(child.samples)}"
                )
                peaks.append(max(child.peak_mb, child.hwm_mb))
    log(machine_note() + " (at the end)")
    return [
        f"memory-ingest: peak RSS {median(peaks):,.0f} MB for `jawazat ingest` of {args.events:,} "
        f"events into {store}; CLI start-up alone {startup_mb:,.0f} MB "
        + rounds_note(args.rounds, f"≤ {TARGET_MB} MB")
    ]


def main(argv: list[str] | None = None) -> int:
    return run_standalone(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
