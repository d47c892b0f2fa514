"""Benchmark: a parameter sweep in one process vs on a local Dask cluster (wall time, peak memory per worker).

Scenarios (defaults as in issue 9; shrink them with the options on a busy machine):

* ``one``  -- 1 symbol of 1-minute bars (``--days 365`` -> 525,600 bars) x ``--combos 1000`` EmaCross
  combinations;
* ``many`` -- ``--symbols 20`` symbols (``--many-days`` of 1-minute bars each) x ``--many-combos 100``
  combinations, one sweep per symbol (Dask tasks: symbol x parameter chunk).

Each mode runs in a fresh child process so its peak memory (``ru_maxrss``) is its own:

* ``single`` -- ``session.sweep(..., store=False)`` in the child (per symbol for ``many``);
* ``dask``   -- ``session.sweep(..., per_symbol=..., client=...)`` on a ``LocalCluster`` of ``--workers``
  single-threaded worker processes; each worker loads its data itself from PostgreSQL; the peak
  memory of every worker process is read with ``client.run``. Cluster start-up (and loading the numba
  kernels in each worker) is timed separately; both modes are timed warm.

The two modes alternate over ``--rounds`` interleaved rounds (order rotated; each run a fresh child,
timed inside it after its own warm-up); min and median and their ratios. Printed: wall time, speed-up,
scaling efficiency (speed-up / workers), peak RSS of the single process and the largest worker, for
each ``--chunk-size`` given (memory per worker follows the chunk size). Exits 1 if the Dask rows differ
from the single-process rows.

Run:  .venv/bin/python benchmarks/bench_scale.py --database-url postgresql://postgres@127.0.0.1:5432/workbench_bench
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, emit, interleaved, load_text, machine_line, setup_env, timing_table  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/workbench_bench")
    p.add_argument("--scenario", choices=["one", "many", "both"], default="both")
    p.add_argument("--days", type=int, default=365, help="days of 1m bars of the 'one' scenario")
    p.add_argument("--combos", type=int, default=1000, help="combinations of the 'one' scenario")
    p.add_argument("--symbols", type=int, default=20, help="symbols of the 'many' scenario")
    p.add_argument("--many-days", type=int, default=30, help="days of 1m bars per symbol, 'many' scenario")
    p.add_argument("--many-combos", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunk-size", type=int, nargs="+", default=[8])
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds (each a fresh child process per mode)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def grid(n: int) -> dict[str, list[int]]:
    """About ``n`` valid EmaCross combinations (fast < slow always)."""
    slow = [60 + 10 * i for i in range(max(1, n // 50) if n >= 50 else 1)]
    fast = list(range(5, 5 + max(1, n // len(slow))))
    return {"fast": fast, "slow": slow}


def symbols_of(scenario: str, args: argparse.Namespace) -> list[str]:
    return ["KRW-SCALE"] if scenario == "one" else [f"KRW-SCALE{i:02d}" for i in range(args.symbols)]


def ensure_data(args: argparse.Namespace, scenario: str) -> None:
    import psycopg

    from workbench.ingest.sample import generate_sample_candles
    from workbench.store.database import Database
    from workbench.store.migrations import migrate
    from workbench.store.writer import write_table

    server, name = args.database_url.rsplit("/", 1)
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(args.database_url)
    migrate(db)
    days = args.days if scenario == "one" else args.many_days
    want = days * 1440
    for symbol in symbols_of(scenario, args):
        with db.begin() as conn:
            have = conn.exec_driver_sql("SELECT count(*) FROM candles WHERE symbol = %(s)s AND timeframe = '1m'",
                                        {"s": symbol}).scalar_one()
        if have < want:
            print(f"  writing {want:,} 1m candles of {symbol} ...", flush=True)
            write_table(db, "candles", generate_sample_candles({symbol: 1e6}, days=days, timeframe="1m"))
    db.dispose()


def warm() -> None:
    """Import the package and load the numba kernels (from the on-disk cache) in this process: both modes
    are timed warm."""
    import workbench.app.distributed  # noqa: F401
    from workbench.core.backtest import run_backtest
    from workbench.core.strategies import EmaCross
    from workbench.ingest.sample import generate_sample_candles

    raw = generate_sample_candles({"KRW-WARM": 1e6}, days=2, timeframe="1h")
    frame = raw.rename(columns=lambda c: c.replace("_price", "")).set_index("timestamp")
    run_backtest(frame[["open", "high", "low", "close", "volume"]], EmaCross(fast=3, slow=8), timeframe="1h")


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """One timed sweep in this (fresh) process; prints JSON."""
    import resource

    from workbench.app.session import connect
    from workbench.core.strategies import EmaCross

    wb = connect(database_url=spec["database_url"], cache_enabled=False)
    g, syms, chunk = spec["grid"], spec["symbols"], spec["chunk_size"]
    end = spec["end"]
    out: dict[str, Any] = {}
    if spec["mode"] == "single":
        warm()
        t0 = time.perf_counter()
        tables = [wb.sweep(EmaCross(), g, s, "1m", None, end, store=False, chunk_size=chunk, progress=False).table
                  for s in syms]
        out["wall"] = time.perf_counter() - t0
        out["peak_mb"] = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]
    else:
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        with LocalCluster(n_workers=spec["workers"], threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            client.run(warm)
            out["startup"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            table = wb.sweep(EmaCross(), g, syms, "1m", None, end, store=False, chunk_size=chunk,
                             per_symbol=True, client=client, progress=False).table
            out["wall"] = time.perf_counter() - t0
            peaks = client.run(lambda: __import__("resource").getrusage(
                __import__("resource").RUSAGE_SELF).ru_maxrss / 1024)
            out["peak_mb"] = sorted(peaks.values())
        tables = [table[table["symbol"] == s].drop(columns=["symbol"]).reset_index(drop=True) for s in syms]
    out["rows"] = [t.drop(columns=["backtest_id"]).round(12).to_json() for t in tables]
    wb.close()
    return out


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                          cwd=REPO)
    if proc.returncode != 0:
        sys.exit(f"child failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    setup_env()
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    import pandas as pd

    print(machine_line())
    ok = True
    for scenario in (["one", "many"] if args.scenario == "both" else [args.scenario]):
        ensure_data(args, scenario)
        days = args.days if scenario == "one" else args.many_days
        g = grid(args.combos if scenario == "one" else args.many_combos)
        syms = symbols_of(scenario, args)
        n_combos = len(g["fast"]) * len(g["slow"])
        end = str((pd.Timestamp("2025-01-01") + pd.Timedelta(days=days)).date())   # the sample starts 2025-01-01
        print(f"\n== {scenario}: {len(syms)} symbol(s) x {days * 1440:,} 1m bars x {n_combos} combinations, "
              f"{args.workers} workers")
        for chunk in args.chunk_size:
            base = {"database_url": args.database_url, "grid": g, "symbols": syms, "chunk_size": chunk, "end": end}
            t = interleaved({"1 process": lambda base=base: run_child({**base, "mode": "single"}),
                             "dask": lambda base=base: run_child({**base, "mode": "dask", "workers": args.workers})},
                            rounds=args.rounds, warmup=0, time_of=lambda out: float(out["wall"]))
            single, dask = t["1 process"].result, t["dask"].result
            same = single["rows"] == dask["rows"]
            ok &= same
            print(timing_table(list(t.values()), t["1 process"]))
            emit("bench_scale", f"{scenario}: sweep on {args.workers} Dask workers vs 1 process, chunk {chunk}",
                 t["dask"], t["1 process"])
            print(f"chunk {chunk:>3} ({load_text()}): 1 process peak {single['peak_mb'][0]:7.0f} MB | "
                  f"dask +{dask['startup']:.1f} s start-up, peak per worker {max(dask['peak_mb']):7.0f} MB | "
                  f"speed-up (min) {t['1 process'].best / t['dask'].best:.2f}x, scaling efficiency "
                  f"{t['1 process'].best / t['dask'].best / args.workers:.0%} | rows {'equal' if same else 'DIFFER'}",
                  flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
