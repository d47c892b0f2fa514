"""Start-up time of the ``workbench`` command line (issue 8: ``--help`` and ``strategies`` in <= 1 s).

Each command runs in a fresh interpreter (``python -c "from workbench.cli import main; main()" ARGS``,
what the ``workbench`` entry point does), ``--repeat`` times after one warm-up run (bytecode compiled);
the baselines in the same run are the bare interpreter and ``import pandas``; all four interleaved
(order rotated each round), min and median and their ratios to ``import pandas`` (issue 21: <= 0.35x).
Also lists the slowest imports of ``workbench strategies`` (``python -X importtime``). Exit status 1
when a command takes more than ``--limit`` seconds (median) or fails.

    .venv/bin/python benchmarks/bench_cli_startup.py [--repeat 7] [--limit 1.0]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, interleaved, timing_table  # noqa: E402

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
    # one warm-up of each (.pyc files, page cache), then interleaved rounds
    t = interleaved({name: (lambda argv=argv: _time(argv)) for name, argv in CASES.items()}, rounds=args.repeat)
    pandas = t["import pandas"]
    print()
    print(timing_table(list(t.values()), pandas))
    failed = False
    for name, timing in t.items():
        if name.startswith("workbench"):
            emit("bench_cli_startup", f"start-up: `{name}`", timing, pandas, goal=0.35)
            failed |= timing.median > args.limit
    print("\nslowest top-level imports of `workbench strategies` (cumulative, ms):")
    for micros, module in _slowest_imports(8):
        print(f"  {micros / 1000:8.1f}  {module}")
    if failed:
        print(f"\nFAIL: a command took more than {args.limit} s (median)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
