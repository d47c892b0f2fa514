"""Time ``compute_indicator_table`` against the same columns computed with TA-Lib (C) calls.

The indicator table has 28 columns; TA-Lib computes 27 of them (the session VWAP has no TA-Lib
function: the reference column is a pandas groupby). Both sides get the same 1m random-walk bars.
Exit status 1 when a column differs from TA-Lib by more than 1e-9 (relative) or its NaN warm-up differs.
"""

from __future__ import annotations

import argparse
import sys

from _common import emit, fmt_int, interleaved, machine_line, setup_env, timing_table


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--bars", type=int, default=300_000, help="number of 1m bars")
    p.add_argument("--repeat", type=int, default=5, help="interleaved rounds")
    return p.parse_args(argv)


def make_bars(n: int):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    close = 5.0e7 * np.exp(np.cumsum(0.001 * rng.standard_normal(n)))
    open_ = np.r_[close[:1], close[:-1]]
    high = np.maximum(open_, close) * (1.0 + 0.0005 * np.abs(rng.standard_normal(n)))
    low = np.minimum(open_, close) * (1.0 - 0.0005 * np.abs(rng.standard_normal(n)))
    volume = rng.gamma(2.0, 10.0, n)
    index = pd.date_range("2025-01-01", periods=n, freq="1min", tz="UTC", name="ts")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume},
                        index=index)


def talib_table(df):  # type: ignore[no-untyped-def]
    """The indicator table's columns, each from the TA-Lib function it is checked against."""
    import numpy as np
    import pandas as pd
    import talib

    h, lo, c, v = (df[k].to_numpy(dtype=np.float64) for k in ("high", "low", "close", "volume"))
    out = {f"ma_{p}": talib.SMA(c, p) for p in (5, 10, 20, 50, 100, 200)}
    out |= {f"ema_{p}": talib.EMA(c, p) for p in (8, 13, 21, 50, 200)}
    out["rsi_14"] = talib.RSI(c, 14)
    out["stochastic_k"], out["stochastic_d"] = talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)
    out["macd_line"], out["macd_signal"], out["macd_histogram"] = talib.MACD(c, 12, 26, 9)
    out["cci_20"] = talib.CCI(h, lo, c, 20)
    out["atr_14"] = talib.ATR(h, lo, c, 14)
    out["bollinger_upper"], out["bollinger_middle"], out["bollinger_lower"] = talib.BBANDS(c, 20, 2, 2, 0)
    mid, width = talib.EMA(c, 20), 2.0 * talib.ATR(h, lo, c, 10)
    out["keltner_upper"], out["keltner_middle"], out["keltner_lower"] = mid + width, mid, mid - width
    out["volume_ma_20"] = talib.SMA(v, 20)
    out["obv"] = talib.OBV(c, v)
    typical = pd.Series((h + lo + c) / 3.0, index=df.index)
    day = pd.Series(df.index.tz_convert("Asia/Seoul").date, index=df.index)
    cum_v = df["volume"].groupby(day).cumsum()
    out["vwap"] = ((typical * df["volume"]).groupby(day).cumsum() / cum_v).where(cum_v != 0).to_numpy()
    return out


def main(argv: list[str] | None = None) -> int:
    setup_env()
    args = parse_args(argv)
    import numpy as np

    from workbench.core.indicators import INDICATOR_COLUMNS, compute_indicator_table

    df = make_bars(args.bars)
    print(f"{fmt_int(args.bars)} 1m bars; {machine_line()}")
    t = interleaved({"workbench compute_indicator_table": lambda: compute_indicator_table(df),
                     "TA-Lib (27 columns) + pandas VWAP": lambda: talib_table(df)}, rounds=args.repeat, n=args.bars)
    ours, ref = t.values()
    bad = []
    for name in INDICATOR_COLUMNS:
        a, b = ours.result[name].to_numpy(), np.asarray(ref.result[name])
        same_nan = np.array_equal(np.isnan(a), np.isnan(b))
        ok = ~np.isnan(b)
        if not same_nan or not np.allclose(a[ok], b[ok], rtol=1e-9, atol=1e-9):
            bad.append(name)
    print()
    print(timing_table([ours, ref], ref))
    emit("bench_indicators", f"28-column indicator table, {fmt_int(args.bars)} 1m bars", ours, ref)
    if bad:
        print(f"MISMATCH against TA-Lib: {bad}")
        return 1
    print(f"all {len(INDICATOR_COLUMNS)} columns match TA-Lib (rtol 1e-9, same NaN warm-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
