"""Helpers shared by the benchmark scripts (timing, formatting). Imports nothing heavy."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


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
    result: Any = None       # the last run's return value

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def rate(self) -> float:
        return self.n / self.best if self.best > 0 else float("inf")


def timeit(name: str, fn: Callable[[], Any], *, repeat: int, n: int, warmup: int = 1,
           keep_result: bool = True, note: str = "") -> Timing:
    """``warmup`` untimed calls, then ``repeat`` timed ones (``gc.collect()`` before each; the garbage
    collector stays on while timing, as in real use)."""
    t = Timing(name, n=n, note=note)
    for i in range(warmup):
        print(f"  {name}: warm-up {i + 1}/{warmup} ...", flush=True)
        out = fn()
        if not keep_result:
            del out
    for i in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        t.times.append(dt)
        print(f"  {name}: run {i + 1}/{repeat}: {dt:.3f} s", flush=True)
        if keep_result:
            t.result = out
        del out
    return t


def ratio_text(t: float, ref: float, ref_name: str) -> str:
    if ref <= 0 or t <= 0:
        return "n/a"
    r = t / ref
    if abs(r - 1) < 0.005:
        return f"same as {ref_name}"
    return f"{r:.2f}x slower than {ref_name}" if r > 1 else f"{1 / r:.2f}x faster than {ref_name}"


def machine_line() -> str:
    import numpy as np
    import pandas as pd

    return (f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {platform.machine()} {os.cpu_count()} CPUs; "
            f"Python {platform.python_version()}; numpy {np.__version__}; pandas {pd.__version__}")


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
