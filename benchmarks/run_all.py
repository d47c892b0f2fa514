"""Run the benchmarks and regenerate the figures tables of README.md and benchmarks/README.md from that run.

Each script runs as a child process (its output saved under ``--log-dir``) and hands its figures (method,
reference, min and median times, both ratios, goal) to this script through ``WB_BENCH_RESULTS``
(``_common.emit``). The tables between the ``<!-- bench-figures:begin -->`` and ``<!-- bench-figures:end -->``
markers of both READMEs are replaced with the figures of this run, headed by the date, the mode and the
machine's load (``os.getloadavg`` before and after, CPU count). A script that fails (exit status 1: a
correctness check failed) shows as FAILED in the table, and this script exits 1.

Run:  .venv/bin/python benchmarks/run_all.py --quick        # reduced sizes, a few minutes on a quiet machine
      .venv/bin/python benchmarks/run_all.py                # the sizes the READMEs quote (long)
      .venv/bin/python benchmarks/run_all.py --quick --only bench_sweep --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, RESULTS_ENV, setup_env  # noqa: E402

BEGIN, END = "<!-- bench-figures:begin -->", "<!-- bench-figures:end -->"

#: script -> (arguments of the quick run, arguments of the full run)
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "bench_cli_startup": (["--repeat", "3", "--limit", "1000"], ["--repeat", "7", "--limit", "1000"]),  # ratios only
    "bench_indicators": (["--bars", "50000", "--repeat", "3"], ["--repeat", "5"]),
    "bench_backtest": (["--days", "30", "--repeat", "3", "--skip-utc", "--bt-budget", "60"],
                       ["--skip-utc", "--repeat", "7"]),
    "bench_cold_start": (["--days", "30", "--repeat", "3", "--skip-vectorbt"], ["--repeat", "5"]),
    "bench_sweep": (["--days", "30", "--rounds", "3"], ["--rounds", "5", "--memory"]),
    "bench_orders": (["--bars", "200000", "--repeat", "3"], ["--repeat", "5"]),
    "bench_symbols": (["--repeat", "5"], ["--repeat", "7"]),
    "bench_memory": (["--skip-vectorbt"], []),                      # 5M bars in both modes (the goal's size)
    "bench_portfolio": (["--symbols", "50", "--bars", "2000", "--repeat", "3", "--skip-bt"], ["--repeat", "5"]),
    "bench_load": (["--rows", "200000", "--repeat", "3", "--latency-repeat", "5"], ["--repeat", "5"]),
    "bench_tsdb": (["--rows", "200000", "--repeat", "3"], ["--repeat", "3"]),
    "bench_import": (["--skip-import", "--cache-rows", "500000", "--repeat", "5"],
                     ["--rows", "5000000", "--import-repeat", "3", "--cache-rows", "500000", "--repeat", "9"]),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="reduced sizes (see SCRIPTS)")
    p.add_argument("--only", action="append", choices=sorted(SCRIPTS), help="run only these (repeatable)")
    p.add_argument("--no-write", action="store_true", help="print the table, leave the READMEs unchanged")
    p.add_argument("--redis", default=os.environ.get("WORKBENCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/11"),
                   help="Redis database bench_import may flush")
    p.add_argument("--log-dir", type=Path, default=Path(tempfile.gettempdir()) / "workbench-bench-logs")
    return p.parse_args(argv)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min) / {five:.1f} (5 min)"


def run_script(name: str, extra: list[str], results: Path, log: Path) -> dict[str, Any]:
    env = {**os.environ, RESULTS_ENV: str(results),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    before = load()
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / f"{name}.py"), *extra], stdout=out,
                              stderr=subprocess.STDOUT, env=env, check=False)
    info = {"name": name, "args": extra, "rc": proc.returncode, "seconds": time.perf_counter() - t0,
            "load_before": before, "load_after": load(), "log": str(log)}
    print(f"{name}: exit {proc.returncode} in {info['seconds']:.0f} s (load {before} -> {info['load_after']}); "
          f"log {log}", flush=True)
    return info


def _time(value: float, unit: str) -> str:
    return f"{value:,.3f} s" if unit == "s" else f"{value:,.1f} {unit}"


def figures_table(records: list[dict[str, Any]], runs: list[dict[str, Any]], header: str) -> str:
    lines = [header, "",
             "| benchmark | figure | method: min / median | reference: min / median | ratio of min | "
             "ratio of median | goal |",
             "|---|---|---|---|---:|---:|---|"]
    for r in records:
        ref = f"{r['ref']}: {_time(r['ref_min'], r['unit'])} / {_time(r['ref_median'], r['unit'])}" \
            if "ref" in r else "-"
        lo = f"{r['min_ratio']:.3f}x" if "min_ratio" in r else "-"
        med = f"{r['median_ratio']:.3f}x" if "median_ratio" in r else "-"
        goal = "-" if "goal" not in r else f"<= {r['goal']:.3g}x: {'met' if r['met'] else '**not met**'}"
        lines.append(f"| `{r['bench']}` | {r['figure']} | {r['method']}: {_time(r['min'], r['unit'])} / "
                     f"{_time(r['median'], r['unit'])} | {ref} | {lo} | {med} | {goal} |")
    for run in runs:
        if run["rc"] != 0:
            lines.append(f"| `{run['name']}` | **FAILED** (exit {run['rc']}; a correctness check or an error, "
                         f"see its log) | - | - | - | - | - |")
    lines += ["", "Runs (arguments, wall time, load average before -> after): "
              + "; ".join(f"`{r['name']} {' '.join(r['args'])}` {r['seconds']:.0f} s, {r['load_before']} -> "
                          f"{r['load_after']}" for r in runs) + "."]
    return "\n".join(lines)


def replace_block(path: Path, block: str) -> bool:
    text = path.read_text()
    if BEGIN not in text or END not in text:
        print(f"{path}: no {BEGIN} ... {END} markers; not changed")
        return False
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}")
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_env()
    args.log_dir.mkdir(parents=True, exist_ok=True)
    names = args.only or list(SCRIPTS)
    start_load = load()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "figures.jsonl"
        results.touch()
        for name in names:
            extra = list(SCRIPTS[name][0 if args.quick else 1])
            if name == "bench_import":
                extra += ["--redis", args.redis]
            runs.append(run_script(name, extra, results, args.log_dir / f"{name}.log"))
        records = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    header = (f"Generated by `benchmarks/run_all.py{' --quick' if args.quick else ''}` on {started} "
              f"({time.strftime('%H:%M UTC', time.gmtime())} at the end): {os.cpu_count()} CPUs, load average "
              f"{start_load} before and {load()} after the run. Times are interleaved warm rounds (cold "
              f"start: fresh processes); a ratio below 1 means the method is faster than the reference.")
    table = figures_table(records, runs, header)
    print("\n" + table)
    if not args.no_write:
        for path in (REPO / "README.md", REPO / "benchmarks" / "README.md"):
            if replace_block(path, table):
                print(f"updated {path}")
    return 1 if any(r["rc"] != 0 for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
