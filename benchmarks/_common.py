"""Helpers shared by the benchmark scripts: interleaved timing, min/median ratios, the machine's load, and the
figures ``run_all.py`` collects. Imports nothing heavy.

Every comparison goes through :func:`interleaved`: each method is called once untimed (warm-up: imports,
numba compile or cache load, connections, OS file cache), then ``rounds`` rounds in which every method runs
once, the order rotated by one each round (round r starts with method r mod k), so a busy minute on this
shared machine falls on all methods alike. :func:`ratio_line` reports a method against a reference as the
ratio of the minimum times and the ratio of the median times; :func:`emit` hands a figure to ``run_all.py``
(when it runs the script, through ``WB_BENCH_RESULTS``).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS_ENV = "WB_BENCH_RESULTS"   # a JSON-lines file run_all.py reads the figures from


def setup_env() -> None:
    """Numba cache inside the repo (as the project asks) and no progress bars in timed code."""
    os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba"))
    os.environ.setdefault("TQDM_DISABLE", "1")


@dataclass
class Timing:
    name: str
    times: list[float] = field(default_factory=list)
    n: int = 0               # rows / bars processed per run
    note: str = ""
    result: Any = None       # the warm-up's return value (the first timed run's without a warm-up)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def rate(self) -> float:
        return self.n / self.best if self.best > 0 else float("inf")


def interleaved(methods: Mapping[str, Callable[[], Any]], *, rounds: int, warmup: int = 1, n: int = 0,
                keep_result: bool = True, unit: str = "s",
                time_of: Callable[[Any], float] | None = None) -> dict[str, Timing]:
    """Time ``methods`` on the same work, interleaved: ``warmup`` untimed calls of each, then ``rounds``
    rounds of one call each, the order rotated by one every round. ``gc.collect()`` before each call (the
    collector stays on while timing, as in real use). The warm-up's result (or the first timed run's) is
    kept in ``Timing.result`` for the caller's same-results check. ``time_of``: the time a call's result
    reports (e.g. measured inside a child process after its own warm-up) instead of the call's wall time."""
    names = list(methods)
    timings = {name: Timing(name, n=n) for name in names}
    for w in range(warmup):
        for name in names:
            print(f"  {name}: warm-up {w + 1}/{warmup} ...", flush=True)
            out = methods[name]()
            if keep_result and w == 0:
                timings[name].result = out
            del out
    scale = 1000.0 if unit == "ms" else 1.0
    for r in range(rounds):
        k = r % len(names)
        line = []
        for name in names[k:] + names[:k]:
            gc.collect()
            t0 = time.perf_counter()
            out = methods[name]()
            dt = time.perf_counter() - t0 if time_of is None else time_of(out)
            timings[name].times.append(dt)
            if keep_result and timings[name].result is None:
                timings[name].result = out
            del out
            line.append(f"{name} {dt * scale:.3f}")
        print(f"  round {r + 1}/{rounds}: " + ", ".join(line) + f" {unit}", flush=True)
    return timings


def ratios(t: Timing, ref: Timing) -> tuple[float, float]:
    """(min ratio, median ratio) of ``t`` against ``ref``: below 1 means ``t`` is faster."""
    return t.best / ref.best, t.median / ref.median


def ratio_line(t: Timing, ref: Timing) -> str:
    lo, med = ratios(t, ref)
    return f"{t.name} / {ref.name}: min {lo:.3f}x, median {med:.3f}x"


def ratio_text(t: float, ref: float, ref_name: str) -> str:
    if ref <= 0 or t <= 0:
        return "n/a"
    r = t / ref
    if abs(r - 1) < 0.005:
        return f"same as {ref_name}"
    return f"{r:.2f}x slower than {ref_name}" if r > 1 else f"{1 / r:.2f}x faster than {ref_name}"


def timing_table(timings: list[Timing], ref: Timing, *, unit: str = "s") -> str:
    """A markdown table of min and median times and both ratios to ``ref``."""
    scale, fmt = (1000.0, ".1f") if unit == "ms" else (1.0, ".3f")
    rows = [f"| method | min {unit} | median {unit} | rounds | min ratio | median ratio |",
            "|---|---:|---:|---:|---:|---:|"]
    for t in timings:
        lo, med = ratios(t, ref)
        rel = ("-", "-") if t is ref else (f"{lo:.3f}x", f"{med:.3f}x")
        rows.append(f"| {t.name} | {t.best * scale:{fmt}} | {t.median * scale:{fmt}} | {len(t.times)} | "
                    f"{rel[0]} | {rel[1]} |")
    return "\n".join(rows)


def emit(bench: str, figure: str, t: Timing, ref: Timing | None = None, *, goal: float | None = None,
         unit: str = "s", note: str = "") -> None:
    """Print a figure's summary line and, under ``run_all.py``, append it to the results file.

    ``goal``: the largest acceptable ratio ``t / ref`` (on both the min and the median)."""
    scale = 1000.0 if unit == "ms" else 1.0
    rec: dict[str, Any] = {"bench": bench, "figure": figure, "method": t.name, "unit": unit,
                           "min": t.best * scale, "median": t.median * scale, "rounds": len(t.times),
                           "note": note}
    text = f"{figure}: {t.name} min {t.best * scale:.3f} {unit}, median {t.median * scale:.3f} {unit}"
    if ref is not None:
        lo, med = ratios(t, ref)
        rec |= {"ref": ref.name, "ref_min": ref.best * scale, "ref_median": ref.median * scale,
                "min_ratio": lo, "median_ratio": med}
        text += f"; vs {ref.name}: min {lo:.3f}x, median {med:.3f}x"
    if goal is not None:
        rec["goal"] = goal
        rec["met"] = bool(ref is not None and max(ratios(t, ref)) <= goal)
        text += f" (goal <= {goal:g}x: {'met' if rec['met'] else 'NOT met'})"
    print(text, flush=True)
    path = os.environ.get(RESULTS_ENV)
    if path:
        with Path(path).open("a") as fh:
            fh.write(json.dumps(rec) + "\n")


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min) on {os.cpu_count()} CPUs"


def machine_line() -> str:
    import numpy as np
    import pandas as pd

    return (f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {platform.machine()} {os.cpu_count()} CPUs; "
            f"Python {platform.python_version()}; numpy {np.__version__}; pandas {pd.__version__}; {load_text()}")


def fmt_int(n: float) -> str:
    return f"{n:,.0f}"


def make_bars(days: int) -> Any:
    """``days`` of synthetic 1m OHLCV bars (``KRW-BENCH``), indexed by ``ts`` (UTC): the benchmarks' data."""
    from workbench.ingest.sample import generate_sample_candles

    raw = generate_sample_candles({"KRW-BENCH": 1e6}, days=days, timeframe="1m")
    df = raw.set_index("timestamp")[["open_price", "high_price", "low_price", "close_price", "volume"]]
    df.columns = ["open", "high", "low", "close", "volume"]
    df.index.name = "ts"
    return df
