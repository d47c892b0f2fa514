"""Start-up time of the ``workbench`` command line (issue 8: ``--help`` and ``strategies`` in <= 1 s).

Each command runs in a fresh interpreter (``python -c "from workbench.cli import main; main()" ARGS``,
what the ``workbench`` entry point does), ``--repeat`` times after one warm-up run (bytecode compiled);
the baselines in the same run are the bare interpreter and ``import pandas``. Also lists the slowest
imports of ``workbench strategies`` (``python -X importtime``). Exit status 1 when a command takes
more than ``--limit`` seconds (median) or fails.

    .venv/bin/python benchmarks/bench_cli_startup.py [--repeat 7] [--limit 1.0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

CLI = "from workbench.cli import main; main()"
CASES = {
    "python (no import)": ["-c", "pass"],
    "import pandas": ["-c", "import pandas"],
    "workbench --help": ["-c", CLI, "--help"],
    "workbench strategies": ["-c", CLI, "strategies"],
}


def _time(args: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=os.environ.copy(),
                          timeout=120)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed


def _slowest_imports(n: int) -> list[tuple[int, str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", CLI, "strategies"], capture_output=True,
                          text=True, timeout=120)
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and parts[2].startswith(" ") \
                and not parts[2].startswith("  "):  # top-level imports only
            rows.append((int(parts[1]), parts[2].strip()))
    return sorted(rows, reverse=True)[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--limit", type=float, default=1.0, help="seconds allowed per CLI command (median)")
    args = parser.parse_args()
    results = {}
    for name, argv in CASES.items():
        _time(argv)  # warm-up: .pyc files, page cache
        results[name] = [_time(argv) for _ in range(args.repeat)]
    base = statistics.median(results["import pandas"])
    print(f"{'command':24} {'median s':>9} {'best s':>8} {'vs import pandas':>17}")
    failed = False
    for name, times in results.items():
        med = statistics.median(times)
        print(f"{name:24} {med:9.3f} {min(times):8.3f} {med / base:16.2f}x")
        failed |= name.startswith("workbench") and med > args.limit
    print("\nslowest top-level imports of `workbench strategies` (cumulative, ms):")
    for micros, module in _slowest_imports(8):
        print(f"  {micros / 1000:8.1f}  {module}")
    if failed:
        print(f"\nFAIL: a command took more than {args.limit} s (median)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
