"""Benchmark: load 5,000,000 1-minute candles from PostgreSQL into a pandas DataFrame.

Methods, each producing the same frame (indexed by ``ts`` in UTC; float columns
``open high low close volume``) from the same SELECT (the text of workbench's ``candles`` query):

* workbench       -- ``workbench.store.market_data.load_candles(db, symbol, "1m", start, end)``
                     (ADBC binary COPY -> Arrow -> pandas), no cache;
* pandas.read_sql -- on a SQLAlchemy (psycopg 3) connection;
* psycopg COPY    -- ``COPY (SELECT ...) TO STDOUT (FORMAT BINARY)`` read with ``copy.rows()``
                     after ``set_types``, into a DataFrame;
* connectorx      -- ``connectorx.read_sql(url, sql)`` (only if connectorx is installed).

Each method: 1 warm-up, then ``--repeat`` interleaved rounds (order rotated each round; connecting is
part of every run, as in the workbench loader); min and median and their ratios. All methods must
return the same number of rows and the same sum of ``close``; the script exits 1 if they do not.

The data live in a dedicated database (``workbench_bench`` by default, created if missing), migrated
with workbench's migrations and filled once with synthetic ``KRW-BENCH`` 1m candles from
``workbench.ingest.sample.generate_sample_candles`` (3,473 days = 5,001,120 rows for the default).

Run:  .venv/bin/python benchmarks/bench_load.py            # 5M rows (first run generates the data)
      .venv/bin/python benchmarks/bench_load.py --rows 200000 --repeat 2
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Timing, emit, fmt_int, interleaved, machine_line, setup_env, timing_table  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/workbench_bench"
SYMBOL = "KRW-BENCH"
TIMEFRAME = "1m"
START = "2025-01-01"          # generate_sample_candles' default start
COLUMNS = ["ts", "open", "high", "low", "close", "volume"]
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL, help="database of the benchmark data "
                   "(created if missing; only the KRW-BENCH candles are written)")
    p.add_argument("--rows", type=int, default=5_000_000, help="rows to load (1m bars from 2025-01-01)")
    p.add_argument("--repeat", type=int, default=3, help="interleaved rounds (after 1 warm-up per method)")
    p.add_argument("--chunk-rows", type=int, default=1_000_000, help="rows per write_table call when "
                   "generating the data")
    p.add_argument("--skip", action="append", default=[], choices=["read_sql", "copy", "connectorx"],
                   help="leave a method out (repeatable)")
    p.add_argument("--latency-repeat", type=int, default=20,
                   help="timed runs of the small (1-day, 1,440-row) load latency check; 0 skips it")
    return p.parse_args(argv)


# ------------------------------------------------------------------------------------ database
def ensure_database(url: str) -> bool:
    """Create the database of ``url`` if it does not exist; True if it was created."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit(f"--database-url has no database name: {url}")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def count_rows(db: Any, start: Any, end: Any) -> int:
    with db.begin() as conn:
        import sqlalchemy as sa

        return int(conn.execute(sa.text(
            "SELECT count(*) FROM candles WHERE symbol = :s AND timeframe = :tf "
            "AND timestamp >= :a AND timestamp < :b"),
            {"s": SYMBOL, "tf": TIMEFRAME, "a": start.to_pydatetime(), "b": end.to_pydatetime()}).scalar())


def prepare_data(url: str, rows: int, chunk_rows: int) -> tuple[Any, Any, Any]:
    """Create/migrate the database and make sure it holds ``rows`` bars; return (db, start, end)."""
    import pandas as pd

    from workbench.ingest.sample import generate_sample_candles
    from workbench.store.database import Database
    from workbench.store.migrations import migrate
    from workbench.store.writer import write_table

    if ensure_database(url):
        print(f"created database {urlsplit(url).path.lstrip('/')}")
    db = Database(url)
    applied = migrate(db)
    if applied:
        print(f"applied migrations: {[f'{m.version:04d}_{m.name}' for m in applied]}")
    start = pd.Timestamp(START, tz="UTC")
    end = start + pd.Timedelta(minutes=rows)
    have = count_rows(db, start, end)
    print(f"{SYMBOL} {TIMEFRAME} rows in [{start}, {end}): {fmt_int(have)} (need {fmt_int(rows)})")
    if have < rows:
        days = max(1, math.ceil(rows / 1440))
        t0 = time.perf_counter()
        frame = generate_sample_candles({SYMBOL: 1e6}, days=days, timeframe=TIMEFRAME)
        print(f"generated {fmt_int(len(frame))} rows ({days} days) in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        for i in range(0, len(frame), chunk_rows):
            t1 = time.perf_counter()
            res = write_table(db, "candles", frame.iloc[i:i + chunk_rows])
            print(f"  write_table rows {fmt_int(i)}..{fmt_int(i + res.rows)}: {res} "
                  f"in {time.perf_counter() - t1:.1f} s", flush=True)
        total = time.perf_counter() - t0
        print(f"wrote {fmt_int(len(frame))} rows in {total:.1f} s ({fmt_int(len(frame) / total)} rows/s)")
        del frame
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE candles")
        have = count_rows(db, start, end)
        if have < rows:
            raise SystemExit(f"ERROR: after writing, only {have} rows in range (need {rows})")
    return db, start, end


def candles_sql() -> str:
    from workbench.store.queries import query

    return query("candles").sql


def literal_sql(conn: Any, params: dict[str, Any]) -> str:
    """The candles query with its ``:name`` parameters inlined as SQL literals (for COPY, connectorx)."""
    from psycopg import sql

    text = candles_sql().replace("{", "{{").replace("}", "}}")
    composed = sql.SQL(_PARAM.sub(lambda m: "{" + m.group(1) + "}", text)).format(
        **{k: sql.Literal(v) for k, v in params.items()})
    return composed.as_string(conn).strip().rstrip(";")


# ------------------------------------------------------------------------------------- methods
def to_utc_index(df: Any) -> Any:
    idx = df.index
    df.index = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    return df


def load_workbench(db: Any, start: Any, end: Any) -> Any:
    from workbench.store.market_data import load_candles

    return load_candles(db, SYMBOL, TIMEFRAME, start, end)


def load_read_sql(engine: Any, params: dict[str, Any]) -> Any:
    import pandas as pd
    import sqlalchemy as sa

    with engine.connect() as conn:
        df = pd.read_sql(sa.text(candles_sql()), conn, params=params, index_col="ts")
    return to_utc_index(df)


def load_copy(url: str, params: dict[str, Any]) -> Any:
    import pandas as pd
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        select = literal_sql(conn, params)
        stmt = sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(sql.SQL(select))
        with cur.copy(stmt) as copy:
            copy.set_types(["timestamptz", "float8", "float8", "float8", "float8", "float8"])
            rows = list(copy.rows())
    df = pd.DataFrame(rows, columns=COLUMNS)
    del rows
    return to_utc_index(df.set_index("ts"))


def load_connectorx(url: str, select: str) -> Any:
    import connectorx as cx

    df = cx.read_sql(url, select, return_type="pandas")
    return to_utc_index(df.set_index("ts"))


# ------------------------------------------------------------------------------------- checks
def check(frames: dict[str, Any], rows: int) -> list[str]:
    import numpy as np

    problems = []
    ref_name = next(iter(frames))
    ref = frames[ref_name]
    ref_sum = math.fsum(ref["close"].to_numpy())
    print(f"  {'method':<18} {'rows':>12} {'sum(close)':>26}  first ts .. last ts")
    for name, df in frames.items():
        s = math.fsum(df["close"].to_numpy(dtype=float))
        print(f"  {name:<18} {fmt_int(len(df)):>12} {s:>26.6f}  {df.index[0]} .. {df.index[-1]}")
        if len(df) != rows:
            problems.append(f"{name}: {len(df)} rows, expected {rows}")
        if len(df) != len(ref):
            problems.append(f"{name}: {len(df)} rows, {ref_name} has {len(ref)}")
        if not math.isclose(s, ref_sum, rel_tol=1e-12, abs_tol=0.0):
            problems.append(f"{name}: sum(close) {s!r} differs from {ref_name}'s {ref_sum!r}")
        elif s != ref_sum:
            print(f"    note: {name} sum(close) differs from {ref_name} in the last bits ({s - ref_sum:.3e})")
        if len(df) == len(ref) and not np.array_equal(df.index.asi8 if df.index.unit == ref.index.unit
                                                       else df.index.as_unit(ref.index.unit).asi8,
                                                       ref.index.asi8):
            problems.append(f"{name}: timestamps differ from {ref_name}'s")
        if list(df.columns) != list(ref.columns):
            problems.append(f"{name}: columns {list(df.columns)} != {list(ref.columns)}")
    return problems


# ---------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_env()
    import pandas as pd
    import psycopg
    import sqlalchemy as sa

    print(f"# bench_load  ({machine_line()})")
    try:
        import connectorx  # noqa: F401
        have_cx = "connectorx" not in args.skip
    except ImportError:
        have_cx = False
        print("connectorx not installed: skipped (pip install connectorx, or the 'bench' extra)")
    t0 = time.perf_counter()
    db, start, end = prepare_data(args.database_url, args.rows, args.chunk_rows)
    print(f"data ready in {time.perf_counter() - t0:.1f} s")

    params = {"symbol": SYMBOL, "timeframe": TIMEFRAME, "start": start.to_pydatetime(),
              "end": end.to_pydatetime()}
    with psycopg.connect(db.url) as conn:
        select = literal_sql(conn, params)
        server = conn.execute("SHOW server_version").fetchone()[0]
        plan = [r[0] for r in conn.execute("EXPLAIN " + select).fetchall()]
    print(f"PostgreSQL {server}; query plan (the same SELECT for every method):")
    for line in plan:
        print(f"    {line}")

    engine = sa.create_engine("postgresql+psycopg" + db.url[len("postgresql"):])
    methods: list[tuple[str, Any]] = [("workbench", lambda: load_workbench(db, start, end))]
    if "read_sql" not in args.skip:
        methods.append(("pandas.read_sql", lambda: load_read_sql(engine, params)))
    if "copy" not in args.skip:
        methods.append(("psycopg COPY", lambda: load_copy(db.url, params)))
    if have_cx:
        methods.append(("connectorx", lambda: load_connectorx(db.url, select)))

    print(f"\n## {args.repeat} interleaved rounds (each method warmed up first)")
    t = interleaved(dict(methods), rounds=args.repeat, n=args.rows)
    timings: list[Timing] = list(t.values())
    frames: dict[str, pd.DataFrame] = {}
    for timing in timings:
        frames[timing.name] = timing.result
        timing.result = None
    print("\n## correctness")
    for name, df in frames.items():
        print(f"  {name:<18} index {df.index.dtype}, columns "
              + ", ".join(f"{c}:{df[c].dtype}" for c in df.columns))
    problems = check(frames, args.rows)
    del frames

    lat: list[Timing] = []
    if args.latency_repeat > 0:
        print("\n## small-load latency (1 day = 1,440 rows; per call, connecting included)")
        s1, e1 = start, start + pd.Timedelta(days=1)
        p1 = {**params, "start": s1.to_pydatetime(), "end": e1.to_pydatetime()}
        small = {"workbench": lambda: load_workbench(db, s1, e1),
                 "pandas.read_sql": lambda: load_read_sql(engine, p1),
                 "psycopg COPY": lambda: load_copy(db.url, p1)}
        for timing in interleaved(small, rounds=args.latency_repeat, n=1440, unit="ms").values():
            if len(timing.result) != 1440:
                problems.append(f"small load, {timing.name}: {len(timing.result)} rows, expected 1440")
            timing.result = None
            lat.append(timing)

    print(f"\n## results: {fmt_int(args.rows)} rows, {args.repeat} interleaved warm rounds\n")
    print(timing_table(timings, timings[0]))
    for timing in timings[1:]:
        emit("bench_load", f"load of {fmt_int(args.rows)} 1m candles into pandas", timings[0], timing)
    if lat:
        print("\n1,440-row load (latency):\n")
        print(timing_table(lat, lat[0], unit="ms"))
    engine.dispose()
    db.dispose()
    if problems:
        print("\nFAILED: correctness check")
        for p in problems:
            print(f"  MISMATCH: {p}")
        return 1
    print("\nOK: every method returned the same rows, timestamps and sum(close)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
