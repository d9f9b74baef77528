"""`python -m bench [--quick] [--list] [NAMES...]`: run the registered benchmarks (all by default)."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from typing import Any

from bench import REGISTRY
from bench.common import log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {', '.join(REGISTRY)})"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: everything in under two minutes")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, path in REGISTRY.items():
            print(f"{name:<16} python -m {path}")
        return 0
    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    names = args.names or list(REGISTRY)

    failed: list[str] = []
    started = time.perf_counter()
    for name in names:
        begun = time.perf_counter()
        try:
            module: Any = importlib.import_module(REGISTRY[name])
            bench_args = module.build_parser(quick=args.quick).parse_args([])
            for line in module.run(bench_args):
                print(line, flush=True)
        except KeyboardInterrupt:
            raise
        except BaseException:
            failed.append(name)
            log(f"[{name}] FAILED:\n{traceback.format_exc()}")
        log(f"[{name}] took {time.perf_counter() - begun:.1f} s")
    log(f"[bench] {len(names)} benchmark(s) in {time.perf_counter() - started:.1f} s")
    if failed:
        log(f"[bench] failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
