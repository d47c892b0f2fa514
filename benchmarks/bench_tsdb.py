"""Benchmark: higher timeframes from the 1m rollups, and loads from the Parquet archive.

On the same ``KRW-BENCH`` 1m candles as ``bench_load.py`` (5,001,120 rows by default, in their own
database), each method timed with 1 warm-up + ``--repeat`` runs, no cache:

* ``1m load``        -- ``load_candles(db, "KRW-BENCH", "1m", start, end)``: the reference;
* ``1h rollup``      -- ``load_candles(db, "KRW-BENCH", "1h", start, end)``: reads ``candle_rollups``;
* ``1h bucketing``   -- the server-side bucketing the loader used before (``candles_resampled``,
                        date_bin over the 1m rows), fetched the same way;
* ``archive 1m``     -- the same 5M 1m rows read back from the Parquet archive (``Archive.read`` ->
                        loader columns -> pandas frame indexed by ts): what a load of a range that
                        retention removed from the database costs (each file checked against its
                        sha256 record; the warm-up hashes them, the timed runs reuse the digests a
                        process remembers for unchanged files);
* ``archive+db 1m``  -- ``load_candles(..., archive=...)`` while the rows are in both: the merge path.

Checked (exit 1 on failure): rollup == bucketing (OHLC bit-identical, volume within 1e-12), archive
frame == database frame (bit-identical).

Run:  .venv/bin/python benchmarks/bench_tsdb.py                    # 5M rows
      .venv/bin/python benchmarks/bench_tsdb.py --rows 200000 --repeat 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fmt_int, machine_line, ratio_text, setup_env, timeit  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/workbench_bench_tsdb"
SYMBOL = "KRW-BENCH"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL, help="database of the benchmark data (created if missing)")
    p.add_argument("--rows", type=int, default=5_000_000, help="1m rows (from 2025-01-01)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per method (after 1 warm-up)")
    p.add_argument("--chunk-rows", type=int, default=1_000_000, help="rows per write_table call")
    p.add_argument("--archive-dir", default=None, help="archive location (default: a temporary directory)")
    return p.parse_args(argv)


def archive_frame(db: Any, store: Any, start: Any, end: Any) -> Any:
    table = store.read(db, "candles", start, end, symbol=SYMBOL, timeframe="1m")
    table = table.select(["timestamp", "open_price", "high_price", "low_price", "close_price", "volume"])
    table = table.rename_columns(["ts", "open", "high", "low", "close", "volume"])
    return table.to_pandas().set_index("ts")


def main(argv: list[str] | None = None) -> int:
    setup_env()
    args = parse_args(argv)
    import numpy as np
    import pandas as pd
    from bench_load import prepare_data

    from workbench.store.archive import Archive, archive
    from workbench.store.market_data import load_candles

    print(f"# bench_tsdb  ({machine_line()})")
    db, start, end = prepare_data(args.database_url, args.rows, args.chunk_rows)
    n = args.rows
    hours = int((end - start) / pd.Timedelta(hours=1))

    def bucketing() -> Any:  # over whole hours, as the loader widens the range
        t = db.fetch_arrow("candles_resampled", {"symbol": SYMBOL, "source_timeframe": "1m", "bucket": "3600 seconds",
                                                 "start": start.to_pydatetime(),
                                                 "end": end.ceil("1h").to_pydatetime()})
        df = t.to_pandas().set_index("ts")
        return df

    t_1m = timeit("1m load", lambda: load_candles(db, SYMBOL, "1m", start, end), repeat=args.repeat, n=n)
    t_roll = timeit("1h rollup", lambda: load_candles(db, SYMBOL, "1h", start, end), repeat=args.repeat, n=hours)
    t_bucket = timeit("1h bucketing", bucketing, repeat=args.repeat, n=hours)

    problems = []
    roll, buck = t_roll.result, t_bucket.result
    if list(roll.index) != list(buck.index) or not np.array_equal(
            roll[["open", "high", "low", "close"]].to_numpy(), buck[["open", "high", "low", "close"]].to_numpy()) \
            or not np.allclose(roll["volume"].to_numpy(), buck["volume"].to_numpy(), rtol=1e-12, atol=0):
        problems.append("1h rollup differs from 1h bucketing")

    tmp = tempfile.TemporaryDirectory(prefix="bench-archive-")
    store = Archive.open(args.archive_dir or tmp.name)
    import time

    t0 = time.perf_counter()
    report = archive(db, store, before=end, tables=("candles",))
    t_write = time.perf_counter() - t0
    print(report)
    size = sum(p.stat().st_size for p in Path(store.root).rglob("*.parquet"))
    t_arc = timeit("archive 1m", lambda: archive_frame(db, store, start, end), repeat=args.repeat, n=n)
    t_merge = timeit("archive+db 1m", lambda: load_candles(db, SYMBOL, "1m", start, end, archive=store),
                     repeat=args.repeat, n=n)
    db_frame = t_1m.result
    arc_frame = t_arc.result
    same = list(arc_frame.index) == list(db_frame.index)
    if not (same and np.array_equal(arc_frame.to_numpy(), db_frame.to_numpy())):
        problems.append("archive frame differs from database frame")
    if not t_merge.result.equals(db_frame):
        problems.append("archive+db frame differs from database frame")
    with db.begin() as conn:  # leave the data set as it was (no watermark: retention keeps it)
        conn.exec_driver_sql("DELETE FROM archive_watermarks")
        conn.exec_driver_sql("DELETE FROM archive_files")
    tmp.cleanup()

    print(f"\n{fmt_int(n)} 1m rows ({start:%Y-%m-%d} .. {end:%Y-%m-%d}); best of {args.repeat}")
    print("| method | rows | best s | median s | vs 1m load |\n|---|---:|---:|---:|---|")
    for t in (t_1m, t_roll, t_bucket, t_arc, t_merge):
        vs = "-" if t is t_1m else f"{t.best / t_1m.best:.3f}x ({ratio_text(t.best, t_1m.best, '1m load')})"
        print(f"| {t.name} | {fmt_int(t.n)} | {t.best:.3f} | {t.median:.3f} | {vs} |")
    print(f"\n1h rollup / 1m load = {t_roll.best / t_1m.best:.3f} (goal <= 0.1); "
          f"1h rollup vs bucketing: {ratio_text(t_roll.best, t_bucket.best, 'bucketing')}")
    print(f"archive: wrote {fmt_int(report.rows)} rows in {report.files} files, {size / 1e6:.1f} MB, "
          f"in {t_write:.1f} s")
    for p in problems:
        print(f"ERROR: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
